/**
 * `compute`, remembered for the last `limit` distinct keys (oldest out). For pure work done again
 * and again on a few values on a hot path: a callback URL's verdict and host, a signing key's
 * bytes, a statement prepared from its SQL text.
 */
export function boundedMemo<K, V>(compute: (key: K) => V, limit: number): (key: K) => V {
  const known = new Map<K, V>();
  return (key) => {
    if (known.has(key)) return known.get(key) as V;
    const value = compute(key);
    if (known.size >= limit) known.delete(known.keys().next().value as K);
    known.set(key, value);
    return value;
  };
}
