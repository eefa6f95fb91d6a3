import { Type } from '@sinclair/typebox';
import { SourceAudioError } from '../../engine/types.js';
import { fileUrls } from '../../files/index.js';
import { type Body, optionalString } from '../fields.js';
import { putTaskFile, registerTaskFile, trackFileFamily } from '../track-file.js';
import { findFinishedTrack, parseTrackRef, readTrackAudio, type TrackRef } from '../track-ref.js';
import type { TaskKind } from './kind.js';
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

export const musicVideoFamily = trackFileFamily({
  name: 'music-video',
  detailsPath: '/api/v1/mp4/record-info',
  responseKey: 'videoUrl',
  urlOf: (urls) => urls.video,
  failure: 'GENERATE_MP4_FAILED',
  errorData: (taskId) => ({ task_id: taskId, video_url: null }),
});

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
    // Written whole or not at all; registered only when the task succeeds.
    const key = `tasks/${task.id}/${task.input.audioId}.mp4`;
    await putTaskFile(blobs, key, video.mp4, signal);
    return async (tx, row, now) => {
      const file = {
        kind: 'video',
        blobKey: key,
        contentType: 'video/mp4',
        size: video.mp4.byteLength,
        fileName: `${track.title || 'music video'}.mp4`,
      } as const;
      const token = await registerTaskFile(tx, row, now, lifecycle, file);
      return { code: 200, msg: 'MP4 generated successfully.', data: { task_id: task.id, video_url: fileUrls(lifecycle.publicUrl, token).video } };
    };
  },
};
