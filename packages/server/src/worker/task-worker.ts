import type { FastifyBaseLogger } from 'fastify';
import { SourceAudioError } from '../engine/types.js';
import { ApiError } from '../errors.js';
import { claimJob, finishJob, type Job, releaseJob, renewLease, requeueExpired, requeueOrphaned } from '../jobs/index.js';
import { failAsScripted, playScenario, ScriptedFailure, scenarioOfTask, scriptedRuntime } from '../sandbox/index.js';
import { BlobNotFoundError, type BlobStore } from '../storage/index.js';
import type { Store } from '../store/index.js';
import { DEFAULT_LIVENESS, type Liveness, registerProcess } from '../store/process-registry.js';
import { completeTask, failTask, type KindRuntime, kindOf, type LifecycleContext, seedOf, TERMINAL_STATUSES } from '../tasks/index.js';
import type { RenderPool } from './render-pool.js';
import type { EngineSpec } from './render-protocol.js';
import { renderVideoOffThread } from './video.js';

/**
 * Claims task jobs and runs each by its kind (tasks/kinds): the kind renders and stores,
 * then the task completes or fails. `concurrency` slots claim independently; an idle slot sleeps until
 * woken (a task was submitted here) or the poll interval passes (work from
 * another process, or a lapsed lease). The worker registers its process (store/process-registry.ts):
 * jobs held by a process known dead are taken over at once, in their old place in the queue.
 */
export interface TaskWorkerOptions {
  store: Store;
  blobs: BlobStore;
  pool: RenderPool;
  engine: EngineSpec;
  lifecycle: LifecycleContext;
  concurrency: number;
  leaseMs: number;
  pollMs?: number;
  /** The heartbeat by which other processes tell this one is alive. */
  liveness?: Liveness;
  /** A job claimed this many times (its process kept dying) fails with code 500. */
  maxAttempts?: number;
  log: FastifyBaseLogger;
}

export interface TaskWorker {
  start(): void;
  wake(): void;
  /** Stops claiming; in-flight tasks get `graceMs` to finish, then are released for another process. */
  stop(graceMs: number): Promise<void>;
  readonly busy: number;
}

class ShutdownAbort extends Error {
  override readonly name = 'ShutdownAbort';
}
class DeadlineAbort extends Error {
  override readonly name = 'DeadlineAbort';
}
class LeaseLost extends Error {
  override readonly name = 'LeaseLost';
}

