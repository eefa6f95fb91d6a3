import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticatedAccount, createAccount, createKey, findAccountByKey, revokeKeys } from '../../src/accounts/index.js';
import { cachedByKeyHash, forgetCachedKeys } from '../../src/accounts/key-cache.js';
import type { Services } from '../../src/services.js';
import { createNotifier } from '../../src/store/notify.js';
import { closeServices, createTestServices } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

describe('the API key cache', () => {
  const counting = (value: string | null) => {
    const calls = { count: 0 };
    const lookUp = async () => {
      calls.count++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return value;
    };
    return { calls, lookUp };
  };

  it('answers from memory within its time, and looks up again after it', async () => {
    const owner = {};
    const { calls, lookUp } = counting('acct');
    expect(await cachedByKeyHash(owner, 'h', 1_000, lookUp)).toBe('acct');
    expect(await cachedByKeyHash(owner, 'h', 1_500, lookUp)).toBe('acct');
    expect(calls.count).toBe(1);
    expect(await cachedByKeyHash(owner, 'h', 2_001, lookUp)).toBe('acct');
    expect(calls.count).toBe(2);
  });

  it('shares one lookup among requests that arrive together', async () => {
    const owner = {};
    const { calls, lookUp } = counting('acct');
    const answers = await Promise.all(Array.from({ length: 20 }, () => cachedByKeyHash(owner, 'h', 1_000, lookUp)));
    expect(answers).toEqual(Array(20).fill('acct'));
    expect(calls.count).toBe(1);
  });

  it('never remembers an unknown key', async () => {
    const owner = {};
    const { calls, lookUp } = counting(null);
    expect(await cachedByKeyHash(owner, 'h', 1_000, lookUp)).toBeNull();
    expect(await cachedByKeyHash(owner, 'h', 1_000, lookUp)).toBeNull();
    expect(calls.count).toBe(2);
  });

  it('forgets everything on a revocation, including a lookup under way at that moment', async () => {
    const owner = {};
    const { calls, lookUp } = counting('acct');
    await cachedByKeyHash(owner, 'h', 1_000, lookUp);
    forgetCachedKeys();
    await cachedByKeyHash(owner, 'h', 1_000, lookUp);
    expect(calls.count).toBe(2);
    const during = cachedByKeyHash(owner, 'other', 1_000, lookUp);
    forgetCachedKeys();
    expect(await during).toBe('acct');
    await cachedByKeyHash(owner, 'other', 1_000, lookUp);
    expect(calls.count).toBe(4);
  });
});

describe.each(storeTargets())('authenticating API keys on $name', (target) => {
  let services: Services;
  let url: string;
  beforeAll(async () => {
    url = await target.fresh();
    services = await createTestServices({ ...target, fresh: async () => url });
  });
  afterAll(async () => closeServices(services));

  it('finds the account of a live key, never of an unknown one, and refuses a key revoked here at once', async () => {
    const created = await createAccount(services.store.db, { name: 'cached', credits: 5, webhookKey: false });
    const account = await authenticatedAccount(services.store.reader, created.apiKey);
    expect(account).toMatchObject({ id: created.accountId, name: 'cached' });
    expect(await authenticatedAccount(services.store.reader, `${created.apiKey}x`)).toBeNull();
    const second = await createKey(services.store.db, created.accountId);
    // A key just created works at once (unknown keys are not remembered).
    expect((await authenticatedAccount(services.store.reader, second))?.id).toBe(created.accountId);
    expect(await revokeKeys(services.store.db, created.apiKey.slice(0, 12))).toBe(1);
    expect(await authenticatedAccount(services.store.reader, created.apiKey)).toBeNull();
    expect(await findAccountByKey(services.store.db, created.apiKey)).toBeNull();
    expect((await authenticatedAccount(services.store.reader, second))?.id).toBe(created.accountId);
  });

  it.runIf(target.name === 'postgres')('tells the other processes of a revocation (NOTIFY reprise_keys)', async () => {
    const created = await createAccount(services.store.db, { name: 'told', credits: 5, webhookKey: false });
    let heard = 0;
    const notifier = createNotifier(services.store, { databaseUrl: url, onError: () => {} });
    try {
      notifier.listen('reprise_keys', () => heard++);
      // The listener connects in the background; a first notification says it is listening.
      await waitFor(
        async () => {
          notifier.notify('reprise_keys');
          await new Promise((resolve) => setTimeout(resolve, 50));
          return heard > 0 ? true : undefined;
        },
        10_000,
        'the listener to hear its own notification',
      );
      const before = heard;
      expect(await revokeKeys(services.store.db, created.apiKey.slice(0, 12))).toBe(1);
      await waitFor(async () => (heard > before ? true : undefined), 10_000, 'the revocation to be announced');
    } finally {
      await notifier.close();
    }
  });
});
