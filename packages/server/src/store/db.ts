import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, type QueryResult, SqliteDialect, type Transaction } from 'kysely';
import pg from 'pg';
import { boundedMemo } from '../memo.js';
import { offloadCheckpoints } from './checkpoints.js';
import { migrateToLatest } from './migrations.js';
import { postgresRunner, postgresTransactionRunner, retryingStalePlans } from './postgres-runner.js';
import type { Runner } from './prepared.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Either the database or an open transaction: most store functions take this. */
export type Executor = Kysely<Database> | Transaction<Database>;

export interface CommitOptions {
  /**
   * False for writes whose loss in a crash of the database server only repeats work: callback
   * leases and attempt records (the callback is then sent again, with the same webhook-id). On
   * PostgreSQL their commits do not wait for the WAL flush (synchronous_commit off), which is
   * what SQLite's WAL with synchronous=NORMAL does for every commit. A crash of reprise itself
   * loses neither kind.
   */
  durable?: boolean;
}

export interface Store {
  db: Db;
  dialect: Dialect;
  /** Human-readable target for logs (never includes a password). */
  describe: string;
  /**
   * Runs `fn` in one transaction given as a Runner (prepared queries only: a
   * Kysely query inside would wait for the connection `fn` holds). On SQLite
   * the statements go straight to better-sqlite3, which is what makes the
   * submission path fast; the write lock is taken at BEGIN. On PostgreSQL `fn`
   * may run twice (a second time after a rolled-back first, when a prepared
   * plan went stale under a migration): it must do nothing but statements.
   */
  transaction<T>(fn: (runner: Runner) => Promise<T>, options?: CommitOptions): Promise<T>;
  /** Like `transaction` without one: each statement commits on its own (on SQLite, still straight to better-sqlite3). */
  session<T>(fn: (runner: Runner) => Promise<T>, options?: CommitOptions): Promise<T>;
  /**
   * Single statements that read committed data, for the hot read paths
   * (authentication, mode-1 sources). On SQLite a second, read-only connection
   * serves them straight away, never queued behind the write connection.
   */
  reader: Runner;
  close(): Promise<void>;
}

const INT8_OID = 20;

/** Epoch-ms columns are BIGINT; pg returns those as strings unless told otherwise. */
function pgTypes(): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: string) =>
      oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
  };
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query anew; preparing costs more than running the small
 * indexed statements this service makes, so prepared statements are kept by SQL
 * text (a bounded, oldest-out cache: IN-lists of varying length make new texts).
 */
function statementCache(sqlite: SqliteDatabase.Database): (sql: string) => SqliteDatabase.Statement {
  return boundedMemo((sql: string) => sqlite.prepare(sql), STATEMENT_CACHE_SIZE);
}

/** Runs compiled queries on better-sqlite3 directly, as Kysely's SQLite driver would, minus its layers. */
function sqliteRunner(prepare: (sql: string) => SqliteDatabase.Statement): Runner {
  return {
    dialect: 'sqlite',
    async executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> {
      const statement = prepare(query.sql);
      const parameters = query.parameters as unknown[];
      if (statement.reader) return { rows: statement.all(parameters) as R[] };
      const { changes } = statement.run(parameters);
      return { rows: [], numAffectedRows: BigInt(changes) };
    },
  };
}