export function createTaskWorker(options: TaskWorkerOptions): TaskWorker {
  const { store, blobs, pool, lifecycle, log } = options;
  const liveness = options.liveness ?? DEFAULT_LIVENESS;
  const registration = registerProcess(store, 'worker', liveness, (error) => log.warn({ err: error }, 'process heartbeat failed'));
  const owner = registration.id;
  const pollMs = options.pollMs ?? 1000;
  // Looking for dead holders costs two reads: the slots share one look per heartbeat.
  let orphansCheckedAt = 0;
  const maxAttempts = options.maxAttempts ?? 5;
  const inFlight = new Map<string, AbortController>();
  let running = false;
  let sleepers: Array<() => void> = [];
  const loops: Promise<void>[] = [];

  const wake = (): void => {
    const waiting = sleepers;
    sleepers = [];
    for (const resolve of waiting) resolve();
  };
  const sleep = (): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, pollMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      sleepers.push(done);
    });

  /**
   * Stems and notes are signal processing on the CPU, or a procedural recipe read again: the
   * procedural engine does them whatever engine makes the songs. ACE-Step has neither (its
   * `extract` re-synthesises a track); a track it made fails the recipe check and is estimated.
   */
  const toolsEngine: EngineSpec =
    options.engine.name === 'procedural'
      ? options.engine
      : { name: 'procedural', ...(options.engine.scratchDir ? { scratchDir: options.engine.scratchDir } : {}) };
  const runtime: KindRuntime = {
    store,
    blobs,
    lifecycle,
    render: (operation, signal, onProgress) => pool.run(options.engine, operation, signal, onProgress),
    separate: (input, signal, onStem) => pool.separate(toolsEngine, input, signal, onStem),
    transcribe: (input, signal) => pool.transcribe(toolsEngine, input, signal),
    renderVideo: renderVideoOffThread,
  };

  function failureOf(error: unknown): { code: 400 | 408 | 500 | 531; message: string } {
    if (error instanceof SourceAudioError) return { code: 400, message: error.message };
    // A file deleted (retention, an operator) after the task checked it was there: the source's fault, not ours.
    if (error instanceof BlobNotFoundError) return { code: 400, message: 'a file the task reads is no longer available (it was deleted from storage)' };
    // A rule that only the work could check (a persona taken meanwhile): the request's fault, said as it was.
    if (error instanceof ApiError) return { code: 400, message: error.message };
    if (error instanceof DeadlineAbort) return { code: 408, message: error.message };
    if (error instanceof Error && (error.name === 'EngineError' || error.name === 'UnsupportedOperation')) return { code: 531, message: error.message };
    return { code: 500, message: 'internal error while rendering' };
  }

  async function runJob(job: Job): Promise<void> {
    const taskId = job.ref_id;
    const task = await store.db
      .selectFrom('tasks')
      .select(['status', 'input', 'deadline_at', 'parent_music_id', 'simulated'])
      .where('id', '=', taskId)
      .executeTakeFirst();
    const jobLog = log.child({ taskId, jobId: job.id, attempt: job.attempts });
    if (!task || (TERMINAL_STATUSES as readonly string[]).includes(task.status)) {
      await finishJob(store.db, job.id, Date.now());
      return;
    }
    const input = JSON.parse(task.input) as { kind: string };
    const kind = kindOf(input);
    const fail = (code: 400 | 408 | 500 | 531, message: string) => failTask(lifecycle, taskId, job.id, code, message, kind.family.errorBody);
    if (job.attempts > maxAttempts) {
      await fail(500, `the task was interrupted ${maxAttempts} times`);
      return;
    }
    const remaining = task.deadline_at - Date.now();
    if (remaining <= 0) {
      await fail(408, 'the task ran past its time limit');
      return;
    }
    // A sandbox task plays the scenario it took at submission (sandbox/run.ts).
    const scenario = Number(task.simulated) === 1 ? await scenarioOfTask(store.db, taskId) : null;
    const controller = new AbortController();
    inFlight.set(job.id, controller);
    const deadline = setTimeout(() => controller.abort(new DeadlineAbort('the task ran past its time limit')), remaining);
    const renewal = setInterval(
      async () => {
        try {
          if (!(await renewLease(store.db, job.id, owner, options.leaseMs, Date.now()))) controller.abort(new LeaseLost('lease lost'));
        } catch (error) {
          jobLog.warn({ err: error }, 'lease renewal failed');
        }
      },
      Math.max(100, Math.floor(options.leaseMs / 3)),
    );
    try {
      jobLog.info('task started');
      if (scenario) await playScenario(scenario, controller.signal);
      const write = await kind.run(
        scenario ? scriptedRuntime(runtime, scenario) : runtime,
        { id: taskId, input: input as never, parentMusicId: task.parent_music_id, seed: seedOf(input) },
        controller.signal,
      );
      if (controller.signal.aborted) throw controller.signal.reason;
      await completeTask(lifecycle, taskId, job.id, write);
      jobLog.info('task succeeded');
    } catch (error) {
      const reason = controller.signal.aborted ? controller.signal.reason : error;
      if (reason instanceof ShutdownAbort) {
        // Keeps its place in the queue: the next process runs it before what was submitted after it.
        await releaseJob(store.db, job.id, owner, job.run_at, Date.now(), 'released at shutdown');
        jobLog.info('task released at shutdown');
      } else if (reason instanceof LeaseLost) {
        jobLog.warn('lease lost; another process owns the task now');
      } else if (reason instanceof ScriptedFailure) {
        jobLog.info({ code: reason.code }, 'task failed as its sandbox scenario says');
        await failAsScripted(lifecycle, taskId, job.id, reason, kind.family.errorBody);
      } else {
        const failure = failureOf(reason);
        jobLog.warn({ err: reason, code: failure.code }, 'task failed');
        await fail(failure.code, failure.message);
      }
    } finally {
      clearTimeout(deadline);
      clearInterval(renewal);
      inFlight.delete(job.id);
    }
  }

  async function loop(): Promise<void> {
    while (running) {
      let job: Job | null = null;
      try {
        await registration.ready();
        const now = Date.now();
        if (now - orphansCheckedAt >= liveness.heartbeatMs) {
          orphansCheckedAt = now;
          await requeueOrphaned(store.db, 'task', now);
        }
        await requeueExpired(store.db, 'task', now);
        job = await claimJob(store.db, 'task', owner, options.leaseMs, Date.now());
      } catch (error) {
        log.error({ err: error }, 'claiming a task job failed');
      }
      if (!job) {
        if (running) await sleep();
        continue;
      }
      try {
        await runJob(job);
      } catch (error) {
        // The job stays leased and is retried when the lease lapses.
        log.error({ err: error, taskId: job.ref_id }, 'task job crashed');
      }
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      for (let i = 0; i < options.concurrency; i++) loops.push(loop());
    },
    wake,
    async stop(graceMs) {
      running = false;
      wake();
      const drained = Promise.all(loops).then(() => true);
      const timedOut = new Promise<false>((resolve) => setTimeout(() => resolve(false), graceMs).unref());
      if (!(await Promise.race([drained, timedOut]))) {
        for (const controller of inFlight.values()) controller.abort(new ShutdownAbort('shutting down'));
        await Promise.all(loops);
      }
      loops.length = 0;
      await registration.stop().catch((error: unknown) => log.warn({ err: error }, 'unregistering the process failed'));
    },
    get busy() {
      return inFlight.size;
    },
  };
}
