import type { FastifyInstance } from 'fastify';
import { balanceOf } from '../accounts/index.js';
import type { Services } from '../services.js';
import { accountOf } from './auth.js';
import { ok } from './envelope.js';
import { CreditResponse } from './schemas.js';

export function registerCreditRoutes(app: FastifyInstance, services: Services): void {
  // KIE's route and the alias other Suno API mirrors use (SPEC §1).
  for (const url of ['/api/v1/chat/credit', '/api/v1/generate/credit']) {
    app.get(url, { schema: { tags: ['account'], summary: 'Remaining credits', response: { 200: CreditResponse } } }, async (request) =>
      ok(await balanceOf(services.store.db, accountOf(request).id)),
    );
  }
}
