import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantCredits, signingKeys } from '../../src/accounts/index.js';
import { parseOverlapHours } from '../../src/api/account.js';
import { encodeCursor, MAX_PAGE_LIMIT, parseCursor, parseLimit } from '../../src/api/paging.js';
import { ApiError } from '../../src/errors.js';
import type { Services } from '../../src/services.js';
import { closeServices, createTestAccount, createTestApp, createTestServices, type TestAccount } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';

type App = Awaited<ReturnType<typeof createTestApp>>;

describe('console paging parameters', () => {
  it('reads back every cursor it writes', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 52 }), fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), (at, id) => {
        expect(parseCursor(encodeCursor({ at, id }))).toEqual({ at, id });
      }),
    );
  });

  it('refuses anything else as a cursor with a 422 naming it, never another error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.base64String(), fc.integer(), fc.constant(null), fc.array(fc.string())), (value) => {
        try {
          const position = parseCursor(value);
          // What parses is a position a cursor could hold.
          if (position !== null) {
            expect(Number.isSafeInteger(position.at)).toBe(true);
            expect(position.id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
          } else expect(value === '' || value === undefined).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(ApiError);
          expect((error as ApiError).code).toBe(422);
          expect((error as ApiError).message).toMatch(/^cursor: /);
        }
      }),
    );
  });

  it('takes a limit from 1 to the maximum and refuses every other value', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -1000, max: 1000 }).map(String), fc.string(), fc.double().map(String)), (value) => {
        const whole = /^\d+$/.test(value) ? Number(value) : Number.NaN;
        if (value === '') expect(parseLimit(value)).toBe(50);
        else if (whole >= 1 && whole <= MAX_PAGE_LIMIT && value.length <= 4) expect(parseLimit(value)).toBe(whole);
        else expect(() => parseLimit(value)).toThrow(/^limit: must be a whole number from 1 to 200$/);
      }),
    );
  });

  it('takes whole overlap hours from 0 to 168', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -10, max: 200 }), fc.double(), fc.string()), (overlapHours) => {
        if (typeof overlapHours === 'number' && Number.isInteger(overlapHours) && overlapHours >= 0 && overlapHours <= 168) {
          expect(parseOverlapHours({ overlapHours })).toBe(overlapHours);
        } else expect(() => parseOverlapHours({ overlapHours })).toThrow(/^overlapHours: must be a whole number of hours from 0 to 168$/);
      }),
    );
    expect(parseOverlapHours(undefined)).toBe(24);
    expect(parseOverlapHours({})).toBe(24);
  });
});

