import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Services } from '../services.js';

/**
 * Liveness and readiness for load balancers and orchestrators (SPEC §6). Every process serves
 * them, whatever its roles; the health answer names the roles, so a probe or an operator can tell
 * an API process from a worker behind the same port.
 */
export function registerOpsRoutes(app: FastifyInstance, services: Services): void {
  const health = { code: 200, msg: 'ok', data: { roles: [...services.config.roles] } };
  app.get('/healthz', { schema: { tags: ['operations'], summary: 'The process is up, and what it does' } }, async () => health);
  app.get('/readyz', { schema: { tags: ['operations'], summary: 'The store answers and the server is not draining' } }, async (_request, reply) => {
    if (services.draining) return reply.code(503).send({ code: 503, msg: 'draining', data: null });
    try {
      await sql`select 1`.execute(services.store.db);
    } catch {
      return reply.code(503).send({ code: 503, msg: 'store unreachable', data: null });
    }
    return { code: 200, msg: 'ready', data: null };
  });
}
