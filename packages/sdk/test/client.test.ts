import { afterEach, describe, expect, it } from 'vitest';
import { Client, RepriseConnectionError, RepriseError } from '../src/index.js';
import { fakeApi, json, ok, record } from './helpers/fake-api.js';

type Api = Awaited<ReturnType<typeof fakeApi>>;
let api: Api | null = null;
afterEach(async () => {
  await api?.close();
  api = null;
});

const quick = { retryBaseDelayMs: 5, retryMaxDelayMs: 50 };

describe('Client', () => {
  it('sends the bearer key and JSON, and resolves with the envelope data', async () => {
    api = await fakeApi({
      'POST /api/v1/generate/replace-section': (_r, res) => json(res, 200, ok({ taskId: 'a'.repeat(32) })),
      'GET /api/v1/chat/credit': (_r, res) => json(res, 200, ok(95)),
    });
    const client = new Client({ apiKey: 'rk_test', baseUrl: `${api.url}/` });
    const request = { uploadUrl: 'https://x/a.wav', prompt: 'jazz piano', tags: 'Jazz', title: 'T', infillStartS: 12, infillEndS: 24 };
    expect(await client.replaceSection(request)).toEqual({ taskId: 'a'.repeat(32) });
    expect(await client.getCredits()).toBe(95);
    const [submit] = api.seen;
    expect(submit?.headers.authorization).toBe('Bearer rk_test');
    expect(submit?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(submit?.body.toString() ?? '')).toEqual(request);
  });

  it('an error envelope becomes a RepriseError with code and msg (HTTP status = code, or KIE-style HTTP 200)', async () => {
    api = await fakeApi({
      'POST /api/v1/generate': (_r, res) => json(res, 422, { code: 422, msg: 'infillEndS: must be greater than infillStartS', data: null }),
      'GET /api/v1/chat/credit': (_r, res) => json(res, 200, { code: 401, msg: 'You do not have access permissions', data: null }),
    });
    const client = new Client({ apiKey: 'k', baseUrl: api.url, ...quick });
    const error = await client.generate({ customMode: false, instrumental: true, prompt: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RepriseError);
    expect(error).toMatchObject({ code: 422, msg: 'infillEndS: must be greater than infillStartS', httpStatus: 422 });
    await expect(client.getCredits()).rejects.toMatchObject({ code: 401, httpStatus: 200 });
  });

  it('retries idempotent reads on 429/503 with Retry-After, then succeeds', async () => {
    let calls = 0;
    api = await fakeApi({
      'GET /api/v1/generate/record-info': (_r, res) => {
        calls++;
        if (calls === 1) return json(res, 429, { code: 429, msg: 'rate limited', data: null }, { 'retry-after': '0' });
        if (calls === 2) return json(res, 503, { code: 503, msg: 'unavailable', data: null });
        json(res, 200, ok(record('t', 'SUCCESS')));
      },
    });
    const client = new Client({ apiKey: 'k', baseUrl: api.url, ...quick });
    expect((await client.getTask('t')).status).toBe('SUCCESS');
    expect(calls).toBe(3);
    expect(api.seen[0]?.path).toBe('/api/v1/generate/record-info?taskId=t');
  });

  it('gives up after `retries` extra attempts', async () => {
    api = await fakeApi({ 'GET /api/v1/chat/credit': (_r, res) => json(res, 500, { code: 500, msg: 'boom', data: null }) });
    const client = new Client({ apiKey: 'k', baseUrl: api.url, retries: 2, ...quick });
    await expect(client.getCredits()).rejects.toMatchObject({ code: 500 });
    expect(api.seen).toHaveLength(3);
  });

  it('never retries a task submission or an upload, whatever the error', async () => {
    api = await fakeApi({
      'POST /api/v1/generate': (_r, res) => json(res, 503, { code: 503, msg: 'unavailable', data: null }),
      'POST /api/v1/generate/replace-section': (_r, res) => json(res, 429, { code: 429, msg: 'rate limited', data: null }),
      'POST /api/file-base64-upload': (_r, res) => void res.destroy(),
    });
    const client = new Client({ apiKey: 'k', baseUrl: api.url, ...quick });
    await expect(client.generate({ customMode: false, instrumental: true, prompt: 'x' })).rejects.toMatchObject({ code: 503 });
    await expect(
      client.replaceSection({ taskId: 't', audioId: 'a', prompt: 'p', tags: 't', title: 't', infillStartS: 0, infillEndS: 10 }),
    ).rejects.toMatchObject({ code: 429 });
    await expect(client.uploadBase64({ data: new Uint8Array(4), uploadPath: 'x' })).rejects.toBeInstanceOf(RepriseConnectionError);
    expect(api.seen.map((s) => s.method)).toEqual(['POST', 'POST', 'POST']);
  });

  it('retries a submission that carries an idempotency key, sending the same key each time', async () => {
    let calls = 0;
    api = await fakeApi({
      'POST /api/v1/generate': (_r, res) => {
        calls++;
        if (calls === 1) return void res.destroy();
        if (calls === 2) return json(res, 503, { code: 503, msg: 'unavailable', data: null });
        json(res, 200, ok({ taskId: 'b'.repeat(32) }));
      },
      'POST /api/v1/generate/mashup': (_r, res) => json(res, 409, { code: 409, msg: 'Idempotency-Key was already used with a different request', data: null }),
    });
    const client = new Client({ apiKey: 'k', baseUrl: api.url, ...quick });
    const request = { customMode: false, instrumental: true, prompt: 'x' } as const;
    expect(await client.generate(request, { idempotencyKey: 'order-17' })).toEqual({ taskId: 'b'.repeat(32) });
    expect(api.seen.map((s) => s.headers['idempotency-key'])).toEqual(['order-17', 'order-17', 'order-17']);
    expect(new Set(api.seen.map((s) => s.body.toString())).size).toBe(1);
    // A refusal that is not worth another try (the key named another request) is not retried.
    const mashup = client.mashup(
      { uploadUrlList: ['https://x/a.mp3', 'https://x/b.mp3'], customMode: false, prompt: 'x', model: 'V4', callBackUrl: 'https://x/cb' },
      { idempotencyKey: 'order-17' },
    );
    await expect(mashup).rejects.toMatchObject({ code: 409 });
    expect(api.seen).toHaveLength(4);
  });

  it('times out per attempt with a RepriseConnectionError (timedOut), and honours an AbortSignal', async () => {
    api = await fakeApi({ 'GET /api/v1/chat/credit': () => undefined /* never answers */ });
    const client = new Client({ apiKey: 'k', baseUrl: api.url, timeoutMs: 400, retries: 1, ...quick });
    const error = await client.getCredits().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RepriseConnectionError);
    expect((error as RepriseConnectionError).timedOut).toBe(true);
    expect(api.seen).toHaveLength(2);
    const controller = new AbortController();
    const pending = client.getCredits({ signal: controller.signal, timeoutMs: 10_000 });
    setTimeout(() => controller.abort(new Error('stop')), 50);
    await expect(pending).rejects.toThrow('stop');
  });

  it('a non-envelope answer (an HTML error page) is a RepriseError with the HTTP status', async () => {
    api = await fakeApi({
      'GET /api/v1/chat/credit': (_r, res) => {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html>bad gateway</html>');
      },
    });
    const client = new Client({ apiKey: 'k', baseUrl: api.url, retries: 0 });
    await expect(client.getCredits()).rejects.toMatchObject({ code: 502, httpStatus: 502 });
  });

  it('uploads: multipart stream, base64 and URL, to the upload base URL', async () => {
    const uploaded = {
      fileName: 'a.wav',
      filePath: 'songs/a.wav',
      downloadUrl: 'http://x/files/a.wav',
      fileUrl: 'http://x/files/a.wav',
      fileSize: 4,
      mimeType: 'audio/wav',
      uploadedAt: 'now',
    };
    const answer = { success: true, code: 200, msg: 'File uploaded successfully', data: uploaded };
    api = await fakeApi({
      'POST /api/file-stream-upload': (_r, res) => json(res, 200, answer),
      'POST /api/file-base64-upload': (_r, res) => json(res, 200, answer),
      'POST /api/file-url-upload': (_r, res) => json(res, 200, answer),
    });
    const client = new Client({ apiKey: 'k', baseUrl: 'http://127.0.0.1:9', uploadBaseUrl: api.url });
    expect(await client.uploadFile({ file: new Uint8Array([1, 2, 3, 4]), uploadPath: 'songs', fileName: 'a.wav', contentType: 'audio/wav' })).toEqual(uploaded);
    expect(await client.uploadBase64({ data: new Uint8Array([1, 2, 3, 4]), uploadPath: 'songs' })).toEqual(uploaded);
    expect(await client.uploadFromUrl({ fileUrl: 'https://example.com/a.wav', uploadPath: 'songs' })).toEqual(uploaded);
    const [stream, base64, url] = api.seen;
    expect(stream?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(stream?.body.toString('latin1')).toContain('name="file"; filename="a.wav"');
    expect(stream?.body.toString('latin1')).toContain('\x01\x02\x03\x04');
    expect(JSON.parse(base64?.body.toString() ?? '')).toEqual({ base64Data: 'AQIDBA==', uploadPath: 'songs' });
    expect(JSON.parse(url?.body.toString() ?? '')).toEqual({ fileUrl: 'https://example.com/a.wav', uploadPath: 'songs' });
  });

  it('an upload answer with success:false is an error', async () => {
    api = await fakeApi({ 'POST /api/file-url-upload': (_r, res) => json(res, 200, { success: false, code: 200, msg: 'File upload failed', data: null }) });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    await expect(client.uploadFromUrl({ fileUrl: 'https://e/a.wav', uploadPath: 's' })).rejects.toBeInstanceOf(RepriseError);
  });

  it('defaults to KIE.AI: api.kie.ai for the API, its upload host for files', () => {
    const client = new Client({ apiKey: 'k' });
    expect(client.baseUrl).toBe('https://api.kie.ai');
    expect(client.uploadBaseUrl).toBe('https://kieai.redpandaai.co');
    expect(new Client({ apiKey: 'k', baseUrl: 'http://127.0.0.1:3000/' }).uploadBaseUrl).toBe('http://127.0.0.1:3000');
    expect(() => new Client({ apiKey: '' })).toThrow(TypeError);
  });

  it("getTask turns KIE's `response: null` (task still running) into an empty track list", async () => {
    api = await fakeApi({ 'GET /api/v1/generate/record-info': (_r, res) => json(res, 200, ok({ ...record('t', 'PENDING'), response: null })) });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    expect((await client.getTask('t')).response).toEqual({ taskId: 't', sunoData: [] });
  });

  it('callbacks log and redelivery', async () => {
    api = await fakeApi({
      'GET /api/v1/tasks/t/callbacks': (_r, res) => json(res, 200, ok([{ deliveryId: 'msg_1', stage: 'complete', status: 'delivered' }])),
      'POST /api/v1/tasks/t/callbacks/redeliver': (_r, res) => json(res, 200, ok({ deliveryId: 'msg_1' })),
    });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    expect(await client.getCallbacks('t')).toEqual([{ deliveryId: 'msg_1', stage: 'complete', status: 'delivered' }]);
    expect(await client.redeliverCallback('t')).toEqual({ deliveryId: 'msg_1' });
  });

  it('events: an async iterator over the SSE stream; breaking out closes the connection', async () => {
    let closed = false;
    api = await fakeApi({
      'GET /api/v1/tasks/t/events': (_r, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: status\ndata: {"taskId":"t","status":"PENDING"}\n\n: keep-alive\n\n');
        res.write('event: status\ndata: {"taskId":"t","sta');
        setTimeout(() => res.write('tus":"FIRST_SUCCESS"}\n\nevent: other\ndata: x\n\n'), 20);
        res.on('close', () => {
          closed = true;
        });
      },
    });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    const statuses: string[] = [];
    for await (const event of client.events('t')) {
      statuses.push(event.status);
      if (event.status === 'FIRST_SUCCESS') break;
    }
    expect(statuses).toEqual(['PENDING', 'FIRST_SUCCESS']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(true);
  });

  it('events: a missing endpoint (KIE.AI) is a RepriseError', async () => {
    api = await fakeApi({});
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    const iterator = client.events('t');
    await expect(iterator.next()).rejects.toMatchObject({ code: 404 });
  });
});
