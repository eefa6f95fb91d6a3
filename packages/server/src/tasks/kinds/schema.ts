import { Type } from '@sinclair/typebox';

/**
 * Pieces of the route schemas. They document the API (OpenAPI at /docs); request bodies are
 * checked by each kind's own rules, which give the precise `field: rule` messages KIE clients
 * see, so the body schemas describe without rejecting (see api/app.ts).
 */
export const url = (description: string) => Type.String({ format: 'uri', description });

export const weights = {
  negativeTags: Type.Optional(Type.String({ description: 'Styles to avoid' })),
  vocalGender: Type.Optional(Type.String({ enum: ['m', 'f'] })),
  styleWeight: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  weirdnessConstraint: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  audioWeight: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
};

export const songCallback = url('Required: receives `text`, `first` and `complete` (or `error`) callbacks, signed');
