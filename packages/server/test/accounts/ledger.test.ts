import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount, createKey, findAccountByKey, grantCredits, revokeKeys, rotateWebhookKey, signingKeys } from '../../src/accounts/index.js';
import { ApiError } from '../../src/errors.js';
import type { Services } from '../../src/services.js';
import { submitTask } from '../../src/tasks/index.js';
import { closeServices, createTestServices } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';

const limits = { rateLimit: { max: 1000, windowMs: 10_000 }, taskTimeoutMs: 60_000 };
const generateInput = {
  kind: 'generate' as const,
  prompt: 'p',
  style: 's',
  title: 't',
  negativeTags: '',
  instrumental: true,
  customMode: false,
  durationS: 10,
};

describe.each(storeTargets())('accounts and credits on $name', (target) => {
  let services: Services;
  beforeAll(async () => {
    services = await createTestServices(target);
  });
  afterAll(async () => closeServices(services));

  const submit = (accountId: string, price: number, rate = limits.rateLimit) =>
    submitTask(
      services.store,
      { accountId, type: 'GENERATE', param: '{}', input: generateInput, parentMusicId: '', callbackUrl: undefined, model: 'V4', price },
      { ...limits, rateLimit: rate },
    );

  it('stores only a hash of the key and finds the account by key', async () => {
    const created = await createAccount(services.store.db, { name: 'alice', credits: 50, webhookKey: true });
    expect(created.apiKey).toMatch(/^rk_[0-9a-f]{40}$/);
    expect(created.webhookHmacKey).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const rows = await services.store.db.selectFrom('api_keys').selectAll().where('account_id', '=', created.accountId).execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(created.apiKey);
    expect((await findAccountByKey(services.store.db, created.apiKey))?.balance).toBe(50);
    expect(await findAccountByKey(services.store.db, `${created.apiKey}x`)).toBeNull();
  });

  it('revokes keys by prefix and creates new ones', async () => {
    const created = await createAccount(services.store.db, { name: 'bob', credits: 0, webhookKey: false });
    const second = await createKey(services.store.db, created.accountId);
    expect(await revokeKeys(services.store.db, created.apiKey.slice(0, 10))).toBe(1);
    expect(await findAccountByKey(services.store.db, created.apiKey)).toBeNull();
    expect(await findAccountByKey(services.store.db, second)).not.toBeNull();
    await expect(revokeKeys(services.store.db, 'rk_')).rejects.toThrow('key-prefix: give at least 6 characters of the key');
  });

  it('rotates the webhook key with an overlap during which both sign', async () => {
    const created = await createAccount(services.store.db, { name: 'carol', credits: 0, webhookKey: true });
    const next = await rotateWebhookKey(services.store.db, created.accountId, 1);
    expect(await signingKeys(services.store.db, created.accountId)).toEqual([next, created.webhookHmacKey]);
    expect(await signingKeys(services.store.db, created.accountId, Date.now() + 3_600_001)).toEqual([next]);
  });

  it('never overdraws under concurrent submissions and charges each task once', async () => {
    const created = await createAccount(services.store.db, { name: 'dave', credits: 47, webhookKey: false });
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => submit(created.accountId, 5)));
    const accepted = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(accepted).toHaveLength(9);
    expect(refused.every((r) => r.reason instanceof ApiError && r.reason.code === 402)).toBe(true);
    const account = await services.store.db.selectFrom('accounts').select('balance').where('id', '=', created.accountId).executeTakeFirstOrThrow();
    expect(account.balance).toBe(2);
    const ledger = await services.store.db.selectFrom('ledger').selectAll().where('account_id', '=', created.accountId).execute();
    expect(ledger.reduce((sum, row) => sum + row.amount, 0)).toBe(2);
    expect(ledger.filter((row) => row.kind === 'debit')).toHaveLength(9);
    const tasks = await services.store.db.selectFrom('tasks').select('id').where('account_id', '=', created.accountId).execute();
    expect(tasks).toHaveLength(9);
    const jobs = await services.store.db
      .selectFrom('jobs')
      .select('id')
      .where(
        'ref_id',
        'in',
        tasks.map((t) => t.id),
      )
      .execute();
    expect(jobs).toHaveLength(9);
  });

  it('rate-limits per account and queues nothing over the limit', async () => {
    const created = await createAccount(services.store.db, { name: 'erin', credits: 1000, webhookKey: false });
    const other = await createAccount(services.store.db, { name: 'frank', credits: 1000, webhookKey: false });
    const rate = { max: 3, windowMs: 60_000 };
    for (let i = 0; i < 3; i++) await submit(created.accountId, 1, rate);
    const error = await submit(created.accountId, 1, rate).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe(429);
    expect((error as ApiError).message).toBe('Rate limit exceeded: at most 3 new tasks per 60 s per account; the task was not queued');
    const balance = await services.store.db.selectFrom('accounts').select('balance').where('id', '=', created.accountId).executeTakeFirstOrThrow();
    expect(balance.balance).toBe(997);
    await expect(submit(other.accountId, 1, rate)).resolves.toMatch(/^[0-9a-f]{32}$/);
  });

  it('grants credits as ledger rows and refuses bad amounts', async () => {
    const created = await createAccount(services.store.db, { name: 'gina', credits: 0, webhookKey: false });
    expect(await grantCredits(services.store.db, created.accountId, 25)).toBe(25);
    await expect(grantCredits(services.store.db, created.accountId, 0)).rejects.toThrow('amount: must be a whole number greater than 0');
    await expect(grantCredits(services.store.db, 'acct_missing', 5)).rejects.toThrow('account acct_missing does not exist');
  });
});
