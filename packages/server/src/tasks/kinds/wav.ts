import { Type } from '@sinclair/typebox';
import { EngineError, SourceAudioError } from '../../engine/types.js';
import { ApiError } from '../../errors.js';
import { fileUrls } from '../../files/index.js';
import type { Body } from '../fields.js';
import { putTaskFile, registerTaskFile, trackFileFamily } from '../track-file.js';
import { findFinishedTrack, parseTrackRef, readTrackAudio, type TrackRef } from '../track-ref.js';
import type { TaskKind } from './kind.js';
import { requiredCallbackUrl } from './rules.js';
import { url } from './schema.js';

/**
 * `POST /api/v1/wav/generate` (kie-catalogue §18): a WAV of one of the caller's tracks. A track
 * reprise rendered has a lossless master (32-bit float, the very samples the MP3 was encoded
 * from): its WAV carries those samples bit for bit. A track without one gets its MP3 decoded, the
 * encoder's delay and padding removed. Either way the file is 32-bit float, the one encoding
 * that changes no sample (audio/codecs/float-wav.ts). A family of its own: string
 * `successFlag`, "YYYY-MM-DD HH:MM:SS" times, and a callback `{code, msg, data: {audioWavUrl,
 * task_id}}` signed over `data.task_id`.
 */
export interface WavTaskInput {
  kind: 'wav';
  taskId: string;
  audioId: string;
  /** The track's place in its task (record-info `musicIndex`). */
  musicIndex: number;
}

const WavBody = Type.Object(
  {
    taskId: Type.String({ description: 'A music task of yours that succeeded' }),
    audioId: Type.String({ description: 'One of its tracks' }),
    callBackUrl: url('Required: receives `{code, msg, data: {audioWavUrl, task_id}}`, signed over data.task_id'),
  },
  { additionalProperties: true },
);

export function parseWav(body: Body): TrackRef & { callBackUrl: string } {
  const callBackUrl = requiredCallbackUrl(body);
  return { ...parseTrackRef(body), callBackUrl };
}

export const wavFamily = trackFileFamily({
  name: 'wav',
  detailsPath: '/api/v1/wav/record-info',
  responseKey: 'audioWavUrl',
  urlOf: (urls) => urls.wav,
  failure: 'GENERATE_WAV_FAILED',
  errorData: (taskId) => ({ audioWavUrl: null, task_id: taskId }),
});

export const wavKind: TaskKind<WavTaskInput> = {
  name: 'wav',
  type: 'WAV',
  operationType: 'convert_to_wav',
  price: 'wav',
  route: { path: '/api/v1/wav/generate', summary: 'Convert a track to WAV (its lossless master where it has one)', body: WavBody },
  market: 'ai-music-api/convert-to-wav-format',
  family: wavFamily,
  // KIE keeps one WAV per track; the refusal names the task that has it (kie-catalogue §18.2).
  onePerParent: (existing) => new ApiError(409, 'WAV record already exists', undefined, { taskId: existing }),
  async admit(context, accountId, body) {
    const request = parseWav(body);
    const found = await findFinishedTrack(context.store.db, accountId, request);
    return {
      input: { kind: 'wav', taskId: request.taskId, audioId: request.audioId, musicIndex: found.track.idx },
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
      .innerJoin('files', 'files.id', 'tracks.audio_file')
      .select(['tracks.id', 'tracks.title', 'files.blob_key'])
      .where('tracks.id', '=', task.input.audioId)
      .executeTakeFirst();
    const audio = track ? await readTrackAudio({ db: store.db, blobs }, track.id, track.blob_key) : null;
    if (!track || !audio) throw new SourceAudioError('the track’s audio is no longer available');
    // Loaded here, not with the module: the serving process holds the audio library only once it needs it.
    const { toFloatWav } = await import('../../audio/index.js');
    let wav: Uint8Array;
    try {
      ({ wav } = await toFloatWav(audio.bytes));
    } catch (error) {
      throw new EngineError(`converting the track’s ${audio.from === 'master' ? 'lossless master' : 'MP3'} to WAV failed: ${(error as Error).message}`);
    }
    signal.throwIfAborted();
    // Written whole or not at all; registered only when the task succeeds.
    const key = `tasks/${task.id}/${task.input.audioId}.wav`;
    await putTaskFile(blobs, key, wav, signal);
    return async (tx, row, now) => {
      const file = { kind: 'audio', blobKey: key, contentType: 'audio/wav', size: wav.byteLength, fileName: `${track.title}.wav` } as const;
      const token = await registerTaskFile(tx, row, now, lifecycle, file);
      return { code: 200, msg: 'success', data: { audioWavUrl: fileUrls(lifecycle.publicUrl, token).wav, task_id: task.id } };
    };
  },
};
