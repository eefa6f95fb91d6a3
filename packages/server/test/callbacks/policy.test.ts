import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextDelay, parseRetryAfter, withJitter } from '../../src/callbacks/index.js';

const schedule = [0, 5000, 25000];

describe('retry policy', () => {
  it('follows the schedule and stops after its last step', () => {
    expect(nextDelay(schedule, 1, null, () => 0.5)).toBe(5000);
    expect(nextDelay(schedule, 2, null, () => 0.5)).toBe(25000);
    expect(nextDelay(schedule, 3, null)).toBeNull();
  });

  it('jitters by ±20 % and never a zero delay', () => {
    expect(withJitter(5000, () => 0)).toBe(4000);
    expect(withJitter(5000, () => 1)).toBe(6000);
    expect(withJitter(0, () => 1)).toBe(0);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (delay, r) => {
        const jittered = withJitter(delay, () => r);
        expect(jittered).toBeGreaterThanOrEqual(Math.floor(delay * 0.8));
        expect(jittered).toBeLessThanOrEqual(Math.ceil(delay * 1.2));
      }),
    );
  });

  it('honours Retry-After within [step, 2 × step]', () => {
    expect(nextDelay(schedule, 1, 7000)).toBe(7000);
    expect(nextDelay(schedule, 1, 1000)).toBe(5000);
    expect(nextDelay(schedule, 1, 3_600_000)).toBe(10000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:09 GMT', now)).toBe(9000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});
