import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpStatusFor } from '../../src/api/errors.js';
import type { Services } from '../../src/services.js';
import { finishedGenerateTask, uploadedWav } from '../helpers/fixtures.js';
import { closeServices, countRows, createTestAccount, createTestApp, createTestServices, type TestAccount } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';

const section = { prompt: 'jazz piano', tags: 'Jazz', title: 'New', infillStartS: 12, infillEndS: 24, callBackUrl: 'https://example.com/cb' };
/** A generate body; no dispatcher runs in these tests, so the callback is never contacted. */
const song = { customMode: false, instrumental: true, prompt: 'calm', callBackUrl: 'https://example.com/cb' };

describe.each(storeTargets())('task API on $name', (target) => {
  let services: Services;
  let app: FastifyInstance;
  let alice: TestAccount;
  let bob: TestAccount;

  beforeAll(async () => {
    services = await createTestServices(target, { REPRISE_RATE_LIMIT: '1000/10s' });
    app = await createTestApp(services);
    alice = await createTestAccount(services, 100);
    bob = await createTestAccount(services, 100);
  });
  afterAll(async () => {
    await app.close();
    await closeServices(services);
  });

  /** What a refused request must leave unchanged. */
  async function snapshot(accountId: string) {
    const db = services.store.db;
    const count = (table: 'tasks' | 'jobs' | 'ledger' | 'files') => countRows(services, table);
    const balance = (await db.selectFrom('accounts').select('balance').where('id', '=', accountId).executeTakeFirstOrThrow()).balance;
    return { tasks: await count('tasks'), jobs: await count('jobs'), ledger: await count('ledger'), files: await count('files'), balance };
  }

  async function expectRefusal(payload: unknown, code: number, msg: string, who = alice, headers: Record<string, string> = {}) {
    const before = await snapshot(who.account.id);
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/generate/replace-section',
      headers: { ...who.auth, 'content-type': 'application/json', ...headers },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
    expect(response.json()).toEqual({ code, msg, data: null });
    expect(response.statusCode).toBe(httpStatusFor(code, false));
    expect(await snapshot(who.account.id)).toEqual(before);
  }

  it('refuses requests without a valid key in KIE words', async () => {
    for (const [method, url] of [
      ['POST', '/api/v1/generate/replace-section'],
      ['POST', '/api/v1/generate'],
      ['GET', '/api/v1/generate/record-info?taskId=x'],
      ['GET', '/api/v1/chat/credit'],
      ['GET', '/api/v1/generate/credit'],
    ] as const) {
      for (const headers of [{}, { authorization: 'Bearer rk_nope' }, { authorization: 'Basic abc' }]) {
        const response = await app.inject({ method, url, headers, payload: method === 'POST' ? {} : undefined });
        expect(response.statusCode).toBe(401);
        expect(response.json()).toEqual({ code: 401, msg: 'You do not have access permissions', data: null });
      }
    }
  });

  it('answers the credit balance on both routes', async () => {
    for (const url of ['/api/v1/chat/credit', '/api/v1/generate/credit']) {
      const response = await app.inject({ method: 'GET', url, headers: bob.auth });
      expect(response.json()).toEqual({ code: 200, msg: 'success', data: 100 });
    }
  });

  it('accepts mode 2 from an uploaded file, charges once, and shows the task for polling', async () => {
    const uploadUrl = await uploadedWav(services, alice.account.id, 60);
    const before = await snapshot(alice.account.id);
    const body = JSON.stringify({ ...section, uploadUrl, extraField: 'kept in param' });
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/generate/replace-section',
      headers: { ...alice.auth, 'content-type': 'application/json' },
      payload: body,
    });
    expect(response.statusCode).toBe(200);
    const { code, msg, data } = response.json();
    expect({ code, msg }).toEqual({ code: 200, msg: 'success' });
    expect(data.taskId).toMatch(/^[0-9a-f]{32}$/);
    const after = await snapshot(alice.account.id);
    expect(after).toEqual({ ...before, tasks: before.tasks + 1, jobs: before.jobs + 1, ledger: before.ledger + 1, balance: before.balance - 5 });

    const info = await app.inject({ method: 'GET', url: `/api/v1/generate/record-info?taskId=${data.taskId}`, headers: alice.auth });
    expect(info.statusCode).toBe(200);
    expect(info.json().data).toEqual({
      taskId: data.taskId,
      parentMusicId: '',
      param: body,
      response: { taskId: data.taskId, sunoData: [] },
      status: 'PENDING',
      type: 'REPLACE_SECTION',
      operationType: 'replace_section',
      errorCode: null,
      errorMessage: null,
      callback: { status: 'pending', attempts: 0, lastError: null },
    });

    const foreign = await app.inject({ method: 'GET', url: `/api/v1/generate/record-info?taskId=${data.taskId}`, headers: bob.auth });
    // Another account's task reads as unknown, in KIE's recorded words.
    expect(foreign.statusCode).toBe(200);
    expect(foreign.json()).toEqual({ code: 200, msg: 'success', data: null });
  });

  it('accepts mode 1 on a track of a finished task and records parentMusicId', async () => {
    const parent = await finishedGenerateTask(services, alice.account.id, 120);
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/generate/replace-section',
      headers: alice.auth,
      payload: { ...section, taskId: parent.taskId, audioId: parent.audioIds[1] },
    });
    expect(response.statusCode).toBe(200);
    const info = await app.inject({ method: 'GET', url: `/api/v1/generate/record-info?taskId=${response.json().data.taskId}`, headers: alice.auth });
    expect(info.json().data.parentMusicId).toBe(parent.audioIds[1]);

    const parentInfo = await app.inject({ method: 'GET', url: `/api/v1/generate/record-info?taskId=${parent.taskId}`, headers: alice.auth });
    const tracks = parentInfo.json().data.response.sunoData;
    expect(tracks).toHaveLength(2);
    expect(tracks[0]).toMatchObject({ id: parent.audioIds[0], duration: 120, tags: 'jazz', title: 'T0' });
    expect(tracks[0].audioUrl).toMatch(/^http:\/\/127\.0\.0\.1:3999\/files\/[A-Za-z0-9_-]{32}\.mp3$/);
    expect(tracks[0].createTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  it('refuses every source rule with 422, storing and charging nothing', async () => {
    const parent = await finishedGenerateTask(services, alice.account.id, 40);
    const foreignParent = await finishedGenerateTask(services, bob.account.id, 120);
    const short = await uploadedWav(services, alice.account.id, 20);
    await expectRefusal({ ...section, taskId: 'f'.repeat(32), audioId: 'x' }, 422, `taskId: no task ${'f'.repeat(32)} for this account`);
    await expectRefusal(
      { ...section, taskId: foreignParent.taskId, audioId: foreignParent.audioIds[0] },
      422,
      `taskId: no task ${foreignParent.taskId} for this account`,
    );
    await expectRefusal({ ...section, taskId: parent.taskId, audioId: foreignParent.audioIds[0] }, 422, `audioId: is not a track of task ${parent.taskId}`);
    await expectRefusal(
      { ...section, taskId: parent.taskId, audioId: parent.audioIds[0], infillStartS: 30, infillEndS: 41 },
      422,
      'infillEndS: must not exceed the source duration (40 s)',
    );
    await expectRefusal(
      { ...section, taskId: parent.taskId, audioId: parent.audioIds[0], infillStartS: 0, infillEndS: 21 },
      422,
      'infillEndS: the section (21 s) must not exceed 50% of the source duration (40 s)',
    );
    await expectRefusal(
      { ...section, uploadUrl: short, infillStartS: 2, infillEndS: 13 },
      422,
      'infillEndS: the section (11 s) must not exceed 50% of the source duration (20 s)',
    );
    await expectRefusal(
      { ...section, uploadUrl: `${short}x/../nothing`.replace(/files\/[^/]+/, 'files/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA') },
      422,
      'uploadUrl: no such file (it may have expired)',
    );
  });

  it('refuses a pending parent task', async () => {
    const pending = await app.inject({
      method: 'POST',
      url: '/api/v1/generate',
      headers: alice.auth,
      payload: song,
    });
    expect(pending.json().code).toBe(200);
    const taskId = pending.json().data.taskId;
    await expectRefusal({ ...section, taskId, audioId: 'x' }, 422, `taskId: task ${taskId} has not succeeded (status PENDING)`);
  });

  it('refuses malformed bodies with 400 and oversized ones with 413', async () => {
    await expectRefusal('{"prompt": ', 400, 'body: malformed JSON (Unexpected end of JSON input)');
    await expectRefusal('', 400, 'body: empty, expected a JSON object');
    await expectRefusal('prompt=x', 400, 'Content-Type: application/x-www-form-urlencoded is not accepted here; send application/json', alice, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    await expectRefusal(JSON.stringify({ ...section, prompt: 'x'.repeat(2_000_000) }), 413, 'body: payload too large');
    await expectRefusal({ ...section, infillEndS: 16 }, 422, 'taskId: is required (or give uploadUrl instead)');
  });

  it('answers 402 when credits run out, and nothing is stored', async () => {
    const poor = await createTestAccount(services, 4);
    const uploadUrl = await uploadedWav(services, poor.account.id, 60);
    await expectRefusal({ ...section, uploadUrl }, 402, 'Insufficient credits: this task costs 5', poor);
  });

  it('validates generate and record-info input', async () => {
    const before = await snapshot(alice.account.id);
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/generate',
      headers: alice.auth,
      payload: { customMode: true, instrumental: false, style: 'rock', callBackUrl: 'https://example.com/cb' },
    });
    expect(bad.statusCode).toBe(httpStatusFor(422, false));
    expect(bad.json()).toEqual({ code: 422, msg: 'title: is required', data: null });
    const noCallback = await app.inject({
      method: 'POST',
      url: '/api/v1/generate',
      headers: alice.auth,
      payload: { customMode: true, instrumental: true, style: 'rock', title: 'Song' },
    });
    expect(noCallback.statusCode).toBe(200);
    expect(noCallback.json()).toEqual({ code: 422, msg: 'Please enter callBackUrl.', data: null });
    expect(await snapshot(alice.account.id)).toEqual(before);
    const missing = await app.inject({ method: 'GET', url: '/api/v1/generate/record-info', headers: alice.auth });
    expect(missing.statusCode).toBe(httpStatusFor(422, false));
    expect(missing.json()).toEqual({ code: 422, msg: 'taskId: is required as a query parameter', data: null });
    const none = await app.inject({ method: 'GET', url: `/api/v1/generate/record-info?taskId=${'f'.repeat(32)}`, headers: alice.auth });
    expect(none.statusCode).toBe(200);
    expect(none.json()).toEqual({ code: 200, msg: 'success', data: null });
    // An unknown route is a transport matter: a real HTTP 404.
    const unknown = await app.inject({ method: 'GET', url: '/api/v1/nothing', headers: alice.auth });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ code: 404, msg: 'Not found: GET /api/v1/nothing', data: null });
  });

  it('answers 455 while draining, and serves operations routes', async () => {
    services.draining = true;
    try {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/generate',
        headers: alice.auth,
        payload: { ...song, prompt: 'x' },
      });
      expect(response.statusCode).toBe(httpStatusFor(455, false));
      expect(response.json()).toEqual({ code: 455, msg: 'Service is under maintenance (shutting down): please retry shortly', data: null });
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    } finally {
      services.draining = false;
    }
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('reprise_jobs_due{queue="task"}');
    expect(metrics.body).toContain('reprise_http_request_duration_seconds_bucket');
    const openapi = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(Object.keys(openapi.json().paths)).toEqual(
      expect.arrayContaining(['/api/v1/generate/replace-section', '/api/v1/generate', '/api/v1/generate/record-info', '/api/v1/chat/credit']),
    );
    expect((await app.inject({ method: 'GET', url: '/docs' })).statusCode).toBeLessThan(400);
  });
});

