import { createHash } from 'node:crypto';
import type { CompiledQuery, QueryResult } from 'kysely';
import type pg from 'pg';
import { boundedMemo } from '../memo.js';
import type { Runner } from './prepared.js';

/**
 * Compiled queries run straight on `pg`, as named (server-side prepared) statements. Measured on
 * this service's statements, PostgreSQL spends most of a small indexed statement's time parsing and
 * planning it: the API-key lookup cost its backend 80–113 µs unnamed and 23–30 µs named. Each
 * connection prepares a text once, on its first use there, and then only binds and executes it.
 * The texts are the few fixed ones of `prepare`, `insertRows` and the callback statements, so the
 * statements a connection keeps stay few.
 *
 * A prepared statement whose result columns change under it (a migration run by a newer process
 * adds a column to a table a `select *` reads) fails with "cached plan must not change result
 * type". Then every name is changed (a new generation), so each connection prepares the new text
 * afresh, and the statement is run once more: see `retryingStalePlans`.
 */

let generation = 0;

const nameOf = boundedMemo((text: string) => createHash('sha1').update(text).digest('base64url').slice(0, 22), 1024);

/** The statement's name on the server: the hash of its text and the current generation. */
const statementName = (text: string): string => `r${generation}_${nameOf(text)}`;

const AFFECTING = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

/** What Kysely's PostgreSQL driver would return for the same result. */
function toQueryResult<R>(result: pg.QueryResult): QueryResult<R> {
  return AFFECTING.has(result.command) ? { rows: result.rows as R[], numAffectedRows: BigInt(result.rowCount ?? 0) } : { rows: result.rows as R[] };
}

/** A pool (each statement on whichever connection is free) or one connection (a transaction's). */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export function postgresRunner(target: Queryable): Runner {
  return {
    dialect: 'postgres',
    async executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> {
      const values = query.parameters as unknown[];
      // Statements without parameters (none on the hot paths) are not worth a name.
      const config = values.length === 0 ? { text: query.sql } : { name: statementName(query.sql), text: query.sql, values };
      return toQueryResult<R>(await target.query(config));
    },
  };
}

/**
 * PostgreSQL's error for a prepared statement whose result columns changed: SQLSTATE 0A000 raised
 * by the plan cache's revalidation. Told by the routine that raised it, not by the message, which
 * is translated where the server's `lc_messages` is not English.
 */
export function isStalePlan(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, routine, message } = error as { code?: unknown; routine?: unknown; message?: unknown };
  if (code !== '0A000') return false;
  return routine === 'RevalidateCachedQuery' || String(message).includes('cached plan must not change result type');
}

/** Runs `work`, and once more under new statement names when a prepared statement went stale. */
export async function retryingStalePlans<T>(work: () => Promise<T>): Promise<T> {
  const named = generation;
  try {
    return await work();
  } catch (error) {
    if (!isStalePlan(error)) throw error;
    // Connections failing together move to one new generation, not one each.
    if (generation === named) generation++;
    return work();
  }
}

/** A parameter written into the SQL text: only plain scalars, whose literal forms are exact. */
function literal(client: pg.PoolClient, value: unknown): string | undefined {
  if (value === null) return 'null';
  if (typeof value === 'string') return client.escapeLiteral(value);
  // In parentheses: `- -1` must never become `--1`, a comment.
  if (typeof value === 'number' && Number.isFinite(value)) return value < 0 ? `(${value})` : String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return undefined;
}

/**
 * The statement's text with its parameters written in, or undefined when one cannot be (an array,
 * say) or the text has quotes or dollar quoting (where a `$1` might not be a parameter).
 */
function inlined(client: pg.PoolClient, query: CompiledQuery): string | undefined {
  if (query.sql.includes("'") || query.sql.includes('$$') || /\$[A-Za-z_]/.test(query.sql)) return undefined;
  const values = query.parameters.map((value) => literal(client, value));
  if (values.some((value) => value === undefined)) return undefined;
  return query.sql.replace(/\$(\d+)/g, (_, position: string) => values[Number(position) - 1] as string);
}

/** A transaction's runner, and whether its BEGIN has gone out yet. */
export interface TransactionRunner extends Runner {
  readonly begun: boolean;
}

/**
 * The runner of one transaction on `client`. BEGIN is not a round trip of its own: it goes out
 * with the transaction's first statement(s), in one simple-protocol message, their parameters
 * written in as literals (when they are plain scalars; otherwise BEGIN goes alone first). Later
 * statements are named and prepared as `postgresRunner`'s. `executeQueries` sends several
 * statements at once the same way: PostgreSQL runs them in order, each seeing what the ones before
 * it did and committed, in one round trip.
 */
export function postgresTransactionRunner(client: pg.PoolClient): TransactionRunner & {
  executeQueries(queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]>;
} {
  const prepared = postgresRunner(client);
  let begun = false;
  async function together(queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[] | undefined> {
    const texts = queries.map((query) => inlined(client, query));
    if (texts.some((text) => text === undefined)) return undefined;
    const head = begun ? [] : ['begin'];
    // Begun once sent, even if it fails: the caller then rolls back.
    begun = true;
    const results = (await client.query([...head, ...texts].join(';\n'))) as unknown as pg.QueryResult | pg.QueryResult[];
    const list = Array.isArray(results) ? results : [results];
    return list.slice(head.length).map((result) => toQueryResult(result));
  }
  return {
    dialect: 'postgres',
    get begun() {
      return begun;
    },
    async executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> {
      if (!begun) {
        const [result] = (await together([query])) ?? [];
        if (result) return result as QueryResult<R>;
        begun = true;
        await client.query('begin');
      }
      return prepared.executeQuery(query);
    },
    async executeQueries(queries) {
      const results = queries.length > 1 ? await together(queries) : undefined;
      if (results) return results;
      const sequential: QueryResult<unknown>[] = [];
      for (const query of queries) sequential.push(await this.executeQuery(query));
      return sequential;
    },
  };
}
