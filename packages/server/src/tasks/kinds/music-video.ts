import { Type } from '@sinclair/typebox';
import { FAILURE_MSG, type FailureCode } from '../../callbacks/index.js';
import { SourceAudioError } from '../../engine/types.js';
import { fileUrls, registerFile } from '../../files/index.js';
import { formatCreateTime } from '../../ids.js';
import type { TasksTable } from '../../store/index.js';
import { type Body, optionalString } from '../fields.js';
import { writeResult } from '../lifecycle.js';
import { findFinishedTrack, parseTrackRef, readTrackAudio, type TrackRef } from '../track-ref.js';
import type { Family, TaskKind } from './kind.js';
import { requiredCallbackUrl } from './rules.js';
import { url } from './schema.js';

/**
 * `POST /api/v1/mp4/generate` (kie-catalogue §21): a music video of one of the caller's tracks —
 * its cover art with the title, the `author` signed on it and the `domainName` as a watermark, a
 * spectrum of the track's own audio moving in time with it, and the whole track as sound
 * (audio/video/music-video.ts; H.264 and AAC in an MP4 any browser plays). A family of its own:
 * string `successFlag`, "YYYY-MM-DD HH:MM:SS" times, and a callback `{code, msg, data: {task_id,
 * video_url}}` signed over `data.task_id`.
 */
export interface MusicVideoTaskInput {
  kind: 'music-video';
  taskId: string;
  audioId: string;
  /** The track's place in its task (record-info `musicIndex`). */
  musicIndex: number;
  author: string;
  domainName: string;
}

/** KIE: `author` and `domainName` at most 50 characters each. */
export const MUSIC_VIDEO_TEXT_MAX = 50;

/** What a finished video task keeps: the file's token. */
interface MusicVideoResult {
  file: string;
}

const MusicVideoBody = Type.Object(
  {
    taskId: Type.String({ description: 'A music task of yours that succeeded' }),
    audioId: Type.String({ description: 'One of its tracks' }),
    callBackUrl: url('Required: receives `{code, msg, data: {task_id, video_url}}`, signed over data.task_id'),
    author: Type.Optional(Type.String({ description: `Signed on the cover, at most ${MUSIC_VIDEO_TEXT_MAX} characters` })),
    domainName: Type.Optional(Type.String({ description: `A watermark at the bottom, at most ${MUSIC_VIDEO_TEXT_MAX} characters` })),
  },
  { additionalProperties: true },
);

export function parseMusicVideo(body: Body): TrackRef & { callBackUrl: string; author: string; domainName: string } {
  const callBackUrl = requiredCallbackUrl(body);
  return {
    ...parseTrackRef(body),
    callBackUrl,
    author: optionalString(body, 'author', MUSIC_VIDEO_TEXT_MAX) ?? '',
    domainName: optionalString(body, 'domainName', MUSIC_VIDEO_TEXT_MAX) ?? '',
  };
}

const videoUrlOf = (task: TasksTable, publicUrl: string): string | null =>
  task.result ? fileUrls(publicUrl, (JSON.parse(task.result) as MusicVideoResult).file).video : null;

/** KIE's status of a video task, a string (§1.5); a running task is still PENDING there. */
function successFlag(task: TasksTable): string {
  return task.status === 'GENERATE_AUDIO_FAILED' ? 'GENERATE_MP4_FAILED' : task.status;
}

/** mp4 record-info `data`: the schema of `musicVideoFamily.details`. */
const MusicVideoRecord = Type.Object(
  {
    taskId: Type.String(),
    musicId: Type.String({ description: 'The audioId the video is of' }),
    callbackUrl: Type.Union([Type.String(), Type.Null()]),
    musicIndex: Type.Integer({ description: 'The track’s place in its task: 0 or 1' }),
    completeTime: Type.Union([Type.String({ description: 'YYYY-MM-DD HH:MM:SS, UTC' }), Type.Null()]),
    response: Type.Object({ videoUrl: Type.Union([Type.String(), Type.Null()]) }),
    successFlag: Type.String({ enum: ['PENDING', 'SUCCESS', 'CREATE_TASK_FAILED', 'GENERATE_MP4_FAILED', 'CALLBACK_EXCEPTION'] }),
    createTime: Type.String({ description: 'YYYY-MM-DD HH:MM:SS, UTC' }),
    errorCode: Type.Union([Type.Integer(), Type.Null()]),
    errorMessage: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: true },
);

