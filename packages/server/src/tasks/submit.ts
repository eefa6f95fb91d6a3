import { lockBalanceStatement } from '../accounts/index.js';
import { ApiError } from '../errors.js';
import { type NewFile, registerFile } from '../files/index.js';
import { newTaskId } from '../ids.js';
import { takeScenarios } from '../sandbox/queue.js';
import { executeTogether, prepare, type Runner, type Store, type TaskType } from '../store/index.js';
import { claimedKey, type KeyedRequest, type KeyedTask, recordKeys, replayOf } from './idempotency.js';
import type { TaskInput } from './inputs.js';
import { type AccountDebits, writeAccepted } from './submit-write.js';

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
  /** Sources fetched from outside at submission: recorded with the task so retention deletes them. */
  sourceFiles?: NewFile[];
  /**
   * At most one live task of this type per parent and account (one cover per music task): checked
   * inside the transaction that writes the task, so two requests at once cannot both pass.
   */
  onePerParent?: (existingTaskId: string) => ApiError;
  /**
   * Idempotency-Key [EXT]: checked inside the transaction, after the account's row is locked, and
   * written with the task. The same request again is answered with the first task, nothing written.
   */
  idempotency?: KeyedRequest;
}

/** A submission's result: the task, and whether an Idempotency-Key named it before (then nothing was written). */
export interface Submission {
  taskId: string;
  replayed: boolean;
}

export interface SubmitLimits {
  rateLimit: { max: number; windowMs: number };
  taskTimeoutMs: number;
}

interface Pending {
  task: NewTask;
  limits: SubmitLimits;
  resolve: (submission: Submission) => void;
  reject: (error: unknown) => void;
}

type Outcome = Submission | { error: ApiError };

/**
 * Decides which of one account's pending submissions are taken, in arrival
 * order, against the balance and the rate limit as they stand inside the
 * transaction: first the price (402), then the limit (429), as if each were
 * written alone. The reads come after the account row is locked
 * (`lockedBalance`), so no other batch can change either meanwhile — nor this
 * account's Idempotency-Keys, which are looked at before anything else: a key
 * that names a committed task answers with it (or 409), whatever the rules say now.
 */
async function admit(tx: Runner, accountId: string, items: ReadonlyArray<Pending>, now: number): Promise<Outcome[]> {
  // Counting stops at the largest limit asked for: the cost stays O(limit) however busy the account is.
  const countLimit = Math.max(...items.map((item) => item.limits.rateLimit.max));
  // The lock, then the count of the first item's window, in one round trip on PostgreSQL (with
  // the BEGIN): the count is a statement of its own after the lock, so it sees every batch before.
  const firstWindow = (items[0] as Pending).limits.rateLimit.windowMs;
  const [locked, counted] = await executeTogether(tx, [
    lockBalanceStatement(tx.dialect, accountId),
    countRecent.compiled(tx.dialect, { accountId, since: now - firstWindow, max: countLimit }),
  ]);
  let balance = Number((locked?.rows[0] as { balance: number } | undefined)?.balance ?? 0);
  const recentByWindow = new Map<number, number>([[firstWindow, Number((counted?.rows[0] as { count: number } | undefined)?.count ?? 0)]]);
  const outcomes: Outcome[] = [];
  /** Parents taken by a task accepted earlier in this batch, per type. */
  const takenInBatch = new Map<string, string>();
  /** Keys used by a task accepted earlier in this batch: two requests with one key in one batch make one task. */
  const keyedInBatch = new Map<string, KeyedTask>();
  for (const { task, limits } of items) {
    if (task.idempotency) {
      // First, before any other rule: a retry of an accepted request gets its task even once the
      // rules would refuse it now (a cover made since, a balance spent since).
      const earlier = keyedInBatch.get(task.idempotency.key) ?? (await claimedKey(tx, accountId, task.idempotency.key, now));
      if (earlier) {
        const replay = replayOf(task.idempotency, earlier);
        outcomes.push('taskId' in replay ? { taskId: replay.taskId, replayed: true } : replay);
        continue;
      }
    }
    if (task.onePerParent) {
      const key = `${task.type} ${task.parentMusicId}`;
      const existing = takenInBatch.get(key) ?? (await liveChild(tx, accountId, task.type, task.parentMusicId));
      if (existing) {
        outcomes.push({ error: task.onePerParent(existing) });
        continue;
      }
    }
    if (balance < task.price) {
      outcomes.push({ error: new ApiError(402, `Insufficient credits: this task costs ${task.price}`) });
      continue;
    }
    const { max, windowMs } = limits.rateLimit;
    let recent = recentByWindow.get(windowMs);
    if (recent === undefined) {
      const { rows } = await countRecent.execute<{ count: number }>(tx, { accountId, since: now - windowMs, max: countLimit });
      recent = Number(rows[0]?.count ?? 0);
    }
    if (recent >= max) {
      outcomes.push({
        error: new ApiError(429, `Rate limit exceeded: at most ${max} new tasks per ${windowMs / 1000} s per account; the task was not queued`),
      });
      continue;
    }
    balance -= task.price;
    recentByWindow.set(windowMs, recent + 1);
    const taskId = newTaskId();
    if (task.onePerParent) takenInBatch.set(`${task.type} ${task.parentMusicId}`, taskId);
    if (task.idempotency) keyedInBatch.set(task.idempotency.key, { fingerprint: task.idempotency.fingerprint, taskId });
    outcomes.push({ taskId, replayed: false });
  }
  return outcomes;
}

