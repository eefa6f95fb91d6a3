import type { CallbackSummary, TaskRecord as SdkTaskRecord } from '@reprise/sdk';
import { ApiError } from '../errors.js';
import type { CallbackStatus, Executor } from '../store/index.js';
import { toSunoTrack, tracksOf } from './tracks.js';

/** `callback` [EXT]: how delivery of the task's callbacks is going (SPEC §3); the SDK's type. */
export type { CallbackSummary };

/** record-info `data` (SPEC §3): the SDK's shape, with reprise's `callback` always present. */
export interface TaskRecord extends Omit<SdkTaskRecord, 'operationType' | 'callback'> {
  operationType: 'generate' | 'replace_section';
  callback: CallbackSummary;
}

async function callbackSummary(db: Executor, taskId: string, hasUrl: boolean): Promise<CallbackSummary> {
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

/** The task as its owner sees it; another account's task is "not found" (SPEC §1). */
export async function getTaskRecord(db: Executor, accountId: string, taskId: string, publicUrl: string): Promise<TaskRecord> {
  const task = await db.selectFrom('tasks').selectAll().where('id', '=', taskId).where('account_id', '=', accountId).executeTakeFirst();
  if (!task) throw new ApiError(404, `taskId: no task ${taskId} for this account`);
  const tracks = await tracksOf(db, taskId);
  return {
    taskId: task.id,
    parentMusicId: task.parent_music_id,
    param: task.param,
    response: { taskId: task.id, sunoData: tracks.map((row) => toSunoTrack(row, publicUrl)) },
    status: task.status,
    type: task.type,
    operationType: task.type === 'GENERATE' ? 'generate' : 'replace_section',
    errorCode: task.error_code,
    errorMessage: task.error_message,
    callback: await callbackSummary(db, taskId, task.callback_url !== null),
  };
}
