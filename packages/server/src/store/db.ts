import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, type QueryResult, SqliteDialect, type Transaction } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from './migrations.js';
import { kyselyRunner, type Runner } from './prepared.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Either the database or an open transaction: most store functions take this. */
export type Executor = Kysely<Database> | Transaction<Database>;

export interface Store {
  db: Db;
  dialect: Dialect;
  /** Human-readable target for logs (never includes a password). */
  describe: string;
  /**
   * Runs `fn` in one transaction given as a Runner (prepared queries only: a
   * Kysely query inside would wait for the connection `fn` holds). On SQLite
   * the statements go straight to better-sqlite3, which is what makes the
   * submission path fast; the write lock is taken at BEGIN.
   */
  transaction<T>(fn: (runner: Runner) => Promise<T>): Promise<T>;
  /** Like `transaction` without one: each statement commits on its own (on SQLite, still straight to better-sqlite3). */
  session<T>(fn: (runner: Runner) => Promise<T>): Promise<T>;
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
  const cache = new Map<string, SqliteDatabase.Statement>();
  return (sql) => {
    let statement = cache.get(sql);
    if (!statement) {
      statement = sqlite.prepare(sql);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      cache.set(sql, statement);
    }
    return statement;
  };
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
  const prepare = statementCache(sqlite);
  const cached = new Proxy(sqlite, { get: (target, property) => (property === 'prepare' ? prepare : Reflect.get(target, property, target)) });
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cached }) });
  const runner = sqliteRunner(prepare);
  const [begin, commit, rollback] = ['begin immediate', 'commit', 'rollback'].map((sql) => CompiledQuery.raw(sql)) as [CompiledQuery, CompiledQuery, CompiledQuery];
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
    close: () => db.destroy(),
  };
}

function openPostgres(url: string, poolSize: number): Store {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types: pgTypes() });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const safe = new URL(url);
  safe.password = '';
  return {
    db,
    dialect: 'postgres',
    describe: safe.toString(),
    transaction: (fn) => db.transaction().execute((tx) => fn(kyselyRunner(tx, 'postgres'))),
    session: (fn) => fn(kyselyRunner(db, 'postgres')),
    close: () => db.destroy(),
  };
}

/** Opens the store named by a `sqlite:<file>` or `postgres://` URL and migrates it. */
export async function openStore(databaseUrl: string, options: { poolSize?: number } = {}): Promise<Store> {
  const store = databaseUrl.startsWith('sqlite:')
    ? openSqlite(databaseUrl.slice('sqlite:'.length))
    : openPostgres(databaseUrl, options.poolSize ?? 10);
  try {
    await migrateToLatest(store.db as unknown as Kysely<unknown>, store.dialect);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
