import type { CallbackSummary, TaskRecord as SdkTaskRecord } from '@reprise/sdk';
import type { CallbackStatus, Executor, TasksTable } from '../store/index.js';

/** `callback` [EXT]: how delivery of the task's callbacks is going (SPEC §3); the SDK's type. */
export type { CallbackSummary };

/** record-info `data` (SPEC §3): the SDK's shape, with reprise's `callback` always present. */
export interface TaskRecord extends Omit<SdkTaskRecord, 'callback'> {
  callback: CallbackSummary;
}

export async function callbackSummary(db: Executor, taskId: string, hasUrl: boolean): Promise<CallbackSummary> {
  if (!hasUrl) return { status: 'none', attempts: 0, lastError: null };
  const rows = await db.selectFrom('callbacks').select(['status', 'attempts', 'last_error']).where('task_id', '=', taskId).orderBy('created_at').execute();
  if (rows.length === 0) return { status: 'pending', attempts: 0, lastError: null };
  const status: CallbackStatus = rows.some((row) => row.status === 'failed')
    ? 'failed'
    : rows.some((row) => row.status === 'pending')
      ? 'pending'
      : 'delivered';
  const withError = rows.filter((row) => row.last_error !== null).at(-1);
  return { status, attempts: rows.reduce((sum, row) => sum + row.attempts, 0), lastError: withError?.last_error ?? null };
}

/** The caller's own task, or null: another account's task reads as unknown (SPEC §1). */
export async function findOwnTask(db: Executor, accountId: string, taskId: string): Promise<TasksTable | null> {
  return (await db.selectFrom('tasks').selectAll().where('id', '=', taskId).where('account_id', '=', accountId).executeTakeFirst()) ?? null;
}
