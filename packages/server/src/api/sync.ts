import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.js';
import { boostStyleRequest } from '../tasks/boost.js';
import { createPersona, PERSONA_MAX_S, PERSONA_MIN_S } from '../tasks/persona.js';
import { timestampedLyricsRequest, WAVEFORM_POINTS } from '../tasks/timestamped-lyrics.js';
import { accountOf } from './auth.js';
import { ok } from './envelope.js';

const envelope = (data: ReturnType<typeof Type.Object>) => Type.Object({ code: Type.Integer(), msg: Type.String(), data });

/** The synchronous Suno routes: answered in the request, no task to poll, no callback. */
export function registerSyncRoutes(app: FastifyInstance, services: Services): void {
  app.post(
    '/api/v1/generate/generate-persona',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Make a persona from a stretch of one of your tracks (synchronous)',
        body: Type.Object(
          {
            taskId: Type.String(),
            audioId: Type.String(),
            name: Type.String(),
            description: Type.String(),
            vocalStart: Type.Optional(Type.Number({ default: 0 })),
            vocalEnd: Type.Optional(Type.Number({ default: 30, description: `vocalEnd - vocalStart: ${PERSONA_MIN_S}–${PERSONA_MAX_S} s` })),
            style: Type.Optional(Type.String()),
          },
          { additionalProperties: true },
        ),
        response: { 200: envelope(Type.Object({ personaId: Type.String(), name: Type.String(), description: Type.String() })) },
      },
    },
    async (request) =>
      ok(
        await createPersona(
          { db: services.store.db, blobs: services.blobs, store: services.store, price: services.config.prices.persona },
          accountOf(request).id,
          request.body,
        ),
      ),
  );

  app.post(
    '/api/v1/style/generate',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Boost a style description (synchronous)',
        body: Type.Object({ content: Type.String({ description: 'A style, e.g. "Pop, Mysterious"' }) }, { additionalProperties: true }),
        response: {
          200: envelope(
            Type.Object({
              taskId: Type.String(),
              param: Type.String(),
              result: Type.String(),
              creditsConsumed: Type.Number(),
              creditsRemaining: Type.Number(),
              successFlag: Type.String(),
              errorCode: Type.Null(),
              errorMsg: Type.Null(),
              createTime: Type.Integer({ description: 'epoch ms' }),
            }),
          ),
        },
      },
    },
    async (request) => ok(await boostStyleRequest(services.store, accountOf(request).id, services.config.prices.boostStyle, request.body)),
  );

  app.post(
    '/api/v1/generate/get-timestamped-lyrics',
    {
      schema: {
        tags: ['tasks'],
        summary: 'The words of one of your tracks with their times, and its waveform (synchronous)',
        body: Type.Object({ taskId: Type.String(), audioId: Type.String() }, { additionalProperties: true }),
        response: {
          200: envelope(
            Type.Object({
              alignedWords: Type.Array(
                Type.Object({
                  word: Type.String({ description: 'The word; the first of a section starts with its tag ("[Verse]\\n…"), the first of a line with "\\n"' }),
                  success: Type.Boolean(),
                  startS: Type.Number(),
                  endS: Type.Number(),
                  palign: Type.Integer(),
                }),
                { description: 'Empty for an instrumental' },
              ),
              waveformData: Type.Array(Type.Number({ minimum: 0, maximum: 1 }), {
                description: `${WAVEFORM_POINTS} peaks of the track's audio, 1 = its loudest`,
              }),
              hootCer: Type.Number(),
              isStreamed: Type.Boolean(),
            }),
          ),
        },
      },
    },
    async (request) =>
      ok(
        await timestampedLyricsRequest(
          { store: services.store, blobs: services.blobs, price: services.config.prices.timestampedLyrics },
          accountOf(request).id,
          request.body,
        ),
      ),
  );
}
