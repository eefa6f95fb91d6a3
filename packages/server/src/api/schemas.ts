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

const MusicRecord = Type.Object(
  {
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
    type: Type.String({ enum: ['GENERATE', 'REPLACE_SECTION', 'EXTEND', 'UPLOAD_EXTEND', 'UPLOAD_COVER', 'ADD_INSTRUMENTAL', 'ADD_VOCALS', 'MASHUP'] }),
    operationType: Type.String({
      enum: ['generate', 'replace_section', 'extend', 'upload_extend', 'upload_cover', 'add_instrumental', 'add_vocals', 'mashup'],
    }),
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
  },
  { additionalProperties: true },
);

export const RecordInfoResponse = envelope(
  Type.Union([MusicRecord, Type.Null()]),
  'The task; `data` is null for an unknown task or another account’s (as api.kie.ai answers)',
);

export const CoverRecordResponse = envelope(
  Type.Union([
    Type.Object(
      {
        taskId: Type.String(),
        parentTaskId: Type.String(),
        callbackUrl: Type.Union([Type.String(), Type.Null()]),
        completeTime: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
        response: Type.Object({ images: Type.Union([Type.Array(Type.String()), Type.Null()]) }),
        successFlag: Type.Integer({ description: '0 pending, 1 success, 2 generating, 3 failed' }),
        createTime: Type.String({ format: 'date-time' }),
        errorCode: Type.Union([Type.Integer(), Type.Null()]),
        errorMessage: Type.Union([Type.String(), Type.Null()]),
      },
      { additionalProperties: true },
    ),
    Type.Null(),
  ]),
  'The cover task; `data` is null for an unknown task',
);

export const MarketRecordResponse = envelope(
  Type.Object(
    {
      taskId: Type.String(),
      model: Type.String(),
      state: Type.String({ enum: ['waiting', 'queuing', 'generating', 'success', 'fail'] }),
      param: Type.String({ description: '{"input": "<input as JSON, keys sorted>", "model": …}' }),
      resultJson: Type.String({ description: 'JSON text: music tasks {"sunoData":[…],"data":[…]}, images {"resultUrls":[…]}; "" until success' }),
      failCode: Type.Union([Type.String(), Type.Null()]),
      failMsg: Type.Union([Type.String(), Type.Null()]),
      costTime: Type.Union([Type.Integer({ description: 'seconds' }), Type.Null()]),
      completeTime: Type.Union([Type.Integer({ description: 'epoch ms' }), Type.Null()]),
      createTime: Type.Integer({ description: 'epoch ms' }),
    },
    { additionalProperties: true },
  ),
  'The task in the Market form',
);

export const MarketTaskResponse = envelope(Type.Object({ taskId: Type.String(), recordId: Type.String() }), 'The task was accepted');

export const ErrorResponse = envelope(Type.Null(), 'An error: `msg` names the field and the rule');
