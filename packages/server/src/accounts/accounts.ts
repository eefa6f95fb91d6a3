import { sql } from 'kysely';
import { ApiError } from '../errors.js';
import { newId, sha256Hex } from '../ids.js';
import { asRunner, type Db, type Executor, prepare, type Runner } from '../store/index.js';
import { cachedByKeyHash, forgetCachedKeys, KEYS_CHANNEL } from './key-cache.js';
import { keyPrefix, newApiKey, newWebhookKey } from './keys.js';

export interface Account {
  id: string;
  name: string;
  balance: number;
}

export interface CreatedAccount {
  accountId: string;
  apiKey: string;
  credits: number;
  webhookHmacKey: string | null;
}

async function insertApiKey(db: Executor, accountId: string, now: number): Promise<string> {
  const apiKey = newApiKey();
  await db
    .insertInto('api_keys')
    .values({ id: newId('key'), account_id: accountId, prefix: keyPrefix(apiKey), hash: sha256Hex(apiKey), created_at: now, revoked_at: null })
    .execute();
  return apiKey;
}

export async function createAccount(db: Db, options: { name: string; credits: number; webhookKey: boolean; sandbox?: boolean }): Promise<CreatedAccount> {
  const now = Date.now();
  const accountId = newId('acct');
  const webhookKey = options.webhookKey ? newWebhookKey() : null;
  const apiKey = await db.transaction().execute(async (tx) => {
    await tx
      .insertInto('accounts')
      .values({
        id: accountId,
        name: options.name,
        balance: options.credits,
        webhook_key: webhookKey,
        webhook_key_prev: null,
        webhook_key_prev_until: null,
        created_at: now,
        sandbox: options.sandbox ? 1 : 0,
      })
      .execute();
    if (options.credits > 0) {
      await tx
        .insertInto('ledger')
        .values({ id: newId('led'), account_id: accountId, task_id: null, kind: 'grant', amount: options.credits, created_at: now })
        .execute();
    }
    return insertApiKey(tx, accountId, now);
  });
  return { accountId, apiKey, credits: options.credits, webhookHmacKey: webhookKey };
}

async function requireAccount(db: Executor, accountId: string): Promise<void> {
  const row = await db.selectFrom('accounts').select('id').where('id', '=', accountId).executeTakeFirst();
  if (!row) throw new ApiError(404, `account ${accountId} does not exist`);
}

export async function createKey(db: Db, accountId: string): Promise<string> {
  return db.transaction().execute(async (tx) => {
    await requireAccount(tx, accountId);
    return insertApiKey(tx, accountId, Date.now());
  });
}

/** Revokes every live key whose visible prefix starts with `prefix`; returns how many. */
export async function revokeKeys(db: Db, prefix: string): Promise<number> {
  if (prefix.length < 6) throw new ApiError(422, 'key-prefix: give at least 6 characters of the key');
  // Only the first 12 characters of a key are stored; compare on what both sides have.
  const visible = prefix.slice(0, 12);
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: Date.now() })
    .where('revoked_at', 'is', null)
    .where(sql<string>`substr(prefix, 1, ${visible.length})`, '=', visible)
    .executeTakeFirst();
  const revoked = Number(result.numUpdatedRows);
  if (revoked > 0) {
    // Processes that remember keys (key-cache.ts) forget them: this one now, the others when told.
    forgetCachedKeys();
    if (asRunner(db).dialect === 'postgres') await sql`select pg_notify(${KEYS_CHANNEL}, '')`.execute(db);
  }
  return revoked;
}

/** The account that owns a live key, or null. */
export async function findAccountByKey(db: Executor | Runner, apiKey: string): Promise<Account | null> {
  const { rows } = await accountByKeyHash.execute<Account>(asRunner(db), { hash: sha256Hex(apiKey) });
  return rows[0] ?? null;
}

/**
 * `findAccountByKey` for authenticating API requests. On PostgreSQL the answer is remembered for
 * up to a second and forgotten on any revocation heard of (key-cache.ts); its `balance` is then as
 * of the lookup: whatever needs the balance reads it (`balanceOf`, the submission's locked read).
 */
export async function authenticatedAccount(reader: Runner, apiKey: string): Promise<Account | null> {
  if (reader.dialect !== 'postgres') return findAccountByKey(reader, apiKey);
  const hash = sha256Hex(apiKey);
  return cachedByKeyHash(reader, hash, Date.now(), async () => (await accountByKeyHash.execute<Account>(reader, { hash })).rows[0] ?? null);
}

// Prepared: every API request authenticates.
const accountByKeyHash = prepare<{ hash: string }>((db, arg) =>
  db
    .selectFrom('api_keys')
    .innerJoin('accounts', 'accounts.id', 'api_keys.account_id')
    .select(['accounts.id', 'accounts.name', 'accounts.balance'])
    .where('api_keys.hash', '=', arg('hash'))
    .where('api_keys.revoked_at', 'is', null),
);

/**
 * A new webhook key; the old one keeps signing beside it for `overlapHours` so
 * receivers can switch without dropping callbacks.
 */
export async function rotateWebhookKey(db: Db, accountId: string, overlapHours: number): Promise<string> {
  const key = newWebhookKey();
  const now = Date.now();
  await db.transaction().execute(async (tx) => {
    const account = await tx.selectFrom('accounts').select(['webhook_key']).where('id', '=', accountId).executeTakeFirst();
    if (!account) throw new ApiError(404, `account ${accountId} does not exist`);
    await tx
      .updateTable('accounts')
      .set({
        webhook_key: key,
        webhook_key_prev: account.webhook_key,
        webhook_key_prev_until: account.webhook_key ? now + overlapHours * 3_600_000 : null,
      })
      .where('id', '=', accountId)
      .execute();
  });
  return key;
}

/** The keys that sign an account's callbacks right now (new key first). */
export async function signingKeys(db: Executor, accountId: string, now = Date.now()): Promise<string[]> {
  const row = await db
    .selectFrom('accounts')
    .select(['webhook_key', 'webhook_key_prev', 'webhook_key_prev_until'])
    .where('id', '=', accountId)
    .executeTakeFirst();
  if (!row?.webhook_key) return [];
  const keys = [row.webhook_key];
  if (row.webhook_key_prev && (row.webhook_key_prev_until ?? 0) > now) keys.push(row.webhook_key_prev);
  return keys;
}

/**
 * Locks the account for the rest of the transaction `tx`, before a count that must not race
 * (inboxes, live keys, the sandbox queue): a write that changes nothing takes SQLite's write lock
 * and PostgreSQL's row lock alike.
 */
export async function lockAccount(tx: Executor, accountId: string): Promise<void> {
  await tx
    .updateTable('accounts')
    .set((eb) => ({ name: eb.ref('name') }))
    .where('id', '=', accountId)
    .execute();
}
