import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallbackEvent, type CallbackHandler, Client, createCallbackHandler, type FinishedTask, toNodeListener } from '../src/index.js';
import { freePort, type RepriseServer, startReprise, tinyWav } from './helpers/reprise-server.js';

/**
 * The SDK against a real `reprise serve` (SQLite, loopback only): upload a WAV,
 * submit a replace-section (mode 2) whose callback goes to the SDK's own
 * receiver, and wait. Then the same with the receiver down: polling still
 * delivers the result. Then the replace-section example script.
 */
const SONG_SECONDS = 12;
const section = { prompt: 'jazz piano', tags: 'Jazz', title: 'e2e bridge', infillStartS: 3, infillEndS: 9 };

let server: RepriseServer;
let client: Client;
let handler: CallbackHandler;
let receiverUrl: string;
const received: CallbackEvent[] = [];
const receiver = http.createServer();

beforeAll(async () => {
  server = await startReprise();
  client = new Client({ apiKey: server.apiKey, baseUrl: server.baseUrl });
  handler = createCallbackHandler({ secret: server.secret, onComplete: (event) => void received.push(event), onError: (event) => void received.push(event) });
  receiver.on('request', toNodeListener(handler));
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/reprise/callback`;
});

afterAll(async () => {
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
  await server?.stop();
});

const until = async <T>(read: () => Promise<T | undefined>, ms: number): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('SDK ↔ real reprise server', () => {
  it('upload (base64) → replace-section with callBackUrl → the signed callback reaches the SDK receiver; waitForTask resolves once', async () => {
    const credits = await client.getCredits();
    const upload = await client.uploadBase64({ data: tinyWav(SONG_SECONDS), uploadPath: 'e2e', fileName: 'song.wav' });
    expect(upload).toMatchObject({ fileName: 'song.wav', mimeType: 'audio/wav' });

    const { taskId } = await client.replaceSection({ uploadUrl: upload.downloadUrl, ...section, callBackUrl: receiverUrl });
    expect(taskId).toMatch(/^[0-9a-f]{32}$/);
    // Callbacks only: the result must come through the receiver.
    let settled = 0;
    const task = await client.waitForTask(taskId, { callbacks: handler, events: false, poll: false, timeoutMs: 30_000 }).then((t) => {
      settled++;
      return t;
    });
    expect(task).toMatchObject({ taskId, status: 'SUCCESS', succeeded: true, via: 'callback' });
    expect(task.tracks).toHaveLength(1);
    expect(task.tracks[0]?.duration).toBeCloseTo(SONG_SECONDS, 1);
    expect(task.callback).toMatchObject({ scheme: 'standard', stage: 'complete', webhookId: expect.stringMatching(/^msg_/) });

    await until(async () => (received.some((e) => e.taskId === taskId) ? true : undefined), 5_000);
    const record = await until(async () => {
      const r = await client.getTask(taskId);
      return r.callback?.status === 'delivered' ? r : undefined;
    }, 10_000);
    expect(record.response.sunoData[0]?.audioUrl).toBe(task.tracks[0]?.audioUrl);
    expect(await client.getCredits()).toBe(credits - 5);

    // A redelivery carries the same webhook-id: the receiver acknowledges it and does not process it again.
    const log = await client.getCallbacks(taskId);
    expect(log.map((entry) => [entry.stage, entry.status])).toEqual([['complete', 'delivered']]);
    await client.redeliverCallback(taskId);
    await until(async () => ((await client.getCallbacks(taskId))[0]?.attemptLog.length === 2 ? true : undefined), 10_000);
    const attempts = (await client.getCallbacks(taskId))[0]?.attemptLog ?? [];
    expect(attempts.map((a) => [a.httpStatus, a.responseBody])).toEqual([
      [200, '{"status":"received"}'],
      [200, '{"status":"duplicate"}'],
    ]);
    expect(received.filter((e) => e.taskId === taskId)).toHaveLength(1);
    expect(settled).toBe(1);
  });

  it('with every source on (callback, events, polling) the wait resolves exactly once', async () => {
    const upload = await client.uploadBase64({ data: tinyWav(SONG_SECONDS), uploadPath: 'e2e' });
    const { taskId } = await client.replaceSection({ uploadUrl: upload.downloadUrl, ...section, callBackUrl: receiverUrl });
    const results: FinishedTask[] = [];
    const task = await client.waitForTask(taskId, { callbacks: handler, pollIntervalMs: 200, timeoutMs: 30_000 }).then((t) => {
      results.push(t);
      return t;
    });
    expect(task.status).toBe('SUCCESS');
    expect(['callback', 'events', 'poll']).toContain(task.via);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(results).toHaveLength(1);
    // The events stream of a finished task opens with its final status and ends.
    const statuses: string[] = [];
    for await (const event of client.events(taskId)) statuses.push(event.status);
    expect(statuses).toEqual(['SUCCESS']);
  });

  it('with the receiver down, waitForTask still resolves, by polling', async () => {
    const upload = await client.uploadFile({ file: tinyWav(SONG_SECONDS), uploadPath: 'e2e', fileName: 'down.wav', contentType: 'audio/wav' });
    const closedPort = await freePort(); // nothing listens there
    const { taskId } = await client.replaceSection({ uploadUrl: upload.downloadUrl, ...section, callBackUrl: `http://127.0.0.1:${closedPort}/callback` });
    const task = await client.waitForTask(taskId, { callbacks: handler, events: false, pollIntervalMs: 300, timeoutMs: 30_000 });
    expect(task).toMatchObject({ taskId, status: 'SUCCESS', via: 'poll' });
    expect(task.tracks[0]?.duration).toBeCloseTo(SONG_SECONDS, 1);
    expect(task.record?.callback?.status).not.toBe('delivered');
    expect(received.some((e) => e.taskId === taskId)).toBe(false);
  });

  it('a validation error comes back as a RepriseError naming the field', async () => {
    const upload = await client.uploadBase64({ data: tinyWav(SONG_SECONDS), uploadPath: 'e2e' });
    await expect(client.replaceSection({ uploadUrl: upload.downloadUrl, ...section, infillStartS: 9, infillEndS: 3 })).rejects.toMatchObject({
      code: 422,
      msg: expect.stringContaining('infillEndS'),
    });
    await expect(client.getTask('0'.repeat(32))).rejects.toMatchObject({ code: 404 });
  });

  it('examples/replace-section.ts uploads, submits and waits, printing the outcome', async () => {
    const song = path.join(os.tmpdir(), `reprise-sdk-example-${process.pid}.wav`);
    writeFileSync(song, tinyWav(SONG_SECONDS));
    const script = fileURLToPath(new URL('../examples/replace-section.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, song, '2', '8', 'strings', 'Classical'], {
      env: { ...process.env, REPRISE_BASE_URL: server.baseUrl, REPRISE_API_KEY: server.apiKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, stderr).toBe(0);
    const outcome = JSON.parse(stdout.trim()) as { status: string; audioUrl: string; duration: number };
    expect(outcome).toMatchObject({ status: 'SUCCESS', duration: expect.closeTo(SONG_SECONDS, 1) });
    expect((await fetch(outcome.audioUrl)).headers.get('content-type')).toBe('audio/mpeg');
  });
});
