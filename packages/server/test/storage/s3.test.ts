import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { fileUrls, registerFile, sweepExpiredFiles } from '../../src/files/index.js';
import type { Services } from '../../src/services.js';
import { openBlobStore } from '../../src/storage/index.js';
import { sineWav } from '../helpers/audio.js';
import { freePort } from '../helpers/process.js';
import { startTestS3, type TestS3 } from '../helpers/s3.js';
import { closeServices, createTestAccount, createTestApp, createTestServices, TEST_PUBLIC_URL, type TestAccount } from '../helpers/services.js';
import { storeTargets, tempDir } from '../helpers/stores.js';

/** One S3 server for the whole file: each describe uses its own keys. */
let s3: TestS3;
beforeAll(async () => {
  s3 = await startTestS3();
});
afterAll(async () => {
  await s3?.close();
});

const S3_ENV = {
  REPRISE_BLOB_STORE: 's3',
  REPRISE_S3_ENDPOINT: 'http://127.0.0.1:9000',
  REPRISE_S3_BUCKET: 'reprise-files',
};

describe('S3 settings', () => {
  it('default to local files; with s3, region us-east-1, virtual-host style, no presigning, the SDK’s own credentials', () => {
    expect(loadConfig({}).blobStore).toEqual({ kind: 'fs' });
    // S3 variables are ignored while the store is fs.
    expect(loadConfig({ REPRISE_S3_BUCKET: 'Not A Bucket!' }).blobStore).toEqual({ kind: 'fs' });
    expect(loadConfig(S3_ENV).blobStore).toEqual({
      kind: 's3',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      bucket: 'reprise-files',
      forcePathStyle: false,
      presign: false,
      credentials: null,
    });
  });

  it('reads every S3 setting', () => {
    const config = loadConfig({
      ...S3_ENV,
      REPRISE_S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com/',
      REPRISE_S3_REGION: 'eu-west-1',
      REPRISE_S3_FORCE_PATH_STYLE: 'true',
      REPRISE_S3_PRESIGN: 'yes',
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE',
      AWS_SECRET_ACCESS_KEY: 'fake-secret',
      AWS_SESSION_TOKEN: 'fake-token',
    });
    expect(config.blobStore).toEqual({
      kind: 's3',
      endpoint: 'https://s3.eu-west-1.amazonaws.com',
      region: 'eu-west-1',
      bucket: 'reprise-files',
      forcePathStyle: true,
      presign: true,
      credentials: { accessKeyId: 'AKIAFAKEFAKEFAKE', secretAccessKey: 'fake-secret', sessionToken: 'fake-token' },
    });
  });

  it.each([
    [{ REPRISE_BLOB_STORE: 'gcs' }, 'REPRISE_BLOB_STORE="gcs" is not valid: expected one of fs, s3'],
    [{ REPRISE_BLOB_STORE: 's3', REPRISE_S3_BUCKET: 'b-1' }, 'REPRISE_S3_ENDPOINT is required when REPRISE_BLOB_STORE=s3'],
    [{ REPRISE_BLOB_STORE: 's3', REPRISE_S3_ENDPOINT: 'http://127.0.0.1:9000' }, 'REPRISE_S3_BUCKET is required when REPRISE_BLOB_STORE=s3'],
    [{ ...S3_ENV, REPRISE_S3_ENDPOINT: '127.0.0.1:9000' }, 'REPRISE_S3_ENDPOINT="127.0.0.1:9000" is not valid: expected an absolute http:// or https:// URL'],
    [{ ...S3_ENV, REPRISE_S3_BUCKET: 'My_Bucket' }, 'REPRISE_S3_BUCKET="My_Bucket" is not valid: expected an S3 bucket name'],
    [{ ...S3_ENV, REPRISE_S3_BUCKET: 'ab' }, 'REPRISE_S3_BUCKET="ab" is not valid'],
    [{ ...S3_ENV, REPRISE_S3_REGION: 'eu west' }, 'REPRISE_S3_REGION="eu west" is not valid: expected a region name such as us-east-1'],
    [{ ...S3_ENV, REPRISE_S3_FORCE_PATH_STYLE: 'sometimes' }, 'REPRISE_S3_FORCE_PATH_STYLE="sometimes" is not valid: expected true or false'],
    [{ ...S3_ENV, REPRISE_S3_PRESIGN: '15m' }, 'REPRISE_S3_PRESIGN="15m" is not valid: expected true or false'],
    [{ ...S3_ENV, AWS_ACCESS_KEY_ID: 'AKIAFAKE' }, 'AWS_SECRET_ACCESS_KEY is required when AWS_ACCESS_KEY_ID is set'],
    [{ ...S3_ENV, AWS_SECRET_ACCESS_KEY: 'fake' }, 'AWS_ACCESS_KEY_ID is required when AWS_SECRET_ACCESS_KEY is set'],
  ])('stop start-up on %o with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('S3 blob store against a real S3-compatible server', () => {
  const dataDir = tempDir('blobs');
  const open = (env: Record<string, string> = {}) => openBlobStore(loadConfig({ REPRISE_DATA_DIR: dataDir, ...s3.env, ...env }));

  it('writes objects under the blob keys, in the bucket and nowhere on disk', async () => {
    const blobs = await open();
    await blobs.put('tasks/keys/0.mp3', Buffer.from('abc'));
    expect(await s3.keys('tasks/keys/')).toEqual(['tasks/keys/0.mp3']);
    expect((await import('node:fs')).readdirSync(dataDir)).toEqual([]);
  });

  it('checks the bucket at start-up: an unknown bucket is a ConfigError naming REPRISE_S3_BUCKET', async () => {
    const opening = open({ REPRISE_S3_BUCKET: 'no-such-bucket' });
    await expect(opening).rejects.toBeInstanceOf(ConfigError);
    await expect(opening).rejects.toThrow(
      `REPRISE_BLOB_STORE=s3: bucket "no-such-bucket" at REPRISE_S3_ENDPOINT=${s3.endpoint} does not exist (check REPRISE_S3_BUCKET)`,
    );
  });

  it('an unknown access key is refused, naming the credential variables', async () => {
    const opening = open({ AWS_ACCESS_KEY_ID: 'NOT-A-KEY', AWS_SECRET_ACCESS_KEY: 'fake' });
    await expect(opening).rejects.toBeInstanceOf(ConfigError);
    await expect(opening).rejects.toThrow(/refused access \(HTTP 403\): check AWS_ACCESS_KEY_ID \/ AWS_SECRET_ACCESS_KEY/);
  });

  it('an endpoint where nothing listens is a ConfigError naming REPRISE_S3_ENDPOINT', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const opening = open({ REPRISE_S3_ENDPOINT: endpoint });
    await expect(opening).rejects.toBeInstanceOf(ConfigError);
    await expect(opening).rejects.toThrow(`cannot reach bucket "${s3.bucket}" at REPRISE_S3_ENDPOINT=${endpoint}: ECONNREFUSED`);
  }, 30_000);

  it('presigned: a short-lived URL the S3 server answers with the type and name reprise would send, Range included', async () => {
    const blobs = await open({ REPRISE_S3_PRESIGN: 'true' });
    await blobs.put('tasks/presigned/0.mp3', Buffer.from('0123456789'));
    const url = await blobs.directUrl('tasks/presigned/0.mp3', {
      contentType: 'audio/mpeg',
      contentDisposition: 'inline; filename="Song.mp3"',
      expiresInS: 900,
    });
    expect(url).not.toBeNull();
    const signed = new URL(url ?? '');
    expect(signed.origin).toBe(s3.endpoint);
    expect(signed.searchParams.get('X-Amz-Expires')).toBe('900');
    const whole = await fetch(signed);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('audio/mpeg');
    expect(whole.headers.get('content-disposition')).toBe('inline; filename="Song.mp3"');
    expect(await whole.text()).toBe('0123456789');
    const partial = await fetch(signed, { headers: { range: 'bytes=3-5' } });
    expect(partial.status).toBe(206);
    expect(await partial.text()).toBe('345');
  });
});

