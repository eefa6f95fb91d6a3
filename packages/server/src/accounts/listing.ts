import { sql } from 'kysely';
import { ApiError } from '../errors.js';
import { sha256Hex } from '../ids.js';
import { asRunner, type Db, type Executor, type LedgerKind } from '../store/index.js';
import { createKey, lockAccount, rotateWebhookKey } from './accounts.js';
import { forgetCachedKeys, KEYS_CHANNEL } from './key-cache.js';
import { keyPrefix } from './keys.js';

/**
 * What the console shows and changes of the caller's own account [EXT]: its overview, ledger,
 * API keys and webhook key. Plain queries over the accounts tables; no HTTP here.
 */

export interface AccountOverview {
  accountId: string;
  name: string;
  credits: number;
  sandbox: boolean;
  webhookKey: { set: boolean; previousValidUntil: number | null };
}

/** The previous webhook key's end of validity, or null when there is none still signing. */
const stillValid = (until: number | null, now: number): number | null => (until !== null && Number(until) > now ? Number(until) : null);

export async function accountOverview(db: Executor, accountId: string, now = Date.now()): Promise<AccountOverview> {
  const row = await db
    .selectFrom('accounts')
    .select(['id', 'name', 'balance', 'sandbox', 'webhook_key', 'webhook_key_prev', 'webhook_key_prev_until'])
    .where('id', '=', accountId)
    .executeTakeFirst();
  if (!row) throw new ApiError(404, `account ${accountId} does not exist`);
  return {
    accountId: row.id,
    name: row.name,
    credits: Number(row.balance),
    sandbox: Number(row.sandbox) === 1,
    webhookKey: { set: row.webhook_key !== null, previousValidUntil: row.webhook_key_prev ? stillValid(row.webhook_key_prev_until, now) : null },
  };
}

export interface LedgerEntry {
  id: string;
  at: number;
  kind: LedgerKind;
  amount: number;
  taskId: string | null;
}

export interface Position {
  at: number;
  id: string;
}

/** `limit + 1` ledger rows of the account older than `after`, newest first (the extra row tells whether a next page exists). */
export async function ledgerPage(db: Executor, accountId: string, limit: number, after: Position | null): Promise<LedgerEntry[]> {
  let query = db.selectFrom('ledger').select(['id', 'created_at', 'kind', 'amount', 'task_id']).where('account_id', '=', accountId);
  if (after) query = query.where((eb) => eb.or([eb('created_at', '<', after.at), eb.and([eb('created_at', '=', after.at), eb('id', '<', after.id)])]));
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  return rows.map((row) => ({ id: row.id, at: Number(row.created_at), kind: row.kind, amount: Number(row.amount), taskId: row.task_id }));
}

export interface ApiKeyView {
  id: string;
  prefix: string;
  createdAt: number;
  revokedAt: number | null;
  /** The key the listing request was made with. */
  current: boolean;
}

/** Every key of the account, live and revoked, newest first; `currentKey` marks the caller's own. */
export async function listKeys(db: Executor, accountId: string, currentKey: string): Promise<ApiKeyView[]> {
  const currentHash = sha256Hex(currentKey);
  const rows = await db
    .selectFrom('api_keys')
    .select(['id', 'prefix', 'hash', 'created_at', 'revoked_at'])
    .where('account_id', '=', accountId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    prefix: row.prefix,
    createdAt: Number(row.created_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    current: row.hash === currentHash,
  }));
}

/** Live keys an account may hold: each one is a way in, and the console lists them all. */
export const MAX_LIVE_KEYS = 50;

async function liveKeyCount(db: Executor, accountId: string): Promise<number> {
  const row = await db
    .selectFrom('api_keys')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', accountId)
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A new key for the account, shown this once (only its hash is kept). */
export async function issueKey(db: Db, accountId: string): Promise<{ id: string; prefix: string; apiKey: string }> {
  if ((await liveKeyCount(db, accountId)) >= MAX_LIVE_KEYS) {
    throw new ApiError(422, `keys: an account may hold at most ${MAX_LIVE_KEYS} active keys; revoke one first`);
  }
  const apiKey = await createKey(db, accountId);
  const row = await db.selectFrom('api_keys').select('id').where('hash', '=', sha256Hex(apiKey)).executeTakeFirstOrThrow();
  return { id: row.id, prefix: keyPrefix(apiKey), apiKey };
}

/**
 * Revokes one of the account's keys by id. The last live key is kept: without it nobody could
 * use the account until an operator made a new key. Revoking a key already revoked answers
 * when it was. The account row is locked first (PostgreSQL), so two revocations of an
 * account's last two keys cannot both pass the count; SQLite has one writer at a time.
 */
export async function revokeKeyById(db: Db, accountId: string, keyId: string, now = Date.now()): Promise<{ id: string; revokedAt: number }> {
  const dialect = asRunner(db).dialect;
  const revoked = await db.transaction().execute(async (tx) => {
    await lockAccount(tx, accountId);
    const key = await tx.selectFrom('api_keys').select(['id', 'revoked_at']).where('id', '=', keyId).where('account_id', '=', accountId).executeTakeFirst();
    if (!key) throw new ApiError(404, `id: no key ${keyId} for this account`);
    if (key.revoked_at !== null) return { id: key.id, revokedAt: Number(key.revoked_at) };
    if ((await liveKeyCount(tx, accountId)) <= 1) {
      throw new ApiError(422, 'id: this is the last active key of the account; create another key before revoking it');
    }
    await tx.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', keyId).where('revoked_at', 'is', null).execute();
    // Processes that remember keys (key-cache.ts) forget them, as after `revokeKeys`: the others are told at commit.
    if (dialect === 'postgres') await sql`select pg_notify(${KEYS_CHANNEL}, '')`.execute(tx);
    return { id: key.id, revokedAt: now };
  });
  forgetCachedKeys();
  return revoked;
}

export const WEBHOOK_OVERLAP_MAX_HOURS = 168;
export const WEBHOOK_OVERLAP_DEFAULT_HOURS = 24;

/** A new webhook key; the previous one keeps signing for `overlapHours` (null: none still signs). */
export async function rotateAccountWebhookKey(
  db: Db,
  accountId: string,
  overlapHours: number,
): Promise<{ webhookHmacKey: string; previousValidUntil: number | null }> {
  const webhookHmacKey = await rotateWebhookKey(db, accountId, overlapHours);
  const row = await db.selectFrom('accounts').select(['webhook_key_prev', 'webhook_key_prev_until']).where('id', '=', accountId).executeTakeFirstOrThrow();
  return { webhookHmacKey, previousValidUntil: row.webhook_key_prev ? stillValid(row.webhook_key_prev_until, Date.now()) : null };
}
