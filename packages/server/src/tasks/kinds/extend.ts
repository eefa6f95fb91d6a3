import { Type } from '@sinclair/typebox';
import type { PersonaFingerprint } from '../../engine/types.js';
import { invalid } from '../../errors.js';
import { type Body, optionalString, requiredBoolean, requiredString } from '../fields.js';
import { resolveSource } from '../source.js';
import type { TaskKind } from './kind.js';
import { musicFamily, runSongs, type StoredSource, sourceAudio, wordsOf } from './music.js';
import { checkContinueAt, type Knobs, knobs, limitsFor, MODELS, type Model, model, persona, requiredCallbackUrl, seconds, styleWithPersona } from './rules.js';
import { songCallback, weights } from './schema.js';

/**
 * `POST /api/v1/generate/extend` (kie-catalogue §4): a reprise track continued from
 * `continueAt` with new bars in its tempo, key and harmony. With `defaultParamFlag: false`
 * only `audioId` counts: the style, title and words are the track's own, and it continues
 * from its end.
 */
export interface ExtendTaskInput {
  kind: 'extend';
  source: StoredSource;
  continueAtS: number;
  addS: number;
  prompt: string;
  style: string;
  title: string;
  negativeTags: string;
  persona?: PersonaFingerprint;
}

export interface ExtendRequest extends Knobs {
  defaultParamFlag: boolean;
  audioId: string;
  model: Model;
  prompt: string;
  style: string;
  title: string;
  continueAt: number | undefined;
  callBackUrl: string;
}

/** Every rule that needs no lookup. */
export function parseExtend(body: Body): ExtendRequest {
  const callBackUrl = requiredCallbackUrl(body);
  const defaultParamFlag = requiredBoolean(body, 'defaultParamFlag');
  const audioId = requiredString(body, 'audioId', 64);
  const chosen = model(body, 'V4_5');
  const limits = limitsFor(chosen);
  if (!defaultParamFlag) {
    return { defaultParamFlag, audioId, model: chosen, prompt: '', style: '', title: '', continueAt: undefined, callBackUrl, ...knobs(body) };
  }
  const continueAt = seconds(body, 'continueAt');
  if (continueAt === undefined) throw invalid('continueAt', 'is required when defaultParamFlag is true');
  return {
    defaultParamFlag,
    audioId,
    model: chosen,
    prompt: optionalString(body, 'prompt', limits.prompt) ?? '',
    style: requiredString(body, 'style', limits.style),
    title: requiredString(body, 'title', limits.title),
    continueAt,
    callBackUrl,
    ...knobs(body),
  };
}

const ExtendBody = Type.Object(
  {
    defaultParamFlag: Type.Boolean({ description: 'true: use this request’s prompt, style, title and continueAt; false: only audioId, the rest inherited' }),
    audioId: Type.String({ description: 'A track of one of your tasks that succeeded' }),
    model: Type.Optional(Type.String({ enum: [...MODELS] })),
    prompt: Type.Optional(Type.String({ description: 'Lyrics or a description of the new part' })),
    style: Type.Optional(Type.String({ description: 'Required when defaultParamFlag is true' })),
    title: Type.Optional(Type.String({ description: 'Required when defaultParamFlag is true' })),
    continueAt: Type.Optional(Type.Number({ description: 'Seconds: where the new music starts; > 0 and < the track’s duration' })),
    personaId: Type.Optional(Type.String()),
    ...weights,
    callBackUrl: songCallback,
  },
  { additionalProperties: true },
);

export const extendKind: TaskKind<ExtendTaskInput> = {
  name: 'extend',
  type: 'EXTEND',
  operationType: 'extend',
  price: 'extend',
  route: { path: '/api/v1/generate/extend', summary: 'Extend a track from a point in it', body: ExtendBody },
  market: 'ai-music-api/extend',
  family: musicFamily,
  async admit(context, accountId, body) {
    const request = parseExtend(body);
    const source = await resolveSource(context, accountId, { mode: 'audio', audioId: request.audioId });
    const inherited = source.track ?? { title: '', tags: '', prompt: '' };
    // Inherited: from the very end, a step short of it so that the join lies inside the song.
    const continueAtS = request.continueAt ?? Math.max(0.01, source.durationS - 0.01);
    if (request.continueAt !== undefined) checkContinueAt(request.continueAt, source.durationS);
    const fingerprint = request.defaultParamFlag ? await persona(context.store.db, accountId, body, true) : undefined;
    return {
      input: {
        kind: 'extend',
        source: { blob: source.blobKey, name: source.name, durationS: source.durationS, trackId: request.audioId, url: '' },
        continueAtS,
        addS: context.config.extendDurationS,
        prompt: request.defaultParamFlag ? request.prompt : inherited.prompt,
        style: styleWithPersona(request.defaultParamFlag ? request.style : inherited.tags, fingerprint),
        title: request.defaultParamFlag ? request.title : inherited.title,
        negativeTags: request.negativeTags,
        ...(fingerprint ? { persona: fingerprint } : {}),
      },
      parentMusicId: request.audioId,
      model: request.model,
      callbackUrl: request.callBackUrl,
      fetched: [],
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
          ...wordsOf(input),
          // Extend continues the band; it does not sing yet.
          instrumental: true,
          ...(input.persona ? { persona: input.persona } : {}),
          seed: task.seed,
        },
      },
      { title: () => input.title, tags: input.style, prompt: input.prompt },
      signal,
    );
  },
};
