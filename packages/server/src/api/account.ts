import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  accountOverview,
  issueKey,
  ledgerPage,
  listKeys,
  revokeKeyById,
  rotateAccountWebhookKey,
  WEBHOOK_OVERLAP_DEFAULT_HOURS,
  WEBHOOK_OVERLAP_MAX_HOURS,
} from '../accounts/listing.js';
import { invalid } from '../errors.js';
import type { Services } from '../services.js';
import { accountOf, bearerKey } from './auth.js';
import { ok } from './envelope.js';
import { nextCursor, PageQuery, parsePage } from './paging.js';
import { envelope, nullable } from './schemas.js';

/** The caller's own account for the console [EXT]: overview, ledger, API keys, webhook key (docs/api.md "Console API"). */

const tags = ['console'];

const AccountSchema = Type.Object({
  accountId: Type.String(),
  name: Type.String(),
  credits: Type.Integer(),
  sandbox: Type.Boolean({ description: 'A sandbox account: its credits are play money' }),
  webhookKey: Type.Object({
    set: Type.Boolean({ description: 'Callbacks are signed' }),
    previousValidUntil: nullable(Type.Integer({ description: 'epoch ms until which the previous key still signs beside the new one' })),
  }),
});

const LedgerSchema = Type.Object({
  entries: Type.Array(
    Type.Object({
      id: Type.String(),
      at: Type.Integer({ description: 'epoch ms' }),
      kind: Type.String({ enum: ['grant', 'debit', 'refund'] }),
      amount: Type.Integer({ description: 'Signed: debits negative' }),
      taskId: nullable(Type.String()),
    }),
  ),
  nextCursor: nullable(Type.String()),
});

const KeySchema = Type.Object({
  id: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key' }),
  createdAt: Type.Integer({ description: 'epoch ms' }),
  revokedAt: nullable(Type.Integer({ description: 'epoch ms' })),
  current: Type.Boolean({ description: 'The key of this request' }),
});

/** `{overlapHours?}` → hours, or a 422. An absent body keeps the default. */
export function parseOverlapHours(body: unknown): number {
  if (body === undefined || body === null) return WEBHOOK_OVERLAP_DEFAULT_HOURS;
  if (typeof body !== 'object' || Array.isArray(body)) throw invalid('body', 'must be a JSON object such as {"overlapHours": 24}');
  const value = (body as { overlapHours?: unknown }).overlapHours;
  if (value === undefined) return WEBHOOK_OVERLAP_DEFAULT_HOURS;
  // Whole hours: the overlap's end is stored in whole milliseconds.
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > WEBHOOK_OVERLAP_MAX_HOURS) {
    throw invalid('overlapHours', `must be a whole number of hours from 0 to ${WEBHOOK_OVERLAP_MAX_HOURS}`);
  }
  return value;
}

export function registerAccountRoutes(app: FastifyInstance, services: Services): void {
  const db = services.store.db;

  app.get(
    '/api/v1/account',
    {
      schema: {
        tags,
        summary: '[reprise extension] The account: credits, sandbox flag, webhook key state',
        response: { 200: envelope(AccountSchema, 'The account') },
      },
    },
    async (request) => ok(await accountOverview(db, accountOf(request).id)),
  );

  app.get(
    '/api/v1/account/ledger',
    {
      schema: {
        tags,
        summary: '[reprise extension] Credit movements, newest first',
        querystring: Type.Object(PageQuery),
        response: { 200: envelope(LedgerSchema, 'A page of the ledger') },
      },
    },
    async (request) => {
      const page = parsePage(request.query as Record<string, unknown>);
      const rows = await ledgerPage(db, accountOf(request).id, page.limit, page.after);
      const shown = nextCursor(rows, page.limit, (entry) => ({ at: entry.at, id: entry.id }));
      return ok({ entries: shown.rows, nextCursor: shown.nextCursor });
    },
  );

  app.get(
    '/api/v1/account/keys',
    {
      schema: {
        tags,
        summary: '[reprise extension] The account’s API keys (prefixes only)',
        response: { 200: envelope(Type.Object({ keys: Type.Array(KeySchema) }), 'The keys') },
      },
    },
    async (request) => ok({ keys: await listKeys(db, accountOf(request).id, bearerKey(request)) }),
  );

  app.post(
    '/api/v1/account/keys',
    {
      schema: {
        tags,
        summary: '[reprise extension] A new API key, shown this once',
        response: { 200: envelope(Type.Object({ id: Type.String(), prefix: Type.String(), apiKey: Type.String() }), 'The new key') },
      },
    },
    async (request) => ok(await issueKey(db, accountOf(request).id)),
  );

  app.delete(
    '/api/v1/account/keys/:id',
    {
      schema: {
        tags,
        summary: '[reprise extension] Revoke a key (never the account’s last active one)',
        params: Type.Object({ id: Type.String() }),
        response: { 200: envelope(Type.Object({ id: Type.String(), revokedAt: Type.Integer() }), 'The key is revoked') },
      },
    },
    async (request) => ok(await revokeKeyById(db, accountOf(request).id, (request.params as { id: string }).id)),
  );

  app.post(
    '/api/v1/account/webhook-key/rotate',
    {
      schema: {
        tags,
        summary: '[reprise extension] A new webhook HMAC key; the previous one keeps signing for the overlap',
        body: Type.Optional(
          Type.Object({
            overlapHours: Type.Optional(Type.Integer({ minimum: 0, maximum: WEBHOOK_OVERLAP_MAX_HOURS, default: WEBHOOK_OVERLAP_DEFAULT_HOURS })),
          }),
        ),
        response: {
          200: envelope(Type.Object({ webhookHmacKey: Type.String(), previousValidUntil: nullable(Type.Integer()) }), 'The new key, shown this once'),
        },
      },
    },
    async (request) => ok(await rotateAccountWebhookKey(db, accountOf(request).id, parseOverlapHours(request.body))),
  );
}
