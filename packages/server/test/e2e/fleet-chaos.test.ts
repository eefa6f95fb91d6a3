import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';
import { type ServeCommand, startReprise, stopGracefully } from '../helpers/fleet.js';
import { freePort, kill, runCli } from '../helpers/process.js';
import { startTestS3, type TestS3 } from '../helpers/s3.js';
import { storeTargets, tempDir } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The fleet of deployment.md, "A fleet by roles", run as a user would and treated badly: several
 * processes of mixed roles on one PostgreSQL, blobs in S3 (s3rver on loopback), no directory
 * shared between processes. Clients retry as docs/api.md tells them (connection errors and 455 on
 * another process, the same Idempotency-Key).
 */
const postgres = storeTargets().find((target) => target.name === 'postgres');
if (!postgres) console.warn('NOTICE: TEST_DATABASE_URL is not set: the fleet tests (PostgreSQL only) are skipped.');

const haproxy = spawnSync('haproxy', ['-v']).status === 0;
if (postgres && !haproxy) console.warn('NOTICE: haproxy is not installed: the rolling-restart test behind a load balancer is skipped (.ci/run installs it).');
const HAPROXY_CONFIG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../deploy/haproxy.cfg');

/** HAProxy with the repository's configuration in front of up to three API processes; resolved once it has a server up. */
async function startHaproxy(port: number, servers: string[]): Promise<ChildProcess> {
  const env = { ...process.env, REPRISE_LB_BIND: `127.0.0.1:${port}`, REPRISE_API_1: servers[0], REPRISE_API_2: servers[1], REPRISE_API_3: servers[2] };
  // Its log (servers going down and up as they restart) is not the test's output.
  const child = spawn('haproxy', ['-db', '-f', HAPROXY_CONFIG], { env, stdio: 'ignore' });
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}`);
      return (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200 ? true : undefined;
    },
    30_000,
    'HAProxy to route to a ready process',
    100,
  );
  return child;
}

const TASKS = 300;
const GENERATE_EVERY = 10; // one task in ten makes songs (files to serve), the rest write lyrics
const KILLS = 6;

interface Member {
  name: string;
  command: ServeCommand;
  port: number;
  env: Record<string, string>;
  child: ChildProcess | null;
}

const servesApi = (member: Member): boolean => member.command === 'api' || member.command === 'serve';

/** Every callback the receiver got: webhook-id → how many copies, and each task's webhook-ids. */
interface Received {
  copies: Map<string, number>;
  byTask: Map<string, Set<string>>;
}

async function startReceiver(): Promise<{ url: string; received: Received; close(): Promise<void> }> {
  const received: Received = { copies: new Map(), byTask: new Map() };
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const id = String(request.headers['webhook-id']);
      const parsed = JSON.parse(body) as { data?: { task_id?: string; taskId?: string } };
      const taskId = parsed.data?.task_id ?? parsed.data?.taskId ?? '';
      received.copies.set(id, (received.copies.get(id) ?? 0) + 1);
      const ids = received.byTask.get(taskId) ?? new Set<string>();
      ids.add(id);
      received.byTask.set(taskId, ids);
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cb`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** What a client sees of one request sent with retries: the answer, or the last failure once it gave up. */
interface Sent {
  json: { code: number; msg: string; data: unknown } | null;
  tries: number;
  failure: string | null;
}

/**
 * A client as docs/api.md describes one: on a refused connection, a dropped answer or a 455 it
 * sends the same request (the same Idempotency-Key) to another process, a little later.
 */
async function sendWithRetries(origins: () => string[], path: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<Sent> {
  let failure: string | null = null;
  for (let tries = 1; tries <= 40; tries++) {
    const live = origins();
    const origin = live[Math.floor(Math.random() * live.length)];
    if (origin) {
      try {
        const response = await fetch(`${origin}${path}`, { ...init, signal: AbortSignal.timeout(15_000) });
        const json = (await response.json()) as Sent['json'];
        if (json && json.code !== 455) return { json, tries, failure: null };
        failure = 'answered 455';
      } catch (error) {
        failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
    } else failure = 'no process serves the API';
    await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 150));
  }
  return { json: null, tries: 40, failure };
}