/**
 * The price and rate-limit rules of `admit`, read outside any transaction: asked before work that
 * costs the server something (fetching a source from outside), so an account that would be refused
 * anyway is refused first. Not a guarantee — the transaction decides — only an early answer.
 */
export async function precheckAdmission(store: Store, accountId: string, price: number, limits: SubmitLimits, now: number): Promise<void> {
  const { rows } = await balanceRead.execute<{ balance: number }>(store.reader, { accountId });
  const balance = Number(rows[0]?.balance ?? 0);
  if (balance < price) throw new ApiError(402, `Insufficient credits: this task costs ${price}`);
  const { max, windowMs } = limits.rateLimit;
  const recent = await countRecent.execute<{ count: number }>(store.reader, { accountId, since: now - windowMs, max });
  if (Number(recent.rows[0]?.count ?? 0) >= max)
    throw new ApiError(429, `Rate limit exceeded: at most ${max} new tasks per ${windowMs / 1000} s per account; the task was not queued`);
}
const balanceRead = prepare<{ accountId: string }>((db, arg) => db.selectFrom('accounts').select('balance').where('id', '=', arg('accountId')));

/** A task of this type on this parent that has not failed (a failed one may be tried again). */
async function liveChild(tx: Runner, accountId: string, type: TaskType, parent: string): Promise<string | undefined> {
  const { rows } = await liveChildQuery.execute<{ id: string }>(tx, { accountId, type, parent });
  return rows[0]?.id;
}
const liveChildQuery = prepare<{ accountId: string; type: string; parent: string }>((db, arg) =>
  db
    .selectFrom('tasks')
    .select('id')
    .where('account_id', '=', arg('accountId'))
    .where('type', '=', arg('type') as never)
    .where('parent_music_id', '=', arg('parent'))
    .where('status', 'not in', ['GENERATE_AUDIO_FAILED', 'CREATE_TASK_FAILED'])
    .limit(1),
);

const countRecent = prepare<{ accountId: string; since: number; max: number }>((db, arg) =>
  db
    .selectFrom((eb) =>
      // Selecting an indexed column keeps the count inside the index (no table lookups).
      eb
        .selectFrom('tasks')
        .select('created_at')
        .where('account_id', '=', arg('accountId'))
        .where('created_at', '>', arg('since'))
        .limit(arg('max'))
        .as('recent'),
    )
    .select((eb) => eb.fn.countAll<number>().as('count')),
);

/**
 * Writes a batch of submissions in the caller's transaction (ARCHITECTURE "one
 * path": each accepted task exists with its debit and its job, or not at all).
 * Accounts are handled in id order, one lock order for every batch, so two
 * processes' batches cannot deadlock on PostgreSQL's row locks. The rows are
 * written with one multi-row INSERT per table on SQLite, and in one statement
 * on PostgreSQL (submit-write.ts).
 */
