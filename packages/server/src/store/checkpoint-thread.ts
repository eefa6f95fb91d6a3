import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';

/**
 * Runs the WAL checkpoints of one SQLite file on a thread of its own (see checkpoints.ts).
 * PASSIVE: copies what no reader still needs and never waits for readers or writers, so the
 * serving thread is not held up; what it cannot copy yet, the next round does.
 */
if (!parentPort) throw new Error('checkpoint-thread must run as a worker thread');
const port = parentPort;
const { file, intervalMs } = workerData as { file: string; intervalMs: number };
const db = new SqliteDatabase(file);
// NORMAL, as the writer: a checkpoint still syncs the database file before the WAL is reused.
db.pragma('synchronous = NORMAL');

const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // SQLITE_BUSY (another checkpoint runs, say a closing connection's): the next round copies it.
  }
}, intervalMs);

port.on('message', (message: unknown) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  port.close();
});
