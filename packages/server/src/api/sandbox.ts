import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { parseScenarioQueue, queuedScenarios, replaceQueue, requireSandbox } from '../sandbox/index.js';
import type { Services } from '../services.js';
import { accountOf } from './auth.js';
import { ok } from './envelope.js';

const ScenarioSchema = Type.Object({
  outcome: Type.String({ enum: ['succeed', 'fail'] }),
  failCode: Type.Optional(Type.Integer({ enum: [400, 408, 500, 501, 531], description: 'required when outcome is "fail"' })),
  delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
  skipStages: Type.Optional(Type.Array(Type.String({ enum: ['text', 'first'] }))),
  callbackFailures: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
  callbackFailureStatus: Type.Optional(Type.Integer({ enum: [500, 503, 408, 0], description: '0: connection refused; default 500' })),
});

/** A sandbox account's scenario queue [EXT] (sandbox/): what its next tasks do. Other accounts get 403. */
export function registerSandboxRoutes(app: FastifyInstance, services: Services): void {
  const db = services.store.db;

  app.get('/api/v1/sandbox', { schema: { tags: ['sandbox'], summary: '[reprise extension] The scenarios waiting for the next tasks' } }, async (request) => {
    const accountId = accountOf(request).id;
    await requireSandbox(db, accountId);
    return ok({ scenarios: await queuedScenarios(db, accountId) });
  });

  app.put(
    '/api/v1/sandbox',
    {
      schema: {
        tags: ['sandbox'],
        summary: '[reprise extension] Replace the scenario queue: each new task takes the first',
        body: Type.Object({ scenarios: Type.Array(ScenarioSchema, { maxItems: 100 }) }),
      },
    },
    async (request) => {
      const accountId = accountOf(request).id;
      await requireSandbox(db, accountId);
      const scenarios = parseScenarioQueue(request.body);
      await replaceQueue(db, accountId, scenarios);
      return ok({ scenarios });
    },
  );
}
