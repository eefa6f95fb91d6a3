import { verifyKieSignature, verifyStandardWebhook } from '@reprise/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INBOX_RATE_MAX } from '../../src/api/inbox.js';
import { INBOX_BODY_MAX_BYTES, MAX_INBOXES_PER_ACCOUNT } from '../../src/inbox/index.js';
import { storeTargets } from '../helpers/stores.js';
import { type Harness, startHarness } from './harness.js';

/**
 * The local webhook inbox [EXT]: a real task's signed callback lands in the account's inbox
 * without the network, verifiable with the SDK; the public URL records anything up to its cap;
 * one account never sees, uses or deletes another's inbox.
 */
describe.each(storeTargets())('webhook inbox on $name', (target) => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness(target);
  });
  afterAll(async () => {
    await harness.stop();
  });

  it('a real replace-section callback lands in the inbox, signed so that the SDK verifies it', async () => {
    const me = await harness.account();
    const created = await me.post('/api/v1/inbox');
    expect(created.code).toBe(200);
    const { inboxId, url } = created.data;
    expect(url).toMatch(new RegExp(`^${harness.base}/inbox/[A-Za-z0-9_-]{32}$`));

    const submitted = await me.post('/api/v1/generate/replace-section', {
      uploadUrl: await me.upload(30),
      prompt: 'jazz piano',
      tags: 'Jazz',
      title: 'Bridge',
      infillStartS: 8,
      infillEndS: 16,
      callBackUrl: url,
    });
    expect(submitted.code).toBe(200);
    const taskId = submitted.data.taskId as string;
    const record = await me.finished(taskId);
    expect(record.status).toBe('SUCCESS');
    expect(record.simulated).toBeUndefined();

    const [request] = await me.inboxRequests(inboxId, 1);
    expect(request).toMatchObject({ method: 'POST', path: new URL(url).pathname, verified: { kie: true, standardWebhooks: true } });
    const body = JSON.parse(request.body);
    expect(body).toMatchObject({ code: 200, msg: 'All generated successfully.', data: { callbackType: 'complete', task_id: taskId } });
    expect(body.data.data[0].audio_url).toBe(record.response.sunoData[0].audioUrl);
    expect(request.headers['content-type']).toBe('application/json');
    // What a receiver written with the SDK concludes from the recorded request.
    expect(verifyKieSignature(request.body, request.headers, me.secret as string).taskId).toBe(taskId);
    const standard = verifyStandardWebhook(request.body, request.headers, me.secret as string);
    expect(standard.payload).toEqual(body);

    // The attempt is recorded as any other delivery: status 200, delivered.
    const log = await me.get(`/api/v1/tasks/${taskId}/callbacks`);
    expect(log.data).toHaveLength(1);
    expect(log.data[0]).toMatchObject({ status: 'delivered', url, attempts: 1 });
    expect(log.data[0].attemptLog[0]).toMatchObject({ httpStatus: 200, errorClass: null, responseBody: '{"received":true}' });
    expect(standard.id).toBe(log.data[0].deliveryId);

    const listed = await me.get('/api/v1/inbox');
    expect(listed.data.inboxes).toEqual([{ inboxId, url, createdAt: expect.any(Number), received: 1 }]);

    // Redelivery goes to the inbox again with the same webhook-id.
    await me.post(`/api/v1/tasks/${taskId}/callbacks/redeliver`);
    const again = await me.inboxRequests(inboxId, 2);
    expect(again[0].headers['webhook-id']).toBe(standard.id);
  });

  it('the public URL records any POST up to 256 KB, refuses more with 413, and 404s an unknown token', async () => {
    const me = await harness.account({ webhookKey: false });
    const { inboxId, url } = (await me.post('/api/v1/inbox')).data;
    const post = (body: string, type = 'text/plain') => fetch(url, { method: 'POST', headers: { 'content-type': type, cookie: 'session=secret' }, body });

    const atCap = await post('x'.repeat(INBOX_BODY_MAX_BYTES));
    expect(atCap.status).toBe(200);
    expect(await atCap.json()).toEqual({ received: true });
    const over = await post('x'.repeat(INBOX_BODY_MAX_BYTES + 1));
    expect(over.status).toBe(413);
    expect(await over.json()).toEqual({ code: 413, msg: 'body: payload too large', data: null });
    const json = await post('{"hello":"inbox"}', 'application/json');
    expect(json.status).toBe(200);

    const { data } = await me.get(`/api/v1/inbox/${inboxId}/requests`);
    expect(data.requests).toHaveLength(2);
    const [newest, oldest] = data.requests;
    expect(newest).toMatchObject({
      body: '{"hello":"inbox"}',
      headers: { 'content-type': 'application/json' },
      verified: { kie: null, standardWebhooks: null },
    });
    expect(oldest.body).toHaveLength(INBOX_BODY_MAX_BYTES);
    // Only webhook-related headers are kept: never a cookie a stranger sent.
    expect(oldest.headers.cookie).toBeUndefined();

    // Paging: one at a time, newest first.
    const first = (await me.get(`/api/v1/inbox/${inboxId}/requests?limit=1`)).data;
    expect(first.requests.map((r: { id: string }) => r.id)).toEqual([newest.id]);
    const second = (await me.get(`/api/v1/inbox/${inboxId}/requests?limit=1&cursor=${first.nextCursor}`)).data;
    expect(second).toEqual({ requests: [oldest], nextCursor: null });
    expect((await me.get(`/api/v1/inbox/${inboxId}/requests?limit=0`)).msg).toBe('limit: must be a whole number from 1 to 100');

    const unknown = await fetch(`${harness.base}/inbox/${'A'.repeat(32)}`, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
  });

  it('records a body with NUL characters (as U+FFFD), and answers 429 beyond its rate', async () => {
    const me = await harness.account({ webhookKey: false });
    const { inboxId, url } = (await me.post('/api/v1/inbox')).data;
    const nul = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'a\u0000b' });
    expect(nul.status).toBe(200);
    expect((await me.inboxRequests(inboxId, 1))[0].body).toBe('a\uFFFDb');

    // Far more than the rate at once: some are refused with 429, none fails otherwise, and only the admitted are kept.
    const statuses = await Promise.all(Array.from({ length: INBOX_RATE_MAX * 3 }, () => fetch(url, { method: 'POST', body: 'burst' }).then((r) => r.status)));
    expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0);
    const { data } = await me.get(`/api/v1/inbox/${inboxId}/requests?limit=100`);
    expect(data.requests.length).toBe(1 + statuses.filter((status) => status === 200).length);
  });

  it('an unsigned request to the inbox of an account with a key is recorded as not verified', async () => {
    const me = await harness.account();
    const { inboxId, url } = (await me.post('/api/v1/inbox')).data;
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-timestamp': '1', 'x-webhook-signature': 'AAAA' },
      body: '{}',
    });
    const [request] = await me.inboxRequests(inboxId, 1);
    expect(request.verified).toEqual({ kie: false, standardWebhooks: false });
  });

  it('keeps accounts apart: no listing, reading, deleting or using another account’s inbox', async () => {
    const alice = await harness.account();
    const bob = await harness.account();
    const { inboxId, url } = (await alice.post('/api/v1/inbox')).data;

    expect((await bob.get('/api/v1/inbox')).data.inboxes).toEqual([]);
    expect(await bob.get(`/api/v1/inbox/${inboxId}/requests`)).toEqual({ code: 404, msg: `inboxId: no inbox ${inboxId} for this account`, data: null });
    expect((await bob.del(`/api/v1/inbox/${inboxId}`)).code).toBe(404);

    // Bob cannot point his task's callbacks at Alice's inbox: refused before anything is written or charged.
    const before = await bob.credit();
    const refused = await bob.post('/api/v1/generate', { customMode: false, instrumental: true, prompt: 'calm piano', callBackUrl: url });
    expect(refused).toEqual({
      code: 422,
      msg: 'callBackUrl: not an inbox of this account (use the url that POST /api/v1/inbox returned, exactly)',
      data: null,
    });
    expect(await bob.credit()).toBe(before);
    // Nor at a URL of this service's inbox path that is not exactly an inbox URL.
    expect((await alice.post('/api/v1/generate', { customMode: false, instrumental: true, prompt: 'p', callBackUrl: `${url}?x=1` })).code).toBe(422);

    expect((await alice.get(`/api/v1/inbox/${inboxId}/requests`)).data.requests).toEqual([]);
    expect(await alice.del(`/api/v1/inbox/${inboxId}`)).toEqual({ code: 200, msg: 'success', data: { inboxId } });
    expect((await fetch(url, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it(`an account has at most ${MAX_INBOXES_PER_ACCOUNT} inboxes (429 beyond)`, async () => {
    const me = await harness.account();
    for (let i = 0; i < MAX_INBOXES_PER_ACCOUNT; i++) expect((await me.post('/api/v1/inbox')).code).toBe(200);
    const refused = await fetch(`${harness.base}/api/v1/inbox`, { method: 'POST', headers: { authorization: `Bearer ${me.apiKey}` } });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { msg: string }).msg).toMatch(/^Too many inboxes: at most 10 per account/);
    expect((await me.get('/api/v1/inbox')).data.inboxes).toHaveLength(MAX_INBOXES_PER_ACCOUNT);
  });

  it('documents the inbox and sandbox routes in the OpenAPI document', async () => {
    const openapi = (await (await fetch(`${harness.base}/docs/json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/api/v1/inbox', '/api/v1/inbox/{inboxId}/requests', '/api/v1/inbox/{inboxId}', '/inbox/{token}', '/api/v1/sandbox']),
    );
    expect(openapi.paths['/inbox/{token}']?.post).toMatchObject({ security: [] });
  });
});
