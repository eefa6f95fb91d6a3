import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentDisposition, parseRange } from '../../src/api/files.js';
import { fileUrls, registerFile } from '../../src/files/index.js';
import type { Services } from '../../src/services.js';
import { closeServices, createTestAccount, createTestApp, createTestServices, TEST_PUBLIC_URL, type TestAccount } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';

describe('Range parsing', () => {
  it('answers the documented cases', () => {
    expect(parseRange(undefined, 1000)).toEqual({ kind: 'full' });
    expect(parseRange('bytes=0-99', 1000)).toEqual({ kind: 'partial', start: 0, end: 99 });
    expect(parseRange('bytes=900-', 1000)).toEqual({ kind: 'partial', start: 900, end: 999 });
    expect(parseRange('bytes=-100', 1000)).toEqual({ kind: 'partial', start: 900, end: 999 });
    expect(parseRange('bytes=-5000', 1000)).toEqual({ kind: 'partial', start: 0, end: 999 });
    expect(parseRange('bytes=500-5000', 1000)).toEqual({ kind: 'partial', start: 500, end: 999 });
    expect(parseRange('bytes=1000-', 1000)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 1000)).toEqual({ kind: 'unsatisfiable' });
    // Ignored: several ranges, other units, nonsense, backwards.
    for (const header of ['bytes=0-1,5-6', 'items=0-1', 'bytes=abc', 'bytes=-', 'bytes=9-3', '']) expect(parseRange(header, 1000)).toEqual({ kind: 'full' });
  });

  it('only ever answers a range inside the file', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.option(fc.nat(20_000)), fc.option(fc.nat(20_000)), (size, first, last) => {
        const header = `bytes=${first ?? ''}-${last ?? ''}`;
        const result = parseRange(header, size);
        if (result.kind === 'partial') {
          expect(result.start).toBeGreaterThanOrEqual(0);
          expect(result.start).toBeLessThanOrEqual(result.end);
          expect(result.end).toBeLessThan(size);
          if (first !== null) expect(result.start).toBe(first);
          if (first === null && last !== null) expect(result.end - result.start + 1).toBe(Math.min(last, size));
        } else if (result.kind === 'unsatisfiable') {
          expect(first === null ? last === 0 || size === 0 : first >= size).toBe(true);
        } else {
          expect((first === null && last === null) || (first !== null && last !== null && last < first)).toBe(true);
        }
      }),
    );
  });

  it('names downloads safely for any file name', () => {
    expect(contentDisposition('naïve "take" (1).wav')).toBe(`inline; filename="na_ve _take_ (1).wav"; filename*=UTF-8''na%C3%AFve%20%22take%22%20%281%29.wav`);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (name) => {
        const header = contentDisposition(name);
        expect(header).toMatch(/^[\x20-\x7e]*$/);
        const encoded = /filename\*=UTF-8''(.*)$/.exec(header)?.[1] ?? '';
        expect(decodeURIComponent(encoded)).toBe(name);
      }),
    );
  });
});

