import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sineWav } from '../helpers/audio.js';
import { freePort, kill, startServe } from '../helpers/process.js';
import { startTestS3, type TestS3 } from '../helpers/s3.js';
import { apiSession, type Json, type Received, type Receiver, serveWithAccount, startReceiver } from '../helpers/serve.js';
import { storeTargets, tempDir } from '../helpers/stores.js';

/**
 * Object storage end to end: a real `reprise serve` with REPRISE_BLOB_STORE=s3 against a real
 * S3-compatible server (s3rver) on loopback, on every database. Uploads and results live in the
 * bucket only; files stream through reprise with Range, or (a second process, presigning on)
 * redirect to the S3 server; an object deleted behind reprise's back is a clean 404 for its
 * URL and a refunded code-400 failure for a task that reads it, never a 500.
 */
describe.each(storeTargets())('object storage (S3) end to end on $name', (target) => {
  let s3: TestS3;
  let server: ChildProcess;
  let presigner: ChildProcess | null = null;
  let base: string;
  let presignBase: string;
  let apiKey: string;
  let secret: string;
  let receiver: Receiver;
  let receiverUrl: string;
  let received: Received[];
  let dataDir: string;
  let env: Record<string, string>;
  /** The replace-section result the later tests read. */
  let edited: { taskId: string; track: Json; bytes: Buffer };

  beforeAll(async () => {
    s3 = await startTestS3();
    receiver = await startReceiver('ok');
    ({ url: receiverUrl, received } = receiver);
    dataDir = tempDir('s3-e2e');
    env = {
      ...s3.env,
      REPRISE_DATA_DIR: dataDir,
      DATABASE_URL: await target.fresh(),
      REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8',
      REPRISE_CALLBACK_SCHEDULE: '0,0.2',
      REPRISE_RATE_LIMIT: '1000/10s',
      LOG_LEVEL: 'error',
    };
    ({ server, base, apiKey, secret } = await serveWithAccount(env, 100));
    // A second process on the same database and bucket, API only, handing out presigned URLs.
    const port = await freePort();
    presignBase = `http://127.0.0.1:${port}`;
    presigner = await startServe({ ...env, REPRISE_ROLES: 'api', REPRISE_S3_PRESIGN: 'true' }, port);
  }, 60_000);
  afterAll(async () => {
    if (presigner) await kill(presigner, 'SIGTERM');
    if (server) await kill(server, 'SIGTERM');
    await receiver?.close();
    await s3?.close();
  });

  const { post, credit, submit, details, callbackOf, verified } = apiSession(() => ({ base, apiKey, received, secret }));
  const auth = () => ({ authorization: `Bearer ${apiKey}` });
  const settled = (taskId: string) =>
    details('/api/v1/generate/record-info', taskId, (data) => data.status === 'SUCCESS' || data.status === 'GENERATE_AUDIO_FAILED');
  const onPresigner = (url: string) => `${presignBase}${new URL(url).pathname}`;

  async function upload(seconds: number, name: string): Promise<{ downloadUrl: string; key: string }> {
    const before = new Set(await s3.keys('uploads/'));
    const form = new FormData();
    form.append('file', new Blob([sineWav(seconds, 22_050, 1)], { type: 'audio/wav' }), name);
    form.append('uploadPath', 'songs');
    const answer = (await (await fetch(`${base}/api/file-stream-upload`, { method: 'POST', headers: auth(), body: form })).json()) as Json;
    expect(answer).toMatchObject({ success: true, code: 200 });
    const added = (await s3.keys('uploads/')).filter((key) => !before.has(key));
    expect(added).toHaveLength(1);
    return { downloadUrl: answer.data.downloadUrl, key: added[0]! };
  }

  it('upload → replace-section → every blob in the bucket, none on disk → downloaded through reprise with Range', async () => {
    const { downloadUrl } = await upload(30, 'song.wav');
    const taskId = await submit('/api/v1/generate/replace-section', {
      uploadUrl: downloadUrl,
      prompt: 'a brighter bridge',
      tags: 'Jazz',
      title: 'Bridge',
      infillStartS: 8,
      infillEndS: 20,
      callBackUrl: receiverUrl,
    });
    const data = await settled(taskId);
    expect(data.status).toBe('SUCCESS');
    const [track] = data.response.sunoData;
    expect(await s3.keys(`tasks/${taskId}/`)).toEqual([`tasks/${taskId}/0.jpeg`, `tasks/${taskId}/0.master.wav`, `tasks/${taskId}/0.mp3`]);
    expect(fs.existsSync(path.join(dataDir, 'blobs'))).toBe(false);

    const whole = await fetch(track.audioUrl);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('audio/mpeg');
    const bytes = Buffer.from(await whole.arrayBuffer());
    expect(bytes.length).toBeGreaterThan(10_000);
    const partial = await fetch(track.streamAudioUrl, { headers: { range: 'bytes=1000-4999' } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe(`bytes 1000-4999/${bytes.length}`);
    expect(Buffer.from(await partial.arrayBuffer())).toEqual(bytes.subarray(1000, 5000));
    const image = await fetch(track.imageUrl);
    expect(image.headers.get('content-type')).toBe('image/jpeg');
    expect((await image.arrayBuffer()).byteLength).toBeGreaterThan(0);
    edited = { taskId, track, bytes };
  });

  it('presigned mode: file URLs answer 302 to the S3 server, which serves the same bytes and their ranges', async () => {
    const redirect = await fetch(onPresigner(edited.track.streamAudioUrl), { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('cache-control')).toBe('no-store');
    const location = redirect.headers.get('location') ?? '';
    expect(location.startsWith(`${s3.endpoint}/${s3.bucket}/tasks/${edited.taskId}/0.mp3?`)).toBe(true);
    const partial = await fetch(location, { headers: { range: 'bytes=1000-4999' } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-type')).toBe('audio/mpeg');
    expect(Buffer.from(await partial.arrayBuffer())).toEqual(edited.bytes.subarray(1000, 5000));
    // A client that follows redirects gets the file as if reprise had served it.
    const followed = await fetch(onPresigner(edited.track.audioUrl));
    expect(followed.status).toBe(200);
    // equals(), not toEqual(): a deep comparison of 700 KB takes the matcher seconds.
    expect(Buffer.from(await followed.arrayBuffer()).equals(edited.bytes)).toBe(true);
  });

  it('a task whose source object was deleted fails with code 400 "no longer available", refunded; its file URLs answer 404', async () => {
    for (const key of await s3.keys(`tasks/${edited.taskId}/`)) if (!key.endsWith('.jpeg')) await s3.remove(key);
    const before = await credit();
    const taskId = await submit('/api/v1/generate/replace-section', {
      taskId: edited.taskId,
      audioId: edited.track.id,
      prompt: 'again',
      tags: 'Jazz',
      title: 'Again',
      infillStartS: 8,
      infillEndS: 20,
      callBackUrl: receiverUrl,
    });
    const data = await settled(taskId);
    expect(data).toMatchObject({ status: 'GENERATE_AUDIO_FAILED', errorCode: 400 });
    expect(data.errorMessage).toContain('no longer available');
    expect(await credit()).toBe(before);
    const body = verified(await callbackOf(taskId), taskId);
    expect(body).toMatchObject({ code: 400, msg: 'Source audio could not be read, credits refunded', data: { callbackType: 'error', task_id: taskId } });
    expect(body.data.error).toContain('no longer available');

    for (const url of [edited.track.audioUrl, edited.track.streamAudioUrl]) {
      const gone = await fetch(url, { headers: { range: 'bytes=0-99' } });
      expect(gone.status).toBe(404);
      expect(await gone.json()).toEqual({ code: 404, msg: 'file: not found (unknown or expired)', data: null });
      expect((await fetch(onPresigner(url), { redirect: 'manual' })).status).toBe(404);
    }
    // Its cover is still in the bucket and still served: only what was deleted is gone.
    expect((await fetch(edited.track.imageUrl)).status).toBe(200);
    expect((await fetch(`${base}/files/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.mp3`)).status).toBe(404);
  });

  it('an upload whose object was deleted is refused at submission (422, nothing charged), not a 500', async () => {
    const { downloadUrl, key } = await upload(30, 'gone.wav');
    await s3.remove(key);
    const before = await credit();
    const answer = await post('/api/v1/generate/replace-section', {
      uploadUrl: downloadUrl,
      prompt: 'p',
      tags: 'Jazz',
      title: 'T',
      infillStartS: 8,
      infillEndS: 20,
    });
    expect(answer).toEqual({ code: 422, msg: 'uploadUrl: source no longer available (its file is gone from storage)', data: null });
    expect(await credit()).toBe(before);
    expect((await fetch(downloadUrl)).status).toBe(404);
  });
});
