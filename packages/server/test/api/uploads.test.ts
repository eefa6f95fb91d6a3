import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpStatusFor } from '../../src/api/errors.js';
import { checkFileName, checkUploadPath, decodeBase64Data, storeUpload } from '../../src/api/uploads.js';
import { ApiError } from '../../src/errors.js';
import type { Services } from '../../src/services.js';
import { sineWav } from '../helpers/audio.js';
import { closeServices, createTestAccount, createTestApp, createTestServices, TEST_PUBLIC_URL, type TestAccount } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';

// ---------------------------------------------------------------------------
// Fixtures: audio made here, independent of the audio module's encoders.

/** 16-bit PCM WAV of a sine tone, 8 kHz mono: small and quick. */
const wav = (seconds: number): Buffer => sineWav(seconds, 8000, 1);

/** MPEG-1 Layer III frames (128 kbps, 44.1 kHz, stereo) with zeroed side info: valid, silent MP3. */
function silentMp3(frames = 20): Buffer {
  const frame = Buffer.alloc(417);
  frame.set([0xff, 0xfb, 0x90, 0x00]);
  return Buffer.concat(Array.from({ length: frames }, () => frame));
}

interface Part {
  name: string;
  value?: string;
  filename?: string;
  content?: Buffer;
}

/** A multipart/form-data body in the given part order. */
function multipart(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----reprise${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n`));
    if (part.content !== undefined) {
      chunks.push(
        Buffer.from(
          `Content-Disposition: form-data; name="${part.name}"; filename="${part.filename ?? 'upload.bin'}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
        ),
      );
      chunks.push(part.content, Buffer.from('\r\n'));
    } else {
      chunks.push(Buffer.from(`Content-Disposition: form-data; name="${part.name}"\r\n\r\n${part.value ?? ''}\r\n`, 'utf8'));
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

function blobFiles(services: Services): string[] {
  const root = path.join(services.config.dataDir, 'blobs');
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter((entry) => fs.statSync(path.join(root, entry)).isFile()).sort();
}

async function fileRows(services: Services) {
  return services.store.db.selectFrom('files').selectAll().orderBy('created_at').orderBy('id').execute();
}

const MAX = 2_000_000;

// ---------------------------------------------------------------------------
// Field rules (pure): property tests.

describe('upload field rules', () => {
  const segmentChar = fc.constantFrom(...'abcXYZ019._-'.split(''));
  const segment = fc.string({ unit: segmentChar, minLength: 1, maxLength: 12 }).filter((s) => !/^\.+$/.test(s));
  const validPath = fc.array(segment, { minLength: 1, maxLength: 6 }).map((segments) => segments.join('/'));

  const refusal = (run: () => unknown): string => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).code).toBe(422);
      return (error as ApiError).message;
    }
    throw new Error('expected a refusal');
  };

  it('accepts every relative path of safe segments, dropping trailing slashes', () => {
    fc.assert(
      fc.property(validPath, fc.integer({ min: 0, max: 3 }), (p, slashes) => {
        expect(checkUploadPath(p + '/'.repeat(slashes))).toBe(p);
      }),
    );
  });

  it('refuses a path with a character outside [A-Za-z0-9._-/]', () => {
    const bad = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => !/[A-Za-z0-9._/-]/.test(c));
    fc.assert(
      fc.property(validPath, bad, fc.nat(), (p, char, at) => {
        const i = at % (p.length + 1);
        const message = refusal(() => checkUploadPath(p.slice(0, i) + char + p.slice(i)));
        expect(message).toMatch(/^uploadPath: /);
      }),
    );
  });

  it('refuses . and .. segments wherever they are, and leading or doubled slashes', () => {
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 4 }), fc.array(segment, { maxLength: 4 }), fc.constantFrom('.', '..', '...'), (before, after, dots) => {
        expect(refusal(() => checkUploadPath([...before, dots, ...after].join('/')))).toBe(`uploadPath: must not contain a "${dots}" segment`);
      }),
    );
    fc.assert(
      fc.property(validPath, (p) => {
        expect(refusal(() => checkUploadPath(`/${p}`))).toBe('uploadPath: must be a relative path (no leading /)');
      }),
    );
    fc.assert(
      fc.property(validPath, validPath, (a, b) => {
        expect(refusal(() => checkUploadPath(`${a}//${b}`))).toBe('uploadPath: must not contain empty segments (//)');
      }),
    );
  });

  it('either refuses with a 422 uploadPath message or returns a safe path, for any input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 260 }), validPath, fc.anything()), (value) => {
        let result: string;
        try {
          result = checkUploadPath(value);
        } catch (error) {
          expect(error).toBeInstanceOf(ApiError);
          expect((error as ApiError).message).toMatch(/^uploadPath: /);
          return;
        }
        expect(result).toMatch(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/);
        expect(result.length).toBeLessThanOrEqual(200);
        expect(result.split('/').some((s) => /^\.+$/.test(s))).toBe(false);
      }),
    );
  });

  it('bounds the path to 200 characters', () => {
    expect(checkUploadPath('a'.repeat(200))).toBe('a'.repeat(200));
    expect(refusal(() => checkUploadPath('a'.repeat(201)))).toBe('uploadPath: must be at most 200 characters (got 201)');
    expect(refusal(() => checkUploadPath(undefined))).toBe('uploadPath: is required');
    expect(refusal(() => checkUploadPath(''))).toBe('uploadPath: is required');
    expect(refusal(() => checkUploadPath(7))).toBe('uploadPath: must be a string');
  });

  it('accepts a file name exactly when it is ≤ 255 characters without / or control characters', () => {
    const anyChar = fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      fc.nat(0xffff).map((c) => String.fromCharCode(c)),
    );
    fc.assert(
      fc.property(fc.string({ unit: anyChar, maxLength: 300 }), (name) => {
        const acceptable =
          name === '' ||
          ([...name].length <= 255 &&
            !name.includes('/') &&
            // biome-ignore lint/suspicious/noControlCharactersInRegex: the rule under test
            !/[\u0000-\u001f\u007f-\u009f]/.test(name) &&
            !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(name) &&
            name !== '.' &&
            name !== '..');
        let result: string | null = null;
        try {
          result = checkFileName(name);
        } catch (error) {
          expect(acceptable).toBe(false);
          expect((error as ApiError).code).toBe(422);
          expect((error as ApiError).message).toMatch(/^fileName: /);
          return;
        }
        expect(acceptable).toBe(true);
        expect(result).toBe(name === '' ? null : name);
        // Every accepted name can be put in its URL and read back.
        if (result !== null) expect(decodeURIComponent(encodeURIComponent(result))).toBe(result);
      }),
    );
    expect(checkFileName(undefined)).toBeNull();
    expect(checkFileName('naïve song (final).mp3')).toBe('naïve song (final).mp3');
    expect(checkFileName('🎵'.repeat(255))).toBe('🎵'.repeat(255));
    expect(refusal(() => checkFileName('x'.repeat(256)))).toBe('fileName: must be at most 255 characters (got 256)');
    expect(refusal(() => checkFileName('a/b.mp3'))).toBe("fileName: must not contain '/' (put folders in uploadPath)");
    expect(refusal(() => checkFileName('a\nb.mp3'))).toBe('fileName: must not contain control characters');
    expect(refusal(() => checkFileName('..'))).toBe('fileName: must not be ".."');
    expect(refusal(() => checkFileName(12))).toBe('fileName: must be a string');
  });

  it('decodes any bytes sent as base64, base64url or a data: URL', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, wrap) => {
        const buffer = Buffer.from(bytes);
        const b64 = buffer.toString('base64');
        const wrapped = wrap ? (b64.match(/.{1,76}/g) ?? []).join('\r\n') : b64;
        expect(decodeBase64Data(wrapped, 1000).equals(buffer)).toBe(true);
        expect(decodeBase64Data(buffer.toString('base64url'), 1000).equals(buffer)).toBe(true);
        expect(decodeBase64Data(`data:audio/wav;base64,${b64}`, 1000).equals(buffer)).toBe(true);
      }),
    );
  });

  it('refuses malformed base64 precisely and checks the size before decoding', () => {
    expect(refusal(() => decodeBase64Data('abc$', 100))).toBe('base64Data: is not valid base64 (unexpected "$" at position 3)');
    expect(refusal(() => decodeBase64Data('ab=c', 100))).toBe("base64Data: is not valid base64 ('=' padding only at the end, at most two)");
    expect(refusal(() => decodeBase64Data('abcde', 100))).toBe('base64Data: is not valid base64 (truncated: its length leaves a single dangling character)');
    expect(refusal(() => decodeBase64Data('data:audio/wav,RIFF', 100))).toBe('base64Data: a data: URL must be base64-encoded (data:<type>;base64,<data>)');
    expect(refusal(() => decodeBase64Data(undefined, 100))).toBe('base64Data: is required');
    expect(refusal(() => decodeBase64Data(['x'], 100))).toBe('base64Data: must be a string');
    try {
      decodeBase64Data('A'.repeat(140), 100);
      throw new Error('expected 413');
    } catch (error) {
      expect((error as ApiError).code).toBe(413);
      expect((error as ApiError).message).toBe('base64Data: is larger than the upload limit of 100 bytes');
    }
  });
});

