import type { FastifyBaseLogger } from 'fastify';
import { signingKeys } from '../accounts/index.js';
import { claimJob, type Job } from '../jobs/index.js';
import { type OutboundClient, OutboundError } from '../outbound/index.js';
import type { CallbacksTable, Store } from '../store/index.js';
import { nextDelay, parseRetryAfter } from './policy.js';
import { signatureHeaders } from './sign.js';

/**
 * Sends the callbacks tasks owe. Each slot claims one due callback job at a time
 * (so memory does not grow with the backlog), signs and POSTs it through the
 * outbound guard, records the attempt, and then either marks the callback
 * delivered or schedules the next attempt — all in one transaction.
 *
 * Fairness: at most `perHost` attempts run against one host; a slot that finds
 * its host busy waits briefly, then postpones that job, so a slow or dead
 * receiver cannot take every slot from everyone else.
 */
export interface DispatcherOptions {
  store: Store;
  outbound: OutboundClient;
  scheduleMs: readonly number[];
  timeoutMs: number;
  concurrency?: number;
  perHost?: number;
  pollMs?: number;
  log: FastifyBaseLogger;
  observer?: DispatcherObserver;
}

export type AttemptOutcome = 'delivered' | 'http_error' | 'timeout' | 'network' | 'refused';

export interface DispatcherObserver {
  attempt(outcome: AttemptOutcome, durationMs: number): void;
  /** From the callback being owed to its successful delivery. */
  delivered(latencyMs: number): void;
}

export interface Dispatcher {
  start(): void;
  wake(): void;
  stop(): Promise<void>;
}

const MAX_READ_BYTES = 64 * 1024;
const MAX_STORED_BYTES = 16 * 1024;
const HOST_WAIT_MS = 50;
const HOST_POSTPONE_MS = 1000;

interface AttemptResult {
  outcome: AttemptOutcome;
  status: number | null;
  errorClass: string | null;
  error: string | null;
  body: string | null;
  retryAfter: string | undefined;
  durationMs: number;
}

