import { debitForTask } from '../accounts/index.js';
import { ApiError } from '../errors.js';
import { type NewFile, registerFile } from '../files/index.js';
import { newTaskId } from '../ids.js';
import { enqueueJob } from '../jobs/index.js';
import type { Db, TaskType } from '../store/index.js';
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
 * Creates a task, its debit and its job in one transaction (SPEC §1, ARCHITECTURE
 * "one path"): either all three exist or none does.
 *
 * The debit comes first on purpose: its conditional UPDATE is the transaction's
 * first write, so SQLite takes the write lock before any read (no lock-upgrade
 * failures), and PostgreSQL locks the account row, which serialises this
 * account's submissions so the rate-limit count below cannot be raced.
 */
export async function submitTask(db: Db, task: NewTask, limits: SubmitLimits): Promise<string> {
  const taskId = newTaskId();
  const now = Date.now();
  await db.transaction().execute(async (tx) => {
    if (!(await debitForTask(tx, task.accountId, taskId, task.price, now))) {
      throw new ApiError(402, `Insufficient credits: this task costs ${task.price}`);
    }
    const recent = await tx
      .selectFrom('tasks')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('account_id', '=', task.accountId)
      .where('created_at', '>', now - limits.rateLimit.windowMs)
      .executeTakeFirstOrThrow();
    if (Number(recent.count) >= limits.rateLimit.max) {
      throw new ApiError(429, `Rate limit exceeded: at most ${limits.rateLimit.max} new tasks per ${limits.rateLimit.windowMs / 1000} s per account; the task was not queued`);
    }
    await tx
      .insertInto('tasks')
      .values({
        id: taskId,
        account_id: task.accountId,
        type: task.type,
        status: 'PENDING',
        param: task.param,
        input: JSON.stringify(task.input),
        parent_music_id: task.parentMusicId,
        callback_url: task.callbackUrl ?? null,
        price: task.price,
        model: task.model,
        error_code: null,
        error_message: null,
        sheet: null,
        created_at: now,
        updated_at: now,
        deadline_at: now + limits.taskTimeoutMs,
        finished_at: null,
      })
      .execute();
    if (task.sourceFile) await registerFile(tx, task.sourceFile, now);
    await enqueueJob(tx, 'task', taskId, now, now);
  });
  return taskId;
}