// ---------------------------------------------------------------------------
// The routes, on each store.

describe.each(storeTargets())('File Upload API on $name', (target) => {
  let services: Services;
  let app: FastifyInstance;
  let alice: TestAccount;
  let bob: TestAccount;
  let origin: http.Server;
  let originUrl: string;
  /** Requests that reached the loopback origin (a refused URL must add none). */
  let originRequests = 0;
  const song = wav(0.5);
  const mp3 = silentMp3();

  beforeAll(async () => {
    services = await createTestServices(target, { REPRISE_UPLOAD_MAX_BYTES: String(MAX) });
    app = await createTestApp(services);
    alice = await createTestAccount(services);
    bob = await createTestAccount(services);
    // A loopback origin for fileUrl; it must see no request unless the allow-list opens loopback.
    // Requests are counted under a random prefix: other test runs on this machine may
    // knock on a port they just freed, and those are not ours.
    const prefix = `/${randomBytes(8).toString('hex')}`;
    origin = http.createServer((request, response) => {
      if (!request.url?.startsWith(prefix)) {
        response.statusCode = 404;
        return response.end();
      }
      originRequests++;
      const file = request.url.slice(prefix.length);
      if (file === '/song.wav') return response.end(song);
      if (file === '/notes.txt') return response.end('just text, not audio');
      if (file === '/big.wav') return response.end(Buffer.alloc(MAX + 1));
      response.statusCode = 404;
      response.end('nope');
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}${prefix}`;
  });
  afterAll(async () => {
    await app.close();
    await closeServices(services);
    await new Promise((resolve) => origin.close(resolve));
  });

  const snapshot = async () => ({ rows: (await fileRows(services)).length, blobs: blobFiles(services) });
  async function post(url: string, payload: unknown, who: TestAccount | null = alice) {
    return app.inject({
      method: 'POST',
      url,
      headers: { ...(who?.auth ?? {}), 'content-type': 'application/json' },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  }

  async function postMultipart(parts: Part[], who: TestAccount | null = alice) {
    const body = multipart(parts);
    return app.inject({ method: 'POST', url: '/api/file-stream-upload', headers: { ...(who?.auth ?? {}), ...body.headers }, payload: body.payload });
  }

  /** A refused request answers the envelope and leaves no row and no blob behind. */
  async function expectRefused(send: () => Promise<{ statusCode: number; json(): unknown }>, code: number, msg: string | RegExp) {
    const before = await snapshot();
    const response = await send();
    const body = response.json() as { code: number; msg: string; data: null };
    if (typeof msg === 'string') expect(body).toEqual({ code, msg, data: null });
    else {
      expect(body.code).toBe(code);
      expect(body.msg).toMatch(msg);
    }
    expect(response.statusCode).toBe(httpStatusFor(code, false));
    expect(await snapshot()).toEqual(before);
  }

  async function download(url: string, headers: Record<string, string> = {}) {
    expect(url.startsWith(`${TEST_PUBLIC_URL}/files/`)).toBe(true);
    return app.inject({ method: 'GET', url: url.slice(TEST_PUBLIC_URL.length), headers });
  }

  it('refuses all three routes without a valid key, in KIE words', async () => {
    for (const who of [null, { auth: { authorization: 'Bearer rk_nope' } } as TestAccount]) {
      for (const url of ['/api/file-base64-upload', '/api/file-url-upload']) {
        await expectRefused(
          () => post(url, { uploadPath: 'a', base64Data: song.toString('base64'), fileUrl: `${originUrl}/song.wav` }, who),
          401,
          'You do not have access permissions',
        );
      }
      await expectRefused(
        () =>
          postMultipart(
            [
              { name: 'uploadPath', value: 'a' },
              { name: 'file', content: song },
            ],
            who,
          ),
        401,
        'You do not have access permissions',
      );
    }
    expect(originRequests).toBe(0);
  });

  it('stores a multipart upload and answers exactly the KIE shape', async () => {
    const before = Date.now();
    const response = await postMultipart([
      { name: 'uploadPath', value: 'music/demos' },
      { name: 'fileName', value: 'naïve take.wav' },
      { name: 'file', filename: 'whatever.bin', content: song },
    ]);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(Object.keys(body)).toEqual(['success', 'code', 'msg', 'data']);
    expect(Object.keys(body.data)).toEqual(['success', 'fileName', 'filePath', 'downloadUrl', 'fileUrl', 'fileSize', 'mimeType', 'uploadedAt']);
    expect(body).toMatchObject({
      success: true,
      code: 200,
      msg: 'File uploaded successfully',
      data: { success: true, fileName: 'naïve take.wav', filePath: 'music/demos/naïve take.wav', fileSize: song.length, mimeType: 'audio/wav' },
    });
    expect(body.data.downloadUrl).toBe(body.data.fileUrl);
    expect(body.data.downloadUrl).toMatch(new RegExp(`^${TEST_PUBLIC_URL}/files/[A-Za-z0-9_-]{32}/na%C3%AFve%20take\\.wav$`));
    expect(new Date(body.data.uploadedAt).toISOString()).toBe(body.data.uploadedAt);
    expect(Date.parse(body.data.uploadedAt)).toBeGreaterThanOrEqual(before);

    const served = await download(body.data.downloadUrl);
    expect(served.statusCode).toBe(200);
    expect(served.headers['content-type']).toBe('audio/wav');
    expect(served.rawPayload.equals(song)).toBe(true);

    const row = (await fileRows(services)).find((r) => r.file_path === 'music/demos/naïve take.wav');
    expect(row).toMatchObject({ account_id: alice.account.id, kind: 'upload', content_type: 'audio/wav', size: song.length, file_name: 'naïve take.wav' });
    expect((row?.expires_at ?? 0) - (row?.created_at ?? 0)).toBe(services.config.retention.uploadsMs);
    expect(services.config.retention.uploadsMs).toBe(3 * 86_400_000);
  });

  it('takes multipart fields in any order and invents a name with the detected extension', async () => {
    const response = await postMultipart([
      { name: 'file', filename: 'song.wav', content: mp3 },
      { name: 'extra', value: 'ignored' },
      { name: 'uploadPath', value: 'later/' },
    ]);
    expect(response.statusCode).toBe(200);
    const { data } = response.json();
    // Type by content: the part said .wav, the bytes are MP3.
    expect(data.mimeType).toBe('audio/mpeg');
    expect(data.fileName).toMatch(/^\d{13}-[0-9a-f]{8}\.mp3$/);
    expect(data.filePath).toBe(`later/${data.fileName}`);
    expect((await download(data.downloadUrl)).rawPayload.equals(mp3)).toBe(true);
  });

  it('stores base64 uploads, raw and as a data: URL, beyond the default 1 MiB JSON limit', async () => {
    const large = wav(70); // 1.12 MB of WAV, 1.49 MB of base64
    expect(large.length).toBeGreaterThan(1024 * 1024);
    for (const base64Data of [large.toString('base64'), `data:application/octet-stream;base64,${large.toString('base64')}`]) {
      const response = await post('/api/file-base64-upload', { base64Data, uploadPath: 'b64', fileName: 'large.wav' });
      expect(response.statusCode).toBe(200);
      const { data } = response.json();
      expect(data).toMatchObject({ fileName: 'large.wav', filePath: 'b64/large.wav', fileSize: large.length, mimeType: 'audio/wav' });
      expect((await download(data.downloadUrl)).rawPayload.equals(large)).toBe(true);
    }
    const response = await post('/api/file-base64-upload', { base64Data: mp3.toString('base64'), uploadPath: 'b64' });
    expect(response.json().data).toMatchObject({ mimeType: 'audio/mpeg', fileSize: mp3.length });
  });

  it('refuses every broken field precisely and stores nothing', async () => {
    const b64 = song.toString('base64');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ base64Data: b64 }, 'uploadPath: is required'],
      [{ base64Data: b64, uploadPath: '' }, 'uploadPath: is required'],
      [{ base64Data: b64, uploadPath: ['a'] }, 'uploadPath: must be a string'],
      [{ base64Data: b64, uploadPath: 'x'.repeat(201) }, 'uploadPath: must be at most 200 characters (got 201)'],
      [{ base64Data: b64, uploadPath: '/etc' }, 'uploadPath: must be a relative path (no leading /)'],
      [{ base64Data: b64, uploadPath: 'a/../b' }, 'uploadPath: must not contain a ".." segment'],
      [{ base64Data: b64, uploadPath: 'a//b' }, 'uploadPath: must not contain empty segments (//)'],
      [{ base64Data: b64, uploadPath: 'my songs' }, `uploadPath: may only contain letters, digits, '.', '_', '-' and '/' (found " ")`],
      [{ base64Data: b64, uploadPath: 'a\\b' }, `uploadPath: may only contain letters, digits, '.', '_', '-' and '/' (found "\\\\")`],
      [{ base64Data: b64, uploadPath: 'a', fileName: 'x'.repeat(256) }, 'fileName: must be at most 255 characters (got 256)'],
      [{ base64Data: b64, uploadPath: 'a', fileName: 'b/c.wav' }, "fileName: must not contain '/' (put folders in uploadPath)"],
      [{ base64Data: b64, uploadPath: 'a', fileName: 'c\u0000.wav' }, 'fileName: must not contain control characters'],
      [{ base64Data: b64, uploadPath: 'a', fileName: 5 }, 'fileName: must be a string'],
      [{ uploadPath: 'a' }, 'base64Data: is required'],
      [{ base64Data: 'UklGRg==!', uploadPath: 'a' }, 'base64Data: is not valid base64 (unexpected "!" at position 8)'],
      [{ base64Data: 'data:audio/wav,RIFF', uploadPath: 'a' }, 'base64Data: a data: URL must be base64-encoded (data:<type>;base64,<data>)'],
      [{ base64Data: '', uploadPath: 'a' }, 'file: is empty'],
    ];
    for (const [payload, msg] of cases) await expectRefused(() => post('/api/file-base64-upload', payload), 422, msg);

    // Not audio: recognised by content, whatever the name says.
    const notAudio = /^file: is not MP3 or WAV audio \(.+\)$/;
    await expectRefused(
      () =>
        post('/api/file-base64-upload', { base64Data: Buffer.from('%PDF-1.7 definitely not audio').toString('base64'), uploadPath: 'a', fileName: 'x.mp3' }),
      422,
      notAudio,
    );
    await expectRefused(
      () =>
        postMultipart([
          { name: 'uploadPath', value: 'a' },
          { name: 'file', filename: 'x.wav', content: randomBytes(5000) },
        ]),
      422,
      notAudio,
    );

    // Body shape and content type.
    await expectRefused(() => post('/api/file-base64-upload', '[1,2]'), 400, 'body: expected a JSON object');
    await expectRefused(() => post('/api/file-base64-upload', '{"uploadPath":'), 400, /^body: malformed JSON/);
  });

  it('refuses broken multipart requests precisely and stores nothing', async () => {
    await expectRefused(() => postMultipart([{ name: 'uploadPath', value: 'a' }]), 422, 'file: is required (a multipart part named "file")');
    await expectRefused(() => postMultipart([{ name: 'file', content: song }]), 422, 'uploadPath: is required');
    await expectRefused(
      () =>
        postMultipart([
          { name: 'uploadPath', value: '../up' },
          { name: 'file', content: song },
        ]),
      422,
      'uploadPath: must not contain a ".." segment',
    );
    await expectRefused(
      () =>
        postMultipart([
          { name: 'uploadPath', value: 'a' },
          { name: 'fileName', value: 'a/b' },
          { name: 'file', content: song },
        ]),
      422,
      "fileName: must not contain '/' (put folders in uploadPath)",
    );
    await expectRefused(
      () =>
        postMultipart([
          { name: 'uploadPath', value: 'a' },
          { name: 'file', value: 'text instead of a file' },
        ]),
      422,
      'file: must be a file part (Content-Disposition with a filename)',
    );
    await expectRefused(
      () =>
        postMultipart([
          { name: 'uploadPath', value: 'a' },
          { name: 'file', content: song },
          { name: 'file', content: song },
        ]),
      422,
      'file: send exactly one file',
    );
    await expectRefused(
      () =>
        postMultipart([
          { name: 'uploadPath', value: 'a' },
          { name: 'file', content: Buffer.alloc(0) },
        ]),
      422,
      'file: is empty',
    );
    // Cut off mid-file: no closing boundary.
    const cut = multipart([
      { name: 'uploadPath', value: 'a' },
      { name: 'file', content: song },
    ]);
    await expectRefused(
      () => app.inject({ method: 'POST', url: '/api/file-stream-upload', headers: { ...alice.auth, ...cut.headers }, payload: cut.payload.subarray(0, 300) }),
      400,
      /^body: malformed multipart data \(.+\)$/,
    );
    await expectRefused(
      () =>
        app.inject({
          method: 'POST',
          url: '/api/file-stream-upload',
          headers: { ...alice.auth, 'content-type': 'application/json' },
          payload: '{"uploadPath":"a"}',
        }),
      400,
      'Content-Type: application/json is not accepted here; send multipart/form-data',
    );
    // The JSON routes do not take multipart (the parser is registered for the stream route only).
    const body = multipart([{ name: 'uploadPath', value: 'a' }]);
    await expectRefused(
      () => app.inject({ method: 'POST', url: '/api/file-base64-upload', headers: { ...alice.auth, ...body.headers }, payload: body.payload }),
      400,
      /^Content-Type: multipart\/form-data; boundary=.* is not accepted here; send application\/json$/,
    );
  });

  it('answers 413 over the size limit on every route, storing nothing', async () => {
    const tooBig = Buffer.concat([song, Buffer.alloc(MAX + 1 - song.length)]);
    await expectRefused(
      () =>
        postMultipart([
          { name: 'uploadPath', value: 'a' },
          { name: 'file', content: tooBig },
        ]),
      413,
      `file: is larger than the upload limit of ${MAX} bytes`,
    );
    // Exactly at the limit is fine.
    const atLimit = Buffer.concat([song, Buffer.alloc(MAX - song.length)]);
    const ok = await postMultipart([
      { name: 'uploadPath', value: 'limit' },
      { name: 'file', content: atLimit },
    ]);
    expect(ok.json().data?.fileSize).toBe(MAX);

    await expectRefused(
      () => post('/api/file-base64-upload', { uploadPath: 'a', base64Data: tooBig.toString('base64') }),
      413,
      `base64Data: is larger than the upload limit of ${MAX} bytes`,
    );
    // A body beyond the route's limit is cut off by the parser.
    const hugeBody = JSON.stringify({ uploadPath: 'a', base64Data: 'A'.repeat(Math.ceil((MAX * 4) / 3) + 70 * 1024) });
    await expectRefused(() => post('/api/file-base64-upload', hugeBody), 413, 'body: payload too large');
    // The plain JSON routes keep the default limit.
    await expectRefused(
      () => post('/api/file-url-upload', JSON.stringify({ uploadPath: 'a', fileUrl: `https://example.com/${'a'.repeat(1024 * 1024)}` })),
      413,
      'body: payload too large',
    );
  });

  it('replaces a path on re-upload; the old URL keeps working until it expires', async () => {
    const first = wav(0.25);
    const second = wav(0.3);
    const one = (await post('/api/file-base64-upload', { base64Data: first.toString('base64'), uploadPath: 'same', fileName: 'take.wav' })).json().data;
    const two = (await post('/api/file-base64-upload', { base64Data: second.toString('base64'), uploadPath: 'same', fileName: 'take.wav' })).json().data;
    expect(two.filePath).toBe('same/take.wav');
    expect(two.downloadUrl).not.toBe(one.downloadUrl);
    const rows = (await fileRows(services)).filter((r) => r.file_name === 'take.wav' && r.account_id === alice.account.id);
    expect(rows).toHaveLength(2);
    expect(rows.filter((r) => r.file_path === 'same/take.wav')).toHaveLength(1);
    expect(rows.find((r) => r.file_path === 'same/take.wav')?.size).toBe(second.length);
    expect(rows.find((r) => r.file_path === null)?.size).toBe(first.length);
    expect((await download(one.downloadUrl)).rawPayload.equals(first)).toBe(true);
    expect((await download(two.downloadUrl)).rawPayload.equals(second)).toBe(true);

    // Another account's same path, and another folder's same name, are separate files.
    const bobs = (await post('/api/file-base64-upload', { base64Data: first.toString('base64'), uploadPath: 'same', fileName: 'take.wav' }, bob)).json().data;
    const other = (await post('/api/file-base64-upload', { base64Data: first.toString('base64'), uploadPath: 'other', fileName: 'take.wav' })).json().data;
    const holders = (await fileRows(services)).filter((r) => r.file_path?.endsWith('/take.wav'));
    expect(holders.map((r) => [r.account_id, r.file_path]).sort()).toEqual(
      [
        [alice.account.id, 'same/take.wav'],
        [alice.account.id, 'other/take.wav'],
        [bob.account.id, 'same/take.wav'],
      ].sort(),
    );
    expect(bobs.filePath).toBe('same/take.wav');
    expect(other.filePath).toBe('other/take.wav');
  });

  it('lets concurrent uploads to one path all succeed, with exactly one holder of the path', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        post('/api/file-base64-upload', { base64Data: wav(0.1 + i / 100).toString('base64'), uploadPath: 'race', fileName: 'x.wav' }),
      ),
    );
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
    const rows = (await fileRows(services)).filter((r) => r.account_id === alice.account.id && r.file_name === 'x.wav');
    expect(rows).toHaveLength(6);
    expect(rows.filter((r) => r.file_path === 'race/x.wav')).toHaveLength(1);
  });

  it('removes the blob again when the row cannot be written', async () => {
    const before = await snapshot();
    // No such account: the foreign key refuses the row after the blob was written.
    await expect(storeUpload(services, 'acct_missing', { uploadPath: 'a', fileName: 'x.wav' }, song)).rejects.toThrow();
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a loopback fileUrl without the allow-list, the origin never hears from it', async () => {
    const before = originRequests;
    await expectRefused(
      () => post('/api/file-url-upload', { fileUrl: `${originUrl}/song.wav`, uploadPath: 'a' }),
      422,
      /^fileUrl: could not be downloaded: .+/,
    );
    await expectRefused(
      () => post('/api/file-url-upload', { fileUrl: `${originUrl.replace('127.0.0.1', 'localhost')}/song.wav`, uploadPath: 'a' }),
      422,
      /^fileUrl: could not be downloaded: .+/,
    );
    expect(originRequests).toBe(before);
    expect(originRequests).toBe(0);
  });

  it('refuses broken fileUrl fields precisely', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ uploadPath: 'a' }, 'fileUrl: is required'],
      [{ uploadPath: 'a', fileUrl: 42 }, 'fileUrl: must be a string'],
      [{ uploadPath: 'a', fileUrl: 'not a url' }, 'fileUrl: must be an absolute http:// or https:// URL'],
      [{ uploadPath: 'a', fileUrl: 'ftp://example.com/a.mp3' }, 'fileUrl: must be an http:// or https:// URL (got ftp:)'],
      [{ uploadPath: 'a', fileUrl: `https://example.com/${'a'.repeat(2048)}` }, 'fileUrl: must be at most 2048 characters (got 2068)'],
      [{ fileUrl: `${originUrl}/song.wav` }, 'uploadPath: is required'],
      [{ uploadPath: 'a', fileUrl: `${TEST_PUBLIC_URL}/files/${'A'.repeat(32)}/x.wav` }, 'fileUrl: no such file on this service (it may have expired)'],
      [{ uploadPath: 'a', fileUrl: `${TEST_PUBLIC_URL}/files/nonsense` }, 'fileUrl: no such file on this service (it may have expired)'],
    ];
    for (const [payload, msg] of cases) await expectRefused(() => post('/api/file-url-upload', payload), 422, msg);
    expect(originRequests).toBe(0);
  });

  it('reads a URL it handed out from storage, never over the network, as a copy', async () => {
    const original = (await post('/api/file-base64-upload', { base64Data: song.toString('base64'), uploadPath: 'orig', fileName: 'o.wav' })).json().data;
    const response = await post('/api/file-url-upload', { fileUrl: original.downloadUrl, uploadPath: 'copies', fileName: 'c.wav' });
    expect(response.statusCode).toBe(200);
    const copy = response.json().data;
    expect(copy).toMatchObject({ fileName: 'c.wav', filePath: 'copies/c.wav', fileSize: song.length, mimeType: 'audio/wav' });
    expect((await download(copy.downloadUrl)).rawPayload.equals(song)).toBe(true);
    const rows = await fileRows(services);
    const blobOf = (p: string) => rows.find((r) => r.file_path === p)?.blob_key;
    expect(blobOf('copies/c.wav')).toBeDefined();
    expect(blobOf('copies/c.wav')).not.toBe(blobOf('orig/o.wav'));

    // An expired one is gone, even before the sweeper runs.
    await services.store.db
      .updateTable('files')
      .set({ expires_at: Date.now() - 1 })
      .where('file_path', '=', 'orig/o.wav')
      .execute();
    await expectRefused(
      () => post('/api/file-url-upload', { fileUrl: original.downloadUrl, uploadPath: 'copies', fileName: 'd.wav' }),
      422,
      'fileUrl: no such file on this service (it may have expired)',
    );
    expect(originRequests).toBe(0);
  });

  describe('with loopback allowed (REPRISE_OUTBOUND_ALLOW)', () => {
    let open: Services;
    let openApp: FastifyInstance;
    let carol: TestAccount;

    beforeAll(async () => {
      open = await createTestServices(target, { REPRISE_UPLOAD_MAX_BYTES: String(MAX), REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8' });
      openApp = await createTestApp(open);
      carol = await createTestAccount(open);
    });
    afterAll(async () => {
      await openApp.close();
      await closeServices(open);
    });

    const postOpen = (payload: unknown) =>
      openApp.inject({
        method: 'POST',
        url: '/api/file-url-upload',
        headers: { ...carol.auth, 'content-type': 'application/json' },
        payload: JSON.stringify(payload),
      });

    it('downloads the file and stores it', async () => {
      const response = await postOpen({ fileUrl: `${originUrl}/song.wav`, uploadPath: 'fetched' });
      expect(response.statusCode).toBe(200);
      const { data } = response.json();
      expect(data).toMatchObject({ fileSize: song.length, mimeType: 'audio/wav' });
      expect(data.fileName).toMatch(/^\d{13}-[0-9a-f]{8}\.wav$/);
      const served = await openApp.inject({ method: 'GET', url: data.downloadUrl.slice(TEST_PUBLIC_URL.length) });
      expect(served.rawPayload.equals(song)).toBe(true);
      expect(originRequests).toBeGreaterThan(0);
    });

    it('refuses what it fetched when it is not audio, missing or too large, storing nothing', async () => {
      const state = async () => ({ rows: (await open.store.db.selectFrom('files').select('id').execute()).length, blobs: blobFiles(open) });
      const before = await state();
      const expectations: Array<[string, number, RegExp | string]> = [
        ['/notes.txt', 422, /^file: is not MP3 or WAV audio \(.+\)$/],
        ['/missing.wav', 422, /^fileUrl: could not be downloaded: HTTP 404\b/],
        ['/big.wav', 413, `fileUrl: is larger than the upload limit of ${MAX} bytes`],
      ];
      for (const [file, code, msg] of expectations) {
        const response = await postOpen({ fileUrl: `${originUrl}${file}`, uploadPath: 'fetched' });
        expect(response.statusCode).toBe(httpStatusFor(code, false));
        if (typeof msg === 'string') expect(response.json()).toEqual({ code, msg, data: null });
        else expect(response.json().msg).toMatch(msg);
      }
      expect(await state()).toEqual(before);
    });
  });
});
