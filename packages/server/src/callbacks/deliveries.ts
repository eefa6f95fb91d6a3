import { sql } from 'kysely';
import { buryJob, claimJobs, finishJobs, type Job, releaseJob, requeueExpired } from '../jobs/index.js';
import { type CallbacksTable, inList, insertRows, listParam, prepare, type Store } from '../store/index.js';

/**
 * The dispatcher's reads and writes: claiming due callbacks with their rows,
 * and recording finished attempts. Each is one transaction of prepared
 * statements (store.transaction), because both run for every callback sent.
 */

export interface Claimed {
  job: Job;
  /** Undefined if the row is gone (it never is, but the job must still end). */
  callback: CallbacksTable | undefined;
}

/** Leases up to `limit` due callback jobs and reads their callbacks, optionally putting lapsed leases back first. */
export async function claimDueCallbacks(
  store: Store,
  claim: { owner: string; leaseMs: number; now: number; limit: number; requeueLapsed: boolean },
): Promise<Claimed[]> {
  const { owner, leaseMs, now, limit } = claim;
  // No transaction: the claim is one atomic statement, and the read only sees rows it leased.
  return store.session(async (tx) => {
    if (claim.requeueLapsed) await requeueExpired(tx, 'callback', now);
    const jobs = await claimJobs(tx, 'callback', owner, leaseMs, now, limit);
    if (jobs.length === 0) return [];
    // The jobs just claimed are exactly ours with this lease end.
    const { rows } = await claimedCallbacks.execute<CallbacksTable>(tx, { owner, lockedUntil: now + leaseMs });
    const byId = new Map(rows.map((row) => [row.id, row]));
    return jobs.map((job) => ({ job, callback: byId.get(job.ref_id) }));
  });
}

export interface FinishedAttempt {
  job: Job;
  callback: CallbacksTable;
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
 * Commits finished attempts in one transaction: the attempt rows, each
 * callback's state and each job's end or next run. Until this commits, the
 * jobs stay leased, so a crash before it means the attempt is made again.
 */
export async function recordAttempts(store: Store, owner: string, attempts: readonly FinishedAttempt[], now: number): Promise<void> {
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
      })),
    );
    // The common case, delivered, is two statements for the whole batch.
    const delivered = attempts.filter((attempt) => attempt.error === null);
    if (delivered.length > 0) {
      await markDelivered.execute(tx, { ids: listParam(tx.dialect, delivered.map((attempt) => attempt.callback.id)), now });
      await finishJobs(tx, delivered.map((attempt) => attempt.job.id), now);
    }
    for (const attempt of attempts) {
      if (attempt.error === null) continue;
      const id = attempt.callback.id;
      const status = attempt.retryAt === null ? 'failed' : 'pending';
      await markFailed.execute(tx, { id, status, roundAttempts: attempt.callback.round_attempts + 1, error: attempt.error, now });
      if (attempt.retryAt === null) await buryJob(tx, attempt.job.id, now, attempt.error);
      else await releaseJob(tx, attempt.job.id, owner, attempt.retryAt, now, attempt.error);
    }
  });
}

const claimedCallbacks = prepare<{ owner: string; lockedUntil: number }>((db, arg) =>
  db
    .selectFrom('jobs')
    .innerJoin('callbacks', 'callbacks.id', 'jobs.ref_id')
    .selectAll('callbacks')
    .where('jobs.queue', '=', 'callback')
    .where('jobs.state', '=', 'running')
    .where('jobs.locked_by', '=', arg('owner'))
    .where('jobs.locked_until', '=', arg('lockedUntil')),
);
const markDelivered = prepare<{ ids: string | readonly string[]; now: number }>((db, arg, dialect) =>
  db
    .updateTable('callbacks')
    .set({ status: 'delivered', attempts: sql`attempts + 1`, round_attempts: sql`round_attempts + 1`, last_error: null, updated_at: arg('now'), delivered_at: arg('now') })
    .where(inList(dialect, 'id', arg('ids'))),
);
const markFailed = prepare<{ id: string; status: 'pending' | 'failed'; roundAttempts: number; error: string; now: number }>((db, arg) =>
  db
    .updateTable('callbacks')
    .set({ status: arg('status'), attempts: sql`attempts + 1`, round_attempts: arg('roundAttempts'), last_error: arg('error'), updated_at: arg('now') })
    .where('id', '=', arg('id')),
);