describe('rate limit through the API', () => {
  it('gives 429 over the limit and queues nothing', async () => {
    const [target] = storeTargets();
    const services = await createTestServices(target!, { REPRISE_RATE_LIMIT: '2/10s' });
    const app = await createTestApp(services);
    const user = await createTestAccount(services, 100);
    const codes: number[] = [];
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/generate',
        headers: user.auth,
        payload: { ...song, prompt: 'x' },
      });
      codes.push(response.json().code);
      statuses.push(response.statusCode);
    }
    expect(codes).toEqual([200, 200, 429, 429]);
    // KIE documents 429 as an HTTP status: it keeps it.
    expect(statuses).toEqual([200, 200, 429, 429]);
    const tasks = await services.store.db.selectFrom('tasks').select('id').execute();
    expect(tasks).toHaveLength(2);
    await app.close();
    await closeServices(services);
  });
});

describe('HTTP status mirroring (REPRISE_HTTP_STATUS_MIRRORS_CODE)', () => {
  it('answers a 422 with HTTP 422 when the setting is on', async () => {
    const [target] = storeTargets();
    const services = await createTestServices(target!, { REPRISE_HTTP_STATUS_MIRRORS_CODE: 'true' });
    const app = await createTestApp(services);
    try {
      const user = await createTestAccount(services, 100);
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/generate',
        headers: user.auth,
        payload: { customMode: true, instrumental: false, style: 'rock', callBackUrl: 'https://example.com/cb' },
      });
      expect(response.json()).toEqual({ code: 422, msg: 'title: is required', data: null });
      expect(response.statusCode).toBe(422);
      expect(await services.store.db.selectFrom('tasks').select('id').execute()).toHaveLength(0);
    } finally {
      await app.close();
      await closeServices(services);
    }
  });
});
