import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../src/accounts/index.js';
import { createDispatcher, type Dispatcher } from '../../src/callbacks/dispatcher.js';
import { oweCallback, redeliverLatest, successPayload } from '../../src/callbacks/index.js';
import type { Services } from '../../src/services.js';
import { submitTask } from '../../src/tasks/index.js';
import { silentLog } from '../helpers/log.js';
import { closeServices, createTestServices } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';
import { httpServer } from '../outbound/servers.js';

/** A task of the account's owing one callback to `url`. */
async function oweOne(services: Services, accountId: string, url: string): Promise<{ taskId: string; callbackId: string }> {
  const taskId = await submitTask(
    services.store,
    {
      accountId,
      type: 'REPLACE_SECTION',
      param: '{}',
      input: { kind: 'generate', prompt: '', style: '', title: '', negativeTags: '', instrumental: true, customMode: false, durationS: 1 },
      parentMusicId: '',
      callbackUrl: url,
      model: '',
      price: 1,
    },
    { rateLimit: { max: 10_000, windowMs: 1 }, taskTimeoutMs: 60_000 },
  );
  const callbackId = await services.store.db.transaction().execute(async (tx) => {
    const task = await tx.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirstOrThrow();
    return oweCallback(tx, task, successPayload('complete', taskId, []), Date.now());
  });
  return { taskId, callbackId: callbackId! };
}

/** A receiver on loopback whose path chooses its fault. */
function faultyReceiver() {
  const hits = new Map<string, Array<{ at: number; headers: http.IncomingHttpHeaders; body: string }>>();
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      const list = hits.get(path) ?? [];
      list.push({ at: Date.now(), headers: request.headers, body });
      hits.set(path, list);
      if (path === '/ok') response.end('{"ok":true}');
      else if (path === '/500') response.writeHead(500).end('boom');
      else if (path === '/flaky') response.writeHead(list.length === 1 ? 503 : 200).end();
      else if (path === '/429') response.writeHead(429, { 'retry-after': '1' }).end();
      else if (path === '/redirect') response.writeHead(302, { location: `http://127.0.0.1:${counterPort}/target` }).end();
      else if (path === '/big') response.end('x'.repeat(200 * 1024));
      else if (path === '/reset') request.socket.destroy();
      else if (path === '/slow-headers') setTimeout(() => response.end('late'), 2000);
      // '/hang': never answers
    });
  });
  let connections = 0;
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
  });
  let counterPort = 0;
  let counterConnections = 0;
  const counter = http.createServer((_q, r) => r.end());
  counter.on('connection', () => counterConnections++);
  return {
    hits,
    async start() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      await new Promise<void>((resolve) => counter.listen(0, '127.0.0.1', resolve));
      counterPort = (counter.address() as AddressInfo).port;
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    counterConnections: () => counterConnections,
    connections: () => connections,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      await new Promise((resolve) => counter.close(resolve));
    },
  };
}

