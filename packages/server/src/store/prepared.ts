import {
  type Compilable,
  CompiledQuery,
  DummyDriver,
  type Insertable,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
  type RawBuilder,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  sql,
} from 'kysely';
import type { Dialect } from './db.js';
import type { Database } from './schema.js';

/**
 * Queries built once and run many times. Building and compiling a Kysely query
 * costs more than SQLite takes to run one of this service's small indexed
 * statements (about 13 µs against 2–6 µs here), so the few queries on the hot
 * paths are written with the typed builder once, compiled once per dialect,
 * and then only their parameters change.
 */

/** Anything that runs compiled SQL in a known dialect: a Kysely database or transaction, or a raw SQLite session. */
export interface Runner {
  readonly dialect: Dialect;
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
  /** Several statements in one round trip, run in order (PostgreSQL transactions); see `executeTogether`. */
  executeQueries?(queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]>;
}

/** Runs the statements in order, in one round trip where the runner can (otherwise one by one). */
export async function executeTogether(runner: Runner, queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]> {
  if (runner.executeQueries) return runner.executeQueries(queries);
  const results: QueryResult<unknown>[] = [];
  for (const query of queries) results.push(await runner.executeQuery(query));
  return results;
}

const dialects = new WeakMap<Kysely<Database>, Dialect>();

/** The dialect a Kysely database or transaction speaks, read off how it writes a parameter. */
function dialectOf(executor: Kysely<Database>): Dialect {
  let dialect = dialects.get(executor);
  if (!dialect) {
    dialect = sql`${0}`.compile(executor).sql === '$1' ? 'postgres' : 'sqlite';
    dialects.set(executor, dialect);
  }
  return dialect;
}

/** A runner over a Kysely database or transaction. */
export function kyselyRunner(executor: Kysely<Database>, dialect: Dialect = dialectOf(executor)): Runner {
  return { dialect, executeQuery: (query) => executor.executeQuery(query) };
}

/** Lets the functions that run prepared queries take a Kysely database or transaction as well as a Runner. */
export const asRunner = (target: Kysely<Database> | Runner): Runner => (target instanceof Kysely ? kyselyRunner(target) : target);

/** Kysely instances that only compile (Kysely's DummyDriver never connects). */
const compilers: Record<Dialect, Kysely<Database>> = {
  sqlite: new Kysely<Database>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  }),
  postgres: new Kysely<Database>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  }),
};

/** `arg('name')` stands for the value given under that name at each run. */
export type Arg<A> = <K extends keyof A & string>(name: K) => A[K];

interface Compiled {
  sql: string;
  /** Per parameter position: the argument's name, or the constant fixed at build time. */
  slots: Array<{ arg: string } | { value: unknown }>;
}

export interface Prepared<A> {
  execute<R = unknown>(runner: Runner, args: A): Promise<QueryResult<R>>;
  /** The statement with these arguments, for `executeTogether`. */
  compiled(dialect: Dialect, args: A): CompiledQuery;
}

const SENTINEL = '\u0000arg:';

export function prepare<A extends Record<string, unknown>>(build: (db: Kysely<Database>, arg: Arg<A>, dialect: Dialect) => Compilable<unknown>): Prepared<A> {
  const byDialect = new Map<Dialect, Compiled>();
  const compile = (dialect: Dialect): Compiled => {
    const arg = ((name: string) => `${SENTINEL}${name}`) as Arg<A>;
    const query = build(compilers[dialect], arg, dialect).compile();
    const slots = query.parameters.map((value) =>
      typeof value === 'string' && value.startsWith(SENTINEL) ? { arg: value.slice(SENTINEL.length) } : { value },
    );
    return { sql: query.sql, slots };
  };
  const compiledWith = (dialect: Dialect, args: A): CompiledQuery => {
    let compiled = byDialect.get(dialect);
    if (!compiled) {
      compiled = compile(dialect);
      byDialect.set(dialect, compiled);
    }
    const parameters = compiled.slots.map((slot) => ('arg' in slot ? args[slot.arg] : slot.value));
    return CompiledQuery.raw(compiled.sql, parameters);
  };
  return {
    execute<R>(runner: Runner, args: A) {
      return runner.executeQuery(compiledWith(runner.dialect, args) as CompiledQuery<R>);
    },
    compiled: compiledWith,
  };
}

/** Multi-row INSERT statements come in these sizes; a batch is cut into them, largest first. */
const INSERT_SIZES = [64, 32, 16, 8, 4, 2, 1] as const;

interface CompiledInsert {
  sql: string;
  /** Per parameter position: which row and column it takes, or a constant. */
  slots: Array<{ row: number; column: string } | { value: unknown }>;
}

const compiledInserts = new Map<string, CompiledInsert>();

function compileInsert(dialect: Dialect, table: keyof Database, columns: readonly string[], size: number): CompiledInsert {
  const key = `${dialect}|${table}|${size}|${columns.join(',')}`;
  let compiled = compiledInserts.get(key);
  if (!compiled) {
    const rows = Array.from({ length: size }, (_, row) => Object.fromEntries(columns.map((column) => [column, `${SENTINEL}${row}:${column}`])));
    const query = compilers[dialect]
      .insertInto(table)
      .values(rows as never)
      .compile();
    const slots = query.parameters.map((value) => {
      if (typeof value !== 'string' || !value.startsWith(SENTINEL)) return { value };
      const [row, column] = value.slice(SENTINEL.length).split(':') as [string, string];
      return { row: Number(row), column };
    });
    compiled = { sql: query.sql, slots };
    compiledInserts.set(key, compiled);
  }
  return compiled;
}

/**
 * Inserts rows that all have the same columns with as few statements as
 * possible: per row, a multi-row INSERT costs SQLite about half of what one
 * INSERT per row does. Statements of a few fixed sizes keep the statement
 * cache small.
 */
export async function insertRows<T extends keyof Database>(runner: Runner, table: T, rows: ReadonlyArray<Insertable<Database[T]>>): Promise<void> {
  const first = rows[0];
  if (!first) return;
  const columns = Object.keys(first);
  let offset = 0;
  while (offset < rows.length) {
    const size = INSERT_SIZES.find((candidate) => candidate <= rows.length - offset) ?? 1;
    const { sql: text, slots } = compileInsert(runner.dialect, table, columns, size);
    const parameters = slots.map((slot) => ('column' in slot ? (rows[offset + slot.row] as Record<string, unknown>)[slot.column] : slot.value));
    await runner.executeQuery(CompiledQuery.raw(text, parameters));
    offset += size;
  }
}

/**
 * `column IN (values)` with the values in one parameter, so that one prepared
 * statement serves lists of any length: an array on PostgreSQL (`= any($1)`),
 * JSON text on SQLite (`json_each`). Pass the values through `listParam`.
 */
export function inList(dialect: Dialect, column: string, values: unknown): RawBuilder<boolean> {
  return dialect === 'postgres'
    ? sql<boolean>`${sql.ref(column)} = any(${values})`
    : sql<boolean>`${sql.ref(column)} in (select value from json_each(${values}))`;
}

export const listParam = (dialect: Dialect, values: readonly string[]): string | readonly string[] =>
  dialect === 'postgres' ? values : JSON.stringify(values);

/** Rows changed by an INSERT/UPDATE/DELETE, on either dialect. */
export const changedRows = (result: QueryResult<unknown>): number => Number(result.numAffectedRows ?? 0n);
