import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type CallbackEvent,
  type CallbackHandlerOptions,
  type CoverImageCallbackEvent,
  createCallbackHandler,
  type DedupeStore,
  signKieWebhook,
  toExpressMiddleware,
  toFastifyPlugin,
  toNodeListener,
  toWebHandler,
  WebhookVerificationError,
} from '../src/index.js';
import { completeBody, deferred, errorBody, post, SECRET, signed, until } from './helpers/callbacks.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
}

function nodeReceiver(options: Partial<CallbackHandlerOptions> = {}) {
  const events: CallbackEvent[] = [];
  const handler = createCallbackHandler({
    secret: SECRET,
    onComplete: (event) => {
      events.push(event);
    },
    onError: (event) => {
      events.push(event);
    },
    ...options,
  });
  return { handler, events, url: listen(http.createServer(toNodeListener(handler))) };
}

describe('createCallbackHandler over node:http', () => {
  it('verifies, answers 200 and runs onComplete once; a duplicate is acknowledged but not processed again', async () => {
    const { events, url } = nodeReceiver();
    const body = completeBody('t1');
    const headers = signed(body);
    expect(await post(await url, body, headers)).toEqual({ status: 200, body: '{"status":"received"}' });
    expect(await post(await url, body, headers)).toEqual({ status: 200, body: '{"status":"duplicate"}' });
    await until(() => events.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      taskId: 't1',
      stage: 'complete',
      scheme: 'standard',
      webhookId: 'msg_t1',
      tracks: [{ audioUrl: 'http://127.0.0.1:1/a.mp3', duration: 20 }],
    });
  });

  it('deduplicates by task + stage even when the webhook-id differs, and by webhook-id', async () => {
    const { events, url } = nodeReceiver();
    const body = completeBody('t2');
    await post(await url, body, signed(body, { id: 'msg_a' }));
    expect((await post(await url, body, signed(body, { id: 'msg_b' }))).body).toBe('{"status":"duplicate"}');
    await until(() => events.length === 1);
  });

  it('answers before the handler finishes (the sender never waits for your work)', async () => {
    const gate = deferred();
    let finished = false;
    const { url } = nodeReceiver({
      onComplete: async () => {
        await gate.promise;
        finished = true;
      },
    });
    const body = completeBody('t3');
    expect((await post(await url, body, signed(body))).status).toBe(200);
    expect(finished).toBe(false);
    gate.resolve();
    await until(() => finished);
  });

  it('a failing handler is reported to onHandlerError, still answered 200, and a redelivery runs it again', async () => {
    const failures: unknown[] = [];
    let calls = 0;
    const { url } = nodeReceiver({
      onComplete: () => {
        calls++;
        if (calls === 1) throw new Error('database down');
      },
      onHandlerError: (error) => failures.push(error),
    });
    const body = completeBody('t4');
    const headers = signed(body);
    expect((await post(await url, body, headers)).status).toBe(200);
    await until(() => failures.length === 1);
    expect(String(failures[0])).toContain('database down');
    expect((await post(await url, body, headers)).body).toBe('{"status":"received"}');
    await until(() => calls === 2);
  });

  it('refuses what does not verify with 401, a malformed payload with 400, and runs nothing', async () => {
    const rejected: string[] = [];
    const { events, url } = nodeReceiver({ onReject: (error) => rejected.push(error.code) });
    const body = completeBody('t5');
    const headers = signed(body);
    const tampered = body.replace('a.mp3', 'b.mp3');
    expect(await post(await url, tampered, headers)).toEqual({ status: 401, body: '{"error":"no_matching_signature"}' });
    const stale = signed(body, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect((await post(await url, body, stale)).status).toBe(401);
    const { 'webhook-signature': _, ...unsigned } = headers;
    expect((await post(await url, body, unsigned)).status).toBe(401);
    const odd = JSON.stringify({ code: 200, data: { callbackType: 'complete', task_id: 't5', data: 'nope' } });
    expect(await post(await url, odd, signed(odd))).toEqual({ status: 400, body: '{"error":"invalid_payload"}' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(events).toHaveLength(0);
    expect(rejected).toEqual(['no_matching_signature', 'timestamp_too_old', 'missing_header', 'invalid_payload']);
  });

  it('405 for other methods, 413 past maxBodyBytes', async () => {
    const { url } = nodeReceiver({ maxBodyBytes: 100 });
    expect((await fetch(await url)).status).toBe(405);
    const body = completeBody('t6');
    expect((await post(await url, body, signed(body))).status).toBe(413);
  });

  it('routes stages: onError for failures, onProgress for text/first', async () => {
    const progress: string[] = [];
    const { events, url } = nodeReceiver({ onProgress: (event) => void progress.push(event.stage) });
    const failure = errorBody('t7');
    await post(await url, failure, signed(failure));
    const text = JSON.stringify({ code: 200, msg: 'Text generation completed successfully.', data: { callbackType: 'text', task_id: 't8', data: [] } });
    await post(await url, text, signed(text));
    await until(() => events.length === 1 && progress.length === 1);
    expect(events[0]).toMatchObject({ stage: 'error', code: 531, error: 'the engine failed', taskId: 't7' });
    expect(progress).toEqual(['text']);
  });

  it('a dedupe store that fails answers 503 so the sender retries later', async () => {
    const broken: DedupeStore = {
      claim: () => {
        throw new Error('redis down');
      },
    };
    const { url } = nodeReceiver({ dedupe: broken });
    const body = completeBody('t9');
    expect((await post(await url, body, signed(body))).status).toBe(503);
  });

  it('dedupe: false processes every copy', async () => {
    const { events, url } = nodeReceiver({ dedupe: false });
    const body = completeBody('t10');
    const headers = signed(body);
    await post(await url, body, headers);
    await post(await url, body, headers);
    await until(() => events.length === 2);
  });
});

describe('signature schemes', () => {
  const body = completeBody('k1');
  const now = Math.floor(Date.now() / 1000);
  const kieOnly = { 'content-type': 'application/json', ...signKieWebhook({ secret: SECRET, taskId: 'k1', timestamp: now }) };

  it('standard (default) refuses a KIE-only request: the KIE signature does not cover the body', async () => {
    const { url } = nodeReceiver();
    expect(await post(await url, body, kieOnly)).toEqual({ status: 401, body: '{"error":"missing_header"}' });
  });

  it('kie accepts KIE.AI-style callbacks and deduplicates them by task + stage', async () => {
    const { events, url } = nodeReceiver({ scheme: 'kie' });
    expect((await post(await url, body, kieOnly)).status).toBe(200);
    expect((await post(await url, body, kieOnly)).body).toBe('{"status":"duplicate"}');
    await until(() => events.length === 1);
    expect(events[0]).toMatchObject({ scheme: 'kie', webhookId: null });
  });

  it('any prefers Standard Webhooks when present', async () => {
    const { events, url } = nodeReceiver({ scheme: 'any' });
    await post(await url, body, kieOnly);
    const other = completeBody('k2');
    await post(await url, other, signed(other));
    await until(() => events.length === 2);
    expect(events.map((e) => e.scheme)).toEqual(['kie', 'standard']);
  });

  it('configuration mistakes fail at start-up, not on every request', () => {
    expect(() => createCallbackHandler({})).toThrow(TypeError);
    expect(() => createCallbackHandler({ secret: 'whsec_***' })).toThrow(WebhookVerificationError);
    expect(() => createCallbackHandler({ scheme: 'kie', publicKeys: 'whpk_x' })).toThrow(TypeError);
  });
});

describe('waitFor', () => {
  it('resolves with a final callback that already came, or when it comes; rejects on abort', async () => {
    const handler = createCallbackHandler({ secret: SECRET });
    const early = completeBody('w1');
    await handler.handle({ headers: signed(early), body: early });
    expect((await handler.waitFor('w1')).taskId).toBe('w1');
    const later = handler.waitFor('w2');
    const failure = errorBody('w2');
    await handler.handle({ headers: signed(failure), body: failure });
    expect(await later).toMatchObject({ stage: 'error', taskId: 'w2' });
    const controller = new AbortController();
    const aborted = handler.waitFor('w3', controller.signal);
    controller.abort(new Error('gave up'));
    await expect(aborted).rejects.toThrow('gave up');
  });
});

describe('KIE scheme replays', () => {
  it('a replay with an altered body (KIE signatures do not cover it) neither runs the handler nor replaces the result', async () => {
    const events: CallbackEvent[] = [];
    const handler = createCallbackHandler({ secret: SECRET, scheme: 'kie', onComplete: (e) => void events.push(e) });
    const genuine = completeBody('r1');
    const headers = { ...signKieWebhook({ secret: SECRET, taskId: 'r1', timestamp: Math.floor(Date.now() / 1000) }) };
    await (await handler.handle({ headers, body: genuine })).process();
    const forged = await handler.handle({ headers, body: completeBody('r1', 'https://evil.example/x.mp3') });
    expect(forged.outcome).toBe('duplicate');
    expect(events).toHaveLength(1);
    expect((await handler.waitFor('r1')).payload.data).toMatchObject({ data: [{ audio_url: 'http://127.0.0.1:1/a.mp3' }] });
  });
});

describe('adapters', () => {
  it('Express: mounted before express.json(), the raw stream is read and verified', async () => {
    const events: CallbackEvent[] = [];
    const handler = createCallbackHandler({ secret: SECRET, onComplete: (e) => void events.push(e) });
    const app = express();
    app.post('/callback', toExpressMiddleware(handler));
    app.use(express.json());
    app.post('/other', (req, res) => void res.json({ parsed: req.body }));
    const url = await listen(http.createServer(app));
    const body = completeBody('e1');
    expect((await post(url, body, signed(body))).status).toBe(200);
    expect(JSON.parse((await post(url.replace('/callback', '/other'), '{"a":1}', { 'content-type': 'application/json' })).body)).toEqual({ parsed: { a: 1 } });
    await until(() => events.length === 1);
  });

  it('Express: behind express.raw() it uses the Buffer; behind express.json() it fails loudly instead of rejecting every signature', async () => {
    const handler = createCallbackHandler({ secret: SECRET, onComplete: () => undefined });
    const app = express();
    app.post('/callback', express.raw({ type: 'application/json' }), toExpressMiddleware(handler));
    app.post('/wrong', express.json(), toExpressMiddleware(handler));
    const errors: string[] = [];
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      errors.push(error.message);
      res.status(500).end();
    });
    const url = await listen(http.createServer(app));
    const body = completeBody('e2');
    expect((await post(url, body, signed(body))).status).toBe(200);
    expect((await post(url.replace('/callback', '/wrong'), body, signed(body))).status).toBe(500);
    expect(errors[0]).toMatch(/raw body is gone.*express\.json/);
  });

  it('Fastify: the plugin keeps raw bytes in its own scope; the app still parses JSON elsewhere', async () => {
    const events: CallbackEvent[] = [];
    const handler = createCallbackHandler({ secret: SECRET, onComplete: (e) => void events.push(e) });
    const app = Fastify();
    await app.register(toFastifyPlugin(handler, { path: '/callback' }));
    app.post('/other', async (request) => ({ parsed: request.body }));
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close());
    const body = completeBody('f1');
    expect(await post(`${address}/callback`, body, signed(body))).toEqual({ status: 200, body: '{"status":"received"}' });
    expect((await post(`${address}/callback`, body.replace('a.mp3', 'b.mp3'), signed(body))).status).toBe(401);
    expect(JSON.parse((await post(`${address}/other`, '{"a":1}', { 'content-type': 'application/json' })).body)).toEqual({ parsed: { a: 1 } });
    await until(() => events.length === 1);
  });

  it('web Request/Response: verifies, answers, then runs the handler (through waitUntil when given)', async () => {
    const events: CallbackEvent[] = [];
    const handler = createCallbackHandler({ secret: SECRET, onComplete: (e) => void events.push(e) });
    const pending: Promise<unknown>[] = [];
    const receive = toWebHandler(handler, { waitUntil: (promise) => void pending.push(promise) });
    const body = completeBody('w10');
    const response = await receive(new Request('http://localhost/callback', { method: 'POST', headers: signed(body), body }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'received' });
    expect(events).toHaveLength(0);
    expect(pending).toHaveLength(1);
    await Promise.all(pending);
    expect(events).toHaveLength(1);
    expect((await receive(new Request('http://localhost/callback'))).status).toBe(405);
    const big = 'x'.repeat(2 * 1024 * 1024);
    expect((await receive(new Request('http://localhost/callback', { method: 'POST', body: big }))).status).toBe(413);
  });

  it('a handler error without onHandlerError goes to console.error, never to an unhandled rejection', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const handler = createCallbackHandler({
      secret: SECRET,
      onComplete: () => {
        throw new Error('oops');
      },
    });
    const body = completeBody('c1');
    const result = await handler.handle({ headers: signed(body), body });
    await result.process();
    expect(spy).toHaveBeenCalledWith(expect.stringContaining('task c1'), expect.any(Error));
    spy.mockRestore();
  });
});

