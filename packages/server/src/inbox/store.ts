import { randomBytes } from 'node:crypto';
import { lockAccount } from '../accounts/accounts.js';
import { ApiError } from '../errors.js';
import { newId } from '../ids.js';
import type { Db, Executor } from '../store/index.js';

/**
 * Local webhook inboxes [EXT]: an account's URLs under `<public url>/inbox/<token>` that record
 * what is POSTed to them, so an integrator can watch real signed callbacks without running a
 * receiver. The token is the capability (the URL needs no API key), so it is unguessable.
 */
export const MAX_INBOXES_PER_ACCOUNT = 10;
/** Requests kept per inbox, newest: a public URL must not be able to fill the disk. */
export const MAX_REQUESTS_KEPT = 200;
/** The largest body an inbox records (413 beyond): callbacks are a few KB. */
export const INBOX_BODY_MAX_BYTES = 256 * 1024;

/** 24 random bytes, base64url: 32 characters. */
const newInboxToken = (): string => randomBytes(24).toString('base64url');
const TOKEN = /^[A-Za-z0-9_-]{32}$/;
export const isInboxToken = (value: string): boolean => TOKEN.test(value);

export const inboxUrl = (publicUrl: string, token: string): string => `${publicUrl}/inbox/${token}`;

/** The token of `url` when it is exactly `<public url>/inbox/<token>`; null for any other URL. */
export function inboxTokenOf(publicUrl: string, url: string): string | null {
  const prefix = `${publicUrl}/inbox/`;
  if (!url.startsWith(prefix)) return null;
  const token = url.slice(prefix.length);
  return isInboxToken(token) ? token : null;
}

export interface InboxRef {
  id: string;
  accountId: string;
}

export interface InboxSummary {
  inboxId: string;
  url: string;
  createdAt: number;
  received: number;
}

const unknownInbox = (inboxId: string): ApiError => new ApiError(404, `inboxId: no inbox ${inboxId} for this account`);

export async function createInbox(db: Db, accountId: string, publicUrl: string, now: number): Promise<{ inboxId: string; url: string }> {
  const inboxId = newId('inbox');
  const token = newInboxToken();
  await db.transaction().execute(async (tx) => {
    // Two requests at once cannot both take the last place.
    await lockAccount(tx, accountId);
    const { count } = await tx
      .selectFrom('inboxes')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('account_id', '=', accountId)
      .executeTakeFirstOrThrow();
    if (Number(count) >= MAX_INBOXES_PER_ACCOUNT) {
      throw new ApiError(429, `Too many inboxes: at most ${MAX_INBOXES_PER_ACCOUNT} per account; delete one (DELETE /api/v1/inbox/{inboxId}) first`);
    }
    await tx.insertInto('inboxes').values({ id: inboxId, account_id: accountId, token, created_at: now }).execute();
  });
  return { inboxId, url: inboxUrl(publicUrl, token) };
}

export async function listInboxes(db: Executor, accountId: string, publicUrl: string): Promise<InboxSummary[]> {
  const rows = await db
    .selectFrom('inboxes')
    .leftJoin('inbox_requests', 'inbox_requests.inbox_id', 'inboxes.id')
    .select((eb) => ['inboxes.id', 'inboxes.token', 'inboxes.created_at', eb.fn.count<number>('inbox_requests.id').as('received')])
    .where('inboxes.account_id', '=', accountId)
    .groupBy(['inboxes.id', 'inboxes.token', 'inboxes.created_at'])
    .orderBy('inboxes.created_at', 'desc')
    .orderBy('inboxes.id', 'desc')
    .execute();
  return rows.map((row) => ({ inboxId: row.id, url: inboxUrl(publicUrl, row.token), createdAt: Number(row.created_at), received: Number(row.received) }));
}

/** The caller's own inbox, or a 404 (another account's inbox reads as unknown). */
export async function requireOwnInbox(db: Executor, accountId: string, inboxId: string): Promise<InboxRef> {
  const row = await db.selectFrom('inboxes').select('id').where('id', '=', inboxId).where('account_id', '=', accountId).executeTakeFirst();
  if (!row) throw unknownInbox(inboxId);
  return { id: row.id, accountId };
}

/** Deletes the inbox and what it recorded; its URL answers 404 from then on. */
export async function deleteInbox(db: Db, accountId: string, inboxId: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await requireOwnInbox(tx, accountId, inboxId);
    await tx.deleteFrom('inbox_requests').where('inbox_id', '=', inboxId).execute();
    await tx.deleteFrom('inboxes').where('id', '=', inboxId).execute();
  });
}

export async function inboxByToken(db: Executor, token: string): Promise<InboxRef | null> {
  if (!isInboxToken(token)) return null;
  const row = await db.selectFrom('inboxes').select(['id', 'account_id']).where('token', '=', token).executeTakeFirst();
  return row ? { id: row.id, accountId: row.account_id } : null;
}

/** Whether `token` names an inbox of this account (the callBackUrl check at submission). */
export async function ownsInboxToken(db: Executor, accountId: string, token: string): Promise<boolean> {
  const inbox = await inboxByToken(db, token);
  return inbox?.accountId === accountId;
}

/**
 * The callBackUrl rule for this service's own inbox URLs, checked at submission: a URL under
 * `<public url>/inbox/` must be exactly the URL of an inbox of the submitting account (the
 * dispatcher delivers those without the network). Any other URL is not this rule's business.
 */
export async function checkInboxCallbackUrl(db: Executor, publicUrl: string, accountId: string, url: string | undefined): Promise<void> {
  if (url === undefined || !url.startsWith(`${publicUrl}/inbox/`)) return;
  const token = inboxTokenOf(publicUrl, url);
  if (token === null || !(await ownsInboxToken(db, accountId, token))) {
    throw new ApiError(422, 'callBackUrl: not an inbox of this account (use the url that POST /api/v1/inbox returned, exactly)');
  }
}
