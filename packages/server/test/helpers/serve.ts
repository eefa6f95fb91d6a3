import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { freePort, runCli, startServe } from './process.js';

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
