import { afterEach, describe, expect, it, vi } from 'vitest';
import { startBurstCollector } from '../../src/api/burst-collector.js';
import { allocatorTrim, fullCollection } from '../../src/memory.js';

const MB = 1024 * 1024;

describe('burst collector', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('collects once the process has grown and nothing is in flight, and not again until it grows again', () => {
    vi.useFakeTimers();
    let size = 100 * MB;
    let inFlight = 0;
    let collections = 0;
    const stop = startBurstCollector({
      quiet: () => inFlight === 0,
      size: () => size,
      collect: () => {
        collections++;
        size = 102 * MB;
      },
    });
    // Grown, but a burst is under way: V8's own limits look after it.
    inFlight = 3;
    size = 180 * MB;
    vi.advanceTimersByTime(10_000);
    expect(collections).toBe(0);
    // Over: one collection.
    inFlight = 0;
    vi.advanceTimersByTime(2_000);
    expect(collections).toBe(1);
    // Less than the growth that calls for one since (from 102 MB, what it came down to).
    size = 110 * MB;
    vi.advanceTimersByTime(10_000);
    expect(collections).toBe(1);
    size = 119 * MB;
    vi.advanceTimersByTime(2_000);
    expect(collections).toBe(2);
    stop();
    size = 500 * MB;
    vi.advanceTimersByTime(10_000);
    expect(collections).toBe(2);
  });

  it('grows from where the process shrank to on its own', () => {
    vi.useFakeTimers();
    let size = 150 * MB;
    let collections = 0;
    const stop = startBurstCollector({ quiet: () => true, size: () => size, collect: () => collections++ });
    size = 120 * MB;
    vi.advanceTimersByTime(2_000);
    size = 140 * MB;
    vi.advanceTimersByTime(2_000);
    expect(collections).toBe(1);
    stop();
  });

  it('frees buffers nothing refers to any more', async () => {
    const before = process.memoryUsage().external;
    let garbage: Buffer[] | null = Array.from({ length: 40 }, () => Buffer.alloc(MB, 1));
    expect(process.memoryUsage().external).toBeGreaterThan(before + 30 * MB);
    garbage = null;
    fullCollection();
    // Backing stores may be freed just after the collection returns.
    for (let i = 0; i < 50 && process.memoryUsage().external > before + 10 * MB; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(garbage).toBeNull();
    expect(process.memoryUsage().external).toBeLessThan(before + 10 * MB);
  });

  it('trims the C allocator where the addon is built', () => {
    const trim = allocatorTrim();
    // Built at install where a compiler is (CI has one); elsewhere the collection goes without.
    if (trim) expect(typeof trim()).toBe('boolean');
    else expect(trim).toBeNull();
  });
});
