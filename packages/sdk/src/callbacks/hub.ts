import type { CallbackEvent } from './events.js';

/**
 * Final callbacks (complete or error) a receiver has verified, for
 * waitForTask. A callback can arrive before anyone waits for it (a fast task),
 * so the last few are kept for a while; waiters are resolved as they arrive.
 */
export class CallbackHub {
  readonly #recent = new Map<string, { event: CallbackEvent; until: number }>();
  readonly #waiters = new Map<string, Set<(event: CallbackEvent) => void>>();
  readonly #keepMs: number;
  readonly #maxRecent: number;

  constructor(options: { keepMs?: number; maxRecent?: number } = {}) {
    this.#keepMs = options.keepMs ?? 15 * 60_000;
    this.#maxRecent = options.maxRecent ?? 1000;
  }

  /**
   * The first final callback of a task is the one kept: a later copy (a
   * redelivery, or under the KIE scheme a replay whose body an attacker
   * altered, since that scheme does not cover it) never replaces it.
   */
  publish(event: CallbackEvent): void {
    const now = Date.now();
    const known = this.#recent.get(event.taskId);
    if (known && known.until > now) return;
    this.#recent.delete(event.taskId);
    this.#recent.set(event.taskId, { event, until: now + this.#keepMs });
    for (const [taskId, entry] of this.#recent) {
      if (this.#recent.size <= this.#maxRecent && entry.until > now) break;
      this.#recent.delete(taskId);
    }
    const waiters = this.#waiters.get(event.taskId);
    if (!waiters) return;
    this.#waiters.delete(event.taskId);
    for (const resolve of waiters) resolve(event);
  }

  /** The task's final callback: at once if it already came, else when it comes; rejects with `signal.reason` on abort. */
  waitFor(taskId: string, signal?: AbortSignal): Promise<CallbackEvent> {
    const recent = this.#recent.get(taskId);
    if (recent && recent.until > Date.now()) return Promise.resolve(recent.event);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const waiters = this.#waiters.get(taskId) ?? new Set();
      this.#waiters.set(taskId, waiters);
      const onAbort = (): void => {
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(taskId) === waiters) this.#waiters.delete(taskId);
        reject(signal?.reason);
      };
      const done = (event: CallbackEvent): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(event);
      };
      waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get waiting(): number {
    let count = 0;
    for (const set of this.#waiters.values()) count += set.size;
    return count;
  }
}