export const musicVideoFamily: Family = {
  name: 'music-video',
  detailsPath: '/api/v1/mp4/record-info',
  detailsSchema: MusicVideoRecord,
  errorBody: (code: FailureCode, taskId: string, message: string) => ({
    code,
    msg: `${FAILURE_MSG[code]}: ${message}`,
    data: { task_id: taskId, video_url: null },
  }),
  async details(_db, task, publicUrl) {
    const input = JSON.parse(task.input) as MusicVideoTaskInput;
    return {
      taskId: task.id,
      musicId: input.audioId,
      callbackUrl: task.callback_url,
      musicIndex: input.musicIndex,
      completeTime: task.finished_at === null ? null : formatCreateTime(task.finished_at),
      response: { videoUrl: videoUrlOf(task, publicUrl) },
      successFlag: successFlag(task),
      createTime: formatCreateTime(task.created_at),
      errorCode: task.error_code,
      errorMessage: task.error_message,
    };
  },
  async resultJson(_db, task, publicUrl) {
    const video = videoUrlOf(task, publicUrl);
    return { resultUrls: video ? [video] : [] };
  },
};

export const musicVideoKind: TaskKind<MusicVideoTaskInput> = {
  name: 'music-video',
  type: 'MUSIC_VIDEO',
  operationType: 'create_music_video',
  price: 'musicVideo',
  route: {
    path: '/api/v1/mp4/generate',
    summary: 'A music video of a track: cover, title, a spectrum moving with the music, the whole track',
    body: MusicVideoBody,
  },
  market: 'ai-music-api/create-music-video',
  family: musicVideoFamily,
  async admit(context, accountId, body) {
    const request = parseMusicVideo(body);
    const found = await findFinishedTrack(context.store.db, accountId, request);
    return {
      input: {
        kind: 'music-video',
        taskId: request.taskId,
        audioId: request.audioId,
        musicIndex: found.track.idx,
        author: request.author,
        domainName: request.domainName,
      },
      parentMusicId: request.audioId,
      model: '',
      callbackUrl: request.callBackUrl,
      fetched: [],
    };
  },
  async run(runtime, task, signal) {
    const { store, blobs, lifecycle } = runtime;
    const track = await store.db
      .selectFrom('tracks')
      .innerJoin('files as audio', 'audio.id', 'tracks.audio_file')
      .innerJoin('files as image', 'image.id', 'tracks.image_file')
      .select(['tracks.id', 'tracks.title', 'tracks.tags', 'audio.blob_key as audioBlob', 'image.blob_key as imageBlob'])
      .where('tracks.id', '=', task.input.audioId)
      .executeTakeFirst();
    const audio = track ? await readTrackAudio({ db: store.db, blobs }, track.id, track.audioBlob) : null;
    if (!track || !audio) throw new SourceAudioError('the track’s audio is no longer available');
    // A cover that is gone is drawn again from the title and tags, as for a new track.
    const cover = (await blobs.size(track.imageBlob)) === null ? undefined : await blobs.get(track.imageBlob);
    const { author, domainName } = task.input;
    const video = await runtime.renderVideo({ audio: audio.bytes, cover, title: track.title, tags: track.tags, author, domainName }, signal);
    // Written whole or not at all (the blob store writes aside and renames); registered only when the task succeeds.
    const key = `tasks/${task.id}/${task.input.audioId}.mp4`;
    await blobs.put(key, video.mp4);
    if (signal.aborted) {
      await blobs.delete(key);
      signal.throwIfAborted();
    }
    return async (tx, row, now) => {
      const token = await registerFile(
        tx,
        {
          accountId: row.account_id,
          kind: 'video',
          blobKey: key,
          contentType: 'video/mp4',
          size: video.mp4.byteLength,
          fileName: `${track.title || 'music video'}.mp4`,
          expiresAt: now + lifecycle.generatedRetentionMs,
        },
        now,
      );
      await writeResult(tx, task.id, { file: token } satisfies MusicVideoResult);
      return { code: 200, msg: 'MP4 generated successfully.', data: { task_id: task.id, video_url: fileUrls(lifecycle.publicUrl, token).video } };
    };
  },
};
