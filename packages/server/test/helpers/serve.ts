import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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

/** What the end-to-end tests do against a served account: requests, credit, and waiting for details and callbacks. */
export interface ApiSession {
  /** POSTs JSON and expects HTTP 200 (KIE answers refusals with 200 too); the envelope is returned. */
  post(route: string, body: unknown): Promise<Json>;
  get(route: string): Promise<Json>;
  credit(): Promise<number>;
  /** POSTs a task and expects it accepted: its taskId. */
  submit(route: string, body: unknown): Promise<string>;
  /** Polls a details route until `done` says the data is final. */
  details(route: string, taskId: string, done: (data: Json) => boolean): Promise<Json>;
  /** The first callback whose body names the task (at `data.task_id`, or elsewhere with `idOf`). */
  callbackOf(taskId: string, idOf?: (body: Json) => unknown): Promise<Received>;
}

export function apiSession(base: string, apiKey: string, received: Received[], timeoutMs = 120_000): ApiSession {
  const auth = () => ({ authorization: `Bearer ${apiKey}` });
  const post = async (route: string, body: unknown): Promise<Json> => {
    const response = await fetch(`${base}${route}`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(response.status).toBe(200);
    return response.json();
  };
  const get = async (route: string): Promise<Json> => (await fetch(`${base}${route}`, { headers: auth() })).json();
  return {
    post,
    get,
    credit: async () => (await get('/api/v1/chat/credit')).data,
    async submit(route, body) {
      const answer = await post(route, body);
      expect(answer).toMatchObject({ code: 200, msg: 'success' });
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
    callbackOf: (taskId, idOf = (body) => body?.data?.task_id) =>
      waitFor(async () => received.find((r) => idOf(JSON.parse(r.body)) === taskId), timeoutMs, `the callback of ${taskId}`),
  };
}
