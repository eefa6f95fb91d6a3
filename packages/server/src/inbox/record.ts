import { verifyKieSignature, verifyStandardWebhook } from '@reprise/sdk';
import { signingKeys } from '../accounts/index.js';
import { ApiError } from '../errors.js';
import type { Db, Executor } from '../store/index.js';
import { type InboxRef, MAX_REQUESTS_KEPT, requireOwnInbox } from './store.js';

/**
 * Recording what reaches an inbox, and reading it back. Each request is checked on arrival
 * against the account's webhook keys of that moment with the SDK's own verifiers — what a
 * receiver written with the SDK would conclude — so the console shows whether a callback would
 * have been accepted. Only the headers that matter to a webhook are kept: a public URL receives
 * whatever anyone sends, and cookies or credentials have no business being stored.
 */
const KEPT_HEADERS = /^(content-type|content-length|user-agent|webhook-.+|x-webhook-.+|x-kie-.+)$/;

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface Verification {
  /** KIE's scheme (X-Webhook-Signature); null when the account has no webhook key. */
  kie: boolean | null;
  /** Standard Webhooks (webhook-signature); null when the account has no webhook key. */
  standardWebhooks: boolean | null;
}

export interface InboxRequest extends ReceivedRequest {
  id: string;
  at: number;
  verified: Verification;
}

/** Lower-cased names, one value each (repeated headers joined as HTTP joins them), only those kept. */
export function keptHeaders(headers: Readonly<Record<string, string | readonly string[] | undefined>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || !KEPT_HEADERS.test(lower)) continue;
    kept[lower] = typeof value === 'string' ? value : value.join(', ');
  }
  return kept;
}

const passes = (check: () => unknown): boolean => {
  try {
    check();
    return true;
  } catch {
    return false;
  }
};

export function verify(secrets: readonly string[], request: ReceivedRequest, now: number): Verification {
  if (secrets.length === 0) return { kie: null, standardWebhooks: null };
  return {
    kie: passes(() => verifyKieSignature(request.body, request.headers, secrets, { now })),
    standardWebhooks: passes(() => verifyStandardWebhook(request.body, request.headers, [...secrets], { now, parseJson: false })),
  };
}

const asFlag = (value: boolean | null): number | null => (value === null ? null : value ? 1 : 0);
const fromFlag = (value: number | null): boolean | null => (value === null ? null : Number(value) === 1);

/** Records one request; the inbox keeps its newest MAX_REQUESTS_KEPT. */
export async function recordRequest(db: Db, inbox: InboxRef, request: ReceivedRequest, now: number): Promise<void> {
  const verified = verify(await signingKeys(db, inbox.accountId, now), request, now);
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto('inbox_requests')
      .values({
        inbox_id: inbox.id,
        received_at: now,
        method: request.method,
        path: request.path,
        headers: JSON.stringify(request.headers),
        // PostgreSQL's text holds no NUL character: kept as U+FFFD (after the signatures were checked on the real bytes).
        body: request.body.replaceAll('\u0000', '\uFFFD'),
        kie_verified: asFlag(verified.kie),
        standard_verified: asFlag(verified.standardWebhooks),
      })
      .execute();
    const oldestKept = await tx
      .selectFrom('inbox_requests')
      .select('id')
      .where('inbox_id', '=', inbox.id)
      .orderBy('id', 'desc')
      .offset(MAX_REQUESTS_KEPT - 1)
      .limit(1)
      .executeTakeFirst();
    if (oldestKept) await tx.deleteFrom('inbox_requests').where('inbox_id', '=', inbox.id).where('id', '<', oldestKept.id).execute();
  });
}

export const MAX_PAGE = 100;

/** `limit` and `cursor` of a listing: precise 422s for bad values. */
export function parsePage(query: { limit?: unknown; cursor?: unknown }): { limit: number; cursor: number | null } {
  const rawLimit = query.limit ?? '50';
  if (typeof rawLimit !== 'string' || !/^\d+$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > MAX_PAGE) {
    throw new ApiError(422, `limit: must be a whole number from 1 to ${MAX_PAGE}`);
  }
  const rawCursor = query.cursor;
  if (rawCursor === undefined || rawCursor === '') return { limit: Number(rawLimit), cursor: null };
  if (typeof rawCursor !== 'string' || !/^\d{1,15}$/.test(rawCursor)) throw new ApiError(422, 'cursor: not a cursor this listing handed out');
  return { limit: Number(rawLimit), cursor: Number(rawCursor) };
}

/** The inbox's requests, newest first; `nextCursor` continues after the last one. */
export async function listRequests(
  db: Executor,
  accountId: string,
  inboxId: string,
  page: { limit: number; cursor: number | null },
): Promise<{ requests: InboxRequest[]; nextCursor: string | null }> {
  await requireOwnInbox(db, accountId, inboxId);
  let query = db.selectFrom('inbox_requests').selectAll().where('inbox_id', '=', inboxId);
  if (page.cursor !== null) query = query.where('id', '<', page.cursor);
  const rows = await query
    .orderBy('id', 'desc')
    .limit(page.limit + 1)
    .execute();
  const shown = rows.slice(0, page.limit);
  return {
    requests: shown.map((row) => ({
      id: String(row.id),
      at: Number(row.received_at),
      method: row.method,
      path: row.path,
      headers: JSON.parse(row.headers) as Record<string, string>,
      body: row.body,
      verified: { kie: fromFlag(row.kie_verified), standardWebhooks: fromFlag(row.standard_verified) },
    })),
    nextCursor: rows.length > page.limit ? String(shown.at(-1)?.id) : null,
  };
}