function openSqlite(file: string): Store {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  // WAL lets the admin CLI and readers work while the server writes; NORMAL survives
  // a killed process (only an OS crash or power loss can lose the last commits).
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 10000');
  sqlite.pragma('foreign_keys = ON');
  const checkpoints = offloadCheckpoints(sqlite, file);
  const prepare = statementCache(sqlite);
  const cached = new Proxy(sqlite, { get: (target, property) => (property === 'prepare' ? prepare : Reflect.get(target, property, target)) });
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cached }) });
  const runner = sqliteRunner(prepare);
  // WAL lets this connection read the last commit while the other one writes. Statements
  // run synchronously and each is its own read transaction, so nothing can interleave.
  const readOnly = new SqliteDatabase(file, { readonly: true });
  readOnly.pragma('busy_timeout = 10000');
  const reader = sqliteRunner(statementCache(readOnly));
  const [begin, commit, rollback] = ['begin immediate', 'commit', 'rollback'].map((sql) => CompiledQuery.raw(sql)) as [
    CompiledQuery,
    CompiledQuery,
    CompiledQuery,
  ];
  return {
    db,
    dialect: 'sqlite',
    describe: `sqlite:${file}`,
    // Holding Kysely's connection keeps every other query of this process out until we are done.
    transaction: (fn) =>
      db.connection().execute(async () => {
        await runner.executeQuery(begin);
        try {
          const result = await fn(runner);
          await runner.executeQuery(commit);
          return result;
        } catch (error) {
          if (sqlite.inTransaction) await runner.executeQuery(rollback);
          throw error;
        }
      }),
    session: (fn) => db.connection().execute(() => fn(runner)),
    reader,
    close: async () => {
      await checkpoints.close();
      readOnly.close();
      await db.destroy();
    },
  };
}

/** The URL with `-c synchronous_commit=off` added to its connection options (kept: a search_path, say). */
function withoutFlushWait(url: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `${parsed.searchParams.get('options') ?? ''} -c synchronous_commit=off`.trim());
  return parsed.toString();
}

/** A runner whose every statement is run again, once, under new names if its prepared plan went stale. */
function retryingRunner(runner: Runner): Runner {
  return { dialect: runner.dialect, executeQuery: (query) => retryingStalePlans(() => runner.executeQuery(query)) };
}

/**
 * One transaction on one connection of `pool`, BEGIN sent with its first statement and the others
 * named and prepared (postgres-runner.ts).
 * Run once more from the start if a prepared plan went stale: nothing of the first try was committed.
 */
async function postgresTransaction<T>(pool: pg.Pool, fn: (runner: Runner) => Promise<T>): Promise<T> {
  return retryingStalePlans(async () => {
    const client = await pool.connect();
    const runner = postgresTransactionRunner(client);
    let broken: Error | undefined;
    try {
      const result = await fn(runner);
      // BEGIN goes out with the first statement: a transaction that ran none has nothing to end.
      if (runner.begun) await client.query('commit');
      return result;
    } catch (error) {
      // A connection that cannot even roll back is dropped from the pool rather than reused.
      if (runner.begun) {
        await client.query('rollback').catch((rollbackError: unknown) => {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        });
      }
      throw error;
    } finally {
      client.release(broken);
    }
  });
}

function openPostgres(url: string, poolSize: number): Store {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types: pgTypes() });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  // Non-durable commits get connections of their own, set up once, rather than a SET LOCAL round trip each.
  let relaxed: pg.Pool | null = null;
  const target = (options?: CommitOptions): pg.Pool => {
    if (options?.durable !== false) return pool;
    relaxed ??= new pg.Pool({ connectionString: withoutFlushWait(url), max: 2, types: pgTypes() });
    return relaxed;
  };
  const safe = new URL(url);
  safe.password = '';
  return {
    db,
    dialect: 'postgres',
    describe: safe.toString(),
    // Straight on pg rather than through Kysely's transaction: named statements, and none of its layers.
    transaction: (fn, options) => postgresTransaction(target(options), fn),
    session: (fn, options) => fn(retryingRunner(postgresRunner(target(options)))),
    reader: retryingRunner(postgresRunner(pool)),
    close: async () => {
      await relaxed?.end();
      await db.destroy();
    },
  };
}

/** Opens the store named by a `sqlite:<file>` or `postgres://` URL and migrates it. */
export async function openStore(databaseUrl: string, options: { poolSize?: number } = {}): Promise<Store> {
  const store = databaseUrl.startsWith('sqlite:') ? openSqlite(databaseUrl.slice('sqlite:'.length)) : openPostgres(databaseUrl, options.poolSize ?? 10);
  try {
    await migrateToLatest(store.db as unknown as Kysely<unknown>, store.dialect);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
