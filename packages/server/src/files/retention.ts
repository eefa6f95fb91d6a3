import type { Services } from '../services.js';
import type { Executor } from '../store/index.js';
import { sweepExpiredKeys } from '../tasks/idempotency.js';

/**
 * Retention (SPEC §1): expired files are deleted, rows first and blobs after,
 * so a crash in between leaves at worst an orphaned blob, never a row whose
 * URL points at nothing. A blob is kept while any remaining row still names it
 * (replace-section sources may share an upload's blob), and an expired row is
 * kept while an unfinished task still reads its blob as its source: deleting it
 * would fail a task that was accepted before the file expired.
 */

const BATCH = 500;

/**
 * Blob keys that a task still pending or running reads as its source: the file it names, and for
 * an edit of one of our own tracks (mode 1) that track's lossless master, which the worker
 * prefers to the MP3.
 */
async function keysInUseByTasks(db: Executor, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const pending = await db
    .selectFrom('tasks')
    .select(['input', 'parent_music_id'])
    .where('type', '=', 'REPLACE_SECTION')
    .where('finished_at', 'is', null)
    .execute();
  const read = new Set<string>();
  for (const { input } of pending) {
    try {
      const source = (JSON.parse(input) as { sourceBlob?: unknown }).sourceBlob;
      if (typeof source === 'string') read.add(source);
    } catch {
      // Not ours to judge here; the worker fails such a task with a clear error.
    }
  }
  const parentTracks = [...new Set(pending.map((task) => task.parent_music_id).filter((id) => id !== ''))];
  if (parentTracks.length > 0) {
    const masters = await db
      .selectFrom('tracks')
      .innerJoin('files', 'files.id', 'tracks.master_file')
      .select('files.blob_key')
      .where('tracks.id', 'in', parentTracks)
      .execute();
    for (const { blob_key } of masters) read.add(blob_key);
  }
  return new Set(keys.filter((key) => read.has(key)));
}

/** Deletes files that expired at or before `now` and the blobs no other row uses. Returns the rows deleted. */
export async function sweepExpiredFiles(services: Services, now: number): Promise<number> {
  const db = services.store.db;
  let deleted = 0;
  // Keyset paging: rows skipped because a task still needs them must not be fetched again.
  let after: { expiresAt: number; id: string } | null = null;
  for (;;) {
    let query = db.selectFrom('files').select(['id', 'blob_key', 'expires_at']).where('expires_at', '<=', now);
    if (after) {
      const cursor = after;
      query = query.where((eb) =>
        eb.or([eb('expires_at', '>', cursor.expiresAt), eb.and([eb('expires_at', '=', cursor.expiresAt), eb('id', '>', cursor.id)])]),
      );
    }
    const batch = await query.orderBy('expires_at').orderBy('id').limit(BATCH).execute();
    const last = batch.at(-1);
    if (!last) break;
    after = { expiresAt: last.expires_at, id: last.id };

    const keys = [...new Set(batch.map((row) => row.blob_key))];
    const inUse = await keysInUseByTasks(db, keys);
    const doomed = batch.filter((row) => !inUse.has(row.blob_key));
    if (doomed.length > 0) {
      // Re-checking expires_at keeps a row that was renewed since it was read.
      const result = await db
        .deleteFrom('files')
        .where(
          'id',
          'in',
          doomed.map((row) => row.id),
        )
        .where('expires_at', '<=', now)
        .executeTakeFirst();
      deleted += Number(result.numDeletedRows);

      const candidates = [...new Set(doomed.map((row) => row.blob_key))];
      const stillNamed = await db.selectFrom('files').select('blob_key').distinct().where('blob_key', 'in', candidates).execute();
      const keep = new Set(stillNamed.map((row) => row.blob_key));
      for (const key of candidates) {
        if (!keep.has(key)) await services.blobs.delete(key);
      }
    }
    if (batch.length < BATCH) break;
  }
  return deleted;
}

export interface RetentionSweeper {
  stop(): void;
}

/**
 * Sweeps now and then every `intervalMs`, one sweep at a time: expired files, and Idempotency-Keys
 * past their 24 h (which no longer count, so deleting them only keeps the table small). The timer is
 * unref'd so it never keeps a process alive; a failed sweep is reported and
 * the next one tries again.
 */
export function startRetentionSweeper(services: Services, intervalMs: number, onError: (error: unknown) => void = () => undefined): RetentionSweeper {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(run, delayMs);
    timer.unref();
  };
  async function run(): Promise<void> {
    timer = null;
    try {
      await sweepExpiredFiles(services, Date.now());
    } catch (error) {
      onError(error);
    }
    try {
      await sweepExpiredKeys(services.store.db, Date.now());
    } catch (error) {
      onError(error);
    }
    schedule(intervalMs);
  }
  schedule(0);
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
