import { Type } from '@sinclair/typebox';
import type { Operation, PersonaFingerprint } from '../../engine/types.js';
import { type Body, requiredHttpUrl } from '../fields.js';
import { defaultTitle } from './generate.js';
import type { KindRuntime, RunningTask, TaskKind } from './kind.js';
import { admitUpload, musicFamily, runSongs, type StoredSource, sourceAudio, vocalsOf, wordsOf } from './music.js';
import { type Knobs, knobs, limitsFor, MODELS, type Model, model, persona, requiredCallbackUrl, type SongText, songText, styleWithPersona } from './rules.js';
import { songCallback, url, weights } from './schema.js';

/** `POST /api/v1/generate/upload-cover` (kie-catalogue §5): an uploaded song re-arranged in another style. */
export interface UploadCoverTaskInput {
  kind: 'upload-cover';
  source: StoredSource;
  prompt: string;
  style: string;
  title: string;
  negativeTags: string;
  instrumental: boolean;
  customMode: boolean;
  vocalGender?: 'm' | 'f';
  persona?: PersonaFingerprint;
}

export interface UploadCoverRequest extends SongText, Knobs {
  uploadUrl: string;
  model: Model;
  callBackUrl: string;
}

export function parseUploadCover(body: Body): UploadCoverRequest {
  const callBackUrl = requiredCallbackUrl(body);
  const uploadUrl = requiredHttpUrl(body, 'uploadUrl');
  const chosen = model(body, 'V4_5');
  return { uploadUrl, model: chosen, callBackUrl, ...songText(body, limitsFor(chosen)), ...knobs(body) };
}

const UploadCoverBody = Type.Object(
  {
    uploadUrl: url('The song to cover (MP3 or WAV, at most 8 minutes), e.g. a File Upload API downloadUrl'),
    customMode: Type.Boolean(),
    instrumental: Type.Boolean(),
    model: Type.Optional(Type.String({ enum: [...MODELS] })),
    prompt: Type.Optional(Type.String({ description: 'Non-custom: a description (≤ 500); custom with vocals: the lyrics' })),
    style: Type.Optional(Type.String({ description: 'Required in custom mode' })),
    title: Type.Optional(Type.String({ description: 'Required in custom mode' })),
    personaId: Type.Optional(Type.String()),
    ...weights,
    callBackUrl: songCallback,
  },
  { additionalProperties: true },
);

/** The engine operation of a task of this kind (run, and told back for exact stems and notes). */
async function operationOf(runtime: KindRuntime, task: RunningTask<UploadCoverTaskInput>): Promise<Operation> {
  const { input } = task;
  return {
    op: 'cover',
    input: {
      source: await sourceAudio(runtime, input.source),
      ...wordsOf(input),
      ...vocalsOf(input),
      ...(input.persona ? { persona: input.persona } : {}),
      seed: task.seed,
    },
  };
}

export const uploadCoverKind: TaskKind<UploadCoverTaskInput> = {
  name: 'upload-cover',
  type: 'UPLOAD_COVER',
  operationType: 'upload_cover',
  price: 'uploadCover',
  route: { path: '/api/v1/generate/upload-cover', summary: 'Upload a song and cover it in another style', body: UploadCoverBody },
  market: 'ai-music-api/upload-and-cover-audio',
  family: musicFamily,
  async admit(context, accountId, body) {
    const request = parseUploadCover(body);
    const fingerprint = await persona(context.store.db, accountId, body, request.customMode);
    const upload = await admitUpload(context, accountId, request.uploadUrl);
    return {
      input: {
        kind: 'upload-cover',
        source: upload.source,
        prompt: request.prompt,
        style: styleWithPersona(request.style, fingerprint),
        title: request.title,
        negativeTags: request.negativeTags,
        instrumental: request.instrumental,
        customMode: request.customMode,
        ...(request.vocalGender ? { vocalGender: request.vocalGender } : {}),
        ...(fingerprint ? { persona: fingerprint } : {}),
      },
      parentMusicId: '',
      model: request.model,
      callbackUrl: request.callBackUrl,
      fetched: upload.fetched,
    };
  },
  operation: operationOf,
  async run(runtime, task, signal) {
    const { input } = task;
    return runSongs(runtime, task, await operationOf(runtime, task), { title: defaultTitle(input), tags: input.style, prompt: input.prompt }, signal);
  },
};