async function writeBatch(tx: Runner, batch: ReadonlyArray<Pending>, now: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(batch.length);
  const byAccount = new Map<string, number[]>();
  batch.forEach((item, index) => {
    const indexes = byAccount.get(item.task.accountId) ?? [];
    indexes.push(index);
    byAccount.set(item.task.accountId, indexes);
  });
  const accepted: Array<{ taskId: string; item: Pending }> = [];
  const debited: AccountDebits[] = [];
  for (const accountId of [...byAccount.keys()].sort()) {
    const indexes = byAccount.get(accountId) ?? [];
    const items = indexes.map((index) => batch[index] as Pending);
    const decided = await admit(tx, accountId, items, now);
    const debits: Array<{ taskId: string; amount: number }> = [];
    decided.forEach((outcome, position) => {
      outcomes[indexes[position] as number] = outcome;
      if ('taskId' in outcome && !outcome.replayed) {
        accepted.push({ taskId: outcome.taskId, item: items[position] as Pending });
        debits.push({ taskId: outcome.taskId, amount: (items[position] as Pending).task.price });
      }
    });
    if (debits.length > 0) debited.push({ accountId, debits });
  }
  // The debits, the tasks and their jobs (one statement on PostgreSQL).
  await writeAccepted(
    tx,
    debited,
    accepted.map(({ taskId, item: { task, limits } }) => ({
      id: taskId,
      account_id: task.accountId,
      type: task.type,
      status: 'PENDING' as const,
      param: task.param,
      input: JSON.stringify(task.input),
      parent_music_id: task.parentMusicId,
      callback_url: task.callbackUrl ?? null,
      price: task.price,
      model: task.model,
      error_code: null,
      error_message: null,
      sheet: null,
      result: null,
      created_at: now,
      updated_at: now,
      deadline_at: now + limits.taskTimeoutMs,
      finished_at: null,
      simulated: 0,
    })),
    accepted.map(({ taskId }) => ({ refId: taskId, runAt: now })),
    now,
  );
  // Sandbox accounts' tasks [EXT]: marked simulated, each takes its account's next scenario.
  await takeScenarios(
    tx,
    accepted.map(({ taskId, item }) => ({ taskId, accountId: item.task.accountId })),
    now,
  );
  for (const { item } of accepted) for (const file of item.task.sourceFiles ?? []) await registerFile(tx, file, now);
  // After the tasks: each key's row names its task.
  await recordKeys(
    tx,
    accepted.flatMap(({ taskId, item: { task } }) => (task.idempotency ? [{ accountId: task.accountId, request: task.idempotency, taskId }] : [])),
    now,
  );
  return outcomes;
}

/**
 * Group commit: submissions that arrive while a transaction is being written
 * share the next one. A commit — the expensive part, an fsync on PostgreSQL and
 * a WAL write on SQLite — then serves many tasks, and a caller is answered only
 * once its task is durable. A refused submission (402, 429) is simply not
 * written; an unexpected error fails the whole batch, and nothing of it is kept.
 */
function createBatcher(store: Store): (task: NewTask, limits: SubmitLimits) => Promise<Submission> {
  let queue: Pending[] = [];
  let writing = false;

  async function commitBatch(batch: Pending[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await store.transaction((tx) => writeBatch(tx, batch, Date.now()));
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, index) => {
      const outcome = outcomes[index] as Outcome;
      if ('taskId' in outcome) item.resolve(outcome);
      else item.reject(outcome.error);
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
      await commitBatch(batch);
    }
    writing = false;
  }

  return (task, limits) =>
    new Promise<Submission>((resolve, reject) => {
      queue.push({ task, limits, resolve, reject });
      if (!writing) void drain();
    });
}

const MAX_BATCH = 64;
const batchers = new WeakMap<Store, (task: NewTask, limits: SubmitLimits) => Promise<Submission>>();

/**
 * Creates a task, its debit, its job (and its Idempotency-Key's row) atomically; resolves once
 * committed. A key that already names the same request resolves with that task, `replayed`.
 */
export function submitTaskOnce(store: Store, task: NewTask, limits: SubmitLimits): Promise<Submission> {
  let submit = batchers.get(store);
  if (!submit) {
    submit = createBatcher(store);
    batchers.set(store, submit);
  }
  return submit(task, limits);
}

/** Creates a task, its debit and its job atomically; resolves with the task id once committed. */
export async function submitTask(store: Store, task: NewTask, limits: SubmitLimits): Promise<string> {
  return (await submitTaskOnce(store, task, limits)).taskId;
}
