import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantCredits } from '../../src/accounts/index.js';
import { ApiError } from '../../src/errors.js';
import { startRetentionSweeper } from '../../src/files/index.js';
import { createServices } from '../../src/server.js';
import type { Services } from '../../src/services.js';
import { canonicalJson, IDEMPOTENCY_WINDOW_MS, parseIdempotencyKey, requestFingerprint, sweepExpiredKeys } from '../../src/tasks/idempotency.js';
import { type NewTask, submitTaskOnce } from '../../src/tasks/index.js';
import { sineWav } from '../helpers/audio.js';
import { finishedGenerateTask } from '../helpers/fixtures.js';
import { closeServices, countRows, createTestAccount, createTestApp, createTestServices, type TestAccount } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Idempotency-Key [EXT] (SPEC §9): the same key and request from one account within 24 h make one
 * task and one charge, whichever process and however many at once; a key reused for another
 * request is a 409; a bad key is a 422; nothing refused is stored or charged.
 */

/** A generate body (price 10); no dispatcher runs here, so the callback is never contacted. */
const song = { customMode: false, instrumental: true, prompt: 'calm', callBackUrl: 'https://example.com/cb' };
const SONG_PRICE = 10;
const market = { model: 'ai-music-api/generate', callBackUrl: 'https://example.com/cb', input: { custom_mode: false, instrumental: true, prompt: 'calm' } };

let keys = 0;
/** A key no other test uses. */
const freshKey = (label: string) => `${label}-${++keys}-${Math.random().toString(36).slice(2)}`;

