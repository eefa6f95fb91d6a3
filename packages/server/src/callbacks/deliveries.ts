import { CompiledQuery, sql } from 'kysely';
import { type CallbacksTable, type Executor, inList, insertRows, listParam, prepare, type Store } from '../store/index.js';
import { deadHolders, isRegisteredHolder } from '../store/process-registry.js';

/**
 * The dispatcher's reads and writes. A claimed callback is leased, and who may record what
 * follows from the claim:
 * - PostgreSQL, where several dispatchers claim side by side: the lease lives on the row. `due_at`
 *   is when the next attempt may start, and claiming moves it to the lease's end, so a dispatcher
 *   that dies mid-attempt leaves its rows due again once their leases lapse.
 * - SQLite, served by one process whose dispatcher holds the store's `callbacks` process lease:
 *   the leases live in that dispatcher's memory, and a claim is a read that skips the ids it
 *   holds. A killed process leaves its callbacks due as they were, for the restarted one to send.
 *   (Writing a lease onto each row cost more than the rest of the claim.)
 * Either way the claim reads back the row's `due_at` and `round_attempts`: a failed attempt sets
 * the next due time only if both are unchanged, so a late dispatcher cannot undo a redelivery or a
 * retry another one has scheduled since.
 * Every statement here is prepared, because each runs for every callback sent.
 *
 * On PostgreSQL a row leased by a dispatcher known dead (store/process-registry.ts) is taken over at
 * once rather than when its lease lapses, and the attempt that dispatcher had claimed is recorded as
 * `interrupted` (see takeOverOrphanedCallbacks).
 */

/**
 * recordAttempts on PostgreSQL: one statement, so one round trip whatever the batch holds (a
 * transaction of several statements costs one each). The rows travel as arrays, unnested.
 */
function recordOnPostgres(attempts: readonly FinishedAttempt[], now: number): CompiledQuery {
  const column = <T>(pick: (attempt: FinishedAttempt) => T): T[] => attempts.map(pick);
  return CompiledQuery.raw(
    `with attempt as (
       insert into callback_attempts (callback_id, started_at, duration_ms, http_status, error_class, response_body, request_headers)
       select * from unnest($1::text[], $2::bigint[], $3::int[], $4::int[], $5::text[], $6::text[], $13::text[])
     )
     update callbacks c set
       status = o.status, due_at = o.due_at, leased_by = null, attempts = c.attempts + 1, round_attempts = c.round_attempts + 1,
       last_error = o.error, updated_at = $9, delivered_at = case when o.status = 'delivered' then $9 else c.delivered_at end
     from unnest($1::text[], $7::text[], $8::bigint[], $10::text[], $11::bigint[], $12::int[]) as o(id, status, due_at, error, claimed_due_at, claimed_round)
     where c.id = o.id and (o.status = 'delivered' or (c.due_at = o.claimed_due_at and c.round_attempts = o.claimed_round))`,
    [
      column((a) => a.callback.id),
      column((a) => a.startedAt),
      column((a) => a.durationMs),
      column((a) => a.status),
      column((a) => a.errorClass),
      column((a) => a.responseBody),
      column((a) => (a.error === null ? 'delivered' : a.retryAt === null ? 'failed' : 'pending')),
      column((a) => a.retryAt),
      now,
      column((a) => a.error),
      column((a) => a.callback.due_at),
      column((a) => a.callback.round_attempts),
      column((a) => a.requestHeaders),
    ],
  );
}

/**
 * Leases and attempt records may be lost in a crash of the database server (see CommitOptions):
 * losing one only means the callback is sent again. The callback itself was owed durably, in the
 * transaction that finished its task stage.
 */
const NOT_DURABLE = { durable: false } as const;

/** What sending a claimed callback and recording its attempt need of its row (only these are read back). */
const CLAIMED_COLUMNS = ['id', 'task_id', 'account_id', 'stage', 'url', 'payload', 'attempts', 'round_attempts', 'due_at', 'created_at'] as const;
export type ClaimedCallback = Pick<CallbacksTable, (typeof CLAIMED_COLUMNS)[number]>;

export interface Claim {
  owner: string;
  leaseMs: number;
  now: number;
  limit: number;
  /** SQLite: the callbacks this dispatcher holds (claimed, not yet recorded), which the claim skips. */
  held: ReadonlySet<string>;
}

/** Leases up to `limit` due callbacks, oldest due first, and returns their rows. */
export async function claimDueCallbacks(store: Store, claim: Claim): Promise<ClaimedCallback[]> {
  const { owner, leaseMs, now, limit } = claim;
  // One statement either way: no transaction needed.
  if (store.dialect === 'sqlite') {
    const held = JSON.stringify([...claim.held]);
    return store.session(async (runner) => (await readDue.execute<ClaimedCallback>(runner, { now, limit, held })).rows);
  }
  return store.session(async (runner) => (await claimDue.execute<ClaimedCallback>(runner, { owner, leaseEnd: now + leaseMs, now, limit })).rows, NOT_DURABLE);
}