describe.each(storeTargets())('console account API on $name', (target) => {
  let services: Services;
  let app: App;
  let alice: TestAccount;
  let bob: TestAccount;

  beforeAll(async () => {
    services = await createTestServices(target);
    app = await createTestApp(services);
    alice = await createTestAccount(services, 100, true);
    bob = await createTestAccount(services, 7, false);
  });
  afterAll(async () => {
    await app.close();
    await closeServices(services);
  });

  const get = (url: string, who: TestAccount = alice) => app.inject({ method: 'GET', url, headers: who.auth });
  const send = (method: 'POST' | 'DELETE', url: string, who: TestAccount = alice, payload?: unknown) =>
    app.inject({ method, url, headers: { ...who.auth, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }, payload: payload as string });

  it('shows the account: credits, sandbox flag and webhook key state', async () => {
    const response = await get('/api/v1/account');
    expect(response.json()).toEqual({
      code: 200,
      msg: 'success',
      data: { accountId: alice.account.id, name: 'test', credits: 100, sandbox: false, webhookKey: { set: true, previousValidUntil: null } },
    });
    expect((await get('/api/v1/account', bob)).json().data).toMatchObject({ accountId: bob.account.id, credits: 7, webhookKey: { set: false } });
    expect((await app.inject({ method: 'GET', url: '/api/v1/account' })).statusCode).toBe(401);
  });

  it('pages the ledger newest first, every entry once, only the caller’s', async () => {
    for (const amount of [1, 2, 3, 4, 5]) await grantCredits(services.store.db, alice.account.id, amount);
    const seen: Array<{ id: string; at: number; amount: number; kind: string; taskId: string | null }> = [];
    let cursor: string | null = null;
    do {
      const page: { entries: typeof seen; nextCursor: string | null } = (await get(`/api/v1/account/ledger?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json()
        .data;
      expect(page.entries.length).toBeLessThanOrEqual(2);
      seen.push(...page.entries);
      cursor = page.nextCursor;
    } while (cursor);
    // The opening grant and five more.
    expect(seen.map((entry) => entry.amount).sort()).toEqual([1, 100, 2, 3, 4, 5]);
    expect(new Set(seen.map((entry) => entry.id)).size).toBe(6);
    for (let i = 1; i < seen.length; i++) expect(seen[i - 1]!.at).toBeGreaterThanOrEqual(seen[i]!.at);
    expect(seen.every((entry) => entry.kind === 'grant' && entry.taskId === null)).toBe(true);
    const bobs = (await get('/api/v1/account/ledger', bob)).json().data;
    expect(bobs.entries.map((entry: { amount: number }) => entry.amount)).toEqual([7]);
    expect(bobs.nextCursor).toBeNull();
  });

  it('refuses a bad limit or cursor with a precise 422', async () => {
    expect((await get('/api/v1/account/ledger?limit=0')).json()).toEqual({ code: 422, msg: 'limit: must be a whole number from 1 to 200', data: null });
    expect((await get('/api/v1/account/ledger?limit=abc')).json().code).toBe(422);
    expect((await get('/api/v1/account/ledger?cursor=%%%')).json().msg).toMatch(/^cursor: /);
    expect((await get(`/api/v1/account/ledger?cursor=${Buffer.from('x.y').toString('base64url')}`)).json().code).toBe(422);
  });

  it('lists keys with the current one marked, creates one shown once, and revokes by id', async () => {
    const listed = (await get('/api/v1/account/keys')).json().data.keys;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ prefix: alice.apiKey.slice(0, 12), revokedAt: null, current: true });

    const created = (await send('POST', '/api/v1/account/keys')).json().data;
    expect(created.apiKey).toMatch(/^rk_[0-9a-f]{40}$/);
    expect(created.prefix).toBe(created.apiKey.slice(0, 12));
    const withNew = { ...alice, auth: { authorization: `Bearer ${created.apiKey}` } };
    const fromNew = (await get('/api/v1/account/keys', withNew)).json().data.keys as Array<{ id: string; current: boolean; prefix: string }>;
    expect(fromNew).toHaveLength(2);
    expect(fromNew.find((key) => key.current)?.id).toBe(created.id);
    // The key itself is never listed.
    expect(JSON.stringify(fromNew)).not.toContain(created.apiKey);

    // Another account's key reads as unknown, and stays live.
    const bobsKey = (await get('/api/v1/account/keys', bob)).json().data.keys[0].id;
    expect((await send('DELETE', `/api/v1/account/keys/${bobsKey}`)).json()).toEqual({ code: 404, msg: `id: no key ${bobsKey} for this account`, data: null });
    expect((await get('/api/v1/account', bob)).statusCode).toBe(200);

    const revoked = (await send('DELETE', `/api/v1/account/keys/${created.id}`)).json().data;
    expect(revoked).toEqual({ id: created.id, revokedAt: expect.any(Number) });
    expect((await get('/api/v1/account', withNew)).statusCode).toBe(401);
    // Again: the same answer, nothing more changes.
    expect((await send('DELETE', `/api/v1/account/keys/${created.id}`)).json().data).toEqual(revoked);
  });

  it('refuses to revoke the last active key', async () => {
    const keys = (await get('/api/v1/account/keys', bob)).json().data.keys;
    const response = await send('DELETE', `/api/v1/account/keys/${keys[0].id}`, bob);
    expect(response.json()).toEqual({
      code: 422,
      msg: 'id: this is the last active key of the account; create another key before revoking it',
      data: null,
    });
    expect((await get('/api/v1/account', bob)).statusCode).toBe(200);
  });

  it('of two keys revoked at once, one stays', async () => {
    const carol = await createTestAccount(services, 0);
    const second = (await send('POST', '/api/v1/account/keys', carol)).json().data;
    const first = (await get('/api/v1/account/keys', carol)).json().data.keys.find((key: { id: string }) => key.id !== second.id);
    const answers = await Promise.all([first.id, second.id].map(async (id: string) => (await send('DELETE', `/api/v1/account/keys/${id}`, carol)).json().code));
    expect(answers.sort()).toEqual([200, 422]);
    const live = await services.store.db
      .selectFrom('api_keys')
      .select('id')
      .where('account_id', '=', carol.account.id)
      .where('revoked_at', 'is', null)
      .execute();
    expect(live).toHaveLength(1);
  });

  it('rotates the webhook key with an overlap, and refuses a bad overlap changing nothing', async () => {
    const before = await signingKeys(services.store.db, alice.account.id);
    for (const payload of [{ overlapHours: 169 }, { overlapHours: -1 }, { overlapHours: 1.5 }, { overlapHours: '24' }, [1]]) {
      const refused = (await send('POST', '/api/v1/account/webhook-key/rotate', alice, payload)).json();
      expect(refused.code).toBe(422);
    }
    expect(await signingKeys(services.store.db, alice.account.id)).toEqual(before);

    const startedAt = Date.now();
    const rotated = (await send('POST', '/api/v1/account/webhook-key/rotate', alice, { overlapHours: 2 })).json().data;
    expect(rotated.webhookHmacKey).toMatch(/^whsec_/);
    expect(rotated.previousValidUntil).toBeGreaterThanOrEqual(startedAt + 2 * 3_600_000);
    expect(await signingKeys(services.store.db, alice.account.id)).toEqual([rotated.webhookHmacKey, before[0]]);
    expect((await get('/api/v1/account')).json().data.webhookKey).toEqual({ set: true, previousValidUntil: rotated.previousValidUntil });

    // An account without a key gets its first: nothing previous signs. No body keeps the default.
    const first = (await send('POST', '/api/v1/account/webhook-key/rotate', bob)).json().data;
    expect(first).toEqual({ webhookHmacKey: expect.stringMatching(/^whsec_/), previousValidUntil: null });
    expect((await get('/api/v1/account', bob)).json().data.webhookKey).toEqual({ set: true, previousValidUntil: null });
  });
});
