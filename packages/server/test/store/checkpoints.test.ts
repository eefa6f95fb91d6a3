import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { offloadCheckpoints } from '../../src/store/checkpoints.js';
import { tempDir } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

const walSize = (file: string): number => fs.statSync(`${file}-wal`).size;
/** About 1 MB of rows, one transaction. */
function writeMegabyte(db: SqliteDatabase.Database): void {
  const insert = db.prepare('insert into filler (body) values (?)');
  db.transaction(() => {
    for (let i = 0; i < 256; i++) insert.run('x'.repeat(4000));
  })();
}

describe('SQLite checkpoints on a thread of their own', () => {
  it('start once the WAL grows, take over from the writer and keep the WAL bounded', async () => {
    const file = path.join(tempDir('ckpt'), 'db.sqlite');
    const writer = new SqliteDatabase(file);
    writer.pragma('journal_mode = WAL');
    writer.pragma('synchronous = NORMAL');
    writer.exec('create table filler (id integer primary key, body text)');
    const checkpoints = offloadCheckpoints(writer, file, { startBytes: 512 * 1024, watchMs: 20, intervalMs: 20 });
    try {
      expect(checkpoints.offloaded()).toBe(false);
      expect(writer.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
      writeMegabyte(writer);
      await waitFor(async () => (checkpoints.offloaded() ? true : undefined), 5000, 'the checkpoint thread to start');
      // The writer no longer checkpoints: without the thread, 40 MB written would leave a 40 MB WAL.
      expect(writer.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      for (let i = 0; i < 40; i++) {
        writeMegabyte(writer);
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      // Half of what was written: the thread kept checkpointing during the writes. (Not tighter: on a
      // loaded machine the thread gets less time, and a CI run saw 14.4 MB where a quiet one sees < 12.)
      expect(walSize(file)).toBeLessThan(20 * 1024 * 1024);
      expect(writer.prepare('select count(*) as n from filler').get()).toEqual({ n: 41 * 256 });
    } finally {
      await checkpoints.close();
      writer.close();
    }
    expect(checkpoints.offloaded()).toBe(false);
  });
});
