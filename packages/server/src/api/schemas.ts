import { type TSchema, Type } from '@sinclair/typebox';

/**
 * Route schemas: they document the API (OpenAPI at /docs) and serialise answers.
 * Request bodies are validated by the task domain's own validators, which give
 * the precise `field: rule` messages KIE clients see (SPEC §1), so these body
 * schemas describe without rejecting (see app.ts).
 */
const envelope = <T extends TSchema>(data: T, description: string) =>
  Type.Object({ code: Type.Integer({ examples: [200] }), msg: Type.String({ examples: ['success'] }), data }, { description });

const url = (description: string) => Type.String({ format: 'uri', description });

export const ReplaceSectionBody = Type.Object(
  {
    taskId: Type.Optional(Type.String({ description: 'Mode 1: the parent task (must have succeeded)' })),
    audioId: Type.Optional(Type.String({ description: 'Mode 1: one of the parent task’s tracks' })),
    uploadUrl: Type.Optional(url('Mode 2: an http(s) URL of an MP3 or WAV file, e.g. a File Upload API downloadUrl')),
    model: Type.Optional(Type.String({ description: 'Mode 2: accepted and recorded' })),
    prompt: Type.String({ minLength: 1, maxLength: 3000, description: 'Lyrics or a description of the new section' }),
    tags: Type.String({ minLength: 1, maxLength: 200, description: 'Style tags, e.g. "Jazz"' }),
    title: Type.String({ minLength: 1, maxLength: 100 }),
    negativeTags: Type.Optional(Type.String({ maxLength: 200, description: 'Styles to avoid' })),
    infillStartS: Type.Number({ minimum: 0, multipleOf: 0.01, description: 'Section start in seconds (≤ 2 decimals)' }),
    infillEndS: Type.Number({ minimum: 0, multipleOf: 0.01, description: 'Section end; 6–60 s after the start, ≤ the source duration, section ≤ 50% of it' }),
    fullLyrics: Type.Optional(Type.String({ maxLength: 5000 })),
    callBackUrl: Type.Optional(url('Receives the signed `complete` or `error` callback')),
  },
  { additionalProperties: true },
);

export const GenerateBody = Type.Object(
  {
    customMode: Type.Boolean(),
    instrumental: Type.Boolean(),
    model: Type.Optional(Type.String({ enum: ['V3_5', 'V4', 'V4_5', 'V4_5PLUS', 'V4_5ALL', 'V5', 'V5_5', 'V6'] })),
    prompt: Type.Optional(Type.String({ description: 'Non-custom mode: description ≤ 500 chars; custom mode: lyrics' })),
    style: Type.Optional(Type.String({ description: 'Required in custom mode' })),
    title: Type.Optional(Type.String({ description: 'Required in custom mode' })),
    negativeTags: Type.Optional(Type.String()),
    vocalGender: Type.Optional(Type.String({ enum: ['m', 'f'] })),
    styleWeight: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    weirdnessConstraint: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    audioWeight: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    callBackUrl: Type.Optional(url('Receives `text`, `first` and `complete` (or `error`) callbacks')),
  },
  { additionalProperties: true },
);

export const TaskIdResponse = envelope(Type.Object({ taskId: Type.String() }), 'The task was accepted');
export const CreditResponse = envelope(Type.Number({ description: 'Remaining credits' }), 'Remaining credits');

const SunoTrack = Type.Object({
  id: Type.String({ description: 'audioId' }),
  audioUrl: Type.String(),
  streamAudioUrl: Type.String(),
  imageUrl: Type.String(),
  prompt: Type.String(),
  modelName: Type.String(),
  title: Type.String(),
  tags: Type.String(),
  createTime: Type.String(),
  duration: Type.Number(),
  infillStartS: Type.Optional(Type.Number({ description: 'reprise extension, replace-section tracks: where the replaced range actually starts, seconds' })),
  infillEndS: Type.Optional(Type.Number({ description: 'reprise extension, replace-section tracks: where the replaced range actually ends, seconds' })),
});

export const RecordInfoResponse = envelope(
  Type.Object({
    taskId: Type.String(),
    parentMusicId: Type.String(),
    param: Type.String({ description: 'The request body as received' }),
    response: Type.Object({ taskId: Type.String(), sunoData: Type.Array(SunoTrack) }),
    status: Type.String({
      enum: [
        'PENDING',
        'TEXT_SUCCESS',
        'FIRST_SUCCESS',
        'SUCCESS',
        'CREATE_TASK_FAILED',
        'GENERATE_AUDIO_FAILED',
        'CALLBACK_EXCEPTION',
        'SENSITIVE_WORD_ERROR',
      ],
    }),
    type: Type.String({ enum: ['GENERATE', 'REPLACE_SECTION'] }),
    operationType: Type.String({ enum: ['generate', 'replace_section'] }),
    errorCode: Type.Union([Type.Integer(), Type.Null()]),
    errorMessage: Type.Union([Type.String(), Type.Null()]),
    callback: Type.Object(
      {
        status: Type.String({ enum: ['pending', 'delivered', 'failed', 'none'] }),
        attempts: Type.Integer(),
        lastError: Type.Union([Type.String(), Type.Null()]),
      },
      { description: 'reprise extension: how delivery of the callbacks is going' },
    ),
  }),
  'The task',
);

export const ErrorResponse = envelope(Type.Null(), 'An error: `msg` names the field and the rule');