export interface FinishedAttempt {
  callback: ClaimedCallback;
  /** JSON of the headers sent (the signatures among them); null when the attempt sent nothing. */
  requestHeaders: string | null;
  startedAt: number;
  durationMs: number;
  status: number | null;
  errorClass: string | null;
  responseBody: string | null;
  /** Null when the attempt delivered the callback. */
  error: string | null;
  /** When the next attempt is due, for a failed one; null when the schedule is exhausted. */
  retryAt: number | null;
}

/**
 * Commits finished attempts in one transaction: the attempt rows and each callback's outcome.
 * Until this commits the callbacks stay claimed, so a crash before it means the attempt is made
 * again. A delivery is recorded however the row changed since the claim (the receiver has the
 * callback either way); a failure's next due time only onto the row as claimed.
 */
export async function recordAttempts(store: Store, attempts: readonly FinishedAttempt[], now: number): Promise<void> {
  if (store.dialect === 'postgres') {
    await store.session((runner) => runner.executeQuery(recordOnPostgres(attempts, now)), NOT_DURABLE);
    return;
  }
  await store.transaction(async (tx) => {
    await insertRows(
      tx,
      'callback_attempts',
      attempts.map((attempt) => ({
        callback_id: attempt.callback.id,
        started_at: attempt.startedAt,
        duration_ms: attempt.durationMs,
        http_status: attempt.status,
        error_class: attempt.errorClass,
        response_body: attempt.responseBody,
        request_headers: attempt.requestHeaders,
      })),
    );
    // The common case, delivered, is one statement for the whole batch.
    const delivered = attempts.filter((attempt) => attempt.error === null).map((attempt) => attempt.callback.id);
    if (delivered.length > 0) await markDelivered.execute(tx, { ids: listParam(tx.dialect, delivered), now });
    for (const attempt of attempts) {
      if (attempt.error === null) continue;
      const exhausted = attempt.retryAt === null;
      await markFailed.execute(tx, {
        id: attempt.callback.id,
        claimedDueAt: attempt.callback.due_at,
        claimedRound: attempt.callback.round_attempts,
        status: exhausted ? 'failed' : 'pending',
        dueAt: attempt.retryAt,
        error: attempt.error,
        now,
      });
    }
  }, NOT_DURABLE);
}

/** Gives claimed callbacks back unattempted, due at `dueAt` (their host was busy, or the dispatcher stops). */
export async function postponeCallbacks(store: Store, callbacks: readonly ClaimedCallback[], dueAt: number, now: number): Promise<void> {
  await store.transaction(async (tx) => {
    for (const callback of callbacks) {
      await postpone.execute(tx, { id: callback.id, claimedDueAt: callback.due_at, claimedRound: callback.round_attempts, dueAt, now });
    }
  }, NOT_DURABLE);
}

/** Callbacks due now and the oldest due time, for /metrics; served by the partial index. On SQLite those being sent count too. */
export async function countDueCallbacks(db: Executor, now: number): Promise<{ count: number; oldestDueAt: number | null }> {
  const row = await db
    .selectFrom('callbacks')
    .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.min('due_at').as('oldest')])
    .where(pending)
    .where('due_at', '<=', now)
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), oldestDueAt: row.oldest === null ? null : Number(row.oldest) };
}

/**
 * Moves a callback to be sent now with a fresh schedule (redelivery). Any row lease is dropped,
 * and the row no longer matches its claim: an attempt in flight still records its attempt, but no
 * longer decides what happens next. (On SQLite the next send waits for that attempt to settle.)
 */
export async function makeDueNow(db: Executor, id: string, now: number): Promise<void> {
  await db.updateTable('callbacks').set({ status: 'pending', round_attempts: 0, due_at: now, leased_by: null, updated_at: now }).where('id', '=', id).execute();
}

/** Written as a literal, not a parameter: that is how SQLite sees that the partial index `callbacks_due` serves the query. */
const pending = sql<boolean>`status = 'pending'`;

