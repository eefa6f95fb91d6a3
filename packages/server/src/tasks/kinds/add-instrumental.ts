import { Type } from '@sinclair/typebox';
import { invalid } from '../../errors.js';
import { type Body, requiredHttpUrl, requiredString } from '../fields.js';
import type { TaskKind } from './kind.js';
import { admitUpload, musicFamily, runSongs, type StoredSource, sourceAudio } from './music.js';
import { type Knobs, knobs, type Model, model, requiredCallbackUrl } from './rules.js';
import { songCallback, url, weights } from './schema.js';

/** `POST /api/v1/generate/add-instrumental` (kie-catalogue §7): an accompaniment under an uploaded vocal. */
export interface AddInstrumentalTaskInput {
  kind: 'add-instrumental';
  source: StoredSource;
  tags: string;
  title: string;
  negativeTags: string;
}

export const ADD_LAYER_MODELS = ['V4_5PLUS', 'V5', 'V5_5'] as const satisfies readonly Model[];

export interface AddInstrumentalRequest extends Knobs {
  uploadUrl: string;
  title: string;
  tags: string;
  model: Model;
  callBackUrl: string;
}

export function parseAddInstrumental(body: Body): AddInstrumentalRequest {
  const callBackUrl = requiredCallbackUrl(body);
  const uploadUrl = requiredHttpUrl(body, 'uploadUrl');
  const title = requiredString(body, 'title', 100);
  const tags = requiredString(body, 'tags', 1000);
  const rest = knobs(body);
  if (body.negativeTags === undefined || body.negativeTags === null) throw invalid('negativeTags', 'is required (it may be empty)');
  return { uploadUrl, title, tags, model: model(body, 'V4_5PLUS', ADD_LAYER_MODELS), callBackUrl, ...rest };
}

const AddInstrumentalBody = Type.Object(
  {
    uploadUrl: url('The vocal to accompany (MP3 or WAV)'),
    title: Type.String(),
    tags: Type.String({ description: 'Styles of the accompaniment (note: `tags`, where add-vocals says `style`)' }),
    negativeTags: Type.String({ description: 'Styles to avoid; required, may be empty' }),
    model: Type.Optional(Type.String({ enum: [...ADD_LAYER_MODELS] })),
    vocalGender: weights.vocalGender,
    styleWeight: weights.styleWeight,
    weirdnessConstraint: weights.weirdnessConstraint,
    audioWeight: weights.audioWeight,
    callBackUrl: songCallback,
  },
  { additionalProperties: true },
);

export const addInstrumentalKind: TaskKind<AddInstrumentalTaskInput> = {
  name: 'add-instrumental',
  type: 'ADD_INSTRUMENTAL',
  operationType: 'add_instrumental',
  price: 'addInstrumental',
  route: { path: '/api/v1/generate/add-instrumental', summary: 'Add an accompaniment to an uploaded vocal', body: AddInstrumentalBody },
  market: 'ai-music-api/add-instrumental',
  family: musicFamily,
  async admit(context, accountId, body) {
    const request = parseAddInstrumental(body);
    const upload = await admitUpload(context, accountId, request.uploadUrl);
    return {
      input: {
        kind: 'add-instrumental',
        source: upload.source,
        tags: request.tags,
        title: request.title,
        negativeTags: request.negativeTags,
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
        op: 'addInstrumental',
        input: {
          source: await sourceAudio(runtime, input.source),
          prompt: '',
          style: input.tags,
          title: input.title,
          negativeTags: input.negativeTags,
          seed: task.seed,
        },
      },
      { title: () => input.title, tags: input.tags, prompt: '' },
      signal,
    );
  },
};