function taskBody(i: number, callBackUrl: string): { path: string; body: Record<string, unknown> } {
  return i % GENERATE_EVERY === 0
    ? { path: '/api/v1/generate', body: { customMode: false, instrumental: true, prompt: `fleet song ${i}`, callBackUrl } }
    : { path: '/api/v1/lyrics', body: { prompt: `a song about the fleet, number ${i}`, callBackUrl } };
}

describe.skipIf(!postgres)('a fleet on PostgreSQL and S3', () => {
  const stores: Store[] = [];
  const members: Member[] = [];
  let s3: TestS3 | null = null;
  const stopFleet = async (): Promise<void> => {
    for (const member of members) if (member.child) await kill(member.child, 'SIGKILL');
    members.length = 0;
  };
  afterEach(stopFleet);
  afterAll(async () => {
    for (const store of stores) await store.close();
    await s3?.close();
  });

  async function fleet(
    shape: ServeCommand[],
    extraEnv: Record<string, string>,
  ): Promise<{ env: Record<string, string>; headers: Record<string, string>; store: Store }> {
    s3 ??= await startTestS3();
    const ports = await Promise.all(shape.map(() => freePort()));
    const apiPort = ports[shape.findIndex((command) => command === 'api' || command === 'serve')];
    const env = {
      DATABASE_URL: await (postgres as NonNullable<typeof postgres>).fresh(),
      ...s3.env,
      // The fleet's address; in these tests one of its API processes (a load balancer's, in production).
      REPRISE_PUBLIC_URL: `http://127.0.0.1:${apiPort}`,
      REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8',
      REPRISE_CALLBACK_TIMEOUT_MS: '2000',
      REPRISE_RATE_LIMIT: '100000/1s',
      REPRISE_GENERATE_DURATION_S: '10',
      REPRISE_WORKERS: '2',
      LOG_LEVEL: 'error',
      ...extraEnv,
    };
    ports.forEach((port, i) => {
      const command = shape[i] as ServeCommand;
      // Each process its own data directory: nothing on disk is shared.
      members.push({ name: `${command}-${i}`, command, port, env: { ...env, REPRISE_DATA_DIR: tempDir(`fleet-${command}`) }, child: null });
    });
    for (const member of members) member.child = await startReprise(member.command, member.env, member.port);
    const created = await runCli(['accounts', 'create', '--name', 'fleet', '--credits', '100000', '--webhook-key'], env);
    expect(created.code).toBe(0);
    const { apiKey } = JSON.parse(created.stdout) as { apiKey: string };
    const store = await openStore(env.DATABASE_URL);
    stores.push(store);
    return { env, headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, store };
  }

  const liveApiOrigins = (): string[] => members.filter((m) => servesApi(m) && m.child).map((m) => `http://127.0.0.1:${m.port}`);

  /** Submits every task with retries; returns the task ids and every request that finally failed. */
  async function submitAll(
    origins: () => string[],
    headers: Record<string, string>,
    callBackUrl: string,
    concurrency: number,
    paceMs = 0,
  ): Promise<{ taskIds: string[]; failures: string[] }> {
    const taskIds: string[] = new Array(TASKS);
    const failures: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < TASKS; i = next++) {
          const { path, body } = taskBody(i, callBackUrl);
          const sent = await sendWithRetries(origins, path, {
            method: 'POST',
            headers: { ...headers, 'idempotency-key': randomUUID() },
            body: JSON.stringify(body),
          });
          if (sent.json?.code === 200) taskIds[i] = (sent.json.data as { taskId: string }).taskId;
          else failures.push(`task ${i}: ${sent.json ? `${sent.json.code} ${sent.json.msg}` : sent.failure}`);
          if (paceMs > 0) await new Promise((resolve) => setTimeout(resolve, paceMs));
        }
      }),
    );
    return { taskIds: taskIds.filter(Boolean), failures };
  }

  /** Checks that nothing was lost or charged twice, and that every live API process tells the same story. */
  async function checkTheBooks(store: Store, headers: Record<string, string>, taskIds: string[], received: Received): Promise<void> {
    await waitFor(
      async () => {
        const open = await store.db
          .selectFrom('tasks')
          .select('id')
          .where('status', 'not in', ['SUCCESS', 'CREATE_TASK_FAILED', 'GENERATE_AUDIO_FAILED', 'CALLBACK_EXCEPTION', 'SENSITIVE_WORD_ERROR'])
          .execute();
        return open.length === 0 ? true : undefined;
      },
      240_000,
      'every task to finish',
      250,
    );
    await waitFor(
      async () => ((await store.db.selectFrom('callbacks').select('id').where('status', '=', 'pending').execute()).length === 0 ? true : undefined),
      120_000,
      'every callback to be delivered',
      250,
    );

    // No task lost, none made twice: the store holds exactly the tasks the clients were given.
    const tasks = await store.db.selectFrom('tasks').select(['id', 'status', 'price']).execute();
    expect(new Set(tasks.map((task) => task.id))).toEqual(new Set(taskIds));
    expect(tasks.filter((task) => task.status !== 'SUCCESS')).toEqual([]);

    // No double charge: one debit per task, and the balance is what the ledger says.
    const debits = await store.db.selectFrom('ledger').select(['task_id', 'amount']).where('kind', '=', 'debit').execute();
    expect(debits.length).toBe(tasks.length);
    expect(new Set(debits.map((debit) => debit.task_id)).size).toBe(tasks.length);
    const spent = tasks.reduce((sum, task) => sum + task.price, 0);
    const balance = await store.db.selectFrom('accounts').select('balance').executeTakeFirstOrThrow();
    expect(balance.balance).toBe(100_000 - spent);

    // No callback lost: every one the store owes was delivered and the receiver has it.
    const callbacks = await store.db.selectFrom('callbacks').select(['id', 'task_id', 'status']).execute();
    expect(callbacks.filter((callback) => callback.status !== 'delivered')).toEqual([]);
    for (const callback of callbacks) expect(received.copies.has(callback.id), `callback ${callback.id} of ${callback.task_id}`).toBe(true);
    const duplicates = [...received.copies.values()].reduce((sum, copies) => sum + copies - 1, 0);
    console.log(
      `[fleet] ${callbacks.length} callbacks of ${tasks.length} tasks: ${duplicates} duplicates (${((100 * duplicates) / callbacks.length).toFixed(2)} %; goal ≤ 1 %)`,
    );
    expect(duplicates).toBeLessThanOrEqual(Math.floor(callbacks.length / 100));

    // Every live API process gives the same record-info, and serves every file of it.
    const origins = liveApiOrigins();
    for (const taskId of taskIds) {
      const type = (await store.db.selectFrom('tasks').select('type').where('id', '=', taskId).executeTakeFirstOrThrow()).type;
      const route = type === 'LYRICS' ? '/api/v1/lyrics/record-info' : '/api/v1/generate/record-info';
      const views = await Promise.all(origins.map(async (origin) => (await fetch(`${origin}${route}?taskId=${taskId}`, { headers })).text()));
      expect(new Set(views).size, `record-info of ${taskId} from ${origins.join(', ')}`).toBe(1);
      if (type === 'LYRICS') continue;
      const urls = [...(views[0] ?? '').matchAll(/"(?:audioUrl|imageUrl|sourceAudioUrl|sourceImageUrl)":"([^"]+)"/g)].map((match) => match[1] as string);
      expect(urls.length).toBeGreaterThan(0);
      for (const url of new Set(urls)) {
        const { pathname } = new URL(url);
        const digests = await Promise.all(
          origins.map(async (origin) => {
            const response = await fetch(`${origin}${pathname}`);
            expect(response.status, `${pathname} from ${origin}`).toBe(200);
            return createHash('sha256')
              .update(Buffer.from(await response.arrayBuffer()))
              .digest('hex');
          }),
        );
        expect(new Set(digests).size).toBe(1);
      }
    }
  }

  it(`loses nothing of ${TASKS} tasks with callbacks while processes are killed ${KILLS} times`, { timeout: 600_000 }, async () => {
    const receiver = await startReceiver();
    try {
      // Five processes, every role at least twice: two API processes, one worker, one dispatcher, one of all three.
      const { headers, store } = await fleet(['api', 'api', 'worker', 'dispatcher', 'serve'], {});

      // The chaos: a random process is killed with SIGKILL, and restarted a moment later.
      const recoveries: number[] = [];
      const killed: string[] = [];
      let submitting = true;
      const chaos = (async () => {
        for (let k = 0; k < KILLS; k++) {
          await new Promise((resolve) => setTimeout(resolve, 1000 + Math.random() * 2000));
          const member = members[Math.floor(Math.random() * members.length)] as Member;
          const child = member.child as ChildProcess;
          // The jobs the process held when it died (its claims name its pid): how soon do they finish once it is back?
          const held = await store.db
            .selectFrom('jobs')
            .select('ref_id')
            .where('state', '=', 'running')
            .where('locked_by', 'like', `%-${child.pid}-r.%`)
            .execute();
          member.child = null;
          await kill(child, 'SIGKILL');
          killed.push(`${member.name} (held ${held.length} jobs${submitting ? ', while submitting' : ''})`);
          await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 800));
          member.child = await startReprise(member.command, member.env, member.port);
          const restarted = Date.now();
          if (held.length > 0) {
            await waitFor(
              async () => {
                const open = await store.db
                  .selectFrom('tasks')
                  .select('id')
                  .where(
                    'id',
                    'in',
                    held.map((job) => job.ref_id),
                  )
                  .where('status', 'not in', ['SUCCESS', 'GENERATE_AUDIO_FAILED', 'CREATE_TASK_FAILED'])
                  .execute();
                return open.length === 0 ? true : undefined;
              },
              120_000,
              `the jobs of killed ${member.name}`,
              50,
            );
            recoveries.push(Date.now() - restarted);
          }
        }
      })();
      const { taskIds, failures } = await submitAll(liveApiOrigins, headers, receiver.url, 6);
      submitting = false;
      await chaos;

      console.log(`[fleet] killed: ${killed.join('; ')}`);
      console.log(
        `[fleet] a killed process's jobs finished ${recoveries.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ') || '(none held)'} after its restart (goal ≤ 5 s)`,
      );
      expect(killed.length).toBe(KILLS);
      expect(failures).toEqual([]);
      expect(taskIds.length).toBe(TASKS);
      await checkTheBooks(store, headers, taskIds, receiver.received);
    } finally {
      await receiver.close();
    }
  });

  it.skipIf(!haproxy)('restarts every process in turn behind HAProxy under load without one failed request', { timeout: 600_000 }, async () => {
    const receiver = await startReceiver();
    let balancer: ChildProcess | null = null;
    try {
      const { headers, store } = await fleet(['serve', 'serve', 'serve'], { REPRISE_SHUTDOWN_GRACE_S: '5' });
      // The load balancer of deploy/haproxy.cfg, as docs/deployment.md runs it.
      const lbPort = await freePort();
      balancer = await startHaproxy(
        lbPort,
        members.map((member) => `127.0.0.1:${member.port}`),
      );
      const throughBalancer = (): string[] => [`http://127.0.0.1:${lbPort}`];

      // docs/deployment.md, "Rolling restart": one process at a time, the next only once the
      // balancer has the restarted one back (two good health checks, 1 s apart).
      let restarting = true;
      const restarts = (async () => {
        for (const member of members) {
          await new Promise((resolve) => setTimeout(resolve, 1500));
          expect(await stopGracefully(member.child as ChildProcess)).toBe(0);
          member.child = null;
          member.child = await startReprise(member.command, member.env, member.port);
          await new Promise((resolve) => setTimeout(resolve, 3000));
        }
        restarting = false;
      })();
      // Polling record-info while tasks are submitted: reads must not fail either.
      const readFailures: string[] = [];
      let reads = 0;
      let retried = 0;
      const reader = (async () => {
        while (restarting) {
          const taskId = (await store.db.selectFrom('tasks').select('id').limit(1).executeTakeFirst())?.id;
          if (taskId) {
            const sent = await sendWithRetries(throughBalancer, `/api/v1/jobs/recordInfo?taskId=${taskId}`, { method: 'GET', headers });
            reads++;
            if (sent.tries > 1) retried++;
            if (sent.json?.code !== 200) readFailures.push(sent.failure ?? `${sent.json?.code} ${sent.json?.msg}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      // Paced so that the submissions span the whole rolling restart.
      const { taskIds, failures } = await submitAll(throughBalancer, headers, receiver.url, 2, 150);
      await restarts;
      await reader;
      console.log(
        `[fleet] rolling restart of 3 processes behind HAProxy: ${taskIds.length} tasks submitted and ${reads} record-info reads (${retried} reads retried), ${failures.length + readFailures.length} failed`,
      );
      expect(failures).toEqual([]);
      expect(readFailures).toEqual([]);
      await checkTheBooks(store, headers, taskIds, receiver.received);
    } finally {
      if (balancer) await kill(balancer, 'SIGTERM');
      await receiver.close();
    }
  });
});
