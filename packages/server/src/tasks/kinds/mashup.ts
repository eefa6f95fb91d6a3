import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { invalid } from '../../errors.js';
import type { BlobStore } from '../../storage/index.js';
import { type Body, checkHttpUrl, optionalBoolean } from '../fields.js';
import type { ResolvedSource } from '../source.js';
import { defaultTitle } from './generate.js';
import type { TaskKind } from './kind.js';
import { admitUpload, musicFamily, runSongs, type StoredSource, sourceAudio, wordsOf } from './music.js';
import { type Knobs, knobs, limitsFor, MODELS, type Model, model, NON_CUSTOM_PROMPT_MAX, requiredCallbackUrl, songText } from './rules.js';
import { songCallback, url, weights } from './schema.js';

/** `POST /api/v1/generate/mashup` (kie-catalogue §9): two songs on one tempo and key, woven bar by bar. */
export interface MashupTaskInput {
  kind: 'mashup';
  sources: [StoredSource, StoredSource];
  prompt: string;
  style: string;
  title: string;
  negativeTags: string;
  instrumental: boolean;
  customMode: boolean;
}

export interface MashupRequest extends Knobs {
  uploadUrlList: [string, string];
  customMode: boolean;
  instrumental: boolean;
  prompt: string;
  style: string;
  title: string;
  model: Model;
  callBackUrl: string;
}

/** One entry of `uploadUrlList`: a non-empty http(s) URL of at most 2048 characters. */
function checkUrl(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(field, 'must be an http:// or https:// URL');
  checkHttpUrl(value, field);
  if (value.length > 2048) throw invalid(field, 'must be at most 2048 characters');
  return value;
}

export function parseMashup(body: Body): MashupRequest {
  const callBackUrl = requiredCallbackUrl(body);
  const list = body.uploadUrlList;
  if (list === undefined || list === null) throw invalid('uploadUrlList', 'is required: a list of exactly 2 song URLs');
  if (!Array.isArray(list) || list.length !== 2) throw invalid('uploadUrlList', 'must be a list of exactly 2 song URLs');
  const uploadUrlList: [string, string] = [checkUrl(list[0], 'uploadUrlList[0]'), checkUrl(list[1], 'uploadUrlList[1]')];
  if (uploadUrlList[0] === uploadUrlList[1]) throw invalid('uploadUrlList', 'the two songs must differ (both URLs are the same)');
  const chosen = model(body, 'V4_5');
  const instrumental = optionalBoolean(body, 'instrumental') ?? false;
  // KIE: title at most 80 characters on every model, as for generate. The prompt is optional in
  // custom mode (KIE requires only the songs, the mode and the model): the songs bring their own words.
  const text = songText(body, limitsFor(chosen), { titleMax: 80, instrumental: true });
  return { uploadUrlList, model: chosen, callBackUrl, ...text, instrumental, ...knobs(body) };
}

const MashupBody = Type.Object(
  {
    uploadUrlList: Type.Array(url('A song (MP3 or WAV)'), { minItems: 2, maxItems: 2, description: 'Exactly two different songs' }),
    customMode: Type.Boolean(),
    instrumental: Type.Optional(Type.Boolean()),
    model: Type.Optional(Type.String({ enum: [...MODELS] })),
    prompt: Type.Optional(Type.String({ description: `Non-custom mode: a description (≤ ${NON_CUSTOM_PROMPT_MAX})` })),
    style: Type.Optional(Type.String({ description: 'Required in custom mode' })),
    title: Type.Optional(Type.String({ maxLength: 80, description: 'Required in custom mode' })),
    ...weights,
    callBackUrl: songCallback,
  },
  { additionalProperties: true },
);

/** Two URLs may still name one song (a copy uploaded twice): the bytes decide. */
async function contentHash(blobs: BlobStore, upload: { source: StoredSource; fetched: ResolvedSource[] }): Promise<string> {
  const bytes = upload.fetched[0]?.fetched ?? (await blobs.get(upload.source.blob));
  return createHash('sha256').update(bytes).digest('hex');
}

export const mashupKind: TaskKind<MashupTaskInput> = {
  name: 'mashup',
  type: 'MASHUP',
  operationType: 'mashup',
  price: 'mashup',
  route: { path: '/api/v1/generate/mashup', summary: 'Mash two songs up on one tempo and key', body: MashupBody },
  market: 'ai-music-api/mashup',
  family: musicFamily,
  async admit(context, accountId, body) {
    const request = parseMashup(body);
    const [a, b] = request.uploadUrlList;
    const first = await admitUpload(context, accountId, a, 'uploadUrlList[0]');
    const second = await admitUpload(context, accountId, b, 'uploadUrlList[1]');
    if ((await contentHash(context.blobs, first)) === (await contentHash(context.blobs, second))) {
      throw invalid('uploadUrlList', 'the two songs must differ (both files hold the same audio)');
    }
    return {
      input: {
        kind: 'mashup',
        sources: [first.source, second.source],
        prompt: request.prompt,
        style: request.style,
        title: request.title,
        negativeTags: request.negativeTags,
        instrumental: request.instrumental,
        customMode: request.customMode,
      },
      parentMusicId: '',
      model: request.model,
      callbackUrl: request.callBackUrl,
      fetched: [...first.fetched, ...second.fetched],
    };
  },
  async run(runtime, task, signal) {
    const { input } = task;
    return runSongs(
      runtime,
      task,
      {
        op: 'mashup',
        input: {
          sources: [await sourceAudio(runtime, input.sources[0]), await sourceAudio(runtime, input.sources[1])],
          ...wordsOf(input),
          instrumental: input.instrumental,
          seed: task.seed,
        },
      },
      { title: defaultTitle(input), tags: input.style, prompt: input.prompt },
      signal,
    );
  },
};