describe.each(storeTargets())('file serving on $name', (target) => {
  let services: Services;
  let app: FastifyInstance;
  let alice: TestAccount;
  const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) % 256));
  let token: string;

  async function addFile(blobKey: string, content: Buffer, overrides: { expiresAt?: number; fileName?: string; contentType?: string } = {}): Promise<string> {
    await services.blobs.put(blobKey, content);
    return registerFile(
      services.store.db,
      {
        accountId: alice.account.id,
        kind: 'audio',
        blobKey,
        contentType: overrides.contentType ?? 'audio/mpeg',
        size: content.length,
        fileName: overrides.fileName ?? 'Song One.mp3',
        expiresAt: overrides.expiresAt ?? Date.now() + 3_600_000,
      },
      Date.now(),
    );
  }

  beforeAll(async () => {
    services = await createTestServices(target);
    app = await createTestApp(services);
    alice = await createTestAccount(services);
    token = await addFile('tasks/t1/0.mp3', bytes);
  });
  afterAll(async () => {
    await app.close();
    await closeServices(services);
  });

  const get = (url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') => app.inject({ method, url, headers });
  const path = (url: string) => url.slice(TEST_PUBLIC_URL.length);

  it('serves every URL form of a file without an API key, with cache and type headers', async () => {
    const urls = fileUrls(TEST_PUBLIC_URL, token);
    for (const url of [urls.audio, urls.stream, urls.image, `${TEST_PUBLIC_URL}/files/${token}`, urls.named('Song One.mp3')]) {
      const response = await get(path(url));
      expect(response.statusCode).toBe(200);
      expect(response.rawPayload.equals(bytes)).toBe(true);
      expect(response.headers['content-type']).toBe('audio/mpeg');
      expect(response.headers['content-length']).toBe('1000');
      expect(response.headers['accept-ranges']).toBe('bytes');
      expect(response.headers.etag).toBe(`"${token}-1000"`);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      const maxAge = Number(/^private, max-age=(\d+)$/.exec(String(response.headers['cache-control']))?.[1]);
      expect(maxAge).toBeGreaterThan(3500);
      expect(maxAge).toBeLessThanOrEqual(3600);
    }
  });

  it('names the download only on the named URL, with the stored name', async () => {
    const urls = fileUrls(TEST_PUBLIC_URL, token);
    expect((await get(path(urls.stream))).headers['content-disposition']).toBeUndefined();
    expect((await get(path(urls.audio))).headers['content-disposition']).toBeUndefined();
    expect((await get(path(urls.named('Song One.mp3')))).headers['content-disposition']).toBe(
      `inline; filename="Song One.mp3"; filename*=UTF-8''Song%20One.mp3`,
    );
  });

  it('answers single ranges with 206 and Content-Range', async () => {
    const url = path(fileUrls(TEST_PUBLIC_URL, token).stream);
    const cases: Array<[string, number, number]> = [
      ['bytes=0-99', 0, 99],
      ['bytes=900-', 900, 999],
      ['bytes=-100', 900, 999],
      ['bytes=-5000', 0, 999],
      ['bytes=990-5000', 990, 999],
      ['bytes=500-500', 500, 500],
    ];
    for (const [range, start, end] of cases) {
      const response = await get(url, { range });
      expect(response.statusCode).toBe(206);
      expect(response.headers['content-range']).toBe(`bytes ${start}-${end}/1000`);
      expect(response.headers['content-length']).toBe(String(end - start + 1));
      expect(response.rawPayload.equals(bytes.subarray(start, end + 1))).toBe(true);
    }
  });

  it('answers 416 with the size for an unsatisfiable range', async () => {
    const url = path(fileUrls(TEST_PUBLIC_URL, token).stream);
    for (const range of ['bytes=1000-', 'bytes=5000-6000', 'bytes=-0']) {
      const response = await get(url, { range });
      expect(response.statusCode).toBe(416);
      expect(response.headers['content-range']).toBe('bytes */1000');
      expect(response.json()).toEqual({ code: 416, msg: `Range: ${range} cannot be satisfied for a file of 1000 bytes`, data: null });
    }
  });

  it('serves the whole file for several ranges or an invalid one', async () => {
    const url = path(fileUrls(TEST_PUBLIC_URL, token).stream);
    for (const range of ['bytes=0-1,5-6', 'bytes=9-3', 'pages=1-2']) {
      const response = await get(url, { range });
      expect(response.statusCode).toBe(200);
      expect(response.rawPayload.equals(bytes)).toBe(true);
    }
  });

  it('answers HEAD with the headers alone', async () => {
    const url = path(fileUrls(TEST_PUBLIC_URL, token).audio);
    const head = await get(url, {}, 'HEAD');
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe('1000');
    expect(head.headers['content-type']).toBe('audio/mpeg');
    expect(head.headers['accept-ranges']).toBe('bytes');
    expect(head.rawPayload.length).toBe(0);
    const partial = await get(url, { range: 'bytes=10-19' }, 'HEAD');
    expect(partial.statusCode).toBe(206);
    expect(partial.headers['content-length']).toBe('10');
    expect(partial.headers['content-range']).toBe('bytes 10-19/1000');
    expect(partial.rawPayload.length).toBe(0);
  });

  it('honours If-None-Match and If-Range', async () => {
    const url = path(fileUrls(TEST_PUBLIC_URL, token).stream);
    const etag = `"${token}-1000"`;
    expect((await get(url, { 'if-none-match': etag })).statusCode).toBe(304);
    expect((await get(url, { 'if-none-match': '"other"' })).statusCode).toBe(200);
    expect((await get(url, { range: 'bytes=0-9', 'if-range': etag })).statusCode).toBe(206);
    const stale = await get(url, { range: 'bytes=0-9', 'if-range': '"old"' });
    expect(stale.statusCode).toBe(200);
    expect(stale.rawPayload.equals(bytes)).toBe(true);
  });

  it('answers 404 for unknown, malformed and expired tokens and for a missing blob', async () => {
    const expired = await addFile('tasks/t2/0.mp3', bytes, { expiresAt: Date.now() - 1 });
    const orphan = await addFile('tasks/t3/0.mp3', bytes);
    await services.blobs.delete('tasks/t3/0.mp3');
    const urls = [
      `/files/${'A'.repeat(32)}.mp3`,
      `/files/${'A'.repeat(32)}/stream`,
      '/files/short.mp3',
      `/files/${token}x`,
      `/files/${expired}.mp3`,
      `/files/${expired}/stream`,
      `/files/${orphan}/stream`,
    ];
    for (const url of urls) {
      const response = await get(url);
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ code: 404, msg: 'file: not found (unknown or expired)', data: null });
      expect((await get(url, {}, 'HEAD')).statusCode).toBe(404);
    }
  });
});
