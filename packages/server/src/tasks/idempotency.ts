import { createHash } from 'node:crypto';
import { ApiError, invalid } from '../errors.js';
import { type Executor, insertRows, prepare, type Runner } from '../store/index.js';

/**
 * `Idempotency-Key` [EXT] (SPEC §9): a client that lost the answer to a task-creating request
 * sends it again, possibly to another process, and gets the first task back instead of a second
 * task and a second charge. The store decides, not this process's memory: the key's row
 * (`idempotency_keys`, primary key (account, key)) is written in the transaction that writes the
 * task, its debit and its job (tasks/submit.ts), after the account's row is locked, so every
 * process sees either no row and no task, or both.
 */

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const IDEMPOTENCY_KEY_MAX = 255;
/** A key names its first request this long; after it, the key is free again and its row is swept. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Visible ASCII (RFC 5234 VCHAR, 0x21–0x7E): no spaces, no control characters, nothing a proxy may re-encode. */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * The header's value as received (absent, once, or repeated), checked: the key, or undefined when
 * the header is absent. Anything else is a 422 naming the header, before anything is looked up.
 */
export function parseIdempotencyKey(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(IDEMPOTENCY_HEADER, 'must be sent once');
  if (value === '') throw invalid(IDEMPOTENCY_HEADER, `must not be empty: 1–${IDEMPOTENCY_KEY_MAX} visible ASCII characters`);
  if (value.length > IDEMPOTENCY_KEY_MAX) throw invalid(IDEMPOTENCY_HEADER, `must be at most ${IDEMPOTENCY_KEY_MAX} characters (got ${value.length})`);
  if (!VISIBLE_ASCII.test(value)) {
    // Node joins a repeated header with ", ", which lands here too: the space is not a visible character.
    throw invalid(IDEMPOTENCY_HEADER, 'must be visible ASCII characters only (0x21–0x7E: no spaces, control or non-ASCII characters)');
  }
  return value;
}

/**
 * JSON text of a parsed JSON value with every object's keys sorted, so that the same request
 * written with its fields in another order, or spaced differently, is the same request. Written
 * out directly, never rebuilt as an object: a key named "__proto__" stays a key.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const entries = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    return `{${entries.join(',')}}`;
  }
  // undefined (no body at all) reads as null, as JSON has nothing else for it.
  return JSON.stringify(value) ?? 'null';
}

/** What a key is checked against: the route and the canonical body, hashed (the row keeps 64 hex characters, not the body). */
export const requestFingerprint = (route: string, body: unknown): string =>
  createHash('sha256').update(route).update('\n').update(canonicalJson(body)).digest('hex');

/** A request that carries a key: the key, and what it must be the same request as. */
export interface KeyedRequest {
  key: string;
  fingerprint: string;
}

/** The request a key was first used for, and the task it made. */
export interface KeyedTask {
  fingerprint: string;
  taskId: string;
}

/** The refusal for a key reused with another request: nothing is stored, the first task stays the key's. */
const keyReused = (): ApiError =>
  new ApiError(
    409,
    `${IDEMPOTENCY_HEADER} was already used with a different request (another route or body) in the last 24 h; send a new key for a new request`,
  );

/** The first request's task when `request` is that request again; a 409 when the key named another one. */
export function replayOf(request: KeyedRequest, earlier: KeyedTask): { taskId: string } | { error: ApiError } {
  return earlier.fingerprint === request.fingerprint ? { taskId: earlier.taskId } : { error: keyReused() };
}

const isLive = (createdAt: number, now: number): boolean => createdAt > now - IDEMPOTENCY_WINDOW_MS;

/**
 * The task a key names within its 24 h, read outside any transaction: a retry of a request that
 * succeeded is answered before its body is checked and its sources fetched again (which could now
 * fail: a track since expired, a cover made since). The transaction checks again (`claimedKey`).
 */
export async function keyedTask(reader: Runner, accountId: string, key: string, now: number): Promise<KeyedTask | undefined> {
  const row = await readKey(reader, accountId, key);
  return row && isLive(row.createdAt, now) ? { fingerprint: row.fingerprint, taskId: row.taskId } : undefined;
}

/**
 * `keyedTask` inside the submission's transaction, after the account's row is locked: no other
 * transaction can write this account's keys until this one ends, so what it reads stays true
 * until commit. A row past its 24 h is deleted here, freeing the key for this request.
 */
export async function claimedKey(tx: Runner, accountId: string, key: string, now: number): Promise<KeyedTask | undefined> {
  const row = await readKey(tx, accountId, key);
  if (!row) return undefined;
  if (isLive(row.createdAt, now)) return { fingerprint: row.fingerprint, taskId: row.taskId };
  await deleteKey.execute(tx, { accountId, key, expiredAt: now - IDEMPOTENCY_WINDOW_MS });
  return undefined;
}

/** Keys of tasks accepted in a submission batch: written with their tasks, in the same transaction. */
export async function recordKeys(tx: Runner, keys: ReadonlyArray<{ accountId: string; request: KeyedRequest; taskId: string }>, now: number): Promise<void> {
  await insertRows(
    tx,
    'idempotency_keys',
    keys.map(({ accountId, request, taskId }) => ({
      account_id: accountId,
      key: request.key,
      fingerprint: request.fingerprint,
      task_id: taskId,
      created_at: now,
    })),
  );
}

/** Deletes the keys past their 24 h (the retention sweep); returns how many went. */
export async function sweepExpiredKeys(db: Executor, now: number): Promise<number> {
  const result = await db
    .deleteFrom('idempotency_keys')
    .where('created_at', '<=', now - IDEMPOTENCY_WINDOW_MS)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

async function readKey(runner: Runner, accountId: string, key: string) {
  const { rows } = await selectKey.execute<{ fingerprint: string; task_id: string; created_at: number | string }>(runner, { accountId, key });
  const row = rows[0];
  return row ? { fingerprint: row.fingerprint, taskId: row.task_id, createdAt: Number(row.created_at) } : undefined;
}

const selectKey = prepare<{ accountId: string; key: string }>((db, arg) =>
  db.selectFrom('idempotency_keys').select(['fingerprint', 'task_id', 'created_at']).where('account_id', '=', arg('accountId')).where('key', '=', arg('key')),
);
// Re-checks the age: only the stale row goes, whatever was read before.
const deleteKey = prepare<{ accountId: string; key: string; expiredAt: number }>((db, arg) =>
  db.deleteFrom('idempotency_keys').where('account_id', '=', arg('accountId')).where('key', '=', arg('key')).where('created_at', '<=', arg('expiredAt')),
);
