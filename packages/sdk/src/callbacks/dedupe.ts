/**
 * Where a receiver remembers which callbacks it has already taken. Callbacks
 * are at-least-once (SPEC §5.1): the same one can arrive twice, and a
 * redelivery may come hours later.
 */
export interface DedupeStore {
  /**
   * Records `key` for `ttlMs` unless it is already there. True when this call
   * recorded it (first sighting), false for a duplicate. Must be atomic across
   * the processes that share the store (Redis: `SET key 1 NX PX ttl`).
   */
  claim(key: string, ttlMs: number): boolean | Promise<boolean>;
  /** Forgets `key`, so a later delivery is processed again (used when the handler failed). */
  release?(key: string): void | Promise<void>;
}

/**
 * The default store: one process's memory, entries expire after their TTL and
 * the oldest are dropped beyond `maxEntries`, so memory stays bounded under a
 * flood of distinct ids. Use a shared store when several processes receive.
 */
export class MemoryDedupeStore implements DedupeStore {
  readonly #expiries = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { maxEntries?: number; now?: () => number } = {}) {
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#expiries.size;
  }

  claim(key: string, ttlMs: number): boolean {
    const now = this.#now();
    this.#sweep(now);
    const expiry = this.#expiries.get(key);
    if (expiry !== undefined && expiry > now) return false;
    // Re-inserting moves the key to the end, keeping insertion order ≈ expiry order for the sweep.
    this.#expiries.delete(key);
    this.#expiries.set(key, now + ttlMs);
    while (this.#expiries.size > this.#maxEntries) {
      const oldest = this.#expiries.keys().next();
      if (oldest.done) break;
      this.#expiries.delete(oldest.value);
    }
    return true;
  }

  release(key: string): void {
    this.#expiries.delete(key);
  }

  /** Drops expired entries from the front; stops at the first live one (amortised O(1)). */
  #sweep(now: number): void {
    for (const [key, expiry] of this.#expiries) {
      if (expiry > now) break;
      this.#expiries.delete(key);
    }
  }
}