describe('the other callback families', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const coverBody = (taskId: string, images: string[] | null = ['https://x/1.png', 'https://x/2.png']) =>
    JSON.stringify({ code: images ? 200 : 501, msg: images ? 'success' : 'Cover generation failed', data: { taskId, images } });
  const sourcedBody = (taskId: string) => {
    const body = JSON.parse(completeBody(taskId)) as { data: { data: Array<Record<string, unknown>> } };
    for (const track of body.data.data)
      Object.assign(track, { source_audio_url: 'https://x/src.mp3', source_stream_audio_url: 'https://x/src', source_image_url: 'https://x/src.jpeg' });
    return JSON.stringify(body);
  };

  it.each(['standard', 'kie'] as const)('cover images (data.taskId) reach onCoverImage, success and failure, under the %s scheme', async (scheme) => {
    const covers: CoverImageCallbackEvent[] = [];
    const music: CallbackEvent[] = [];
    const handler = createCallbackHandler({
      secret: SECRET,
      scheme,
      onCoverImage: (event) => void covers.push(event),
      onComplete: (event) => void music.push(event),
      onError: (event) => void music.push(event),
    });
    for (const [taskId, body] of [
      [`c1${scheme}`, coverBody(`c1${scheme}`)],
      [`c2${scheme}`, coverBody(`c2${scheme}`, null)],
    ] as const) {
      const headers = scheme === 'kie' ? signKieWebhook({ secret: SECRET, taskId, timestamp: now() }) : signed(body, { taskId });
      const response = await handler.handle({ headers, body });
      expect(response.outcome).toBe('accepted');
      await response.process();
    }
    expect(music).toHaveLength(0);
    expect(covers).toMatchObject([
      { family: 'cover_image', taskId: `c1${scheme}`, stage: 'complete', code: 200, images: ['https://x/1.png', 'https://x/2.png'], error: null, scheme },
      { family: 'cover_image', taskId: `c2${scheme}`, stage: 'error', code: 501, images: [], error: 'Cover generation failed', scheme },
    ]);
  });

  it('music tracks made from an upload carry their source URLs into the event', async () => {
    const events: CallbackEvent[] = [];
    const handler = createCallbackHandler({ secret: SECRET, scheme: 'kie', onComplete: (event) => void events.push(event) });
    const body = sourcedBody('s1');
    await (await handler.handle({ headers: signKieWebhook({ secret: SECRET, taskId: 's1', timestamp: now() }), body })).process();
    expect(events[0]).toMatchObject({
      family: 'music',
      tracks: [{ sourceAudioUrl: 'https://x/src.mp3', sourceStreamAudioUrl: 'https://x/src', sourceImageUrl: 'https://x/src.jpeg' }],
    });
  });

  it('KIE scheme: the signature must be over the id under the key the body uses; a body naming two tasks is refused', async () => {
    const handler = createCallbackHandler({ secret: SECRET, scheme: 'kie', onCoverImage: () => undefined });
    const body = coverBody('c3');
    const wrong = await handler.handle({ headers: signKieWebhook({ secret: SECRET, taskId: 'c4', timestamp: now() }), body });
    expect(wrong).toMatchObject({ status: 401, outcome: 'rejected' });
    const two = JSON.stringify({ code: 200, msg: 'success', data: { taskId: 'c3', task_id: 'other', images: ['https://x/1.png'] } });
    const ambiguous = await handler.handle({ headers: signKieWebhook({ secret: SECRET, taskId: 'c3', timestamp: now() }), body: two });
    expect(ambiguous).toMatchObject({ status: 400, body: '{"error":"invalid_payload"}' });
  });
});
