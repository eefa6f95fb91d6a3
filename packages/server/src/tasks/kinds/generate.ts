import { Type } from '@sinclair/typebox';
import type { Operation, PersonaFingerprint } from '../../engine/types.js';
import { parseGenerate } from '../validate.js';
import type { KindRuntime, RunningTask, TaskKind } from './kind.js';
import { musicFamily, runSongs, vocalsOf, wordsOf } from './music.js';
import { MODELS, persona, styleWithPersona } from './rules.js';
import { url } from './schema.js';

/** `POST /api/v1/generate`: two songs from words (SPEC §3), sung unless instrumental. */
export interface GenerateTaskInput {
  kind: 'generate';
  prompt: string;
  style: string;
  title: string;
  negativeTags: string;
  instrumental: boolean;
  customMode: boolean;
  vocalGender?: 'm' | 'f';
  persona?: PersonaFingerprint;
  durationS: number;
}

/** A song's title where none was given: the first words of its style or prompt; the second song is marked (II). */
export const defaultTitle = (input: { title: string; style: string; prompt: string }) => (i: number) =>
  input.title || `${(input.style || input.prompt).slice(0, 60)}${i === 0 ? '' : ' (II)'}`;

const GenerateBody = Type.Object(
  {
    customMode: Type.Boolean(),
    instrumental: Type.Boolean(),
    model: Type.Optional(Type.String({ enum: [...MODELS] })),
    prompt: Type.Optional(Type.String({ description: 'Non-custom mode: description ≤ 500 chars; custom mode: lyrics' })),
    style: Type.Optional(Type.String({ description: 'Required in custom mode' })),
    title: Type.Optional(Type.String({ description: 'Required in custom mode' })),
    negativeTags: Type.Optional(Type.String()),
    vocalGender: Type.Optional(Type.String({ enum: ['m', 'f'] })),
    styleWeight: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    weirdnessConstraint: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    audioWeight: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    personaId: Type.Optional(Type.String({ description: 'Custom mode: a persona from generate-persona' })),
    callBackUrl: url('Required: receives `text`, `first` and `complete` (or `error`) callbacks'),
  },
  { additionalProperties: true },
);

/** The engine operation of a task of this kind (run, and told back for exact stems and notes). */
async function operationOf(_runtime: KindRuntime, task: RunningTask<GenerateTaskInput>): Promise<Operation> {
  const { input } = task;
  return {
    op: 'generate',
    input: {
      ...wordsOf(input),
      ...vocalsOf(input),
      ...(input.persona ? { persona: input.persona } : {}),
      durationS: input.durationS,
      seed: task.seed,
    },
  };
}

export const generateKind: TaskKind<GenerateTaskInput> = {
  name: 'generate',
  type: 'GENERATE',
  operationType: 'generate',
  price: 'generate',
  route: { path: '/api/v1/generate', summary: 'Generate two songs', body: GenerateBody },
  market: 'ai-music-api/generate',
  family: musicFamily,
  async admit(context, accountId, body) {
    const request = parseGenerate(body);
    const fingerprint = await persona(context.store.db, accountId, body, request.customMode);
    return {
      input: {
        kind: 'generate',
        prompt: request.prompt,
        style: styleWithPersona(request.style, fingerprint),
        title: request.title,
        negativeTags: request.negativeTags,
        instrumental: request.instrumental,
        customMode: request.customMode,
        ...(request.vocalGender ? { vocalGender: request.vocalGender } : {}),
        ...(fingerprint ? { persona: fingerprint } : {}),
        durationS: context.config.generateDurationS,
      },
      parentMusicId: '',
      model: request.model,
      callbackUrl: request.callBackUrl,
      fetched: [],
    };
  },
  operation: operationOf,
  async run(runtime, task, signal) {
    const { input } = task;
    return runSongs(runtime, task, await operationOf(runtime, task), { title: defaultTitle(input), tags: input.style, prompt: input.prompt }, signal);
  },
};
