import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';
import { threadScript } from '../thread-script.js';

/**
 * SQLite copies the WAL back into the database file at checkpoints. Left to itself, the writing
 * connection does that inside whichever commit takes the WAL past 1,000 pages: one commit in a few
 * hundred pays for copying about 4 MB and syncing the file, on the serving thread. Measured on a
 * callback claim, that was about 30 % of its cost. Under write load the checkpoints move to a
 * thread of their own (checkpoint-thread.ts) and the writer stops making them.
 *
 * The thread starts only once the WAL file has grown past `startBytes`: a worker thread costs
 * about 16 MB, which an idle server should not pay.
 */
export interface CheckpointOptions {
  /** WAL file size at which the thread starts. */
  startBytes?: number;
  /** How often the WAL file's size is looked at until then. */
  watchMs?: number;
  /** How often the thread checkpoints. */
  intervalMs?: number;
}

export interface Checkpoints {
  /** Whether the thread makes the checkpoints now (else the writer does, as by default). */
  offloaded(): boolean;
  close(): Promise<void>;
}

/** SQLite's own default: the writer checkpoints once the WAL holds this many pages. */
const WRITER_CHECKPOINT_PAGES = 1000;
const STOP_WAIT_MS = 1000;

export function offloadCheckpoints(writer: SqliteDatabase.Database, file: string, options: CheckpointOptions = {}): Checkpoints {
  const { startBytes = 2 * 1024 * 1024, watchMs = 1000, intervalMs = 100 } = options;
  let thread: Worker | null = null;
  let closed = false;

  const watch = setInterval(() => {
    fs.stat(`${file}-wal`, (error, stats) => {
      if (!error && !closed && !thread && stats.size >= startBytes) start();
    });
  }, watchMs);
  watch.unref();

  function start(): void {
    clearInterval(watch);
    const worker = new Worker(threadScript(new URL('./checkpoint-thread.js', import.meta.url)), { workerData: { file, intervalMs } });
    worker.unref();
    // An error ends the thread; 'exit' follows and puts the writer back in charge.
    worker.on('error', () => {});
    worker.once('exit', () => {
      thread = null;
      // Should the thread die, the writer checkpoints again: the WAL must not grow without end.
      if (!closed) writer.pragma(`wal_autocheckpoint = ${WRITER_CHECKPOINT_PAGES}`);
    });
    writer.pragma('wal_autocheckpoint = 0');
    thread = worker;
  }

  return {
    offloaded: () => thread !== null,
    async close() {
      closed = true;
      clearInterval(watch);
      const running = thread;
      if (!running) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.postMessage('stop');
      const timer = setTimeout(() => void running.terminate(), STOP_WAIT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
