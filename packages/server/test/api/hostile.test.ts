import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SOURCE_MAX_S } from '../../src/config.js';
import { MAX_SONG_S } from '../../src/engine/procedural/common.js';
import type { Services } from '../../src/services.js';
import { sineWav } from '../helpers/audio.js';
import { uploadedWav } from '../helpers/fixtures.js';
import { closeServices, createTestAccount, createTestApp, createTestServices, type TestAccount } from '../helpers/services.js';
import { type StoreTarget, storeTargets } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

/** A source server on 127.0.0.1 that counts every connection made to it. */
async function countingSource(body: Buffer): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'audio/wav', 'content-length': body.byteLength });
    response.end(body);
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/song.wav`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const cover = (uploadUrl: string) => ({ uploadUrl, customMode: false, instrumental: true, prompt: 'a calm cover', callBackUrl: 'https://example.com/cb' });

describe.each(storeTargets())('hostile load on $name: rules checked before an outbound download', (target) => {
  let services: Services;
  let app: FastifyInstance;
  let source: Awaited<ReturnType<typeof countingSource>>;

  beforeAll(async () => {
    services = await createTestServices(target, { REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8', REPRISE_RATE_LIMIT: '1/60s' });
    app = await createTestApp(services);
    source = await countingSource(sineWav(20, 8000, 1));
  });
  afterAll(async () => {
    await app.close();
    await source.close();
    await closeServices(services);
  });

  it('answers a zero-credit account 402 without connecting to its uploadUrl', async () => {
    const broke = await createTestAccount(services, 0);
    const before = source.connections();
    const response = await app.inject({ method: 'POST', url: '/api/v1/generate/upload-cover', headers: broke.auth, payload: cover(source.url) });
    expect(response.json()).toMatchObject({ code: 402 });
    expect(response.json().msg).toMatch(/^Insufficient credits/);
    expect(source.connections() - before).toBe(0);
  });

  it('answers a rate-limited account 429 without connecting, and fetches for an account the rules admit', async () => {
    const rich = await createTestAccount(services, 1000);
    const first = await app.inject({ method: 'POST', url: '/api/v1/generate/upload-cover', headers: rich.auth, payload: cover(source.url) });
    expect(first.json()).toMatchObject({ code: 200 });
    const afterFirst = source.connections();
    expect(afterFirst).toBeGreaterThan(0);
    const second = await app.inject({ method: 'POST', url: '/api/v1/generate/upload-cover', headers: rich.auth, payload: cover(source.url) });
    expect(second.json()).toMatchObject({ code: 429 });
    expect(second.json().msg).toMatch(/^Rate limit exceeded/);
    expect(source.connections()).toBe(afterFirst);
  });
});

/** A multipart upload whose file part is written by the test, chunk by chunk, as a slow client would. */
function streamedUpload(uploadPath = 'hostile') {
  const boundary = `----reprise${randomBytes(8).toString('hex')}`;
  const body = new PassThrough();
  body.write(`--${boundary}\r\nContent-Disposition: form-data; name="uploadPath"\r\n\r\n${uploadPath}\r\n`);
  body.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="song.wav"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  return {
    body,
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    finish(content: Buffer) {
      body.write(content);
      body.end(`\r\n--${boundary}--\r\n`);
    },
  };
}

function blobFiles(services: Services): string[] {
  const root = path.join(services.config.dataDir, 'blobs');
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter((entry) => fs.statSync(path.join(root, entry)).isFile());
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(storeTargets())('hostile load on $name: uploads stream with bounded concurrency', (target) => {
  const MAX = 2_000_000;
  let services: Services;
  let app: FastifyInstance;
  let alice: TestAccount;
  let bob: TestAccount;

  beforeAll(async () => {
    services = await createTestServices(target, {
      REPRISE_UPLOAD_MAX_BYTES: String(MAX),
      REPRISE_UPLOADS_PER_ACCOUNT: '2',
      REPRISE_UPLOADS_MAX: '3',
    });
    app = await createTestApp(services);
    alice = await createTestAccount(services);
    bob = await createTestAccount(services);
  });
  afterAll(async () => {
    await app.close();
    await closeServices(services);
  });

  const upload = (account: TestAccount, content: Buffer) => {
    const request = streamedUpload();
    request.finish(content);
    return app.inject({ method: 'POST', url: '/api/file-stream-upload', headers: { ...account.auth, ...request.headers }, payload: request.body });
  };

  it('stores a file larger than the sniffed head byte for byte', async () => {
    const song = sineWav(90, 8000, 1); // 1.44 MB: well past the head held in memory
    const answer = (await upload(alice, song)).json();
    expect(answer).toMatchObject({ code: 200, data: { fileSize: song.byteLength, mimeType: 'audio/wav' } });
    const row = await services.store.db.selectFrom('files').select('blob_key').where('file_path', '=', answer.data.filePath).executeTakeFirstOrThrow();
    expect((await services.blobs.get(row.blob_key)).equals(song)).toBe(true);
  });

  it('refuses a file over the limit with 413 while streaming, leaving no blob', async () => {
    const before = blobFiles(services).length;
    const answer = (await upload(alice, sineWav(150, 8000, 1))).json(); // 2.4 MB > 2 MB
    expect(answer).toMatchObject({ code: 413, msg: `file: is larger than the upload limit of ${MAX} bytes` });
    expect(blobFiles(services)).toHaveLength(before);
  });

  it('refuses a large file that is not audio with the same message as ever, leaving no blob', async () => {
    const before = blobFiles(services).length;
    const answer = (await upload(alice, Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(1_000_000, 7)]))).json();
    expect(answer).toMatchObject({ code: 422, msg: 'file: is not MP3 or WAV audio (a PDF document is neither MP3 nor WAV)' });
    expect(blobFiles(services)).toHaveLength(before);
  });

  it('answers 429 past the per-account and the overall cap, and frees the slots when uploads end', async () => {
    const song = sineWav(2, 8000, 1);
    const open = [streamedUpload(), streamedUpload(), streamedUpload()];
    const started = [
      app.inject({ method: 'POST', url: '/api/file-stream-upload', headers: { ...alice.auth, ...open[0]?.headers }, payload: open[0]?.body }),
      app.inject({ method: 'POST', url: '/api/file-stream-upload', headers: { ...alice.auth, ...open[1]?.headers }, payload: open[1]?.body }),
    ];
    await settle(300);
    const third = (await upload(alice, song)).json();
    expect(third).toMatchObject({ code: 429 });
    expect(third.msg).toMatch(/at most 2 per account/);
    started.push(app.inject({ method: 'POST', url: '/api/file-stream-upload', headers: { ...bob.auth, ...open[2]?.headers }, payload: open[2]?.body }));
    await settle(300);
    const overall = (await upload(bob, song)).json();
    expect(overall).toMatchObject({ code: 429 });
    expect(overall.msg).toMatch(/on this server \(at most 3\)/);
    for (const request of open) request.finish(song);
    expect((await Promise.all(started)).map((answer) => answer.json().code)).toEqual([200, 200, 200]);
    expect((await upload(alice, song)).json()).toMatchObject({ code: 200 });
  });
});

/** Writes `head` on a raw socket, then one byte every `everyMs`; resolves with what came back and when the server closed it. */
function trickle(port: number, head: string, everyMs: number, giveUpMs: number): Promise<{ answer: string; closedAfterMs: number; bytesSent: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    let bytesSent = 0;
    socket.on('connect', () => socket.write(head));
    const timer = setInterval(() => {
      if (socket.writable) {
        socket.write('A');
        bytesSent += 1;
      }
    }, everyMs);
    const giveUp = setTimeout(() => socket.destroy(), giveUpMs);
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ answer, closedAfterMs: Date.now() - started, bytesSent });
    });
  });
}

describe('hostile load: slow clients are cut off', () => {
  let services: Services;
  let app: FastifyInstance;
  let port: number;
  let alice: TestAccount;

  beforeAll(async () => {
    const [sqlite] = storeTargets();
    services = await createTestServices(sqlite as StoreTarget, {
      REPRISE_HEADERS_TIMEOUT_S: '1',
      REPRISE_REQUEST_TIMEOUT_S: '3',
    });
    app = await createTestApp(services);
    alice = await createTestAccount(services);
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app.close();
    await closeServices(services);
  });

  it('closes a request whose body comes one byte every 2 s once the request deadline passes', async () => {
    const head = `POST /api/file-base64-upload HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${alice.auth.authorization}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`;
    const { answer, closedAfterMs, bytesSent } = await trickle(port, head, 2000, 20_000);
    expect(closedAfterMs).toBeLessThan(8000);
    expect(bytesSent).toBeLessThan(5);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  }, 25_000);

  it('closes a connection whose headers never finish', async () => {
    const { answer, closedAfterMs } = await trickle(port, 'GET /api/v1/chat/credit HTTP/1.1\r\nHost: 127.0.0.1\r\n', 400, 20_000);
    expect(closedAfterMs).toBeLessThan(5000);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  }, 25_000);
});

describe.each(storeTargets())('hostile load on $name: event streams bounded per account', (target) => {
  let services: Services;
  let app: FastifyInstance;
  let base: string;
  let alice: TestAccount;
  let bob: TestAccount;

  beforeAll(async () => {
    services = await createTestServices(target, { REPRISE_EVENT_STREAMS_PER_ACCOUNT: '2' });
    app = await createTestApp(services);
    alice = await createTestAccount(services);
    bob = await createTestAccount(services);
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.close();
    await closeServices(services);
  });

  async function taskOf(account: TestAccount): Promise<string> {
    const uploadUrl = await uploadedWav(services, account.account.id, 60);
    const submitted = await app.inject({
      method: 'POST',
      url: '/api/v1/generate/replace-section',
      headers: { ...account.auth, 'content-type': 'application/json' },
      payload: { uploadUrl, prompt: 'jazz piano', tags: 'Jazz', title: 'New', infillStartS: 12, infillEndS: 24 },
    });
    return (submitted.json() as { data: { taskId: string } }).data.taskId;
  }

  const open = (account: TestAccount, taskId: string) => fetch(`${base}/api/v1/tasks/${taskId}/events`, { headers: account.auth });

  it('answers the stream past the limit 429, for that account only, and counts a closed one as gone', async () => {
    const alicesTask = await taskOf(alice);
    const first = await open(alice, alicesTask);
    const second = await open(alice, alicesTask);
    expect(first.headers.get('content-type')).toBe('text/event-stream');
    expect(second.headers.get('content-type')).toBe('text/event-stream');
    const third = await open(alice, alicesTask);
    expect(await third.json()).toMatchObject({ code: 429 });

    const bobs = await open(bob, await taskOf(bob));
    expect(bobs.headers.get('content-type')).toBe('text/event-stream');

    await first.body?.cancel();
    const again = await waitFor(
      async () => {
        const attempt = await open(alice, alicesTask);
        if (attempt.headers.get('content-type') === 'text/event-stream') return attempt;
        await attempt.body?.cancel();
        return undefined;
      },
      5000,
      'a slot freed by the closed stream',
    );
    for (const stream of [second, bobs, again]) await stream.body?.cancel();
  });
});

describe.each(storeTargets())('hostile load on $name: the longest source', (target) => {
  let services: Services;
  let app: FastifyInstance;
  let alice: TestAccount;

  beforeAll(async () => {
    services = await createTestServices(target, { REPRISE_SOURCE_MAX_S: '30' });
    app = await createTestApp(services);
    alice = await createTestAccount(services, 1000);
  });
  afterAll(async () => {
    await app.close();
    await closeServices(services);
  });

  const replace = (uploadUrl: string) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/generate/replace-section',
      headers: { ...alice.auth, 'content-type': 'application/json' },
      payload: { uploadUrl, prompt: 'jazz piano', tags: 'Jazz', title: 'New', infillStartS: 2, infillEndS: 10 },
    });

  it('defaults to the longest song the procedural engine renders', () => {
    expect(DEFAULT_SOURCE_MAX_S).toBe(MAX_SONG_S);
  });

  it('refuses a source longer than REPRISE_SOURCE_MAX_S with 422 before anything is written or charged', async () => {
    const tasksBefore = await services.store.db.selectFrom('tasks').select('id').execute();
    const answer = (await replace(await uploadedWav(services, alice.account.id, 40))).json();
    expect(answer).toMatchObject({ code: 422, msg: 'uploadUrl: the source is 40 s long; sources of at most 30 s are accepted' });
    expect(await services.store.db.selectFrom('tasks').select('id').execute()).toHaveLength(tasksBefore.length);
    const account = await services.store.db.selectFrom('accounts').select('balance').where('id', '=', alice.account.id).executeTakeFirstOrThrow();
    expect(Number(account.balance)).toBe(1000);
    expect((await replace(await uploadedWav(services, alice.account.id, 30))).json()).toMatchObject({ code: 200 });
  });
});
