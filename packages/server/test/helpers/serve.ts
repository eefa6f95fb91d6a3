import type { ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { expect } from 'vitest';
import { freePort, runCli, startServe } from './process.js';
import { waitFor } from './wait.js';

/** One callback as a receiver got it. */
export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** A callback receiver on loopback that records every POST and answers `reply`. */
export async function startReceiver(reply: string): Promise<Receiver> {
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.end(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface Served {
  server: ChildProcess;
  base: string;
  apiKey: string;
  /** The account's webhook key (callbacks are signed with it). */
  secret: string;
}

/** An account with credits and a webhook key made by the CLI, then `reprise serve` on the same environment. */
export async function serveWithAccount(env: Record<string, string>, credits: number): Promise<Served> {
  const created = await runCli(['accounts', 'create', '--name', 'me', '--credits', String(credits), '--webhook-key'], env);
  expect(created.code).toBe(0);
  const { apiKey, webhookHmacKey } = JSON.parse(created.stdout) as { apiKey: string; webhookHmacKey: string };
  const port = await freePort();
  return { server: await startServe(env, port), base: `http://127.0.0.1:${port}`, apiKey, secret: webhookHmacKey };
}

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field by the tests
export type Json = any;

/** Where a session talks to: read when called, so a session can be made before the server is up. */
export interface SessionConfig {
  base: string;
  apiKey: string;
  /** What the test's receiver got. */
  received: Received[];
  /** The account's webhook key, to verify callbacks. */
  secret: string;
}

/** What the end-to-end tests do against a served account: requests, credit, waiting for details and callbacks. */
export interface ApiSession {
  /** POSTs JSON and expects HTTP 200 (KIE answers refusals with 200 too); the envelope is returned. */
  post(route: string, body: unknown): Promise<Json>;
  get(route: string): Promise<Json>;
  credit(): Promise<number>;
  /** POSTs a task and expects it accepted with a 32-hex id: the id. */
  submit(route: string, body: unknown): Promise<string>;
  /** Polls a details route until `done` says the data is final. */
  details(route: string, taskId: string, done: (data: Json) => boolean): Promise<Json>;
  /** At least `count` callbacks of the task (its id at `data.task_id`, `data.taskId` or `task_id`), in arrival order. */
  callbacksFor(taskId: string, count: number, timeoutMs?: number): Promise<Received[]>;
  /** The first callback of the task. */
  callbackOf(taskId: string): Promise<Received>;
  /** Both signatures of a callback checked (KIE's over the task id, Standard Webhooks' over the body); the body. */
  verified(callback: Received, taskId: string): Json;
}

/** The record-info `data` keys of KIE's one-track tools (WAV, music video, stems), in its order. */
export const TRACK_TOOL_RECORD_KEYS = [
  'taskId',
  'musicId',
  'callbackUrl',
  'musicIndex',
  'completeTime',
  'response',
  'successFlag',
  'createTime',
  'errorCode',
  'errorMessage',
];

const taskIdIn = (body: Json): string | undefined => body?.data?.task_id ?? body?.data?.taskId ?? body?.task_id;

export function apiSession(config: () => SessionConfig, timeoutMs = 120_000): ApiSession {
  const auth = () => ({ authorization: `Bearer ${config().apiKey}` });
  const post = async (route: string, body: unknown): Promise<Json> => {
    const response = await fetch(`${config().base}${route}`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    return response.json();
  };
  const get = async (route: string): Promise<Json> => (await fetch(`${config().base}${route}`, { headers: auth() })).json();
  const callbacksFor = (taskId: string, count: number, within = timeoutMs): Promise<Received[]> =>
    waitFor(
      async () => {
        const mine = config().received.filter((r) => taskIdIn(JSON.parse(r.body)) === taskId);
        return mine.length >= count ? mine : undefined;
      },
      within,
      `${count} callback(s) of ${taskId}`,
    );
  return {
    post,
    get,
    credit: async () => (await get('/api/v1/chat/credit')).data,
    async submit(route, body) {
      const answer = await post(route, body);
      expect(answer).toMatchObject({ code: 200, msg: 'success' });
      expect(answer.data.taskId).toMatch(/^[0-9a-f]{32}$/);
      return answer.data.taskId;
    },
    details: (route, taskId, done) =>
      waitFor(
        async () => {
          const { data } = await get(`${route}?taskId=${taskId}`);
          return data && done(data) ? data : undefined;
        },
        timeoutMs,
        `${route} of ${taskId}`,
        200,
      ),
    callbacksFor,
    callbackOf: async (taskId) => (await callbacksFor(taskId, 1))[0]!,
    verified(callback, taskId) {
      const { secret } = config();
      const timestamp = callback.headers['x-webhook-timestamp'] as string;
      expect(callback.headers['x-webhook-signature']).toBe(createHmac('sha256', secret).update(`${taskId}.${timestamp}`).digest('base64'));
      return new Webhook(secret).verify(callback.body, callback.headers as Record<string, string>);
    },
  };
}
