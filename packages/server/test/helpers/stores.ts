import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * The databases a store-backed test runs against: SQLite always, PostgreSQL when
 * TEST_DATABASE_URL is set (CI sets it). Each call gives a fresh, empty database:
 * a new SQLite file, or a new PostgreSQL schema selected through `search_path`.
 */
export interface StoreTarget {
  name: 'sqlite' | 'postgres';
  /** A DATABASE_URL for a new empty database. */
  fresh(): Promise<string>;
}

const pgUrl = process.env.TEST_DATABASE_URL;
let noticeShown = false;

export function storeTargets(): StoreTarget[] {
  const targets: StoreTarget[] = [{ name: 'sqlite', fresh: async () => `sqlite:${path.join(tempDir('db'), 'reprise.sqlite')}` }];
  if (pgUrl) {
    targets.push({
      name: 'postgres',
      async fresh() {
        const schema = `t_${randomBytes(6).toString('hex')}`;
        const client = new pg.Client({ connectionString: pgUrl });
        await client.connect();
        await client.query(`create schema ${schema}`);
        await client.end();
        const url = new URL(pgUrl);
        url.searchParams.set('options', `-c search_path=${schema}`);
        return url.toString();
      },
    });
  } else if (!noticeShown) {
    noticeShown = true;
    console.warn('NOTICE: TEST_DATABASE_URL is not set: store tests run on SQLite only (PostgreSQL skipped).');
  }
  return targets;
}

/** A temporary directory removed when the test process exits. */
export function tempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `reprise-${label}-`));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