/** The SQLite claim: a read (see the top of this file). The held ids come as one JSON text. */
const readDue = prepare<{ now: number; limit: number; held: string }>((db, arg) =>
  db
    .selectFrom('callbacks')
    .select(CLAIMED_COLUMNS)
    .where(pending)
    .where('due_at', '<=', arg('now'))
    .where(sql<boolean>`id not in (select value from json_each(${arg('held')}))`)
    .orderBy('due_at')
    .orderBy('id')
    .limit(arg('limit')),
);
/** The PostgreSQL claim: the lease onto the rows (see the top of this file). */
const claimDue = prepare<{ owner: string; leaseEnd: number; now: number; limit: number }>((db, arg) =>
  db
    .updateTable('callbacks')
    .set({ due_at: arg('leaseEnd'), leased_by: arg('owner') })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('callbacks')
        .select('id')
        .where(pending)
        .where('due_at', '<=', arg('now'))
        .orderBy('due_at')
        .orderBy('id')
        .limit(arg('limit'))
        // Several dispatchers claim side by side, each skipping the rows another is taking.
        .forUpdate()
        .skipLocked(),
    )
    .returning(CLAIMED_COLUMNS),
);
const markDelivered = prepare<{ ids: string | readonly string[]; now: number }>((db, arg, dialect) =>
  db
    .updateTable('callbacks')
    .set({
      status: 'delivered',
      due_at: null,
      leased_by: null,
      attempts: sql`attempts + 1`,
      round_attempts: sql`round_attempts + 1`,
      last_error: null,
      updated_at: arg('now'),
      delivered_at: arg('now'),
    })
    .where(inList(dialect, 'id', arg('ids'))),
);
/** A failed attempt's outcome, only onto the callback as it was claimed (see the top of this file). */
const markFailed = prepare<{
  id: string;
  claimedDueAt: number | null;
  claimedRound: number;
  status: 'pending' | 'failed';
  dueAt: number | null;
  error: string;
  now: number;
}>((db, arg) =>
  db
    .updateTable('callbacks')
    .set({
      status: arg('status'),
      due_at: arg('dueAt'),
      leased_by: null,
      attempts: sql`attempts + 1`,
      round_attempts: sql`round_attempts + 1`,
      last_error: arg('error'),
      updated_at: arg('now'),
    })
    .where('id', '=', arg('id'))
    .where('due_at', '=', arg('claimedDueAt'))
    .where('round_attempts', '=', arg('claimedRound')),
);
const postpone = prepare<{ id: string; claimedDueAt: number | null; claimedRound: number; dueAt: number; now: number }>((db, arg) =>
  db
    .updateTable('callbacks')
    .set({ due_at: arg('dueAt'), leased_by: null, updated_at: arg('now') })
    .where('id', '=', arg('id'))
    .where('due_at', '=', arg('claimedDueAt'))
    .where('round_attempts', '=', arg('claimedRound')),
);

/** The error class of an attempt its dispatcher's process died in (before it could record the outcome). */
export const INTERRUPTED = 'interrupted';

/**
 * PostgreSQL: takes over the callbacks leased by dispatchers known dead. Each gets an attempt row
 * with error class `interrupted` (the process died between claiming and recording: the receiver may
 * or may not have had it) and is due at once. The interrupted attempt counts in `attempts`, the
 * history's count, but not in `round_attempts`: a crash on our side spends none of the receiver's
 * retry schedule. Its start is estimated as the claim time (the lease's end less `leaseMs`).
 * SQLite has no row leases (its one dispatcher holds them in memory): nothing to do there.
 */
export async function takeOverOrphanedCallbacks(store: Store, leaseMs: number, now: number): Promise<number> {
  if (store.dialect !== 'postgres') return 0;
  const holders = await store.db
    .selectFrom('callbacks')
    .select('leased_by')
    .distinct()
    .where(pending)
    .where('due_at', '>', now)
    .where('leased_by', 'is not', null)
    .execute();
  const dead = await deadHolders(store.db, holders.map((row) => row.leased_by as string).filter(isRegisteredHolder), now);
  if (dead.length === 0) return 0;
  const taken = await sql<{ callback_id: string }>`
    with taken as (
      -- RETURNING shows the row as updated: the lease's end is read from the row as it was.
      update callbacks c set
        due_at = ${now}, leased_by = null, attempts = c.attempts + 1, updated_at = ${now},
        last_error = ${`${INTERRUPTED}: the process sending it stopped before recording the outcome`}
      from (select id, due_at from callbacks where status = 'pending' and leased_by = any(${dead}::text[]) for update) as old
      where c.id = old.id and c.status = 'pending' and c.leased_by = any(${dead}::text[])
      returning c.id, greatest(c.created_at, old.due_at - ${leaseMs}::bigint) as started_at
    )
    insert into callback_attempts (callback_id, started_at, duration_ms, http_status, error_class, response_body)
    select id, started_at, greatest(0, ${now}::bigint - started_at)::int, null, ${INTERRUPTED}, null from taken
    returning callback_id`.execute(store.db);
  return taken.rows.length;
}
