import fc from 'fast-check';
import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../src/services.js';
import { executeTogether, type Runner } from '../../src/store/index.js';
import { isStalePlan } from '../../src/store/postgres-runner.js';
import { closeServices, createTestServices } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';

const postgres = storeTargets().filter((target) => target.name === 'postgres');
const echo = (value: unknown, type: string) => CompiledQuery.raw(`select $1::${type} as v`, [value]);

// A transaction's first statements go out with its BEGIN, their parameters written in as
// literals: whatever the value, the statement must see exactly what a bound parameter would be.
describe.each(postgres)('the PostgreSQL runner ($name)', (target) => {
  let services: Services;
  beforeAll(async () => {
    services = await createTestServices(target);
  });
  afterAll(async () => closeServices(services));

  const firstInTransaction = (query: CompiledQuery) => services.store.transaction(async (tx) => (await tx.executeQuery<{ v: unknown }>(query)).rows[0]?.v);

  it('writes any text in as a literal that reads back the same (quotes, backslashes, $1, any Unicode)', async () => {
    const text = fc.oneof(fc.string({ unit: 'grapheme' }), fc.constantFrom("'", "\\'", '\\', "''", '$1', '$$', "E'x'", "a';drop table x;--"));
    await fc.assert(
      fc.asyncProperty(text, async (value) => {
        expect(await firstInTransaction(echo(value, 'text'))).toBe(value);
        // The same statement again, now named and prepared, agrees.
        expect(
          await services.store.transaction(async (tx) => {
            await tx.executeQuery<{ v: unknown }>(echo('warm', 'text'));
            return (await tx.executeQuery<{ v: unknown }>(echo(value, 'text'))).rows[0]?.v;
          }),
        ).toBe(value);
      }),
      { numRuns: 60 },
    );
  });

  it('writes numbers, booleans and null in exactly, and sends arrays as bound parameters', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })), async (value) => {
        expect(Number(await firstInTransaction(echo(value, 'float8')))).toBe(value === 0 ? 0 : value);
      }),
      { numRuns: 40 },
    );
    expect(await firstInTransaction(echo(true, 'boolean'))).toBe(true);
    expect(await firstInTransaction(echo(null, 'text'))).toBeNull();
    expect(await firstInTransaction(CompiledQuery.raw('select $1::text[] as v', [['a', "b'c"]]))).toEqual(['a', "b'c"]);
  });

  it('runs statements sent together in order, each after the one before, in the transaction', async () => {
    const results = await services.store.transaction((tx: Runner) =>
      executeTogether(tx, [
        CompiledQuery.raw('create temporary table together_t (x int) on commit drop', []),
        CompiledQuery.raw('insert into together_t values ($1)', [7]),
        CompiledQuery.raw('select count(*)::int as n, sum(x)::int as s from together_t', []),
      ]),
    );
    expect(results[1]?.numAffectedRows).toBe(1n);
    expect(results[2]?.rows).toEqual([{ n: 1, s: 7 }]);
  });

  it('rolls the whole transaction back when a statement fails, including those sent with BEGIN', async () => {
    await services.store.db.schema.createTable('rollback_t').addColumn('x', 'integer').execute();
    await expect(
      services.store.transaction(async (tx) => {
        await tx.executeQuery(CompiledQuery.raw('insert into rollback_t values ($1)', [1]));
        await tx.executeQuery(CompiledQuery.raw('insert into rollback_t values ($1::int)', ['not a number']));
      }),
    ).rejects.toThrow();
    const { rows } = await services.store.reader.executeQuery<{ n: number }>(CompiledQuery.raw('select count(*)::int as n from rollback_t where x = $1', [1]));
    expect(rows[0]?.n).toBe(0);
    // The connection went back to the pool usable: the next transactions work.
    for (let i = 0; i < 12; i++) await services.store.transaction((tx) => tx.executeQuery(CompiledQuery.raw('insert into rollback_t values ($1)', [2])));
  });

  it('prepares again, under a new name, a statement whose result columns changed under it', async () => {
    await services.store.db.schema.createTable('stale_t').addColumn('x', 'integer').execute();
    const all = CompiledQuery.raw('select * from stale_t where x = $1', [1]);
    await services.store.db
      .insertInto('stale_t' as never)
      .values({ x: 1 } as never)
      .execute();
    // Prepared on every connection of the pool, then the table changes shape.
    await Promise.all(Array.from({ length: 12 }, () => services.store.reader.executeQuery(all)));
    await services.store.db.schema.alterTable('stale_t').addColumn('y', 'text').execute();
    for (let i = 0; i < 12; i++) {
      expect((await services.store.reader.executeQuery(all)).rows).toEqual([{ x: 1, y: null }]);
      expect(
        (
          await services.store.transaction(async (tx) => {
            await tx.executeQuery(CompiledQuery.raw('select 1 as one', []));
            return tx.executeQuery(all);
          })
        ).rows,
      ).toEqual([{ x: 1, y: null }]);
    }
  });

  it('tells a stale plan from other errors', () => {
    expect(isStalePlan({ code: '0A000', message: 'cached plan must not change result type' })).toBe(true);
    expect(isStalePlan({ code: '0A000', message: 'something else' })).toBe(false);
    // A server speaking another language: the routine that raised it says what it is.
    expect(isStalePlan({ code: '0A000', routine: 'RevalidateCachedQuery', message: 'le plan mis en cache ne doit pas modifier le type en résultat' })).toBe(
      true,
    );
    expect(isStalePlan(new Error('cached plan must not change result type'))).toBe(false);
  });
});
