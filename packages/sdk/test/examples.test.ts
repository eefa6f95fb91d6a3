import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { CallbackEvent } from '../src/index.js';
import { completeBody, errorBody, post, SECRET, signed, until } from './helpers/callbacks.js';

/** The examples, run as their users would run them (the replace-section script runs in e2e.test.ts against a real server). */

describe('examples/express-receiver.ts', () => {
  const servers: http.Server[] = [];
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('saves each verified callback once and refuses forged ones', async () => {
    const { createApp } = await import('../examples/express-receiver.js');
    const saved: CallbackEvent[] = [];
    const server = http.createServer(createApp(SECRET, (event) => void saved.push(event)));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/reprise/callback`;
    const body = completeBody('ex1');
    expect((await post(url, body, signed(body))).status).toBe(200);
    expect((await post(url, body, signed(body))).body).toBe('{"status":"duplicate"}');
    expect((await post(url, body.replace('a.mp3', 'evil.mp3'), signed(body))).status).toBe(401);
    const failure = errorBody('ex2');
    expect((await post(url, failure, signed(failure))).status).toBe(200);
    await until(() => saved.length === 2);
    expect(saved.map((e) => [e.taskId, e.stage])).toEqual([
      ['ex1', 'complete'],
      ['ex2', 'error'],
    ]);
  });
});

describe('examples/nextjs-route.ts', () => {
  it('is a plain `POST(request: Request)` route that verifies and records the result', async () => {
    process.env.REPRISE_WEBHOOK_SECRET = SECRET;
    const route = await import('../examples/nextjs-route.js');
    const body = completeBody('nx1');
    const response = await route.POST(new Request('https://app.example/api/reprise/callback', { method: 'POST', headers: signed(body), body }));
    expect(response.status).toBe(200);
    await until(() => route.results.has('nx1'));
    expect(route.results.get('nx1')).toMatchObject({ status: 'SUCCESS', tracks: [{ audioUrl: 'http://127.0.0.1:1/a.mp3' }] });
    const forged = await route.POST(
      new Request('https://app.example/api/reprise/callback', { method: 'POST', headers: signed(body, { secret: 'whsec_AAAA' }), body }),
    );
    expect(forged.status).toBe(401);
    expect(route.runtime).toBe('nodejs');
  });
});