describe.each(storeTargets())('reprise on S3 in-process ($name): file routes, retention, vanished sources', (target) => {
  let services: Services;
  let presigning: Services;
  let app: FastifyInstance;
  let presignApp: FastifyInstance;
  let alice: TestAccount;

  beforeAll(async () => {
    services = await createTestServices(target, s3.env);
    app = await createTestApp(services);
    // A second process's view: same bucket, presigning on (the database need not be shared for this).
    presigning = await createTestServices(target, { ...s3.env, REPRISE_S3_PRESIGN: 'true' });
    presignApp = await createTestApp(presigning);
    alice = await createTestAccount(services, 100);
  });
  afterAll(async () => {
    await app?.close();
    await presignApp?.close();
    if (services) await closeServices(services);
    if (presigning) await closeServices(presigning);
  });

  async function addFile(on: Services, blobKey: string, content: Buffer, expiresAt = Date.now() + 3_600_000): Promise<string> {
    const account = on === services ? alice.account.id : (await createTestAccount(on)).account.id;
    await on.blobs.put(blobKey, content);
    return registerFile(
      on.store.db,
      { accountId: account, kind: 'audio', blobKey, contentType: 'audio/mpeg', size: content.length, fileName: 'Song One.mp3', expiresAt },
      Date.now(),
    );
  }
  const pathOf = (url: string) => url.slice(TEST_PUBLIC_URL.length);
  const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) % 256));

  it('through reprise: the whole file, a Range, HEAD, and 404 once the object is gone', async () => {
    const token = await addFile(services, `tasks/route-${target.name}/0.mp3`, bytes);
    const urls = fileUrls(TEST_PUBLIC_URL, token);
    const whole = await app.inject({ method: 'GET', url: pathOf(urls.audio) });
    expect(whole.statusCode).toBe(200);
    expect(whole.headers['content-type']).toBe('audio/mpeg');
    expect(whole.rawPayload).toEqual(bytes);
    const partial = await app.inject({ method: 'GET', url: pathOf(urls.stream), headers: { range: 'bytes=100-199' } });
    expect(partial.statusCode).toBe(206);
    expect(partial.headers['content-range']).toBe('bytes 100-199/1000');
    expect(partial.rawPayload).toEqual(bytes.subarray(100, 200));
    const head = await app.inject({ method: 'HEAD', url: pathOf(urls.audio) });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe('1000');

    await s3.remove(`tasks/route-${target.name}/0.mp3`);
    for (const url of [urls.audio, urls.stream, urls.named('Song One.mp3')]) {
      const gone = await app.inject({ method: 'GET', url: pathOf(url), headers: { range: 'bytes=0-9' } });
      expect(gone.statusCode).toBe(404);
      expect(gone.json()).toEqual({ code: 404, msg: 'file: not found (unknown or expired)', data: null });
    }
  });

  it('presigned: 302 to a URL of the S3 server that serves the bytes (and their ranges); unknown or missing: 404', async () => {
    const token = await addFile(presigning, `tasks/redirect-${target.name}/0.mp3`, bytes);
    const urls = fileUrls(TEST_PUBLIC_URL, token);
    const answer = await presignApp.inject({ method: 'GET', url: pathOf(urls.named('Song One.mp3')) });
    expect(answer.statusCode).toBe(302);
    expect(answer.headers['cache-control']).toBe('no-store');
    const location = new URL(String(answer.headers.location));
    expect(location.origin).toBe(s3.endpoint);
    expect(Number(location.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(15 * 60);
    const fromS3 = await fetch(location, { headers: { range: 'bytes=10-19' } });
    expect(fromS3.status).toBe(206);
    expect(fromS3.headers.get('content-type')).toBe('audio/mpeg');
    expect(fromS3.headers.get('content-disposition')).toContain("filename*=UTF-8''Song%20One.mp3");
    expect(Buffer.from(await fromS3.arrayBuffer())).toEqual(bytes.subarray(10, 20));
    expect((await presignApp.inject({ method: 'HEAD', url: pathOf(urls.audio) })).statusCode).toBe(302);

    await s3.remove(`tasks/redirect-${target.name}/0.mp3`);
    expect((await presignApp.inject({ method: 'GET', url: pathOf(urls.audio) })).statusCode).toBe(404);
    expect((await presignApp.inject({ method: 'GET', url: '/files/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.mp3' })).statusCode).toBe(404);
  });

  it('a presigned URL never outlives its file', async () => {
    const token = await addFile(presigning, `tasks/short-${target.name}/0.mp3`, bytes, Date.now() + 90_000);
    const answer = await presignApp.inject({ method: 'GET', url: pathOf(fileUrls(TEST_PUBLIC_URL, token).audio) });
    expect(answer.statusCode).toBe(302);
    expect(Number(new URL(String(answer.headers.location)).searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(90);
  });

  it('retention deletes the objects of expired files', async () => {
    const [expired, kept] = [`tasks/expired-${target.name}/0.mp3`, `tasks/kept-${target.name}/0.mp3`];
    await addFile(services, expired, bytes, Date.now() - 1);
    await addFile(services, kept, bytes);
    expect(await s3.exists(expired)).toBe(true);
    expect(await sweepExpiredFiles(services, Date.now())).toBe(1);
    expect(await s3.exists(expired)).toBe(false);
    expect(await s3.exists(kept)).toBe(true);
  });
});

/**
 * A file whose row remains but whose blob is gone (deleted from the bucket or the disk behind
 * reprise's back) used as a task's source: refused at submission, nothing charged, never a 500.
 */
describe.each(['fs', 's3'] as const)('a vanished upload as a source (%s)', (kind) => {
  let services: Services;
  let app: FastifyInstance;
  let alice: TestAccount;
  const target = storeTargets()[0]!;

  beforeAll(async () => {
    services = await createTestServices(target, kind === 's3' ? s3.env : {});
    app = await createTestApp(services);
    alice = await createTestAccount(services, 100);
  });
  afterAll(async () => {
    await app?.close();
    if (services) await closeServices(services);
  });

  it('replace-section with its uploadUrl answers 422 "source no longer available", charging nothing', async () => {
    const blobKey = 'uploads/vanished.wav';
    const wav = sineWav(30, 8000, 1);
    await services.blobs.put(blobKey, wav);
    const token = await registerFile(
      services.store.db,
      {
        accountId: alice.account.id,
        kind: 'upload',
        blobKey,
        contentType: 'audio/wav',
        size: wav.length,
        fileName: 'song.wav',
        expiresAt: Date.now() + 86_400_000,
      },
      Date.now(),
    );
    await services.blobs.delete(blobKey);
    const answer = await app.inject({
      method: 'POST',
      url: '/api/v1/generate/replace-section',
      headers: alice.auth,
      payload: { uploadUrl: fileUrls(TEST_PUBLIC_URL, token).named('song.wav'), prompt: 'p', tags: 'Jazz', title: 'T', infillStartS: 4, infillEndS: 12 },
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({ code: 422, msg: 'uploadUrl: source no longer available (its file is gone from storage)', data: null });
    const credit = await app.inject({ method: 'GET', url: '/api/v1/chat/credit', headers: alice.auth });
    expect(credit.json().data).toBe(100);
  });
});
