import { Type } from '@sinclair/typebox';
import type { Operation } from '../../engine/types.js';
import { invalid } from '../../errors.js';
import { type Body, requiredHttpUrl, requiredString } from '../fields.js';
import type { KindRuntime, RunningTask, TaskKind } from './kind.js';
import { admitUpload, musicFamily, runSongs, type StoredSource, sourceAudio, wordsOf } from './music.js';
import { type Knobs, knobs, type Model, model, requiredCallbackUrl } from './rules.js';
import { songCallback, url, weights } from './schema.js';

/** `POST /api/v1/generate/add-vocals` (kie-catalogue §8): a sung line over an uploaded instrumental. */
export interface AddVocalsTaskInput {
  kind: 'add-vocals';
  source: StoredSource;
  prompt: string;
  style: string;
  title: string;
  negativeTags: string;
  vocalGender?: 'm' | 'f';
}

/** KIE's add-vocals models (kie-catalogue §8): add-instrumental also takes V5_5. */
export const ADD_VOCALS_MODELS = ['V4_5PLUS', 'V5'] as const satisfies readonly Model[];

export interface AddVocalsRequest extends Knobs {
  uploadUrl: string;
  prompt: string;
  title: string;
  style: string;
  model: Model;
  callBackUrl: string;
}

export function parseAddVocals(body: Body): AddVocalsRequest {
  const callBackUrl = requiredCallbackUrl(body);
  const uploadUrl = requiredHttpUrl(body, 'uploadUrl');
  const prompt = requiredString(body, 'prompt', 5000);
  const title = requiredString(body, 'title', 100);
  const style = requiredString(body, 'style', 1000);
  const rest = knobs(body);
  if (body.negativeTags === undefined || body.negativeTags === null) throw invalid('negativeTags', 'is required (it may be empty)');
  return { uploadUrl, prompt, title, style, model: model(body, 'V4_5PLUS', ADD_VOCALS_MODELS), callBackUrl, ...rest };
}

const AddVocalsBody = Type.Object(
  {
    uploadUrl: url('The instrumental to sing over (MP3 or WAV)'),
    prompt: Type.String({ description: 'What is sung: lyrics, with section tags such as [Verse] if you like' }),
    title: Type.String(),
    style: Type.String({ description: 'Style of the vocal (note: `style`, where add-instrumental says `tags`)' }),
    negativeTags: Type.String({ description: 'Styles to avoid; required, may be empty' }),
    model: Type.Optional(Type.String({ enum: [...ADD_VOCALS_MODELS] })),
    vocalGender: weights.vocalGender,
    styleWeight: weights.styleWeight,
    weirdnessConstraint: weights.weirdnessConstraint,
    audioWeight: weights.audioWeight,
    callBackUrl: songCallback,
  },
  { additionalProperties: true },
);

/** The engine operation of a task of this kind (run, and told back for exact stems and notes). */
async function operationOf(runtime: KindRuntime, task: RunningTask<AddVocalsTaskInput>): Promise<Operation> {
  const { input } = task;
  return {
    op: 'addVocals',
    input: {
      source: await sourceAudio(runtime, input.source),
      ...wordsOf(input),
      ...(input.vocalGender ? { vocalGender: input.vocalGender } : {}),
      seed: task.seed,
    },
  };
}

export const addVocalsKind: TaskKind<AddVocalsTaskInput> = {
  name: 'add-vocals',
  type: 'ADD_VOCALS',
  operationType: 'add_vocals',
  price: 'addVocals',
  route: { path: '/api/v1/generate/add-vocals', summary: 'Sing over an uploaded instrumental', body: AddVocalsBody },
  market: 'ai-music-api/add-vocals',
  family: musicFamily,
  async admit(context, accountId, body) {
    const request = parseAddVocals(body);
    const upload = await admitUpload(context, accountId, request.uploadUrl);
    return {
      input: {
        kind: 'add-vocals',
        source: upload.source,
        prompt: request.prompt,
        style: request.style,
        title: request.title,
        negativeTags: request.negativeTags,
        ...(request.vocalGender ? { vocalGender: request.vocalGender } : {}),
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
    return runSongs(runtime, task, await operationOf(runtime, task), { title: () => input.title, tags: input.style, prompt: input.prompt }, signal);
  },
};
