import { Type } from '@sinclair/typebox';
import type { FailureCode } from '../../callbacks/index.js';
import { SourceAudioError } from '../../engine/types.js';
import { ApiError, invalid } from '../../errors.js';
import { fileUrls, registerFile } from '../../files/index.js';
import { jobRunning } from '../../jobs/index.js';
import type { TasksTable } from '../../store/index.js';
import { type Body, requiredString } from '../fields.js';
import { writeResult } from '../lifecycle.js';
import { masterBlobOf, tracksOf } from '../tracks.js';
import type { Family, TaskKind } from './kind.js';
import { requiredCallbackUrl } from './rules.js';
import { url } from './schema.js';

/**
 * `POST /api/v1/suno/cover/generate` (kie-catalogue §15): two cover images for a music task,
 * drawn from its first track's waveform, title and style. A family of its own: integer
 * `successFlag`, ISO times, and a callback whose task id is `data.taskId` (camelCase).
 */
export interface CoverImageTaskInput {
  kind: 'cover-image';
  parentTaskId: string;
}

/** What a finished cover task keeps: the images' file tokens. */
interface CoverResult {
  images: string[];
}

const IMAGES_PER_TASK = 2;

const CoverImageBody = Type.Object(
  {
    taskId: Type.String({ description: 'A music task of yours that succeeded' }),
    callBackUrl: url('Required: receives `{code, msg, data: {taskId, images}}`, signed over data.taskId'),
  },
  { additionalProperties: true },
);

