import { CompiledQuery } from 'kysely';
import { debitForTask } from '../accounts/index.js';
import { ApiError } from '../errors.js';
import { type NewFile, registerFile } from '../files/index.js';
import { newTaskId } from '../ids.js';
import { enqueueJob } from '../jobs/index.js';
import { prepare, type Runner, type Store, type TaskType } from '../store/index.js';
import type { TaskInput } from './inputs.js';

export interface NewTask {
  accountId: string;
  type: TaskType;
  /** The request body exactly as received (record-info `param`). */
  param: string;
  input: TaskInput;
  parentMusicId: string;
  callbackUrl: string | undefined;
  model: string;
  price: number;
  /** A source fetched from outside at submission: recorded with the task so retention deletes it. */
  sourceFile?: NewFile;
}

export interface SubmitLimits {
  rateLimit: { max: number; windowMs: number };
  taskTimeoutMs: number;
}

/**
 * Writes one task with its debit and its job (ARCHITECTURE "one path"), inside
 * the caller's transaction. Either all three exist or none does.
 *
 * The debit comes first on purpose: its conditional UPDATE is the first write,
 * so SQLite takes the write lock before any read (no lock-upgrade failures), and
 * PostgreSQL locks the account row, which serialises this account's
 * submissions so the rate-limit count below cannot be raced.
 */
async function writeTask(tx: Runner, taskId: string, task: NewTask, limits: SubmitLimits, now: number): Promise<void> {
  if (!(await debitForTask(tx, task.accountId, taskId, task.price, now))) {
    throw new ApiError(402, `Insufficient credits: this task costs ${task.price}`);
  }
  const recent = await countRecent.execute<{ count: number }>(tx, { accountId: task.accountId, since: now - limits.rateLimit.windowMs, max: limits.rateLimit.max });
  if (Number(recent.rows[0]?.count ?? 0) >= limits.rateLimit.max) {
    throw new ApiError(429, `Rate limit exceeded: at most ${limits.rateLimit.max} new tasks per ${limits.rateLimit.windowMs / 1000} s per account; the task was not queued`);
  }
  await insertTask.execute(tx, {
    id: taskId,
    accountId: task.accountId,
    type: task.type,
    param: task.param,
    input: JSON.stringify(task.input),
    parentMusicId: task.parentMusicId,
    callbackUrl: task.callbackUrl ?? null,
    price: task.price,
    model: task.model,
    now,
    deadlineAt: now + limits.taskTimeoutMs,
  });
  if (task.sourceFile) await registerFile(tx, task.sourceFile, now);
  await enqueueJob(tx, 'task', taskId, now, now);
}

// Counting stops at the limit: the cost stays O(limit) however busy the account is.
const countRecent = prepare<{ accountId: string; since: number; max: number }>((db, arg) =>
  db
    .selectFrom((eb) =>
      // Selecting an indexed column keeps the count inside the index (no table lookups).
      eb.selectFrom('tasks').select('created_at').where('account_id', '=', arg('accountId')).where('created_at', '>', arg('since')).limit(arg('max')).as('recent'),
    )
    .select((eb) => eb.fn.countAll<number>().as('count')),
);

const insertTask = prepare<{
  id: string;
  accountId: string;
  type: TaskType;
  param: string;
  input: string;
  parentMusicId: string;
  callbackUrl: string | null;
  price: number;
  model: string;
  now: number;
  deadlineAt: number;
}>((db, arg) =>
  db.insertInto('tasks').values({
    id: arg('id'),
    account_id: arg('accountId'),
    type: arg('type'),
    status: 'PENDING',
    param: arg('param'),
    input: arg('input'),
    parent_music_id: arg('parentMusicId'),
    callback_url: arg('callbackUrl'),
    price: arg('price'),
    model: arg('model'),
    error_code: null,
    error_message: null,
    sheet: null,
    created_at: arg('now'),
    updated_at: arg('now'),
    deadline_at: arg('deadlineAt'),
    finished_at: null,
  }),
);

const [savepoint, releaseSavepoint, rollbackToSavepoint] = ['savepoint submit_one', 'release savepoint submit_one', 'rollback to savepoint submit_one'].map((text) =>
  CompiledQuery.raw(text),
) as [CompiledQuery, CompiledQuery, CompiledQuery];

interface Pending {
  task: NewTask;
  limits: SubmitLimits;
  resolve: (taskId: string) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: submissions that arrive while a transaction is being written
 * share the next one, each inside its own savepoint, so a refused one (402, 429)
 * rolls back alone. A commit — the expensive part, an fsync on PostgreSQL and a
 * WAL write on SQLite — then serves many tasks, and a caller is answered only
 * once its task is durable.
 */
function createBatcher(store: Store): (task: NewTask, limits: SubmitLimits) => Promise<string> {
  let queue: Pending[] = [];
  let writing = false;

  async function writeBatch(batch: Pending[]): Promise<void> {
    const outcomes: Array<{ taskId: string } | { error: unknown }> = [];
    // One lock order for every batch (PostgreSQL row locks): no deadlock between processes.
    const ordered = batch.map((item, index) => ({ item, index })).sort((a, b) => (a.item.task.accountId < b.item.task.accountId ? -1 : 1));
    try {
      await store.transaction(async (tx) => {
        const now = Date.now();
        for (const { item, index } of ordered) {
          const taskId = newTaskId();
          await tx.executeQuery(savepoint);
          try {
            await writeTask(tx, taskId, item.task, item.limits, now);
            await tx.executeQuery(releaseSavepoint);
            outcomes[index] = { taskId };
          } catch (error) {
            await tx.executeQuery(rollbackToSavepoint);
            await tx.executeQuery(releaseSavepoint);
            outcomes[index] = { error };
          }
        }
      });
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, index) => {
      const outcome = outcomes[index];
      if (outcome && 'taskId' in outcome) item.resolve(outcome.taskId);
      else item.reject(outcome?.error);
    });
  }

  async function drain(): Promise<void> {
    writing = true;
    // Requests that arrived together are parsed in one turn of the event loop, and a
    // submission's reads before this point never leave that turn; writing on the next
    // turn lets all of them join this commit.
    await new Promise((resolve) => setImmediate(resolve));
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(batch.length);
      await writeBatch(batch);
    }
    writing = false;
  }

  return (task, limits) =>
    new Promise<string>((resolve, reject) => {
      queue.push({ task, limits, resolve, reject });
      if (!writing) void drain();
    });
}

const MAX_BATCH = 64;
const batchers = new WeakMap<Store, (task: NewTask, limits: SubmitLimits) => Promise<string>>();

/** Creates a task, its debit and its job atomically; resolves with the task id once committed. */
export function submitTask(store: Store, task: NewTask, limits: SubmitLimits): Promise<string> {
  let submit = batchers.get(store);
  if (!submit) {
    submit = createBatcher(store);
    batchers.set(store, submit);
  }
  return submit(task, limits);
}
