import type { FastifyBaseLogger } from 'fastify';
import { signingKeys } from '../accounts/index.js';
import { boundedMemo } from '../memo.js';
import { type OutboundClient, OutboundError, type OutboundResponse } from '../outbound/index.js';
import type { Store } from '../store/index.js';
import { processLease } from '../store/process-lease.js';
import { DEFAULT_LIVENESS, type Liveness, registerProcess } from '../store/process-registry.js';
import { type ClaimedCallback, claimDueCallbacks, postponeCallbacks, recordAttempts, takeOverOrphanedCallbacks } from './deliveries.js';
import { nextDelay, parseRetryAfter } from './policy.js';
import { signatureHeaders } from './sign.js';

/**
 * Sends the callbacks tasks owe. One loop leases due callbacks into a ready queue
 * bounded to twice the slots (so memory does not grow with the backlog): on the
 * rows on PostgreSQL, in memory on SQLite, where the dispatcher must first hold
 * the store's `callbacks` process lease (deliveries.ts says why). Each is signed
 * and POSTed through the outbound guard as a slot frees; a recorder commits the
 * attempts that finished meanwhile in one transaction — the attempt rows and each
 * callback's outcome or next due time together. A crash before that commit means
 * the attempt is made again, with the same webhook-id.
 *
 * Fairness: at most `perHost` attempts run against one host; a callback whose
 * host is busy waits briefly, then is postponed, so a slow or dead receiver
 * cannot take every slot from everyone else.
 *
 * Recovery: on PostgreSQL the dispatcher registers its process (store/process-registry.ts) and
 * takes over, at once, the callbacks a dead dispatcher had leased, recording each attempt it had in
 * flight as `interrupted`. On SQLite the `callbacks` process lease already passes at once from a
 * killed process to the next on the same host.
 */