function classify(error: unknown): { errorClass: string; outcome: AttemptOutcome } {
  if (error instanceof OutboundError) {
    if (error.kind === 'timeout') return { errorClass: 'timeout', outcome: 'timeout' };
    if (error.kind === 'refused') return { errorClass: 'refused', outcome: 'refused' };
    return { errorClass: error.kind, outcome: 'network' };
  }
  return { errorClass: 'internal', outcome: 'network' };
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { store, outbound, log } = options;
  const concurrency = options.concurrency ?? 32;
  const perHost = options.perHost ?? 8;
  const pollMs = options.pollMs ?? 1000;
  const leaseMs = options.timeoutMs + 10_000;
  const owner = `dispatcher-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const busyHosts = new Map<string, number>();
  let running = false;
  let sleepers: Array<() => void> = [];
  const loops: Promise<void>[] = [];

  const wake = (): void => {
    const waiting = sleepers;
    sleepers = [];
    for (const resolve of waiting) resolve();
  };
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      sleepers.push(done);
    });

  async function acquireHost(host: string): Promise<boolean> {
    const deadline = Date.now() + HOST_WAIT_MS;
    while ((busyHosts.get(host) ?? 0) >= perHost) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    busyHosts.set(host, (busyHosts.get(host) ?? 0) + 1);
    return true;
  }
  const releaseHost = (host: string): void => {
    const count = (busyHosts.get(host) ?? 1) - 1;
    if (count <= 0) busyHosts.delete(host);
    else busyHosts.set(host, count);
  };

  async function send(callback: CallbacksTable): Promise<AttemptResult> {
    const started = Date.now();
    const secrets = await signingKeys(store.db, callback.account_id, started);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'reprise-callbacks/0.1',
      ...signatureHeaders(secrets, { id: callback.id, taskId: callback.task_id, body: callback.payload, timestamp: started }),
    };
    try {
      const response = await outbound.request(callback.url, {
        method: 'POST',
        headers,
        body: callback.payload,
        timeoutMs: options.timeoutMs,
        maxResponseBytes: MAX_READ_BYTES,
        truncate: true,
      });
      const ok = response.status >= 200 && response.status < 300;
      const retryAfter = response.headers['retry-after'];
      return {
        outcome: ok ? 'delivered' : 'http_error',
        status: response.status,
        errorClass: null,
        error: ok ? null : `HTTP ${response.status}${response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : ''}`,
        body: response.body.subarray(0, MAX_STORED_BYTES).toString('utf8'),
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        durationMs: Date.now() - started,
      };
    } catch (error) {
      const { errorClass, outcome } = classify(error);
      const message = error instanceof OutboundError ? error.message : 'internal error while sending';
      return { outcome, status: null, errorClass, error: `${errorClass}: ${message}`, body: null, retryAfter: undefined, durationMs: Date.now() - started };
    }
  }

  /** Writes the attempt and its consequence together; a crash before this commit means the attempt is simply made again. */
  async function record(job: Job, callback: CallbacksTable, attempt: AttemptResult, startedAt: number): Promise<void> {
    const now = Date.now();
    const delivered = attempt.outcome === 'delivered';
    const roundAttempts = callback.round_attempts + 1;
    const delay = delivered ? null : nextDelay(options.scheduleMs, roundAttempts, parseRetryAfter(attempt.retryAfter, now));
    const status = delivered ? 'delivered' : delay === null ? 'failed' : 'pending';
    await store.db.transaction().execute(async (tx) => {
      await tx
        .updateTable('callbacks')
        .set((eb) => ({
          status,
          attempts: eb('attempts', '+', 1),
          round_attempts: roundAttempts,
          last_error: attempt.error,
          updated_at: now,
          delivered_at: delivered ? now : callback.delivered_at,
        }))
        .where('id', '=', callback.id)
        .execute();
      await tx
        .insertInto('callback_attempts')
        .values({ callback_id: callback.id, started_at: startedAt, duration_ms: attempt.durationMs, http_status: attempt.status, error_class: attempt.errorClass, response_body: attempt.body })
        .execute();
      if (delay === null) {
        await tx.updateTable('jobs').set({ state: delivered ? 'done' : 'dead', locked_until: null, last_error: attempt.error, updated_at: now }).where('id', '=', job.id).execute();
      } else {
        await tx
          .updateTable('jobs')
          .set({ state: 'queued', run_at: now + delay, locked_until: null, locked_by: null, last_error: attempt.error, updated_at: now })
          .where('id', '=', job.id)
          .execute();
      }
    });
    options.observer?.attempt(attempt.outcome, attempt.durationMs);
    if (delivered) options.observer?.delivered(now - callback.created_at);
    log.info(
      { taskId: callback.task_id, deliveryId: callback.id, stage: callback.stage, attempt: callback.attempts + 1, status: attempt.status, error: attempt.error, durationMs: attempt.durationMs, next: status },
      delivered ? 'callback delivered' : 'callback attempt failed',
    );
  }

  async function handle(job: Job): Promise<void> {
    const callback = await store.db.selectFrom('callbacks').selectAll().where('id', '=', job.ref_id).executeTakeFirst();
    if (callback?.status !== 'pending') {
      await store.db.updateTable('jobs').set({ state: 'done', locked_until: null, updated_at: Date.now() }).where('id', '=', job.id).execute();
      return;
    }
    let host: string;
    try {
      host = new URL(callback.url).host;
    } catch {
      host = '';
    }
    if (!(await acquireHost(host))) {
      await store.db
        .updateTable('jobs')
        .set({ state: 'queued', run_at: Date.now() + HOST_POSTPONE_MS, locked_until: null, locked_by: null, updated_at: Date.now() })
        .where('id', '=', job.id)
        .execute();
      return;
    }
    try {
      const startedAt = Date.now();
      const attempt = await send(callback);
      await record(job, callback, attempt, startedAt);
    } finally {
      releaseHost(host);
    }
  }

  async function loop(): Promise<void> {
    while (running) {
      let job: Job | null = null;
      try {
        job = await claimJob(store.db, store.dialect, 'callback', owner, leaseMs, Date.now());
      } catch (error) {
        log.error({ err: error }, 'claiming a callback failed');
      }
      if (!job) {
        if (running) await sleep(pollMs);
        continue;
      }
      try {
        await handle(job);
      } catch (error) {
        // Left leased: retried when the lease lapses, like after a crash.
        log.error({ err: error, deliveryId: job.ref_id }, 'callback job crashed');
      }
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      for (let i = 0; i < concurrency; i++) loops.push(loop());
    },
    wake,
    async stop() {
      running = false;
      wake();
      await Promise.all(loops);
      loops.length = 0;
    },
  };
}