describe.each(storeTargets())('Idempotency-Key on $name', (target) => {
  let services: Services;
  let app: FastifyInstance;
  let alice: TestAccount;
  let bob: TestAccount;

  beforeAll(async () => {
    services = await createTestServices(target, { REPRISE_RATE_LIMIT: '1000/10s' });
    app = await createTestApp(services);
    alice = await createTestAccount(services, 1000);
    bob = await createTestAccount(services, 1000);
  });
  afterAll(async () => {
    await app.close();
    await closeServices(services);
  });

  const post = (url: string, body: unknown, who: TestAccount, key?: string, on: FastifyInstance = app) =>
    on.inject({
      method: 'POST',
      url,
      headers: { ...who.auth, 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });

  /** Everything a request could write: counted over the whole database, and the caller's balance. */
  async function snapshot(accountId: string) {
    const db = services.store.db;
    const count = (table: 'tasks' | 'jobs' | 'ledger' | 'files' | 'idempotency_keys') => countRows(services, table);
    const balance = (await db.selectFrom('accounts').select('balance').where('id', '=', accountId).executeTakeFirstOrThrow()).balance;
    return {
      tasks: await count('tasks'),
      jobs: await count('jobs'),
      ledger: await count('ledger'),
      files: await count('files'),
      keys: await count('idempotency_keys'),
      balance,
    };
  }

  /** What one new task adds: a task, its job, its debit, its key. */
  const plusOneTask = (before: Awaited<ReturnType<typeof snapshot>>, price = SONG_PRICE, keyed = 1) => ({
    ...before,
    tasks: before.tasks + 1,
    jobs: before.jobs + 1,
    ledger: before.ledger + (price > 0 ? 1 : 0),
    keys: before.keys + keyed,
    balance: before.balance - price,
  });

  function accepted(response: Awaited<ReturnType<typeof post>>): string {
    expect(response.statusCode, response.body).toBe(200);
    const answer = response.json();
    expect(answer).toMatchObject({ code: 200, msg: 'success' });
    expect(answer.data.taskId).toMatch(/^[0-9a-f]{32}$/);
    return answer.data.taskId;
  }

  it('answers the same request again with the first task, charged once, one task and one job', async () => {
    const key = freshKey('same');
    const before = await snapshot(alice.account.id);
    const first = await post('/api/v1/generate', song, alice, key);
    const taskId = accepted(first);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const afterFirst = await snapshot(alice.account.id);
    expect(afterFirst).toEqual(plusOneTask(before));

    for (let retry = 0; retry < 3; retry++) {
      const again = await post('/api/v1/generate', song, alice, key);
      expect(again.json()).toEqual(first.json());
      expect(again.headers['idempotent-replayed']).toBe('true');
    }
    // The same request written otherwise (fields in another order, spaced) is the same request.
    const reordered = `{ "callBackUrl": "${song.callBackUrl}", "prompt": "calm",\n "instrumental": true, "customMode": false }`;
    expect(accepted(await post('/api/v1/generate', reordered, alice, key))).toBe(taskId);
    expect(await snapshot(alice.account.id)).toEqual(afterFirst);
    expect(await services.store.db.selectFrom('jobs').select('id').where('ref_id', '=', taskId).execute(), 'one job for the task').toHaveLength(1);
    expect(await services.store.db.selectFrom('ledger').select('amount').where('task_id', '=', taskId).execute()).toEqual([{ amount: -SONG_PRICE }]);
  });

  it('refuses the key with another body or another route (409), changing nothing', async () => {
    const key = freshKey('other');
    const taskId = accepted(await post('/api/v1/generate', song, alice, key));
    const before = await snapshot(alice.account.id);
    const reuses: Array<[string, unknown]> = [
      ['/api/v1/generate', { ...song, prompt: 'loud' }],
      ['/api/v1/generate', { ...song, extra: 'an extra field is still another body' }],
      ['/api/v1/lyrics', { prompt: 'calm', callBackUrl: song.callBackUrl }],
      ['/api/v1/jobs/createTask', market],
    ];
    for (const [url, body] of reuses) {
      const response = await post(url, body, alice, key);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        code: 409,
        msg: 'Idempotency-Key was already used with a different request (another route or body) in the last 24 h; send a new key for a new request',
        data: null,
      });
    }
    expect(await snapshot(alice.account.id)).toEqual(before);
    // The key still names its first task.
    expect(accepted(await post('/api/v1/generate', song, alice, key))).toBe(taskId);
  });

  it('makes one task and one charge of ten identical requests at once', async () => {
    const key = freshKey('burst');
    const before = await snapshot(alice.account.id);
    const responses = await Promise.all(Array.from({ length: 10 }, () => post('/api/v1/generate', song, alice, key)));
    const ids = new Set(responses.map(accepted));
    expect(ids.size).toBe(1);
    expect(responses.filter((response) => response.headers['idempotent-replayed'] === 'true')).toHaveLength(9);
    expect(await snapshot(alice.account.id)).toEqual(plusOneTask(before));
  });

  it('makes one task of requests spread over two processes sharing the store', async () => {
    // A second service on the same database: its own connections and its own submission batcher, as another process has.
    const twin = await createServices(services.config);
    const twinApp = await createTestApp(twin);
    try {
      const key = freshKey('fleet');
      const before = await snapshot(alice.account.id);
      const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => post('/api/v1/generate', song, alice, key, i % 2 === 0 ? app : twinApp)));
      expect(new Set(responses.map(accepted)).size).toBe(1);
      expect(await snapshot(alice.account.id)).toEqual(plusOneTask(before));
    } finally {
      await twinApp.close();
      await closeServices(twin);
    }
  });

  it('decides in the submission transaction when the first look found nothing (a request still in flight)', async () => {
    // submitTaskOnce is what a request reaches after its first look and its checks: here called
    // directly, so the key's row is found by the transaction itself, as when two requests race.
    const key = freshKey('in-flight');
    const task = (prompt: string): NewTask => ({
      accountId: alice.account.id,
      type: 'GENERATE',
      param: '{}',
      input: { kind: 'generate', prompt, style: '', title: '', negativeTags: '', instrumental: true, customMode: false, durationS: 30 },
      parentMusicId: '',
      callbackUrl: undefined,
      model: 'V5',
      price: SONG_PRICE,
      idempotency: { key, fingerprint: requestFingerprint('/direct', { prompt }) },
    });
    const limits = { rateLimit: { max: 1000, windowMs: 10_000 }, taskTimeoutMs: 60_000 };
    const before = await snapshot(alice.account.id);
    const first = await submitTaskOnce(services.store, task('calm'), limits);
    expect(first.replayed).toBe(false);
    expect(await submitTaskOnce(services.store, task('calm'), limits)).toEqual({ taskId: first.taskId, replayed: true });
    await expect(submitTaskOnce(services.store, task('loud'), limits)).rejects.toMatchObject({ code: 409 });
    // In one batch too: the second of two at once is the first's replay, a third with another body a 409.
    const [a, b, c] = await Promise.allSettled([
      submitTaskOnce(services.store, { ...task('x'), idempotency: { key: `${key}-b`, fingerprint: 'x' } }, limits),
      submitTaskOnce(services.store, { ...task('x'), idempotency: { key: `${key}-b`, fingerprint: 'x' } }, limits),
      submitTaskOnce(services.store, { ...task('y'), idempotency: { key: `${key}-b`, fingerprint: 'y' } }, limits),
    ]);
    expect(a.status === 'fulfilled' && b.status === 'fulfilled' && b.value).toEqual({ taskId: a.status === 'fulfilled' && a.value.taskId, replayed: true });
    expect(c.status === 'rejected' && c.reason).toMatchObject({ code: 409 });
    expect(await snapshot(alice.account.id)).toEqual(plusOneTask(plusOneTask(before)));
  });

  it('keeps keys per account: another account may use the same key', async () => {
    const key = freshKey('shared');
    const aliceBefore = await snapshot(alice.account.id);
    const bobBefore = await snapshot(bob.account.id);
    const [forAlice, forBob] = await Promise.all([post('/api/v1/generate', song, alice, key), post('/api/v1/generate', song, bob, key)]);
    expect(accepted(forAlice)).not.toBe(accepted(forBob));
    expect((await snapshot(alice.account.id)).balance).toBe(aliceBefore.balance - SONG_PRICE);
    expect((await snapshot(bob.account.id)).balance).toBe(bobBefore.balance - SONG_PRICE);
    expect((await snapshot(bob.account.id)).tasks).toBe(bobBefore.tasks + 2);
    // Each account's retry gets its own task.
    expect(accepted(await post('/api/v1/generate', song, bob, key))).toBe(forBob.json().data.taskId);
  });

  it('does the same on the Market form, and tells it from the dedicated route', async () => {
    const key = freshKey('market');
    const before = await snapshot(alice.account.id);
    const first = await post('/api/v1/jobs/createTask', market, alice, key);
    const taskId = accepted(first);
    expect(first.json().data).toEqual({ taskId, recordId: taskId });
    const responses = await Promise.all(Array.from({ length: 5 }, () => post('/api/v1/jobs/createTask', market, alice, key)));
    for (const response of responses) expect(response.json()).toEqual(first.json());
    expect(await snapshot(alice.account.id)).toEqual(plusOneTask(before));

    const other = await post('/api/v1/jobs/createTask', { ...market, input: { ...market.input, prompt: 'loud' } }, alice, key);
    expect(other.json()).toMatchObject({ code: 409, data: null });
    // The dedicated route's body for the same song is another request on another route.
    expect((await post('/api/v1/generate', song, alice, key)).json()).toMatchObject({ code: 409 });
    expect(await snapshot(alice.account.id)).toEqual(plusOneTask(before));

    // And a key first used on the Market form reads back the same way on recordInfo.
    const info = await app.inject({ method: 'GET', url: `/api/v1/jobs/recordInfo?taskId=${taskId}`, headers: alice.auth });
    expect(info.json().data).toMatchObject({ taskId, model: 'ai-music-api/generate' });
  });

  it('refuses a bad header with 422 naming it, storing and charging nothing', async () => {
    const cases: Array<[string, string]> = [
      ['', 'Idempotency-Key: must not be empty: 1–255 visible ASCII characters'],
      ['k'.repeat(256), 'Idempotency-Key: must be at most 255 characters (got 256)'],
      ['a\u0001b', 'Idempotency-Key: must be visible ASCII characters only (0x21–0x7E: no spaces, control or non-ASCII characters)'],
      ['a\tb', 'Idempotency-Key: must be visible ASCII characters only (0x21–0x7E: no spaces, control or non-ASCII characters)'],
      ['a b', 'Idempotency-Key: must be visible ASCII characters only (0x21–0x7E: no spaces, control or non-ASCII characters)'],
      ['clé', 'Idempotency-Key: must be visible ASCII characters only (0x21–0x7E: no spaces, control or non-ASCII characters)'],
      ['a\u007fb', 'Idempotency-Key: must be visible ASCII characters only (0x21–0x7E: no spaces, control or non-ASCII characters)'],
    ];
    const before = await snapshot(alice.account.id);
    for (const [key, msg] of cases) {
      for (const [url, body] of [
        ['/api/v1/generate', song],
        ['/api/v1/jobs/createTask', market],
      ] as const) {
        const response = await post(url, body, alice, key);
        expect(response.statusCode, JSON.stringify(key)).toBe(200);
        expect(response.json(), JSON.stringify(key)).toEqual({ code: 422, msg, data: null });
      }
    }
    // The header sent twice (Node joins the values with ", ") is refused too.
    const twice = await app.inject({
      method: 'POST',
      url: '/api/v1/generate',
      headers: { ...alice.auth, 'content-type': 'application/json', 'idempotency-key': ['one', 'two'] },
      payload: JSON.stringify(song),
    });
    expect(twice.json()).toMatchObject({ code: 422, msg: expect.stringMatching(/^Idempotency-Key: /) });
    // 255 visible characters, every one of them, is a good key.
    const widest = Array.from({ length: 255 }, (_, i) => String.fromCharCode(0x21 + (i % 94))).join('');
    expect(await snapshot(alice.account.id)).toEqual(before);
    accepted(await post('/api/v1/generate', song, alice, widest));
    expect(await snapshot(alice.account.id)).toEqual(plusOneTask(before));
  });

  it('does not spend the key on a request refused by its rules, the balance or the rate limit', async () => {
    const key = freshKey('refused');
    const before = await snapshot(alice.account.id);
    const invalid = await post('/api/v1/generate', { ...song, prompt: '' }, alice, key);
    expect(invalid.json()).toMatchObject({ code: 422, msg: expect.stringMatching(/^prompt: /) });
    expect(await snapshot(alice.account.id)).toEqual(before);
    // A corrected request with the same key is a new request, accepted.
    accepted(await post('/api/v1/generate', song, alice, key));
    expect(await snapshot(alice.account.id)).toEqual(plusOneTask(before));

    const poor = await createTestAccount(services, SONG_PRICE - 1);
    const poorKey = freshKey('poor');
    const poorBefore = await snapshot(poor.account.id);
    expect((await post('/api/v1/generate', song, poor, poorKey)).json()).toMatchObject({ code: 402 });
    expect(await snapshot(poor.account.id)).toEqual(poorBefore);
    await grantCredits(services.store.db, poor.account.id, 1);
    accepted(await post('/api/v1/generate', song, poor, poorKey));
    expect((await snapshot(poor.account.id)).balance).toBe(0);
    // Replayed with nothing left to pay: still the first answer, not a 402.
    expect((await post('/api/v1/generate', song, poor, poorKey)).json()).toMatchObject({ code: 200 });
  });

  it('answers a retry with its task even where the rules would now refuse a new one', async () => {
    const parent = await finishedGenerateTask(services, alice.account.id, 30);
    const cover = { taskId: parent.taskId, callBackUrl: song.callBackUrl };
    const key = freshKey('cover');
    const taskId = accepted(await post('/api/v1/suno/cover/generate', cover, alice, key));
    // One cover task per music task: a new request is refused, the retry is answered.
    expect((await post('/api/v1/suno/cover/generate', cover, alice)).json()).toMatchObject({ code: 400 });
    expect(accepted(await post('/api/v1/suno/cover/generate', cover, alice, key))).toBe(taskId);
  });

  it('frees a key after 24 h: the same request makes a new task, and the sweep deletes stale rows', async () => {
    const key = freshKey('old');
    const first = accepted(await post('/api/v1/generate', song, alice, key));
    const db = services.store.db;
    const ageKey = (createdAt: number) =>
      db.updateTable('idempotency_keys').set({ created_at: createdAt }).where('account_id', '=', alice.account.id).where('key', '=', key).execute();
    // One second short of 24 h: still the first task.
    await ageKey(Date.now() - IDEMPOTENCY_WINDOW_MS + 1000);
    expect(accepted(await post('/api/v1/generate', song, alice, key))).toBe(first);

    await ageKey(Date.now() - IDEMPOTENCY_WINDOW_MS - 1000);
    const before = await snapshot(alice.account.id);
    const second = accepted(await post('/api/v1/generate', song, alice, key));
    expect(second).not.toBe(first);
    // The stale row was replaced by the new one: the key now names the new task.
    expect(await snapshot(alice.account.id)).toEqual(plusOneTask(before, SONG_PRICE, 0));
    expect(accepted(await post('/api/v1/generate', { ...song }, alice, key))).toBe(second);
    // After 24 h a key may even be used for another request.
    await ageKey(Date.now() - IDEMPOTENCY_WINDOW_MS - 1000);
    const third = accepted(await post('/api/v1/generate', { ...song, prompt: 'another day' }, alice, key));
    expect(third).not.toBe(second);

    // The retention sweep deletes rows past their 24 h and nothing else.
    const staleKey = freshKey('stale');
    accepted(await post('/api/v1/generate', song, bob, staleKey));
    await db
      .updateTable('idempotency_keys')
      .set({ created_at: Date.now() - IDEMPOTENCY_WINDOW_MS - 1 })
      .where('key', '=', staleKey)
      .execute();
    const live = await db
      .selectFrom('idempotency_keys')
      .select('key')
      .where('created_at', '>', Date.now() - IDEMPOTENCY_WINDOW_MS)
      .execute();
    expect(await sweepExpiredKeys(db, Date.now())).toBeGreaterThanOrEqual(1);
    const left = await db.selectFrom('idempotency_keys').select('key').execute();
    expect(left.map((row) => row.key).sort()).toEqual(live.map((row) => row.key).sort());

    // The sweeper the server runs does it too.
    await db
      .updateTable('idempotency_keys')
      .set({ created_at: Date.now() - IDEMPOTENCY_WINDOW_MS - 1 })
      .where('key', '=', key)
      .execute();
    const sweeper = startRetentionSweeper(services, 60_000);
    try {
      await waitFor(
        async () => ((await db.selectFrom('idempotency_keys').select('key').where('key', '=', key).execute()).length === 0 ? true : undefined),
        10_000,
        'the sweeper to delete the stale key',
      );
    } finally {
      sweeper.stop();
    }
  });

  describe('with a source fetched from outside', () => {
    let open: Services;
    let openApp: FastifyInstance;
    let carol: TestAccount;
    let origin: http.Server;
    let originUrl: string;
    const wav = sineWav(60, 22_050, 1);
    let originRequests = 0;

    beforeAll(async () => {
      origin = http.createServer((_request, response) => {
        originRequests++;
        // Slow enough that every request of a burst fetches before any commits.
        setTimeout(() => response.writeHead(200, { 'content-type': 'audio/wav' }).end(wav), 100);
      });
      await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
      originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/song.wav`;
      open = await createTestServices(target, { REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8', REPRISE_RATE_LIMIT: '1000/10s' });
      openApp = await createTestApp(open);
      carol = await createTestAccount(open, 1000);
    });
    afterAll(async () => {
      await openApp.close();
      await closeServices(open);
      await new Promise<void>((resolve) => origin.close(() => resolve()));
    });

    const sourceBlobs = () => {
      const dir = path.join(open.config.dataDir, 'blobs', 'sources');
      return fs.existsSync(dir) ? fs.readdirSync(dir).length : 0;
    };

    it('keeps only the winner’s source when a burst of retries each fetched one', async () => {
      const body = { prompt: 'jazz piano', tags: 'Jazz', title: 'New', infillStartS: 12, infillEndS: 24, callBackUrl: song.callBackUrl, uploadUrl: originUrl };
      const key = freshKey('fetched');
      const responses = await Promise.all(Array.from({ length: 5 }, () => post('/api/v1/generate/replace-section', body, carol, key, openApp)));
      const ids = new Set(responses.map(accepted));
      expect(ids.size).toBe(1);
      // More than one fetched: they all passed the first look, and the transaction chose.
      expect(originRequests).toBeGreaterThan(1);
      const db = open.store.db;
      expect(await db.selectFrom('tasks').select('id').where('account_id', '=', carol.account.id).execute()).toHaveLength(1);
      expect(await db.selectFrom('files').select('id').where('account_id', '=', carol.account.id).where('kind', '=', 'source').execute()).toHaveLength(1);
      expect(sourceBlobs()).toBe(1);
      expect(await db.selectFrom('accounts').select('balance').where('id', '=', carol.account.id).executeTakeFirstOrThrow()).toEqual({ balance: 995 });
    });
  });
});

describe('the Idempotency-Key rules', () => {
  const VISIBLE = fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code));
  const goodKey = fc.array(VISIBLE, { minLength: 1, maxLength: 255 }).map((chars) => chars.join(''));
  const refusedWith = (value: string | string[]) => {
    try {
      parseIdempotencyKey(value);
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it('accepts every string of 1–255 visible ASCII characters as it is', () => {
    fc.assert(fc.property(goodKey, (key) => parseIdempotencyKey(key) === key));
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
  });

  it('refuses, with a 422 naming the header, anything with another character, empty, or longer', () => {
    const outside = fc.oneof(
      fc.integer({ min: 0, max: 0x20 }),
      fc.constant(0x7f),
      fc.integer({ min: 0x80, max: 0xffff }).filter((code) => code < 0xd800 || code > 0xdfff),
    );
    const withBadCharacter = fc
      .tuple(fc.array(VISIBLE, { maxLength: 120 }), outside, fc.array(VISIBLE, { maxLength: 120 }))
      .map(([before, code, after]) => [...before, String.fromCharCode(code), ...after].join(''));
    const tooLong = fc.array(VISIBLE, { minLength: 256, maxLength: 600 }).map((chars) => chars.join(''));
    const anyRefused = fc.oneof(withBadCharacter, tooLong, fc.constant(''), fc.array(goodKey, { minLength: 2, maxLength: 3 }));
    fc.assert(
      fc.property(anyRefused, (value) => {
        const error = refusedWith(value);
        return error instanceof ApiError && error.code === 422 && error.message.startsWith('Idempotency-Key: ');
      }),
    );
  });

  it('fingerprints a body whatever the order of its keys, and tells the route and the values apart', () => {
    const shuffled = (value: unknown, seed: number): unknown => {
      if (Array.isArray(value)) return value.map((item) => shuffled(item, seed));
      if (typeof value !== 'object' || value === null) return value;
      const entries = Object.entries(value);
      entries.sort(([a], [b]) => ((a.length * 31 + seed) % 7) - ((b.length * 31 + seed) % 7) || (seed % 2 === 0 ? a.localeCompare(b) : b.localeCompare(a)));
      // defineProperty keeps a "__proto__" key a key.
      const out = {};
      for (const [key, item] of entries) Object.defineProperty(out, key, { value: shuffled(item, seed), enumerable: true, writable: true, configurable: true });
      return out;
    };
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 1000 }), (value, seed) => {
        const canonical = canonicalJson(value);
        // Valid JSON that reads back to the same canonical text, whatever the order of the keys.
        expect(canonicalJson(JSON.parse(canonical))).toBe(canonical);
        expect(canonicalJson(shuffled(value, seed))).toBe(canonical);
        expect(requestFingerprint('/a', shuffled(value, seed))).toBe(requestFingerprint('/a', value));
        expect(requestFingerprint('/b', value)).not.toBe(requestFingerprint('/a', value));
      }),
    );
    expect(requestFingerprint('/a', { prompt: 'calm' })).not.toBe(requestFingerprint('/a', { prompt: 'loud' }));
    expect(requestFingerprint('/a', { n: 1 })).not.toBe(requestFingerprint('/a', { n: '1' }));
  });
});
