/**
 * API key → account, remembered on PostgreSQL. Every API request authenticates, and there the
 * lookup is a round trip and a statement for the database server, the largest single share of a
 * submission's cost; on SQLite it is a few µs in-process, and nothing is remembered.
 *
 * What a key names never changes; only revocation ends it. So an entry is trusted for at most
 * KEY_CACHE_MS, and forgotten at once when this process revokes a key, or hears (LISTEN/NOTIFY on
 * `reprise_keys`, store/notify.ts) that another one did: a revoked key is refused everywhere as
 * soon as the notification arrives, and within KEY_CACHE_MS even if it is lost. Unknown keys are
 * never remembered, so a key just created works at once.
 */

export const KEY_CACHE_MS = 1000;
/** The PostgreSQL channel a revocation is announced on. */
export const KEYS_CHANNEL = 'reprise_keys';
const KEY_CACHE_MAX = 10_000;

interface Entry<A> {
  value: A;
  until: number;
  epoch: number;
}

/** Bumped by every revocation heard of: entries of an earlier epoch are not trusted. */
let epoch = 0;

/** Forgets every remembered key (a key was revoked, here or in another process). */
export function forgetCachedKeys(): void {
  epoch++;
}

interface Cache {
  entries: Map<string, Entry<unknown>>;
  /** Lookups under way, by key hash. */
  pending: Map<string, { lookup: Promise<unknown>; epoch: number }>;
}

const caches = new WeakMap<object, Cache>();

/**
 * `lookUp(hash)`, remembered per `owner` (the store's reader) under the key's hash. A lookup that
 * was under way when a revocation was heard is used once but not remembered.
 */
export async function cachedByKeyHash<A>(owner: object, hash: string, now: number, lookUp: () => Promise<A | null>): Promise<A | null> {
  let cache = caches.get(owner);
  if (!cache) {
    cache = { entries: new Map(), pending: new Map() };
    caches.set(owner, cache);
  }
  const { entries, pending } = cache;
  const entry = entries.get(hash);
  if (entry && entry.until > now && entry.epoch === epoch) return entry.value as A;
  // Requests that arrive together with a lapsed key share one lookup.
  const waiting = pending.get(hash);
  if (waiting && waiting.epoch === epoch) return (await waiting.lookup) as A | null;
  const startedIn = epoch;
  const lookup = lookUp();
  pending.set(hash, { lookup, epoch: startedIn });
  let value: A | null;
  try {
    value = await lookup;
  } finally {
    if (pending.get(hash)?.lookup === lookup) pending.delete(hash);
  }
  if (value === null) {
    entries.delete(hash);
    return null;
  }
  if (startedIn === epoch) {
    if (entries.size >= KEY_CACHE_MAX && !entries.has(hash)) entries.delete(entries.keys().next().value as string);
    entries.set(hash, { value, until: now + KEY_CACHE_MS, epoch: startedIn });
  }
  return value;
}
