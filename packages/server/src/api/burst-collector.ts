import { fullCollection } from '../memory.js';

/**
 * A full garbage collection once a burst of uploads is over. Every chunk of a request body (and
 * of a fetched file) is a buffer outside V8's heap, and V8 collects such buffers only when their
 * memory has grown past its own limit since the last collection, some tens of MB. An API process
 * that had streamed fifty 100 MB uploads kept 40–70 MB of dead chunks for as long as it then
 * stayed quiet (bench/hostile; a collection gave all of it back). So every few seconds, when no
 * upload is in flight and the process has grown by `minGrowthBytes` since the last collection,
 * one is made: a few ms on the API's small heap, at most once per that much growth, and never
 * during a burst (V8's own limits look after that). Bodies refused with 429 keep arriving for a
 * while after the last accepted upload ends, which is why this looks at the process's size and
 * not at the uploads' end. The collection frees the buffers into the C allocator, which (glibc)
 * keeps much of it in its arenas: the native addon's `trim` then hands the free pages back.
 */

export interface BurstCollectorOptions {
  /** Whether no upload is in flight now. */
  quiet: () => boolean;
  /** How often to look (default 2 s). */
  intervalMs?: number;
  /** How much the process must have grown since the last collection (default 16 MB). */
  minGrowthBytes?: number;
  /** The process's resident size now (default: its RSS). */
  size?: () => number;
  /** A full collection and the allocator's trim (default: `fullCollection`). */
  collect?: () => void;
}

/** Starts looking; the returned function stops (shutdown). */
export function startBurstCollector(options: BurstCollectorOptions): () => void {
  const { quiet, intervalMs = 2000, minGrowthBytes = 16 * 1024 * 1024, size = () => process.memoryUsage.rss(), collect = fullCollection } = options;
  let afterLast = size();
  const timer = setInterval(() => {
    const now = size();
    // Shrunk on its own (the allocator gave memory back): the new size is the one to grow from.
    if (now < afterLast) afterLast = now;
    if (now - afterLast < minGrowthBytes || !quiet()) return;
    collect();
    afterLast = size();
  }, intervalMs);
  // Never what keeps the process alive.
  timer.unref();
  return () => clearInterval(timer);
}
