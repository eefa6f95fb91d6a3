import { type TSchema, Type } from '@sinclair/typebox';

/**
 * Route schemas: they document the API (OpenAPI at /docs) and serialise answers.
 * Request bodies are validated by the task domain's own validators, which give
 * the precise `field: rule` messages KIE clients see (SPEC §1), so these body
 * schemas describe without rejecting (see app.ts).
 */
/** `{code, msg, data}` around `data`: every JSON answer of the API. */
export const envelope = <T extends TSchema>(data: T, description: string) =>
  Type.Object({ code: Type.Integer({ examples: [200] }), msg: Type.String({ examples: ['success'] }), data }, { description });

export const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const TaskIdResponse = envelope(Type.Object({ taskId: Type.String() }), 'The task was accepted');
export const CreditResponse = envelope(Type.Number({ description: 'Remaining credits' }), 'Remaining credits');

/** A family's details answer: its record, or null for an unknown task or another account's (as api.kie.ai answers). */
export const detailsResponse = (record: TSchema = Type.Unknown()) =>
  envelope(Type.Union([record, Type.Null()]), 'The task; `data` is null for an unknown task or another account’s');

export const MarketRecordResponse = envelope(
  Type.Object(
    {
      taskId: Type.String(),
      model: Type.String(),
      state: Type.String({ enum: ['waiting', 'queuing', 'generating', 'success', 'fail'] }),
      param: Type.String({ description: '{"input": "<input as JSON, keys sorted>", "model": …}' }),
      resultJson: Type.String({
        description: 'JSON text: music tasks {"sunoData":[…],"data":[…]}, images and WAV {"resultUrls":[…]}, text results {"resultObject":…}; "" until success',
      }),
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

/** The headers a task-creating route reads besides authorization: documentation only (app.ts validates nothing). */
export const IdempotencyHeaders = Type.Object(
  {
    'idempotency-key': Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        pattern: '^[\\x21-\\x7e]+$',
        description:
          '[reprise extension] 1–255 visible ASCII characters. The same key with the same request within 24 h answers the first task again (no new task, no charge; header `Idempotent-Replayed: true`); with another request, code 409.',
      }),
    ),
  },
  { additionalProperties: true },
);

export const ErrorResponse = envelope(Type.Null(), 'An error: `msg` names the field and the rule');
