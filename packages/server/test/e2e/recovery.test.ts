import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../src/accounts/index.js';
import { createLocalBlobStore } from '../../src/storage/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { completeTask, submitTask, writeTracks } from '../../src/tasks/index.js';
import { startReprise } from '../helpers/fleet.js';
import { freePort, kill, runCli, startServe } from '../helpers/process.js';
import { storeTargets, tempDir } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

/** Long on purpose: what these tests show must happen long before a lease would lapse. */
const LEASE_MS = 30_000;

/**
 * Faster recovery (deployment.md, "Recovery"): a killed process's claims are taken over as soon as
 * a process sees it is dead, not after a lease; a taken-over job keeps its place in the queue; an
 * attempt in flight shows in the history as interrupted; on PostgreSQL a submission wakes a worker
 * in another process at once.
 */
describe.each(storeTargets())('recovery on $name', (target) => {
  const stores: Store[] = [];
  afterAll(async () => {
    for (const store of stores) await store.close();
  });

  async function account(env: Record<string, string>): Promise<Record<string, string>> {
    const created = await runCli(['accounts', 'create', '--name', 'recovery', '--credits', '1000'], env);
    expect(created.code).toBe(0);
    const { apiKey } = JSON.parse(created.stdout) as { apiKey: string };
    return { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  }

  async function submit(base: string, headers: Record<string, string>, prompt: string): Promise<string> {
    const response = await fetch(`${base}/api/v1/generate`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ customMode: false, instrumental: true, prompt, callBackUrl: 'http://127.0.0.1:9/cb' }),
    });
    const json = (await response.json()) as { code: number; data: { taskId: string } };
    expect(json.code).toBe(200);
    return json.data.taskId;
  }

  it('takes a killed process’s job over at once, before the jobs queued after it', { timeout: 180_000 }, async () => {
    const env = {
      REPRISE_DATA_DIR: tempDir('recovery'),
      DATABASE_URL: await target.fresh(),
      REPRISE_WORKERS: '1',
      REPRISE_LEASE_MS: String(LEASE_MS),
      REPRISE_GENERATE_DURATION_S: '30',
      REPRISE_RATE_LIMIT: '1000/1s',
      LOG_LEVEL: 'error',
    };
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const headers = await account(env);
    const store = await openStore(env.DATABASE_URL);
    stores.push(store);
    const taskRow = (taskId: string) => store.db.selectFrom('tasks').select(['status', 'finished_at']).where('id', '=', taskId).executeTakeFirstOrThrow();

    let server = await startServe(env, port);
    const first = await submit(base, headers, 'warm jazz piano');
    const later = [await submit(base, headers, 'rock song 1'), await submit(base, headers, 'rock song 2')];
    await waitFor(
      async () => {
        const job = await store.db.selectFrom('jobs').select('state').where('ref_id', '=', first).executeTakeFirstOrThrow();
        return job.state === 'running' && (await taskRow(first)).finished_at === null ? true : undefined;
      },
      60_000,
      'the first task in flight',
      10,
    );
    await kill(server, 'SIGKILL');
    const killedAt = Date.now();
    server = await startServe(env, port);
    await waitFor(async () => ((await taskRow(first)).status === 'SUCCESS' ? true : undefined), 60_000, 'the interrupted task', 50);
    const recoveredIn = Date.now() - killedAt;
    console.log(`[${target.name}] a killed process's task finished ${recoveredIn} ms after the kill (lease ${LEASE_MS} ms)`);
    expect(recoveredIn).toBeLessThan(LEASE_MS / 2);
    for (const taskId of later) await waitFor(async () => ((await taskRow(taskId)).status === 'SUCCESS' ? true : undefined), 60_000, `task ${taskId}`, 50);
    await kill(server, 'SIGTERM');

    // It kept its place: the one worker ran it before those submitted after it.
    const finished = await Promise.all([first, ...later].map(async (taskId) => Number((await taskRow(taskId)).finished_at)));
    expect(finished[0]).toBeLessThan(Math.min(...finished.slice(1)));
    const job = await store.db.selectFrom('jobs').select('attempts').where('ref_id', '=', first).executeTakeFirstOrThrow();
    expect(job.attempts).toBe(2);
  });

  it.runIf(target.name === 'postgres')(
    'records the callback attempt a killed process had in flight as interrupted, and sends it again at once',
    { timeout: 120_000 },
    async () => {
      let requests = 0;
      let firstArrived: () => void = () => {};
      const arrived = new Promise<void>((resolve) => (firstArrived = resolve));
      // The first request is left hanging (the attempt stays in flight); later ones are answered.
      const receiver = http.createServer((request, response) => {
        request.resume();
        request.on('end', () => {
          requests++;
          if (requests === 1) firstArrived();
          else response.end('ok');
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      try {
        const env = {
          REPRISE_DATA_DIR: tempDir('recovery-cb'),
          DATABASE_URL: await target.fresh(),
          REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8',
          // The lease on an attempt is its time limit + 10 s: 30 s here.
          REPRISE_CALLBACK_TIMEOUT_MS: '20000',
          REPRISE_WORKERS: '0',
          LOG_LEVEL: 'error',
        };
        const store = await openStore(env.DATABASE_URL);
        stores.push(store);
        const blobs = createLocalBlobStore(`${env.REPRISE_DATA_DIR}/blobs`);
        await blobs.put('fixture/a.mp3', new Uint8Array(8));
        const owner = await createAccount(store.db, { name: 'recovery', credits: 10, webhookKey: true });
        const port = await freePort();
        let server = await startServe(env, port);

        const context = { db: store.db, publicUrl: 'http://127.0.0.1:1', refunds: true, generatedRetentionMs: 86_400_000, firstCallbackDelayMs: 0 };
        const taskId = await submitTask(
          store,
          {
            accountId: owner.accountId,
            type: 'REPLACE_SECTION',
            param: '{}',
            input: { kind: 'generate', prompt: '', style: '', title: '', negativeTags: '', instrumental: true, customMode: false, durationS: 1 },
            parentMusicId: '',
            callbackUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/cb`,
            model: '',
            price: 1,
          },
          { rateLimit: { max: 10, windowMs: 1 }, taskTimeoutMs: 600_000 },
        );
        const job = await store.db.selectFrom('jobs').select('id').where('ref_id', '=', taskId).executeTakeFirstOrThrow();
        const track = { idx: 0, audioBlob: 'fixture/a.mp3', audioSize: 8, imageBlob: 'fixture/a.mp3', imageSize: 8, durationS: 1 };
        await completeTask(context, taskId, job.id, writeTracks(context, [{ ...track, modelName: 'm', title: 't', tags: 'x', prompt: 'p' }]));

        await arrived;
        await kill(server, 'SIGKILL');
        const killedAt = Date.now();
        server = await startServe(env, port);
        const delivered = await waitFor(
          async () => {
            const row = await store.db.selectFrom('callbacks').select(['status', 'delivered_at']).where('task_id', '=', taskId).executeTakeFirstOrThrow();
            return row.status === 'delivered' ? Number(row.delivered_at) : undefined;
          },
          60_000,
          'the callback delivered',
          50,
        );
        await kill(server, 'SIGTERM');
        console.log(`[${target.name}] a killed process's callback was delivered ${delivered - killedAt} ms after the kill (lease 30000 ms)`);
        expect(delivered - killedAt).toBeLessThan(15_000);

        const attempts = await store.db
          .selectFrom('callback_attempts')
          .innerJoin('callbacks', 'callbacks.id', 'callback_attempts.callback_id')
          .select(['callback_attempts.error_class', 'callback_attempts.http_status'])
          .where('callbacks.task_id', '=', taskId)
          .orderBy('callback_attempts.id')
          .execute();
        expect(attempts).toEqual([
          { error_class: 'interrupted', http_status: null },
          { error_class: null, http_status: 200 },
        ]);
      } finally {
        receiver.closeAllConnections();
        await new Promise((resolve) => receiver.close(resolve));
      }
    },
  );

  it.runIf(target.name === 'postgres')('wakes a worker in another process at once when a task is submitted (LISTEN/NOTIFY)', { timeout: 120_000 }, async () => {
    const env = {
      REPRISE_DATA_DIR: tempDir('recovery-notify'),
      DATABASE_URL: await target.fresh(),
      REPRISE_RATE_LIMIT: '1000/1s',
      REPRISE_GENERATE_DURATION_S: '10',
      // Far longer than the test: only a notification can wake the idle worker.
      REPRISE_POLL_MS: '600000',
      LOG_LEVEL: 'error',
    };
    const apiPort = await freePort();
    const workerPort = await freePort();
    const base = `http://127.0.0.1:${apiPort}`;
    const headers = await account(env);
    const store = await openStore(env.DATABASE_URL);
    stores.push(store);
    const api = await startReprise('api', { ...env, REPRISE_PUBLIC_URL: base }, apiPort);
    const worker = await startReprise('worker', { ...env, REPRISE_PUBLIC_URL: base }, workerPort);
    try {
      // The worker has looked once at start-up and now sleeps its (long) poll.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const submittedAt = Date.now();
      const taskId = await submit(base, headers, 'warm jazz piano');
      const claimedAt = await waitFor(
        async () => {
          const job = await store.db.selectFrom('jobs').select('state').where('ref_id', '=', taskId).executeTakeFirstOrThrow();
          return job.state !== 'queued' ? Date.now() : undefined;
        },
        30_000,
        'the worker to claim the task',
        20,
      );
      console.log(`[${target.name}] a worker in another process claimed the task ${claimedAt - submittedAt} ms after submission (poll 600000 ms)`);
      expect(claimedAt - submittedAt).toBeLessThan(5_000);
    } finally {
      await kill(worker, 'SIGTERM');
      await kill(api, 'SIGTERM');
    }
  });
});
