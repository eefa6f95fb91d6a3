import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { createPeaksService, DEFAULT_POINTS, MAX_POINTS, MIN_POINTS, parsePoints } from '../peaks/peaks.js';
import type { Services } from '../services.js';
import { accountOf } from './auth.js';
import { ok } from './envelope.js';
import { envelope } from './schemas.js';

/** `GET /api/v1/peaks` [EXT]: the waveform of one of the account's audio files, so the console never downloads samples to draw it. */

const PeaksSchema = Type.Object({
  duration: Type.Number({ description: 'seconds' }),
  sampleRate: Type.Integer(),
  points: Type.Integer(),
  min: Type.Array(Type.Number({ minimum: -1, maximum: 1 }), { description: 'Per point: the lowest sample of the mono mix' }),
  max: Type.Array(Type.Number({ minimum: -1, maximum: 1 }), { description: 'Per point: the highest sample of the mono mix' }),
});

export function registerPeaksRoutes(app: FastifyInstance, services: Services): void {
  const peaks = createPeaksService(services);
  app.addHook('onClose', async () => peaks.close());
  app.get(
    '/api/v1/peaks',
    {
      schema: {
        tags: ['console'],
        summary: '[reprise extension] Waveform (min/max per point) of one of the account’s MP3 or WAV files',
        querystring: Type.Object({
          url: Type.String({ description: 'A file URL this server handed out (a track’s audioUrl, an upload’s downloadUrl)' }),
          points: Type.Optional(Type.Integer({ minimum: MIN_POINTS, maximum: MAX_POINTS, default: DEFAULT_POINTS })),
        }),
        response: { 200: envelope(PeaksSchema, 'The waveform') },
      },
    },
    async (request) => {
      const query = request.query as { url?: unknown; points?: unknown };
      const points = parsePoints(query.points);
      return ok(await peaks.peaksOf(accountOf(request).id, query.url, points));
    },
  );
}
