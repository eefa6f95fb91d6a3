import { sql } from 'kysely';
import { newId } from '../ids.js';
import { asRunner, changedRows, type Executor, insertRows, type JobQueue, type JobsTable, prepare, type Runner } from '../store/index.js';
import { deadHolders, isRegisteredHolder } from '../store/process-registry.js';

/**
 * The task worker's leased work table (callbacks carry their lease on their own row).
 * A job is claimed by setting a lease (`locked_until`); a process that dies
 * simply stops renewing, and once the lease lapses any process claims it again —
 * or at once, when its holder is known dead (store/process-registry.ts).
 * A job put back keeps its `run_at`, so it is claimed again before the jobs
 * submitted after it rather than behind the whole backlog.
 * Semantics are at-least-once; the handlers make their effects idempotent.
 */
export type Job = JobsTable;

export async function enqueueJob(db: Executor | Runner, queue: JobQueue, refId: string, runAt: number, now: number): Promise<string> {
  return (await enqueueJobs(asRunner(db), queue, [{ refId, runAt }], now))[0] as string;
}

/** Several jobs of one queue in as few statements as possible (a submission batch); returns their ids in order. */
export async function enqueueJobs(db: Runner, queue: JobQueue, jobs: ReadonlyArray<{ refId: string; runAt: number }>, now: number): Promise<string[]> {
  const rows = newJobRows(queue, jobs, now);
  await insertRows(db, 'jobs', rows);
  return rows.map((row) => row.id);
}

/** The rows `enqueueJobs` writes, for a caller that writes them in a statement of its own. */
export function newJobRows(queue: JobQueue, jobs: ReadonlyArray<{ refId: string; runAt: number }>, now: number): Job[] {
  return jobs.map((job) => ({
    id: newId('job'),
    queue,
    ref_id: job.refId,
    state: 'queued' as const,
    run_at: job.runAt,
    locked_until: null,
    locked_by: null,
    attempts: 0,
    last_error: null,
    created_at: now,
    updated_at: now,
  }));
}

/**
 * Claims the oldest due job of a queue in one statement.
 * Only `queued` rows are looked at, which the claim index serves directly;
 * jobs whose owner died are put back in the queue by `requeueExpired`.
 * PostgreSQL skips rows other claimers hold; SQLite serialises writers, so the
 * sub-select and the update are atomic there without it.
 */
export async function claimJob(db: Executor | Runner, queue: JobQueue, owner: string, leaseMs: number, now: number): Promise<Job | null> {
  return (await claim.execute<Job>(asRunner(db), { queue, owner, lockedUntil: now + leaseMs, now })).rows[0] ?? null;
}

/**
 * Puts jobs whose lease lapsed (their process died or hung) back in the queue,
 * in their old place. Their attempt count keeps the claims they used.
 */
export async function requeueExpired(db: Executor | Runner, queue: JobQueue, now: number): Promise<number> {
  return changedRows(await requeue.execute(asRunner(db), { queue, now }));
}

/**
 * Puts back, in their old place, the running jobs whose holder is known dead (killed, or its
 * heartbeat lapsed) without waiting for their lease. Two reads and, only when one is dead, a write.
 */
export async function requeueOrphaned(db: Executor, queue: JobQueue, now: number): Promise<number> {
  const holders = await db
    .selectFrom('jobs')
    .select('locked_by')
    .distinct()
    .where('queue', '=', queue)
    .where('state', '=', 'running')
    .where('locked_by', 'is not', null)
    .execute();
  const dead = await deadHolders(db, holders.map((row) => row.locked_by as string).filter(isRegisteredHolder), now);
  if (dead.length === 0) return 0;
  const result = await db
    .updateTable('jobs')
    .set({ state: 'queued', locked_until: null, locked_by: null, updated_at: now })
    .where('queue', '=', queue)
    .where('state', '=', 'running')
    .where('locked_by', 'in', dead)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Extends a lease; false when the job is no longer ours (it was reclaimed). */
export async function renewLease(db: Executor | Runner, jobId: string, owner: string, leaseMs: number, now: number): Promise<boolean> {
  return changedRows(await renew.execute(asRunner(db), { jobId, owner, lockedUntil: now + leaseMs, now })) === 1;
}

export async function finishJob(db: Executor | Runner, jobId: string, now: number): Promise<void> {
  await finish.execute(asRunner(db), { jobId, now });
}

/** Gives a job back (graceful shutdown) without counting it as failed. */
export async function releaseJob(db: Executor | Runner, jobId: string, owner: string, runAt: number, now: number, error: string | null): Promise<void> {
  await release.execute(asRunner(db), { jobId, owner, runAt, now, error });
}

// Prepared: the worker runs these in its loop.
const claim = prepare<{ queue: JobQueue; owner: string; lockedUntil: number; now: number }>((db, arg, dialect) =>
  db
    .updateTable('jobs')
    .set({ state: 'running', locked_until: arg('lockedUntil'), locked_by: arg('owner'), attempts: sql`attempts + 1`, updated_at: arg('now') })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('jobs')
        .select('id')
        .where('queue', '=', arg('queue'))
        .where('state', '=', 'queued')
        .where('run_at', '<=', arg('now'))
        .orderBy('run_at')
        .orderBy('id')
        .limit(1)
        .$if(dialect === 'postgres', (qb) => qb.forUpdate().skipLocked()),
    )
    .returningAll(),
);
const requeue = prepare<{ queue: JobQueue; now: number }>((db, arg) =>
  db
    .updateTable('jobs')
    .set({ state: 'queued', locked_until: null, locked_by: null, updated_at: arg('now') })
    .where('queue', '=', arg('queue'))
    .where('state', '=', 'running')
    .where('locked_until', '<', arg('now')),
);
const renew = prepare<{ jobId: string; owner: string; lockedUntil: number; now: number }>((db, arg) =>
  db
    .updateTable('jobs')
    .set({ locked_until: arg('lockedUntil'), updated_at: arg('now') })
    .where('id', '=', arg('jobId'))
    .where('locked_by', '=', arg('owner'))
    .where('state', '=', 'running'),
);
const finish = prepare<{ jobId: string; now: number }>((db, arg) =>
  db
    .updateTable('jobs')
    .set({ state: 'done', locked_until: null, last_error: null, updated_at: arg('now') })
    .where('id', '=', arg('jobId')),
);
const release = prepare<{ jobId: string; owner: string; runAt: number; now: number; error: string | null }>((db, arg) =>
  db
    .updateTable('jobs')
    .set({ state: 'queued', run_at: arg('runAt'), locked_until: null, locked_by: null, last_error: arg('error'), updated_at: arg('now') })
    .where('id', '=', arg('jobId'))
    .where('locked_by', '=', arg('owner')),
);

/** Jobs ready now, for /metrics and readiness; cheap thanks to the claim index. */
export async function countDue(db: Executor, queue: JobQueue, now: number): Promise<{ count: number; oldestRunAt: number | null }> {
  const row = await db
    .selectFrom('jobs')
    .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.min('run_at').as('oldest')])
    .where('queue', '=', queue)
    .where('state', '=', 'queued')
    .where('run_at', '<=', now)
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), oldestRunAt: row.oldest === null ? null : Number(row.oldest) };
}

/** Whether the task's job is being run now (claimed), which details views report as "generating". */
export async function jobRunning(db: Executor, refId: string): Promise<boolean> {
  const job = await db.selectFrom('jobs').select('state').where('ref_id', '=', refId).executeTakeFirst();
  return job?.state === 'running';
}
