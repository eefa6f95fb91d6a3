import type { CallbackLogEntry } from '@reprise/sdk';
import { ApiError } from '../errors.js';
import type { Db, Executor } from '../store/index.js';
import { makeDueNow } from './deliveries.js';

/** One callback and every attempt made to deliver it (SPEC §5.5): the SDK's type. */
export type { CallbackLogEntry };

async function requireOwnTask(db: Executor, accountId: string, taskId: string): Promise<void> {
  const task = await db.selectFrom('tasks').select('id').where('id', '=', taskId).where('account_id', '=', accountId).executeTakeFirst();
  if (!task) throw new ApiError(404, `taskId: no task ${taskId} for this account`);
}

export async function callbackLog(db: Executor, accountId: string, taskId: string): Promise<CallbackLogEntry[]> {
  await requireOwnTask(db, accountId, taskId);
  const callbacks = await db.selectFrom('callbacks').selectAll().where('task_id', '=', taskId).orderBy('created_at').orderBy('id').execute();
  if (callbacks.length === 0) return [];
  const attempts = await db
    .selectFrom('callback_attempts')
    .selectAll()
    .where(
      'callback_id',
      'in',
      callbacks.map((c) => c.id),
    )
    .orderBy('id')
    .execute();
  return callbacks.map((c) => ({
    deliveryId: c.id,
    stage: c.stage,
    url: c.url,
    status: c.status,
    attempts: c.attempts,
    lastError: c.last_error,
    createdAt: c.created_at,
    deliveredAt: c.delivered_at,
    payload: JSON.parse(c.payload) as unknown,
    attemptLog: attempts
      .filter((a) => a.callback_id === c.id)
      .map((a) => ({
        startedAt: a.started_at,
        durationMs: a.duration_ms,
        httpStatus: a.http_status,
        errorClass: a.error_class,
        responseBody: a.response_body,
        requestHeaders: a.request_headers === null ? null : (JSON.parse(a.request_headers) as Record<string, string>),
      })),
  }));
}

/**
 * Sends the task's latest callback again, whatever its state, with the same
 * `webhook-id` and a fresh retry schedule. A send already waiting is moved up
 * rather than doubled (it is the same row).
 */
export async function redeliverLatest(db: Db, accountId: string, taskId: string): Promise<string> {
  return db.transaction().execute(async (tx) => {
    const now = Date.now();
    // Write first: takes SQLite's write lock up front (see tasks/lifecycle.ts).
    await tx.updateTable('tasks').set({ updated_at: now }).where('id', '=', taskId).where('account_id', '=', accountId).execute();
    await requireOwnTask(tx, accountId, taskId);
    const latest = await tx
      .selectFrom('callbacks')
      .select(['id'])
      .where('task_id', '=', taskId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .executeTakeFirst();
    if (!latest) throw new ApiError(422, 'taskId: the task owes no callback (it has no callBackUrl, or no stage has finished yet)');
    await makeDueNow(tx, latest.id, now);
    return latest.id;
  });
}
