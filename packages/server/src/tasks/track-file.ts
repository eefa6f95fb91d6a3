import { type TSchema, Type } from '@sinclair/typebox';
import { type FailureCode, failureMsg } from '../callbacks/index.js';
import { fileUrls, registerFile } from '../files/index.js';
import { formatCreateTime } from '../ids.js';
import type { BlobStore } from '../storage/index.js';
import type { FileKind, TasksTable, Tx } from '../store/index.js';
import type { Family } from './kinds/kind.js';
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

/** What differs between the families of the one-file track tools. */
export interface TrackFileFamilySpec {
  name: string;
  detailsPath: string;
  /** The record-info `response` key of the file's URL, e.g. `audioWavUrl`. */
  responseKey: string;
  /** The file's URL among its URLs (its extension helps players). */
  urlOf: (urls: ReturnType<typeof fileUrls>) => string;
  /** The `successFlag` of a failed task, e.g. `GENERATE_WAV_FAILED`. */
  failure: string;
  /** The failure callback's `data`, in KIE's key order, its URL null. */
  errorData: (taskId: string) => Record<string, unknown>;
}

/** The family of a one-file track tool: its record-info, failure callback and Market `resultJson`. */
export function trackFileFamily(spec: TrackFileFamilySpec): Family {
  const urlOf = (task: TasksTable, publicUrl: string): string | null => {
    const token = trackFileToken(task);
    return token ? spec.urlOf(fileUrls(publicUrl, token)) : null;
  };
  const statuses = ['PENDING', 'SUCCESS', 'CREATE_TASK_FAILED', spec.failure, 'CALLBACK_EXCEPTION'];
  return {
    name: spec.name,
    detailsPath: spec.detailsPath,
    detailsSchema: trackFileRecordSchema(Type.Object({ [spec.responseKey]: Type.Union([Type.String(), Type.Null()]) }), statuses),
    errorBody: (code: FailureCode, taskId: string, message: string) => ({ code, msg: failureMsg(code, message), data: spec.errorData(taskId) }),
    async details(_db, task, publicUrl) {
      const input = JSON.parse(task.input) as { audioId: string; musicIndex: number };
      return trackFileRecord(task, input, { [spec.responseKey]: urlOf(task, publicUrl) }, spec.failure);
    },
    async resultJson(_db, task, publicUrl) {
      const url = urlOf(task, publicUrl);
      return { resultUrls: url ? [url] : [] };
    },
  };
}
