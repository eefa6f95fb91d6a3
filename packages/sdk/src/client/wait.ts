import type { CallbackEvent } from '../callbacks/events.js';
import { RepriseError, WaitTimeoutError } from '../errors.js';
import { isTerminalStatus, type SunoTrack, type TaskEvent, type TaskRecord, type TerminalStatus } from '../types.js';
import { sleep } from './retry.js';
import type { RequestOptions } from './transport.js';

/** What waitForTask needs of a client (a {@link Client} has it). */
export interface TaskSource {
  getTask(taskId: string, options?: RequestOptions): Promise<TaskRecord>;
  events(taskId: string, options?: RequestOptions): AsyncIterable<TaskEvent>;
}

/** Something that hears verified callbacks: a handler from createCallbackHandler. */
export interface CallbackSource {
  waitFor(taskId: string, signal?: AbortSignal): Promise<CallbackEvent>;
}

export interface WaitForTaskOptions {
  /** Your callback receiver: its verified final callback for the task settles the wait. */
  callbacks?: CallbackSource;
  /** Follow the task's Server-Sent Events (reprise; absent on KIE.AI, where it quietly falls back). Default true. */
  events?: boolean;
  /** Poll record-info, the seed's fallback. Default true. */
  poll?: boolean;
  /** Time between polls (default 3 s, ±10 % jitter). The first poll is immediate. */
  pollIntervalMs?: number;
  /** Give up after this long with a WaitTimeoutError (default 15 min). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface FinishedTask {
  taskId: string;
  status: TerminalStatus;
  succeeded: boolean;
  tracks: SunoTrack[];
  errorCode: number | null;
  errorMessage: string | null;
  /** Which source settled the wait. */
  via: 'callback' | 'events' | 'poll';
  /** The record (events and polling); null when a callback came first. */
  record: TaskRecord | null;
  /** The verified callback when it came first. */
  callback: CallbackEvent | null;
}

function fromRecord(record: TaskRecord, status: TerminalStatus, via: 'events' | 'poll'): FinishedTask {
  return {
    taskId: record.taskId,
    status,
    succeeded: status === 'SUCCESS',
    tracks: record.response.sunoData,
    errorCode: record.errorCode,
    errorMessage: record.errorMessage,
    via,
    record,
    callback: null,
  };
}

function fromCallback(event: CallbackEvent): FinishedTask {
  const failed = event.stage === 'error';
  return {
    taskId: event.taskId,
    status: failed ? 'GENERATE_AUDIO_FAILED' : 'SUCCESS',
    succeeded: !failed,
    tracks: failed ? [] : event.tracks,
    errorCode: failed ? event.code : null,
    errorMessage: failed ? event.error : null,
    via: 'callback',
    record: null,
    callback: event,
  };
}

/** Answers that polling again will not change. */
const isPermanent = (error: unknown): boolean => error instanceof RepriseError && [400, 401, 402, 403, 404, 422].includes(error.code);

/**
 * Resolves with the finished task from whichever comes first: a verified
 * callback, a Server-Sent Event, or polling (the seed's "use fallback
 * polling"). Exactly one result: the other sources are stopped the moment one
 * wins, and duplicates are ignored. Rejects with a WaitTimeoutError after
 * `timeoutMs`, with `signal.reason` on abort, or with the RepriseError of a
 * poll that cannot succeed (401, 404, …).
 */
export function waitForTask(client: TaskSource, taskId: string, options: WaitForTaskOptions = {}): Promise<FinishedTask> {
  const useEvents = options.events ?? true;
  const usePoll = options.poll ?? true;
  const interval = options.pollIntervalMs ?? 3000;
  const timeoutMs = options.timeoutMs ?? 15 * 60_000;
  if (!options.callbacks && !useEvents && !usePoll) return Promise.reject(new TypeError('waitForTask: every source is off (callbacks, events, poll)'));
  if (options.signal?.aborted) return Promise.reject(options.signal.reason);

  return new Promise<FinishedTask>((resolve, reject) => {
    const stop = new AbortController();
    let settled = false;
    let sources = 0;
    let lastError: unknown = null;

    const settle = (outcome: { value: FinishedTask } | { error: unknown }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      stop.abort();
      if ('value' in outcome) resolve(outcome.value);
      else reject(outcome.error);
    };
    /** A source gave up; when the last one does, so does the wait (it could only time out). */
    const sourceEnded = (error: unknown): void => {
      lastError = error ?? lastError;
      if (--sources === 0) settle({ error: lastError ?? new Error(`waitForTask: every source for task ${taskId} ended without a result`) });
    };
    const onAbort = (): void => settle({ error: options.signal?.reason });
    const timer = setTimeout(() => settle({ error: new WaitTimeoutError(taskId, timeoutMs) }), timeoutMs);
    options.signal?.addEventListener('abort', onAbort, { once: true });

    if (options.callbacks) {
      sources++;
      options.callbacks.waitFor(taskId, stop.signal).then(
        (event) => settle({ value: fromCallback(event) }),
        (error: unknown) => {
          if (!stop.signal.aborted) sourceEnded(error);
        },
      );
    }

    if (useEvents) {
      sources++;
      void (async () => {
        try {
          for await (const event of client.events(taskId, { signal: stop.signal })) {
            if (event.taskId !== taskId || !isTerminalStatus(event.status)) continue;
            // The event carries the status only; the record has the tracks.
            const record = await client.getTask(taskId, { signal: stop.signal });
            if (isTerminalStatus(record.status)) settle({ value: fromRecord(record, record.status, 'events') });
            break;
          }
          if (!stop.signal.aborted) sourceEnded(null);
        } catch (error) {
          // No events endpoint (KIE.AI) or a broken stream: the other sources carry on.
          if (!stop.signal.aborted) sourceEnded(error);
        }
      })();
    }

    if (usePoll) {
      sources++;
      void (async () => {
        for (let first = true; !stop.signal.aborted; first = false) {
          try {
            if (!first) await sleep(interval * (0.9 + Math.random() * 0.2), stop.signal);
            const record = await client.getTask(taskId, { signal: stop.signal });
            if (isTerminalStatus(record.status)) {
              settle({ value: fromRecord(record, record.status, 'poll') });
              return;
            }
          } catch (error) {
            if (stop.signal.aborted) return;
            // The task does not exist or is not ours: nothing else will ever succeed either.
            if (isPermanent(error)) {
              settle({ error });
              return;
            }
            lastError = error;
          }
        }
      })();
    }
  });
}