describe.each(storeTargets())('callback dispatcher on $name', (target) => {
  let services: Services;
  let dispatcher: Dispatcher;
  const receiver = faultyReceiver();
  let base: string;
  let accountId: string;
  let secret: string;

  beforeAll(async () => {
    base = await receiver.start();
    services = await createTestServices(target, { REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8' });
    const account = await createAccount(services.store.db, { name: 'cb', credits: 10_000, webhookKey: true });
    accountId = account.accountId;
    secret = account.webhookHmacKey!;
    dispatcher = createDispatcher({
      store: services.store,
      outbound: services.outbound,
      scheduleMs: [0, 300, 600],
      timeoutMs: 500,
      concurrency: 8,
      perHost: 8,
      pollMs: 50,
      log: silentLog,
    });
    dispatcher.start();
  });
  afterAll(async () => {
    await dispatcher.stop();
    await receiver.stop();
    await closeServices(services);
  });

  async function owe(path: string): Promise<{ taskId: string; callbackId: string }> {
    const owed = await oweOne(services, accountId, `${base}${path}`);
    dispatcher.wake();
    return owed;
  }

  const settled = (callbackId: string) =>
    waitFor(
      async () => {
        const row = await services.store.db.selectFrom('callbacks').selectAll().where('id', '=', callbackId).executeTakeFirstOrThrow();
        return row.status === 'pending' ? undefined : row;
      },
      15_000,
      `callback ${callbackId} to settle`,
    );
  const attempts = (callbackId: string) =>
    services.store.db.selectFrom('callback_attempts').selectAll().where('callback_id', '=', callbackId).orderBy('id').execute();

  it('delivers a signed callback once on 2xx', async () => {
    const { taskId, callbackId } = await owe('/ok');
    const row = await settled(callbackId);
    expect(row.status).toBe('delivered');
    const [hit] = receiver.hits.get('/ok')!.filter((h) => JSON.parse(h.body).data.task_id === taskId);
    expect(hit!.headers['content-type']).toBe('application/json');
    expect(hit!.headers['webhook-id']).toBe(callbackId);
    expect(new Webhook(secret).verify(hit!.body, hit!.headers as Record<string, string>)).toBeTruthy();
    expect((await attempts(callbackId)).map((a) => a.http_status)).toEqual([200]);
  });

  it('retries a 500 on the schedule (0, ~300, ~600 ms) and then gives up', async () => {
    const { callbackId } = await owe('/500');
    const row = await settled(callbackId);
    expect(row).toMatchObject({ status: 'failed', attempts: 3, last_error: 'HTTP 500' });
    const log = await attempts(callbackId);
    expect(log.map((a) => a.http_status)).toEqual([500, 500, 500]);
    expect(log.map((a) => a.response_body)).toEqual(['boom', 'boom', 'boom']);
    const gaps = [log[1]!.started_at - (log[0]!.started_at + log[0]!.duration_ms), log[2]!.started_at - (log[1]!.started_at + log[1]!.duration_ms)];
    expect(gaps[0]).toBeGreaterThanOrEqual(240);
    expect(gaps[1]).toBeGreaterThanOrEqual(480);
  });

  it('delivers on the second attempt after a 503', async () => {
    const { callbackId } = await owe('/flaky');
    expect((await settled(callbackId)).status).toBe('delivered');
    expect((await attempts(callbackId)).map((a) => a.http_status)).toEqual([503, 200]);
  });

  it('honours Retry-After within [step, 2 × step]', async () => {
    const { callbackId } = await owe('/429');
    await settled(callbackId);
    const log = await attempts(callbackId);
    expect(log).toHaveLength(3);
    const gap = log[1]!.started_at - (log[0]!.started_at + log[0]!.duration_ms);
    // Retry-After: 1 s, clamped to 2 × 300 ms.
    expect(gap).toBeGreaterThanOrEqual(590);
  });

  it('treats a redirect as a failure and never follows it', async () => {
    const { callbackId } = await owe('/redirect');
    const row = await settled(callbackId);
    expect(row.last_error).toBe('HTTP 302 (redirects are not followed)');
    expect(receiver.counterConnections()).toBe(0);
  });

  it('times out hanging receivers and slow headers within the limit, resets are network errors', async () => {
    const started = Date.now();
    const [hang, slow, reset] = await Promise.all([owe('/hang'), owe('/slow-headers'), owe('/reset')]);
    for (const { callbackId } of [hang, slow]) {
      const row = await settled(callbackId);
      expect(row.status).toBe('failed');
      const log = await attempts(callbackId);
      expect(log.map((a) => a.error_class)).toEqual(['timeout', 'timeout', 'timeout']);
      for (const attempt of log) expect(attempt.duration_ms).toBeLessThan(1500);
    }
    const resetLog = await attempts((await settled(reset.callbackId)).id);
    expect(resetLog.every((a) => a.http_status === null && a.error_class !== null && a.error_class !== 'timeout')).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('accepts a large 2xx body but stores at most 16 KiB of it', async () => {
    const { callbackId } = await owe('/big');
    expect((await settled(callbackId)).status).toBe('delivered');
    const [attempt] = await attempts(callbackId);
    expect(attempt!.response_body!.length).toBe(16 * 1024);
  });

  it('refuses a private destination before connecting, as a failed attempt', async () => {
    const strict = await createTestServices(target, {});
    const account = await createAccount(strict.store.db, { name: 'strict', credits: 10, webhookKey: false });
    // A listener of this test's own: the shared receiver may still see late connections of the tests before.
    const listener = await httpServer((_request, response) => response.end('ok'));
    const { callbackId } = await oweOne(strict, account.accountId, `http://127.0.0.1:${listener.port}/ok`);
    const strictDispatcher = createDispatcher({ store: strict.store, outbound: strict.outbound, scheduleMs: [0], timeoutMs: 500, pollMs: 50, log: silentLog });
    strictDispatcher.start();
    const row = await waitFor(
      async () => {
        const r = await strict.store.db.selectFrom('callbacks').selectAll().where('id', '=', callbackId).executeTakeFirstOrThrow();
        return r.status === 'pending' ? undefined : r;
      },
      10_000,
      'refusal',
    );
    await strictDispatcher.stop();
    await closeServices(strict);
    expect(row.status).toBe('failed');
    expect(row.last_error).toMatch(/^refused: /);
    expect(listener.connections()).toBe(0);
    await listener.close();
  });
});

describe.each(storeTargets())('a stopping dispatcher on $name', (target) => {
  it('gives back the callbacks it claimed but did not send, due at once', async () => {
    const receiver = faultyReceiver();
    const base = await receiver.start();
    const services = await createTestServices(target, { REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8' });
    try {
      const account = await createAccount(services.store.db, { name: 'stop', credits: 100, webhookKey: false });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await oweOne(services, account.accountId, `${base}/hang`)).callbackId);
      // Two slots: two callbacks hang at the receiver, two more wait claimed in the ready queue
      // (it holds at most twice the slots), the fifth is not claimed.
      const dispatcher = createDispatcher({
        store: services.store,
        outbound: services.outbound,
        scheduleMs: [0, 60_000],
        timeoutMs: 1000,
        concurrency: 2,
        perHost: 2,
        pollMs: 50,
        log: silentLog,
      });
      dispatcher.start();
      await waitFor(async () => ((receiver.hits.get('/hang')?.length ?? 0) >= 2 ? true : undefined), 5000, 'two attempts in flight');
      const stoppedAt = Date.now();
      await dispatcher.stop();

      const rows = await services.store.db.selectFrom('callbacks').selectAll().where('id', 'in', ids).execute();
      const sent = rows.filter((row) => row.attempts > 0);
      const unsent = rows.filter((row) => row.attempts === 0);
      expect(receiver.hits.get('/hang')).toHaveLength(2);
      expect(sent).toHaveLength(2);
      expect(unsent).toHaveLength(3);
      for (const row of unsent) {
        expect(row.status).toBe('pending');
        expect(row.leased_by).toBeNull();
        expect(row.due_at).toBeLessThanOrEqual(Date.now());
      }
      // The two given back are due from the stop on (a lease would have put them 11 s ahead).
      expect(unsent.filter((row) => row.due_at! >= stoppedAt)).toHaveLength(2);
      // The two sent ones timed out and wait for their next attempt on the schedule.
      for (const row of sent) expect(row.last_error).toMatch(/^timeout: /);
    } finally {
      await receiver.stop();
      await closeServices(services);
    }
  });
});

describe.each(storeTargets())('a redelivery while an attempt is in flight on $name', (target) => {
  it('is not undone when that attempt fails: the callback is sent again at once, not on the schedule', async () => {
    const receiver = faultyReceiver();
    const base = await receiver.start();
    const services = await createTestServices(target, { REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8' });
    const dispatcher = createDispatcher({
      store: services.store,
      outbound: services.outbound,
      scheduleMs: [0, 60_000],
      timeoutMs: 800,
      concurrency: 2,
      perHost: 2,
      pollMs: 50,
      log: silentLog,
    });
    try {
      const account = await createAccount(services.store.db, { name: 'redeliver', credits: 100, webhookKey: false });
      const { taskId, callbackId } = await oweOne(services, account.accountId, `${base}/hang`);
      dispatcher.start();
      await waitFor(async () => ((receiver.hits.get('/hang')?.length ?? 0) >= 1 ? true : undefined), 5000, 'the first attempt');
      expect(await redeliverLatest(services.store.db, account.accountId, taskId)).toBe(callbackId);
      dispatcher.wake();
      // The first attempt times out at 800 ms; had its failure been recorded over the redelivery,
      // the next attempt would wait a minute.
      await waitFor(async () => ((receiver.hits.get('/hang')?.length ?? 0) >= 2 ? true : undefined), 5000, 'the redelivered attempt');
      const [first, second] = receiver.hits.get('/hang')!;
      expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
      expect(second!.at - first!.at).toBeLessThan(5000);
    } finally {
      await dispatcher.stop();
      await receiver.stop();
      await closeServices(services);
    }
  });
});

describe.each(storeTargets().filter((target) => target.name === 'sqlite'))('dispatchers sharing a $name store', (target) => {
  it('take turns: while one runs the other sends nothing, and it takes over once the first stops', async () => {
    const receiver = faultyReceiver();
    const base = await receiver.start();
    const services = await createTestServices(target, { REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8' });
    const options = { store: services.store, outbound: services.outbound, scheduleMs: [0, 60_000], timeoutMs: 1000, concurrency: 4, perHost: 4, pollMs: 50 };
    const sentBy: string[] = [];
    const dispatcherNamed = (name: string) => createDispatcher({ ...options, log: silentLog, observer: { attempt: () => sentBy.push(name), delivered() {} } });
    const first = dispatcherNamed('first');
    const second = dispatcherNamed('second');
    try {
      const account = await createAccount(services.store.db, { name: 'turns', credits: 100, webhookKey: false });
      first.start();
      await new Promise((resolve) => setTimeout(resolve, 100));
      second.start();
      for (let i = 0; i < 5; i++) await oweOne(services, account.accountId, `${base}/ok`);
      first.wake();
      second.wake();
      await waitFor(async () => (sentBy.length >= 5 ? true : undefined), 5000, 'five deliveries');
      await first.stop();
      for (let i = 0; i < 3; i++) await oweOne(services, account.accountId, `${base}/ok`);
      second.wake();
      await waitFor(async () => (sentBy.length >= 8 ? true : undefined), 5000, 'three more deliveries');
      expect(sentBy).toEqual([...Array(5).fill('first'), ...Array(3).fill('second')]);
      expect(receiver.hits.get('/ok')).toHaveLength(8);
    } finally {
      await first.stop();
      await second.stop();
      await receiver.stop();
      await closeServices(services);
    }
  });
});
