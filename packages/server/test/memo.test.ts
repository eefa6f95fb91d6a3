import fc from 'fast-check';
import { expect, it } from 'vitest';
import { boundedMemo } from '../src/memo.js';

it('returns what compute returns, computing each of the last `limit` keys once, oldest out', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), fc.integer({ min: 1, max: 8 }), (keys, limit) => {
      const calls: number[] = [];
      const square = boundedMemo((n: number) => {
        calls.push(n);
        return n * n;
      }, limit);
      // The keys a memo of `limit` holds, oldest first, tracked beside it.
      const held: number[] = [];
      for (const key of keys) {
        const before = calls.length;
        expect(square(key)).toBe(key * key);
        const hit = held.includes(key);
        expect(calls.length).toBe(hit ? before : before + 1);
        if (!hit) {
          if (held.length >= limit) held.shift();
          held.push(key);
        }
      }
    }),
  );
});
