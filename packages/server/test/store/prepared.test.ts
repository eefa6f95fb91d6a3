import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../src/accounts/index.js';
import { ApiError } from '../../src/errors.js';
import type { Services } from '../../src/services.js';
import { changedRows, insertRows, kyselyRunner, prepare } from '../../src/store/index.js';
import { submitTask } from '../../src/tasks/index.js';
import { closeServices, createTestServices } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';

const byName = prepare<{ name: string }>((db, arg) => db.selectFrom('accounts').select(['id', 'balance']).where('name', '=', arg('name')).orderBy('id'));
const addToBalance = prepare<{ id: string; amount: number }>((db, arg) =>
  db
    .updateTable('accounts')
    .set((eb) => ({ balance: eb('balance', '+', arg('amount')) }))
    .where('id', '=', arg('id')),
);

const limits = { rateLimit: { max: 1000, windowMs: 10_000 }, taskTimeoutMs: 60_000 };
const input = { kind: 'generate' as const, prompt: 'p', style: 's', title: 't', negativeTags: '', instrumental: true, customMode: false, durationS: 10 };

describe.each(storeTargets())('prepared queries on $name', (target) => {
  let services: Services;
  beforeAll(async () => {
    services = await createTestServices(target);
  });
  afterAll(async () => closeServices(services));

  it('run with new values each time, through a transaction, a session, the reader or a Kysely runner alike', async () => {
    const { accountId } = await createAccount(services.store.db, { name: 'prepared-a', credits: 10, webhookKey: false });
    await services.store.transaction(async (tx) => {
      expect(changedRows(await addToBalance.execute(tx, { id: accountId, amount: 5 }))).toBe(1);
      expect(changedRows(await addToBalance.execute(tx, { id: 'acct_missing', amount: 5 }))).toBe(0);
    });
    await services.store.session((runner) => addToBalance.execute(runner, { id: accountId, amount: 1 }));
    const read = (await byName.execute<{ id: string; balance: number }>(services.store.reader, { name: 'prepared-a' })).rows;
    expect(read.map((row) => ({ ...row, balance: Number(row.balance) }))).toEqual([{ id: accountId, balance: 16 }]);
    const viaKysely = await byName.execute<{ id: string }>(kyselyRunner(services.store.db), { name: 'prepared-a' });
    expect(viaKysely.rows.map((row) => row.id)).toEqual([accountId]);
  });

  it('roll a failed transaction back whole', async () => {
    const { accountId } = await createAccount(services.store.db, { name: 'prepared-b', credits: 10, webhookKey: false });
    await expect(
      services.store.transaction(async (tx) => {
        await addToBalance.execute(tx, { id: accountId, amount: 5 });
        // The CHECK (balance >= 0) refuses this one, and the first change goes with it.
        await addToBalance.execute(tx, { id: accountId, amount: -100 });
      }),
    ).rejects.toThrow();
    const { rows } = await byName.execute<{ balance: number }>(services.store.reader, { name: 'prepared-b' });
    expect(Number(rows[0]?.balance)).toBe(10);
  });

  it('insertRows writes any number of rows, each with its own values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 150 }), async (count) => {
        const prefix = `bulk-${count}-${Math.random().toString(36).slice(2, 8)}`;
        const rows = Array.from({ length: count }, (_, i) => ({
          id: `${prefix}-${String(i).padStart(3, '0')}`,
          name: prefix,
          balance: i,
          webhook_key: i % 2 === 0 ? null : `k${i}`,
          webhook_key_prev: null,
          webhook_key_prev_until: null,
          created_at: 1_000 + i,
          sandbox: 0,
        }));
        await services.store.transaction((tx) => insertRows(tx, 'accounts', rows));
        const stored = await services.store.db.selectFrom('accounts').selectAll().where('name', '=', prefix).orderBy('id').execute();
        expect(stored.map((row) => ({ ...row, balance: Number(row.balance), created_at: Number(row.created_at) }))).toEqual(rows);
      }),
      { numRuns: 12 },
    );
  });

  it('a submission batch decides each task on its own: per account, in order, price before rate limit', async () => {
    const rich = await createAccount(services.store.db, { name: 'batch-rich', credits: 100, webhookKey: false });
    const poor = await createAccount(services.store.db, { name: 'batch-poor', credits: 12, webhookKey: false });
    const task = (accountId: string, price: number, max = 1000) =>
      submitTask(
        services.store,
        { accountId, type: 'GENERATE', param: '{}', input, parentMusicId: '', callbackUrl: undefined, model: 'V4', price },
        { ...limits, rateLimit: { max, windowMs: 10_000 } },
      ).then(
        (taskId) => ({ ok: taskId }),
        (error: unknown) => ({ code: error instanceof ApiError ? error.code : -1 }),
      );
    // Submitted together, so they share one batch.
    const outcomes = await Promise.all([
      task(poor.accountId, 5),
      task(rich.accountId, 10, 2),
      task(poor.accountId, 5),
      task(rich.accountId, 10, 2),
      task(poor.accountId, 5),
      task(rich.accountId, 10, 2),
    ]);
    expect(outcomes.map((outcome) => ('ok' in outcome ? 'ok' : outcome.code))).toEqual(['ok', 'ok', 'ok', 'ok', 402, 429]);
    const balances = await services.store.db.selectFrom('accounts').select(['id', 'balance']).where('id', 'in', [rich.accountId, poor.accountId]).execute();
    expect(Object.fromEntries(balances.map((row) => [row.id, Number(row.balance)]))).toEqual({ [rich.accountId]: 80, [poor.accountId]: 2 });
    const ledger = await services.store.db
      .selectFrom('ledger')
      .select(['account_id', 'amount'])
      .where('kind', '=', 'debit')
      .where('account_id', 'in', [rich.accountId, poor.accountId])
      .execute();
    expect(ledger).toHaveLength(4);
    const jobs = await services.store.db
      .selectFrom('jobs')
      .select('ref_id')
      .where(
        'ref_id',
        'in',
        outcomes.flatMap((outcome) => ('ok' in outcome ? [outcome.ok] : [])),
      )
      .execute();
    expect(jobs).toHaveLength(4);
  });
});
