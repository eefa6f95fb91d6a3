import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import {
  createInbox,
  deleteInbox,
  INBOX_BODY_MAX_BYTES,
  inboxByToken,
  keptHeaders,
  listInboxes,
  listRequests,
  parsePage,
  RECEIVED_BODY,
  recordRequest,
} from '../inbox/index.js';
import type { Services } from '../services.js';
import { accountOf } from './auth.js';
import { ok } from './envelope.js';

const InboxParams = Type.Object({ inboxId: Type.String() });
const PageQuery = Type.Object({
  limit: Type.Optional(Type.String({ description: '1–100, default 50' })),
  cursor: Type.Optional(Type.String({ description: 'nextCursor of the previous page' })),
});

/** The account's webhook inboxes [EXT] (inbox/): create, list, read what they received, delete. */
export function registerInboxRoutes(app: FastifyInstance, services: Services): void {
  const db = services.store.db;
  // Read at each request: a server started on port 0 knows its public URL only once listening.
  const publicUrl = () => services.config.publicUrl;

  app.post(
    '/api/v1/inbox',
    { schema: { tags: ['inbox'], summary: '[reprise extension] Create a webhook inbox: a callBackUrl that records what it receives' } },
    async (request) => ok(await createInbox(db, accountOf(request).id, publicUrl(), Date.now())),
  );

  app.get('/api/v1/inbox', { schema: { tags: ['inbox'], summary: "[reprise extension] The account's inboxes" } }, async (request) =>
    ok({ inboxes: await listInboxes(db, accountOf(request).id, publicUrl()) }),
  );

  app.get(
    '/api/v1/inbox/:inboxId/requests',
    { schema: { tags: ['inbox'], summary: '[reprise extension] What an inbox received, newest first', params: InboxParams, querystring: PageQuery } },
    async (request) => {
      const { inboxId } = request.params as { inboxId: string };
      return ok(await listRequests(db, accountOf(request).id, inboxId, parsePage(request.query as { limit?: unknown; cursor?: unknown })));
    },
  );

  app.delete(
    '/api/v1/inbox/:inboxId',
    { schema: { tags: ['inbox'], summary: '[reprise extension] Delete an inbox and what it received', params: InboxParams } },
    async (request) => {
      const { inboxId } = request.params as { inboxId: string };
      await deleteInbox(db, accountOf(request).id, inboxId);
      return ok({ inboxId });
    },
  );
}

/** Requests an inbox records per second, per process: its URL is public, and each one is a write. */
export const INBOX_RATE_MAX = 20;
const windows = new Map<string, { second: number; count: number }>();

/** Counts a request to `inboxId` in the current second; false once the second's allowance is used. */
function admitted(inboxId: string, now: number): boolean {
  const second = Math.floor(now / 1000);
  const window = windows.get(inboxId);
  if (window && window.second === second) return ++window.count <= INBOX_RATE_MAX;
  // Entries of past seconds are worth nothing: the map holds at most one second's inboxes.
  if (windows.size > 10_000) windows.clear();
  windows.set(inboxId, { second, count: 1 });
  return true;
}

/**
 * `POST /inbox/:token`: the inbox's public URL, no API key (the token is the capability). It takes
 * any content type as text, up to INBOX_BODY_MAX_BYTES (413 beyond), and answers 200
 * `{"received":true}`; an unknown token is a plain 404.
 */
export async function registerInboxReceiver(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: INBOX_BODY_MAX_BYTES }, (_request, body, done) => done(null, body));
    scope.post(
      '/inbox/:token',
      {
        bodyLimit: INBOX_BODY_MAX_BYTES,
        schema: {
          tags: ['inbox'],
          summary: '[reprise extension] An inbox’s public URL: records the request',
          security: [],
          params: Type.Object({ token: Type.String() }),
        },
      },
      async (request, reply) => {
        const { token } = request.params as { token: string };
        const inbox = await inboxByToken(services.store.db, token);
        if (!inbox) throw new ApiError(404, 'inbox: no such inbox (it was deleted, or the URL is wrong)', 404);
        if (!admitted(inbox.id, Date.now())) {
          throw new ApiError(429, `inbox: more than ${INBOX_RATE_MAX} requests a second to this inbox; it records callbacks, not load`, 429);
        }
        const body = typeof request.body === 'string' ? request.body : '';
        await recordRequest(services.store.db, inbox, { method: request.method, path: request.url, headers: keptHeaders(request.headers), body }, Date.now());
        return reply.type('application/json').send(RECEIVED_BODY);
      },
    );
  });
}
