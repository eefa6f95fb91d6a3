import { Type } from '@sinclair/typebox';
import type { PersonaFingerprint } from '../../engine/types.js';
import { invalid } from '../../errors.js';
import { type Body, optionalString, requiredBoolean, requiredHttpUrl, requiredString } from '../fields.js';
import type { TaskKind } from './kind.js';
import { admitUpload, musicFamily, runSongs, type StoredSource, sourceAudio, wordsOf } from './music.js';
import { checkContinueAt, type Knobs, knobs, limitsFor, MODELS, type Model, model, persona, requiredCallbackUrl, seconds, styleWithPersona } from './rules.js';
import { songCallback, url, weights } from './schema.js';

/** `POST /api/v1/generate/upload-extend` (kie-catalogue §6): an uploaded song continued from `continueAt`. */
export interface UploadExtendTaskInput {
  kind: 'upload-extend';
  source: StoredSource;
  continueAtS: number;
  addS: number;
  prompt: string;
  style: string;
  title: string;
  negativeTags: string;
  instrumental: boolean;
  persona?: PersonaFingerprint;
}

export interface UploadExtendRequest extends Knobs {
  uploadUrl: string;
  defaultParamFlag: boolean;
  instrumental: boolean;
  continueAt: number;
  model: Model;
  prompt: string;
  style: string;
  title: string;
  callBackUrl: string;
}

export function parseUploadExtend(body: Body): UploadExtendRequest {
  const callBackUrl = requiredCallbackUrl(body);
  const uploadUrl = requiredHttpUrl(body, 'uploadUrl');
  const defaultParamFlag = requiredBoolean(body, 'defaultParamFlag');
  const instrumental = requiredBoolean(body, 'instrumental');
  const continueAt = seconds(body, 'continueAt');
  if (continueAt === undefined) throw invalid('continueAt', 'is required');
  if (!(continueAt > 0)) throw invalid('continueAt', 'must be greater than 0');
  const chosen = model(body, 'V4_5');
  const limits = limitsFor(chosen);
  const text = defaultParamFlag
    ? {
        style: requiredString(body, 'style', limits.style),
        title: requiredString(body, 'title', limits.title),
        prompt: instrumental ? (optionalString(body, 'prompt', limits.prompt) ?? '') : requiredString(body, 'prompt', limits.prompt),
      }
    : { style: '', title: '', prompt: requiredString(body, 'prompt', limits.prompt) };
  return { uploadUrl, defaultParamFlag, instrumental, continueAt, model: chosen, callBackUrl, ...text, ...knobs(body) };
}

const UploadExtendBody = Type.Object(
  {
    uploadUrl: url('The song to extend (MP3 or WAV, at most 8 minutes), e.g. a File Upload API downloadUrl'),
    defaultParamFlag: Type.Boolean({ description: 'true: style and title required (and prompt unless instrumental); false: prompt only' }),
    instrumental: Type.Boolean(),
    continueAt: Type.Number({ description: 'Seconds: where the new music starts; > 0 and < the song’s duration' }),
    model: Type.Optional(Type.String({ enum: [...MODELS] })),
    prompt: Type.Optional(Type.String()),
    style: Type.Optional(Type.String()),
    title: Type.Optional(Type.String()),
    personaId: Type.Optional(Type.String()),
    ...weights,
    callBackUrl: songCallback,
  },
  { additionalProperties: true },
);

/** An upload without a title is named after its file. */
const titleOf = (input: UploadExtendTaskInput) => input.title || input.source.name.replace(/\.[a-z0-9]+$/i, '');

export const uploadExtendKind: TaskKind<UploadExtendTaskInput> = {
  name: 'upload-extend',
  type: 'UPLOAD_EXTEND',
  operationType: 'upload_extend',
  price: 'uploadExtend',
  route: { path: '/api/v1/generate/upload-extend', summary: 'Upload a song and extend it', body: UploadExtendBody },
  market: 'ai-music-api/upload-and-extend-audio',
  family: musicFamily,
  async admit(context, accountId, body) {
    const request = parseUploadExtend(body);
    const fingerprint = request.defaultParamFlag ? await persona(context.store.db, accountId, body, true) : undefined;
    const upload = await admitUpload(context, accountId, request.uploadUrl);
    checkContinueAt(request.continueAt, upload.source.durationS);
    return {
      input: {
        kind: 'upload-extend',
        source: upload.source,
        continueAtS: request.continueAt,
        addS: context.config.extendDurationS,
        prompt: request.prompt,
        style: styleWithPersona(request.style, fingerprint),
        title: request.title,
        negativeTags: request.negativeTags,
        instrumental: request.instrumental,
        ...(fingerprint ? { persona: fingerprint } : {}),
      },
      parentMusicId: '',
      model: request.model,
      callbackUrl: request.callBackUrl,
      fetched: upload.fetched,
    };
  },
  async run(runtime, task, signal) {
    const { input } = task;
    return runSongs(
      runtime,
      task,
      {
        op: 'extend',
        input: {
          source: await sourceAudio(runtime, input.source),
          continueAtS: input.continueAtS,
          addS: input.addS,
          ...wordsOf({ ...input, title: titleOf(input) }),
          // Extend continues the band; it does not sing yet.
          instrumental: true,
          ...(input.persona ? { persona: input.persona } : {}),
          seed: task.seed,
        },
      },
      { title: () => titleOf(input), tags: input.style, prompt: input.prompt },
      signal,
    );
  },
};
