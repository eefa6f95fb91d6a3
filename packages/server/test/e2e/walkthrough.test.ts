import type { ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpStatusFor } from '../../src/api/errors.js';
import { sineWav } from '../helpers/audio.js';
import { freePort, kill } from '../helpers/process.js';
import { type Json, type Received, type Receiver, serveWithAccount, startReceiver } from '../helpers/serve.js';
import { storeTargets, tempDir } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The README's walk-through against a real `reprise serve`: upload → replace-section
 * (mode 2) → callback and polling → download; then mode 1 on a generated track,
 * the delivery log, redelivery and task events.
 */
describe.each(storeTargets())('README walk-through on $name', (target) => {
  let server: ChildProcess;
  let base: string;
  let apiKey: string;
  let secret: string;
  let receiver: Receiver;
  let receiverUrl: string;
  let received: Received[];

  beforeAll(async () => {
    receiver = await startReceiver('{"status":"received"}');
    ({ url: receiverUrl, received } = receiver);
    ({ server, base, apiKey, secret } = await serveWithAccount(
      {
        REPRISE_DATA_DIR: tempDir('walk'),
        DATABASE_URL: await target.fresh(),
        REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8',
        REPRISE_GENERATE_DURATION_S: '30',
        REPRISE_CALLBACK_SCHEDULE: '0,0.2',
        LOG_LEVEL: 'error',
      },
      100,
    ));
  });
  afterAll(async () => {
    await kill(server, 'SIGTERM');
    await receiver.close();
  });

  const auth = () => ({ authorization: `Bearer ${apiKey}` });
  const postJson = async (path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await response.json()) as { code: number; msg: string; data: Json };
  };
  const record = async (taskId: string) => {
    const response = await fetch(`${base}/api/v1/generate/record-info?taskId=${taskId}`, { headers: auth() });
    return ((await response.json()) as { data: Json }).data;
  };
  const finished = (taskId: string) =>
    waitFor(
      async () => {
        const data = await record(taskId);
        return ['SUCCESS', 'GENERATE_AUDIO_FAILED'].includes(data.status) ? data : undefined;
      },
      90_000,
      `task ${taskId}`,
      200,
    );
  const callbacksFor = (taskId: string) => received.filter((r) => JSON.parse(r.body).data.task_id === taskId);

  it('upload → replace seconds 12–24 → signed callback and polling → download', async () => {
    const form = new FormData();
    form.append('file', new Blob([sineWav(60, 44_100, 2)], { type: 'audio/wav' }), 'my-song.wav');
    form.append('uploadPath', 'songs');
    const upload = (await (await fetch(`${base}/api/file-stream-upload`, { method: 'POST', headers: auth(), body: form })).json()) as {
      success: boolean;
      data: { downloadUrl: string };
    };
    expect(upload.success).toBe(true);

    const submitted = await postJson('/api/v1/generate/replace-section', {
      uploadUrl: upload.data.downloadUrl,
      prompt: 'jazz piano',
      tags: 'Jazz',
      title: 'My song, jazz bridge',
      infillStartS: 12,
      infillEndS: 24,
      callBackUrl: receiverUrl,
    });
    expect(submitted).toMatchObject({ code: 200, msg: 'success' });
    const taskId = submitted.data.taskId as string;
    const data = await finished(taskId);
    expect(data.status).toBe('SUCCESS');
    const [track] = data.response.sunoData;
    expect(track.duration).toBeCloseTo(60, 1);

    const [callback] = await waitFor(async () => (callbacksFor(taskId).length ? callbacksFor(taskId) : undefined), 10_000, 'the callback');
    const body = JSON.parse(callback!.body);
    expect(body).toEqual({
      code: 200,
      msg: 'All generated successfully.',
      data: {
        callbackType: 'complete',
        task_id: taskId,
        data: [
          {
            id: track.id,
            audio_url: track.audioUrl,
            stream_audio_url: track.streamAudioUrl,
            image_url: track.imageUrl,
            prompt: 'jazz piano',
            model_name: track.modelName,
            title: 'My song, jazz bridge',
            tags: 'Jazz',
            createTime: track.createTime,
            duration: track.duration,
          },
        ],
      },
    });
    const timestamp = callback!.headers['x-webhook-timestamp'] as string;
    expect(callback!.headers['x-webhook-signature']).toBe(createHmac('sha256', secret).update(`${taskId}.${timestamp}`).digest('base64'));
    expect(new Webhook(secret).verify(callback!.body, callback!.headers as Record<string, string>)).toEqual(body);
    expect((await record(taskId)).callback).toMatchObject({ status: 'delivered', attempts: 1, lastError: null });

    const audio = await fetch(track.audioUrl);
    expect(audio.headers.get('content-type')).toBe('audio/mpeg');
    const bytes = Buffer.from(await audio.arrayBuffer());
    expect(bytes.length).toBeGreaterThan(100_000);
    const partial = await fetch(track.streamAudioUrl, { headers: { range: 'bytes=0-99' } });
    expect(partial.status).toBe(206);
    expect(Buffer.from(await partial.arrayBuffer())).toEqual(bytes.subarray(0, 100));
    expect((await fetch(track.imageUrl)).headers.get('content-type')).toBe('image/jpeg');
  });

  it('generate sends text, first and complete; mode 1 edits one of its tracks', async () => {
    const generated = await postJson('/api/v1/generate', {
      customMode: false,
      instrumental: true,
      prompt: 'calm lo-fi with piano',
      model: 'V4_5',
      callBackUrl: receiverUrl,
    });
    const taskId = generated.data.taskId as string;
    const events = fetch(`${base}/api/v1/tasks/${taskId}/events`, { headers: auth() }).then((r) => r.text());
    const data = await finished(taskId);
    expect(data.status).toBe('SUCCESS');
    expect(data.response.sunoData).toHaveLength(2);
    const stages = await waitFor(
      async () => {
        const types = callbacksFor(taskId).map((r) => JSON.parse(r.body).data.callbackType);
        return types.length === 3 ? types : undefined;
      },
      10_000,
      'three callbacks',
    );
    expect(stages).toEqual(['text', 'first', 'complete']);
    const statuses = [...(await events).matchAll(/data: (.*)/g)].map((m) => JSON.parse(m[1]!).status);
    expect(statuses.at(-1)).toBe('SUCCESS');

    const audioId = data.response.sunoData[1].id;
    const edit = await postJson('/api/v1/generate/replace-section', {
      taskId,
      audioId,
      prompt: 'strings',
      tags: 'classical',
      title: 'Edit',
      infillStartS: 5,
      infillEndS: 15,
    });
    const edited = await finished(edit.data.taskId);
    expect(edited).toMatchObject({ status: 'SUCCESS', parentMusicId: audioId, type: 'REPLACE_SECTION' });
    expect(edited.response.sunoData[0].duration).toBeCloseTo(30, 1);
    // [EXT] The range actually replaced (its edges moved onto beats by at most half a second); generated tracks have none.
    expect(Math.abs(edited.response.sunoData[0].infillStartS - 5)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(edited.response.sunoData[0].infillEndS - 15)).toBeLessThanOrEqual(0.5);
    expect(data.response.sunoData[1].infillStartS).toBeUndefined();
    expect(edited.callback).toEqual({ status: 'none', attempts: 0, lastError: null });
  });

  it('shows the delivery log and redelivers with the same webhook-id', async () => {
    const submitted = await postJson('/api/v1/generate', { customMode: false, instrumental: true, prompt: 'funk', callBackUrl: receiverUrl });
    const taskId = submitted.data.taskId as string;
    await finished(taskId);
    await waitFor(async () => (callbacksFor(taskId).length === 3 ? true : undefined), 10_000, 'callbacks');
    const log = (await (await fetch(`${base}/api/v1/tasks/${taskId}/callbacks`, { headers: auth() })).json()) as { data: Json[] };
    expect(log.data.map((entry) => [entry.stage, entry.status, entry.attemptLog.length])).toEqual([
      ['text', 'delivered', 1],
      ['first', 'delivered', 1],
      ['complete', 'delivered', 1],
    ]);
    expect(log.data[2].attemptLog[0]).toMatchObject({ httpStatus: 200, errorClass: null, responseBody: '{"status":"received"}' });
    // Each attempt's headers are kept: exactly the signatures the receiver got.
    const received = callbacksFor(taskId).find((copy) => copy.headers['webhook-id'] === log.data[2].deliveryId);
    const sent = log.data[2].attemptLog[0].requestHeaders as Record<string, string>;
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-webhook-timestamp', 'x-webhook-signature']) {
      expect(sent[name], name).toBe(received!.headers[name]);
    }
    expect(new Webhook(secret).verify(received!.body, sent)).toEqual(JSON.parse(received!.body));

    const redelivered = await postJson(`/api/v1/tasks/${taskId}/callbacks/redeliver`, {});
    expect(redelivered.data.deliveryId).toBe(log.data[2].deliveryId);
    const again = await waitFor(async () => (callbacksFor(taskId).length === 4 ? callbacksFor(taskId) : undefined), 10_000, 'the redelivery');
    expect(again[3]!.headers['webhook-id']).toBe(again[2]!.headers['webhook-id']);
    expect(again[3]!.body).toBe(again[2]!.body);

    const foreign = await fetch(`${base}/api/v1/tasks/${'0'.repeat(32)}/callbacks`, { headers: auth() });
    expect(foreign.status).toBe(httpStatusFor(404, false));
    expect(await foreign.json()).toEqual({ code: 404, msg: `taskId: no task ${'0'.repeat(32)} for this account`, data: null });
  });

  it('keeps a task SUCCESS when its callback cannot be delivered, and says why', async () => {
    const deadUrl = `http://127.0.0.1:${await freePort()}/nobody-listens`;
    const generated = await postJson('/api/v1/generate', { customMode: false, instrumental: true, prompt: 'ambient', callBackUrl: deadUrl });
    const taskId = generated.data.taskId as string;
    expect((await finished(taskId)).status).toBe('SUCCESS');
    const data = await waitFor(
      async () => {
        const current = await record(taskId);
        return current.callback.status === 'failed' ? current : undefined;
      },
      20_000,
      'the callback to be exhausted',
    );
    expect(data.status).toBe('SUCCESS');
    expect(data.callback.attempts).toBeGreaterThanOrEqual(2);
    expect(data.callback.lastError).toMatch(/^connect: /);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/reprise_callback_attempts_total\{outcome="network"\} [1-9]/);
    expect(metrics).toContain('reprise_callback_delivery_latency_seconds_bucket');
  });
});
