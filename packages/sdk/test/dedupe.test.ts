import { describe, expect, it } from 'vitest';
import { MemoryDedupeStore } from '../src/index.js';

describe('MemoryDedupeStore', () => {
  it('claims a key once until its TTL passes, and release forgets it', () => {
    let now = 0;
    const store = new MemoryDedupeStore({ now: () => now });
    expect(store.claim('a', 1000)).toBe(true);
    expect(store.claim('a', 1000)).toBe(false);
    now = 999;
    expect(store.claim('a', 1000)).toBe(false);
    now = 1000;
    expect(store.claim('a', 1000)).toBe(true);
    store.release('a');
    expect(store.claim('a', 1000)).toBe(true);
  });

  it('stays bounded: expired entries are swept and the oldest dropped beyond maxEntries', () => {
    let now = 0;
    const store = new MemoryDedupeStore({ maxEntries: 100, now: () => now });
    for (let i = 0; i < 1000; i++) store.claim(`k${i}`, 10_000);
    expect(store.size).toBe(100);
    expect(store.claim('k999', 10_000)).toBe(false);
    expect(store.claim('k0', 10_000)).toBe(true);
    now = 20_000;
    store.claim('fresh', 10_000);
    expect(store.size).toBe(1);
  });
});
