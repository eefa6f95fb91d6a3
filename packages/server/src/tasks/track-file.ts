import { type TSchema, Type } from '@sinclair/typebox';
import { registerFile } from '../files/index.js';
import { formatCreateTime } from '../ids.js';
import type { BlobStore } from '../storage/index.js';
import type { FileKind, TasksTable, Tx } from '../store/index.js';
import { type LifecycleContext, writeResult } from './lifecycle.js';

/**
 * What the track tools that make one file (WAV, music video) share: the file stored whole and
 * registered when the task succeeds, its token kept as the task's result, and KIE's record-info
 * shape for such tools (kie-catalogue §18.2, §21.3), which differs between them only in
 * `response` and in the name of the failure.
 */

/** A finished tool task's result: the token of its file. */
interface TrackFileResult {
  file: string;
}

/** The token of a finished tool task's file; null until it succeeds. */
export const trackFileToken = (task: TasksTable): string | null => (task.result ? (JSON.parse(task.result) as TrackFileResult).file : null);

/** The record-info `data` of a one-file track tool, with its own `response` and status names. */
export function trackFileRecordSchema(response: TSchema, statuses: readonly string[]) {
  return Type.Object(
    {
      taskId: Type.String(),
      musicId: Type.String({ description: 'The audioId the tool worked on' }),
      callbackUrl: Type.Union([Type.String(), Type.Null()]),
      musicIndex: Type.Integer({ description: 'The track’s place in its task: 0 or 1' }),
      completeTime: Type.Union([Type.String({ description: 'YYYY-MM-DD HH:MM:SS, UTC' }), Type.Null()]),
      response,
      successFlag: Type.String({ enum: [...statuses] }),
      createTime: Type.String({ description: 'YYYY-MM-DD HH:MM:SS, UTC' }),
      errorCode: Type.Union([Type.Integer(), Type.Null()]),
      errorMessage: Type.Union([Type.String(), Type.Null()]),
    },
    { additionalProperties: true },
  );
}

/**
 * The record-info `data` of a one-file track tool: a string `successFlag` (a running task is
 * still PENDING there; a failure takes the tool's own name), "YYYY-MM-DD HH:MM:SS" times.
 */
export function trackFileRecord(task: TasksTable, input: { audioId: string; musicIndex: number }, response: object, failure: string) {
  return {
    taskId: task.id,
    musicId: input.audioId,
    callbackUrl: task.callback_url,
    musicIndex: input.musicIndex,
    completeTime: task.finished_at === null ? null : formatCreateTime(task.finished_at),
    response,
    successFlag: task.status === 'GENERATE_AUDIO_FAILED' ? failure : task.status,
    createTime: formatCreateTime(task.created_at),
    errorCode: task.error_code,
    errorMessage: task.error_message,
  };
}

/** Stores a tool's file whole (the blob store writes aside and renames), and none of it when the task was stopped meanwhile. */
export async function putTaskFile(blobs: BlobStore, key: string, bytes: Uint8Array, signal: AbortSignal): Promise<void> {
  await blobs.put(key, bytes);
  if (signal.aborted) {
    await blobs.delete(key);
    signal.throwIfAborted();
  }
}

/** In the succeeding transaction: the file registered (served until the retention ends) and its token kept as the result. */
export async function registerTaskFile(
  tx: Tx,
  task: TasksTable,
  now: number,
  lifecycle: LifecycleContext,
  file: { kind: FileKind; blobKey: string; contentType: string; size: number; fileName: string },
): Promise<string> {
  const token = await registerFile(tx, { ...file, accountId: task.account_id, expiresAt: now + lifecycle.generatedRetentionMs }, now);
  await writeResult(tx, task.id, { file: token } satisfies TrackFileResult);
  return token;
}