export interface DispatcherOptions {
  store: Store;
  outbound: OutboundClient;
  scheduleMs: readonly number[];
  timeoutMs: number;
  concurrency?: number;
  perHost?: number;
  pollMs?: number;
  /** PostgreSQL: the heartbeat by which other dispatchers tell this one is alive. */
  liveness?: Liveness;
  log: FastifyBaseLogger;
  observer?: DispatcherObserver;
  /**
   * Asked before each attempt with the signed headers: an answer instead of the network (this
   * service's own inbox URLs, a sandbox's scripted receiver failures: inbox/delivery.ts), or null.
   */
  deliverLocally?: (callback: ClaimedCallback, headers: Record<string, string>) => Promise<OutboundResponse | null> | null;
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
/** Signing keys are re-read this often: a rotation reaches the next attempts within it. */
const KEY_CACHE_MS = 1000;

interface Attempt {
  callback: ClaimedCallback;
  /** The headers sent, as JSON; null when the attempt failed before sending. */
  requestHeaders: string | null;
  startedAt: number;
  outcome: AttemptOutcome;
  status: number | null;
  errorClass: string | null;
  error: string | null;
  body: string | null;
  retryAfter: string | undefined;
  durationMs: number;
}

function classify(error: unknown): { errorClass: string; outcome: AttemptOutcome; message: string } {
  if (error instanceof OutboundError) {
    const outcome: AttemptOutcome = error.kind === 'timeout' ? 'timeout' : error.kind === 'refused' ? 'refused' : 'network';
    return { errorClass: error.kind, outcome, message: error.message };
  }
  return { errorClass: 'internal', outcome: 'network', message: 'internal error while sending' };
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { store, outbound, log } = options;
  const concurrency = options.concurrency ?? 32;
  const perHost = options.perHost ?? 8;
  const pollMs = options.pollMs ?? 1000;
  const leaseMs = options.timeoutMs + 10_000;
  const liveness = options.liveness ?? DEFAULT_LIVENESS;
  // PostgreSQL leases rows, so its claims name a registered holder; SQLite's live in memory.
  const registration =
    store.dialect === 'postgres' ? registerProcess(store, 'dispatcher', liveness, (error) => log.warn({ err: error }, 'process heartbeat failed')) : null;
  const owner = registration?.id ?? `dispatcher-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  let orphansCheckedAt = 0;
  // SQLite: one dispatcher per store, holding its claims in memory (see deliveries.ts); the
  // process lease makes sure of the one.
  const soleSender = store.dialect === 'sqlite' ? processLease(store, 'callbacks', leaseMs) : null;
  let toldNotSoleSender = false;
  /** Claimed and not yet recorded or given back: what the SQLite claim skips. */
  const held = new Set<string>();
  const busyHosts = new Map<string, number>();
  const keys = new Map<string, { secrets: string[] | Promise<string[]>; until: number }>();
  let inFlight = 0;
  let running = false;
  let loop: Promise<void> | null = null;
  let wakeUp: (() => void) | null = null;

  // A wake-up that comes while the loop is busy (claiming) is kept for its next sleep, which
  // then returns at once: otherwise work owed during a claim would wait a whole pollMs.
  let wokenWhileBusy = false;
  const wake = (): void => {
    if (wakeUp) wakeUp();
    else wokenWhileBusy = true;
  };
  /** Sleeps until woken (new work, a free slot) or `ms` pass. */
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (wokenWhileBusy) {
        wokenWhileBusy = false;
        resolve();
        return;
      }
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wakeUp = null;
        resolve();
      }
      wakeUp = done;
    });

  // The per-callback steps below answer synchronously in the common case (keys cached, host
  // free) and make a promise only when they must wait: every callback passes through them.

  /** The keys signing an account's callbacks now, re-read every KEY_CACHE_MS. */
  function secretsOf(accountId: string, now: number): string[] | Promise<string[]> {
    const cached = keys.get(accountId);
    if (cached && cached.until > now) return cached.secrets;
    // The read under way is shared: when an entry lapses, every send of the account asks at once.
    const reading = signingKeys(store.db, accountId, now).then(
      (secrets) => {
        keys.set(accountId, { secrets, until: now + KEY_CACHE_MS });
        return secrets;
      },
      (error: unknown) => {
        keys.delete(accountId);
        throw error;
      },
    );
    if (keys.size > 10_000) keys.clear();
    keys.set(accountId, { secrets: reading, until: now + KEY_CACHE_MS });
    return reading;
  }

  /** Takes one of the host's `perHost` slots if one is free. */
  function takeHost(host: string): boolean {
    const busy = busyHosts.get(host) ?? 0;
    if (busy >= perHost) return false;
    busyHosts.set(host, busy + 1);
    return true;
  }

  /** Waits up to HOST_WAIT_MS for a slot on a busy host. */
  async function waitForHost(host: string): Promise<boolean> {
    const deadline = Date.now() + HOST_WAIT_MS;
    while (!takeHost(host)) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return true;
  }
  const releaseHost = (host: string): void => {
    const count = (busyHosts.get(host) ?? 1) - 1;
    if (count <= 0) busyHosts.delete(host);
    else busyHosts.set(host, count);
  };

  async function send(callback: ClaimedCallback): Promise<Attempt> {
    const startedAt = Date.now();
    let requestHeaders: string | null = null;
    try {
      const secrets = secretsOf(callback.account_id, startedAt);
      const headers = signatureHeaders(Array.isArray(secrets) ? secrets : await secrets, {
        id: callback.id,
        taskId: callback.task_id,
        body: callback.payload,
        timestamp: startedAt,
      });
      headers['content-type'] = 'application/json';
      headers['user-agent'] = 'reprise-callbacks/0.1';
      requestHeaders = JSON.stringify(headers);
      const local = options.deliverLocally?.(callback, headers);
      const response =
        (local && (await local)) ??
        (await outbound.request(callback.url, {
          method: 'POST',
          headers,
          body: callback.payload,
          timeoutMs: options.timeoutMs,
          maxResponseBytes: MAX_READ_BYTES,
          truncate: true,
        }));
      const ok = response.status >= 200 && response.status < 300;
      const retryAfter = response.headers['retry-after'];
      return {
        callback,
        requestHeaders,
        startedAt,
        outcome: ok ? 'delivered' : 'http_error',
        status: response.status,
        errorClass: null,
        error: ok ? null : `HTTP ${response.status}${response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : ''}`,
        body: response.body.subarray(0, MAX_STORED_BYTES).toString('utf8'),
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        durationMs: Date.now() - startedAt,
      };
    } catch (error) {
      const { errorClass, outcome, message } = classify(error);
      return {
        callback,
        requestHeaders,
        startedAt,
        outcome,
        status: null,
        errorClass,
        error: `${errorClass}: ${message}`,
        body: null,
        retryAfter: undefined,
        durationMs: Date.now() - startedAt,
      };
    }
  }

  // ---- recorder: group commit of finished attempts -------------------------------------------
  // One commit runs at a time, and the attempts finishing meanwhile gather for the next. A slot
  // stays taken until its attempt is committed — so what a killed process sent without recording
  // (and will send again) is never more than the slots — and only until then: each commit settles
  // the attempts it carries, not those of later batches.
  let pending: Attempt[] = [];
  let nextCommit: Promise<void> | null = null;
  let lastCommit: Promise<void> = Promise.resolve();

  function record(attempt: Attempt): Promise<void> {
    pending.push(attempt);
    if (!nextCommit) {
      const previous = lastCommit;
      nextCommit = lastCommit = commitAfter(previous);
    }
    return nextCommit;
  }

  async function commitAfter(previous: Promise<void>): Promise<void> {
    await previous;
    // Yield once so attempts finishing in the same tick share the transaction.
    await new Promise((resolve) => setImmediate(resolve));
    const batch = pending;
    pending = [];
    nextCommit = null;
    try {
      await commit(batch);
      for (const attempt of batch) held.delete(attempt.callback.id);
      report(batch);
    } catch (error) {
      // The callbacks stay leased and are sent again once the lease lapses: at least once, never lost.
      log.error({ err: error, count: batch.length }, 'recording callback attempts failed');
      setTimeout(() => {
        for (const attempt of batch) held.delete(attempt.callback.id);
      }, leaseMs).unref();
    }
  }

  async function commit(batch: Attempt[]): Promise<void> {
    const now = Date.now();
    await recordAttempts(
      store,
      batch.map((attempt) => {
        const delivered = attempt.outcome === 'delivered';
        const delay = delivered ? null : nextDelay(options.scheduleMs, attempt.callback.round_attempts + 1, parseRetryAfter(attempt.retryAfter, now));
        return {
          callback: attempt.callback,
          requestHeaders: attempt.requestHeaders,
          startedAt: attempt.startedAt,
          durationMs: attempt.durationMs,
          status: attempt.status,
          errorClass: attempt.errorClass,
          responseBody: attempt.body,
          error: delivered ? null : (attempt.error ?? `HTTP ${attempt.status}`),
          retryAt: delay === null ? null : now + delay,
        };
      }),
      now,
    );
  }

  function report(batch: Attempt[]): void {
    const now = Date.now();
    for (const attempt of batch) {
      const delivered = attempt.outcome === 'delivered';
      options.observer?.attempt(attempt.outcome, attempt.durationMs);
      if (delivered) options.observer?.delivered(now - attempt.callback.created_at);
      log.info(
        {
          taskId: attempt.callback.task_id,
          deliveryId: attempt.callback.id,
          stage: attempt.callback.stage,
          attempt: attempt.callback.attempts + 1,
          status: attempt.status,
          error: attempt.error,
          durationMs: attempt.durationMs,
        },
        delivered ? 'callback delivered' : 'callback attempt failed',
      );
    }
  }

  // ---- one callback ---------------------------------------------------------------------------
  /** The host a callback URL names, remembered: the same few URLs come again and again. */
  const hostOf = boundedMemo((url: string): string => {
    try {
      return new URL(url).host;
    } catch {
      return ''; // an unparseable URL fails in send() with a clear error
    }
  }, 1024);

  async function handle(callback: ClaimedCallback): Promise<void> {
    const host = hostOf(callback.url);
    if (!takeHost(host) && !(await waitForHost(host))) {
      const now = Date.now();
      await postponeCallbacks(store, [callback], now + HOST_POSTPONE_MS, now);
      held.delete(callback.id);
      return;
    }
    try {
      await record(await send(callback));
    } finally {
      releaseHost(host);
    }
  }

  // ---- the claim loop -------------------------------------------------------------------------
  // Claimed callbacks wait in `ready` for a free slot, so a slot never waits for a claim and one
  // claim statement serves many callbacks. What this dispatcher holds (ready and in flight) stays
  // under `maxHeld` rows, however many are due: memory stays flat.
  const ready: ClaimedCallback[] = [];
  const maxHeld = 2 * concurrency;
  const refillBelow = Math.ceil(concurrency / 2);
  const room = (): number => maxHeld - ready.length - inFlight;
  const wantsClaim = (): boolean => ready.length < refillBelow && room() >= refillBelow;

  /** Starts sends while there are free slots and claimed callbacks waiting (none once stopping: those go back). */
  function pump(): void {
    while (running && inFlight < concurrency && ready.length > 0) {
      const callback = ready.shift() as ClaimedCallback;
      inFlight++;
      handle(callback).then(slotFreed, (error: unknown) => {
        log.error({ err: error, deliveryId: callback.id }, 'callback attempt crashed');
        slotFreed();
      });
    }
  }

  function slotFreed(): void {
    inFlight--;
    pump();
    if (wantsClaim()) wake();
  }

  /**
   * SQLite: whether this dispatcher is the store's sender, renewing the process lease. Asked at
   * every turn of the loop (at least every pollMs), so the lease never lapses while it runs.
   */
  async function isSender(now: number): Promise<boolean> {
    if (!soleSender || (await soleSender.held(now))) return true;
    if (!toldNotSoleSender) log.warn('another process sends the callbacks of this SQLite store; this one takes over if it stops');
    toldNotSoleSender = true;
    return false;
  }

  async function claimLoop(): Promise<void> {
    while (running) {
      const now = Date.now();
      if (!(await isSender(now)) || !wantsClaim()) {
        await sleep(pollMs);
        continue;
      }
      let claimed: ClaimedCallback[] = [];
      try {
        if (registration) {
          await registration.ready();
          if (now - orphansCheckedAt >= liveness.heartbeatMs) {
            orphansCheckedAt = now;
            const taken = await takeOverOrphanedCallbacks(store, leaseMs, now);
            if (taken > 0) log.warn({ count: taken }, 'took over callbacks whose dispatcher died; their attempts are recorded as interrupted');
          }
        }
        claimed = await claimDueCallbacks(store, { owner, leaseMs, now, limit: room(), held });
      } catch (error) {
        // Anything claimed stays leased until the lease lapses, then it is due again: nothing is lost.
        log.error({ err: error }, 'claiming callbacks failed');
      }
      if (claimed.length === 0) {
        await sleep(pollMs);
        continue;
      }
      for (const callback of claimed) {
        held.add(callback.id);
        ready.push(callback);
      }
      pump();
    }
    // Stopping: what was claimed but not sent goes back, due now, rather than waiting out its lease.
    const unsent = ready.splice(0);
    if (unsent.length > 0) {
      const now = Date.now();
      await postponeCallbacks(store, unsent, now, now).catch((error: unknown) => log.error({ err: error }, 'giving back unsent callbacks failed'));
      for (const callback of unsent) held.delete(callback.id);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = claimLoop();
    },
    wake,
    async stop() {
      running = false;
      wake();
      await loop;
      while (inFlight > 0 || nextCommit) await new Promise((resolve) => setTimeout(resolve, 10));
      await soleSender?.release().catch((error: unknown) => log.error({ err: error }, 'releasing the callbacks lease failed'));
      await registration?.stop().catch((error: unknown) => log.warn({ err: error }, 'unregistering the process failed'));
      loop = null;
    },
  };
}