/** KIE's status of a cover task: 0 pending, 1 success, 2 generating, 3 failed. */
function successFlag(task: TasksTable, running: boolean): 0 | 1 | 2 | 3 {
  if (task.status === 'SUCCESS') return 1;
  if (task.status === 'PENDING') return running ? 2 : 0;
  return 3;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function imagesOf(task: TasksTable, publicUrl: string): string[] | null {
  if (!task.result) return null;
  return (JSON.parse(task.result) as CoverResult).images.map((token) => fileUrls(publicUrl, token).image);
}

/** cover record-info `data`: the schema of `coverImageFamily.details`. */
const CoverRecord = Type.Object(
  {
    taskId: Type.String(),
    parentTaskId: Type.String(),
    callbackUrl: Type.Union([Type.String(), Type.Null()]),
    completeTime: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    response: Type.Object({ images: Type.Union([Type.Array(Type.String()), Type.Null()]) }),
    successFlag: Type.Integer({ description: '0 pending, 1 success, 2 generating, 3 failed' }),
    createTime: Type.String({ format: 'date-time' }),
    errorCode: Type.Union([Type.Integer(), Type.Null()]),
    errorMessage: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: true },
);

export const coverImageFamily: Family = {
  name: 'cover-image',
  detailsPath: '/api/v1/suno/cover/record-info',
  detailsSchema: CoverRecord,
  // Cover images are free: the failure says what failed, not that credits came back.
  errorBody: (code: FailureCode, taskId: string, message: string) => ({ code, msg: message, data: { taskId, images: null } }),
  async details(db, task, publicUrl) {
    const input = JSON.parse(task.input) as CoverImageTaskInput;
    const failed = task.error_code !== null;
    return {
      taskId: task.id,
      parentTaskId: input.parentTaskId,
      callbackUrl: task.callback_url,
      completeTime: iso(task.finished_at),
      response: { images: imagesOf(task, publicUrl) },
      successFlag: successFlag(task, await jobRunning(db, task.id)),
      createTime: iso(task.created_at),
      errorCode: failed ? task.error_code : task.status === 'SUCCESS' ? 200 : null,
      errorMessage: failed ? task.error_message : task.status === 'SUCCESS' ? '' : null,
    };
  },
  async resultJson(_db, task, publicUrl) {
    return { resultUrls: imagesOf(task, publicUrl) ?? [] };
  },
};

export function parseCoverImage(body: Body): { taskId: string; callBackUrl: string } {
  const callBackUrl = requiredCallbackUrl(body);
  return { taskId: requiredString(body, 'taskId', 64), callBackUrl };
}

export const coverImageKind: TaskKind<CoverImageTaskInput> = {
  name: 'cover-image',
  type: 'COVER_IMAGE',
  operationType: 'cover_image',
  price: 'coverImage',
  route: { path: '/api/v1/suno/cover/generate', summary: 'Draw two cover images for a music task', body: CoverImageBody },
  market: 'ai-music-api/cover-generate',
  family: coverImageFamily,
  // KIE keeps one cover per music task and answers a second request with the first one's id.
  onePerParent: (existing) => new ApiError(400, 'Cover record already exists', undefined, { taskId: existing }),
  async admit(context, accountId, body) {
    const request = parseCoverImage(body);
    const db = context.store.db;
    const parent = await db
      .selectFrom('tasks')
      .select(['status', 'type'])
      .where('id', '=', request.taskId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    // KIE's words for an id it does not know (recorded on its tool routes).
    if (!parent || parent.type === 'COVER_IMAGE') throw new ApiError(422, 'Record does not exist');
    if (parent.status !== 'SUCCESS') throw invalid('taskId', `task ${request.taskId} has not succeeded (status ${parent.status})`);
    return {
      input: { kind: 'cover-image', parentTaskId: request.taskId },
      parentMusicId: request.taskId,
      model: '',
      callbackUrl: request.callBackUrl,
      fetched: [],
    };
  },
  async run(runtime, task, signal) {
    const { store, blobs, lifecycle } = runtime;
    const [track] = await tracksOf(store.db, task.input.parentTaskId);
    if (!track) throw new SourceAudioError(`task ${task.input.parentTaskId} has no track to draw`);
    const master = await masterBlobOf(store.db, track.id);
    const audioFile = await store.db.selectFrom('files').select('blob_key').where('id', '=', track.audio_file).executeTakeFirst();
    const blob = master && (await blobs.size(master)) !== null ? master : audioFile?.blob_key;
    if (!blob || (await blobs.size(blob)) === null) throw new SourceAudioError('the track’s audio is no longer available');
    // Loaded here, not with the module: the serving process holds the audio library only once it needs it.
    const { AudioFormatError, decodeAudio, renderCover } = await import('../../audio/index.js');
    let channels: Float32Array[];
    try {
      channels = (await decodeAudio(await blobs.get(blob))).channels;
    } catch (error) {
      if (error instanceof AudioFormatError) throw new SourceAudioError(`the track’s audio cannot be read: ${error.message}`);
      throw error;
    }
    const images: Array<{ blob: string; size: number }> = [];
    for (let i = 0; i < IMAGES_PER_TASK; i++) {
      signal.throwIfAborted();
      // Each variant seeds other shapes and colours from the same title, style and waveform.
      const jpeg = await renderCover({ title: track.title, tags: track.tags, variant: `cover-${task.seed}-${i}`, channels, size: 1024 });
      const key = `tasks/${task.id}/cover-${i}.jpeg`;
      await blobs.put(key, jpeg);
      images.push({ blob: key, size: jpeg.byteLength });
    }
    return async (tx, row, now) => {
      const tokens: string[] = [];
      for (const [i, image] of images.entries()) {
        tokens.push(
          await registerFile(
            tx,
            {
              accountId: row.account_id,
              kind: 'image',
              blobKey: image.blob,
              contentType: 'image/jpeg',
              size: image.size,
              fileName: `${track.title} (${i + 1}).jpeg`,
              expiresAt: now + lifecycle.generatedRetentionMs,
            },
            now,
          ),
        );
      }
      await writeResult(tx, task.id, { images: tokens } satisfies CoverResult);
      return { code: 200, msg: 'success', data: { taskId: task.id, images: tokens.map((token) => fileUrls(lifecycle.publicUrl, token).image) } };
    };
  },
};
