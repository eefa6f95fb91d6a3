import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ROLES, type Role } from '../../src/roles.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { openStore, type Store } from '../../src/store/index.js';
import { sineWav } from '../helpers/audio.js';
import { metricValue, startReprise, stopGracefully } from '../helpers/fleet.js';
import { freePort, runCli } from '../helpers/process.js';
import { apiSession, type Json, type Receiver, startReceiver } from '../helpers/serve.js';
import { storeTargets, tempDir } from '../helpers/stores.js';

const roleLists: Role[][] = [['api'], ['worker'], ['dispatcher'], ['api', 'worker'], ['api', 'dispatcher'], ['worker', 'dispatcher'], [...ROLES]];

const text = async (url: string): Promise<string> => (await fetch(url)).text();
const json = async (url: string): Promise<Json> => (await fetch(url)).json();

/**
 * A fleet by roles (SPEC §9): `reprise api`, `reprise worker` and `reprise dispatcher` as three
 * processes on one store. The API process takes the task, the worker process renders it, the
 * dispatcher process sends its callback; each serves only what its roles need.
 */
describe.each(storeTargets())('a fleet by roles on $name', (target) => {
  const children: ChildProcess[] = [];
  const stores: Store[] = [];
  let receiver: Receiver | undefined;
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const store of stores) await store.close();
    await receiver?.close();
  });

  it('api, worker and dispatcher processes finish a replace-section together', { timeout: 90_000 }, async () => {
    receiver = await startReceiver('ok');
    const [apiPort, workerPort, dispatcherPort] = [await freePort(), await freePort(), await freePort()];
    const apiBase = `http://127.0.0.1:${apiPort}`;
    const workerBase = `http://127.0.0.1:${workerPort}`;
    const dispatcherBase = `http://127.0.0.1:${dispatcherPort}`;
    const env = {
      REPRISE_DATA_DIR: tempDir('roles'),
      DATABASE_URL: await target.fresh(),
      // The worker writes the callback body, with file URLs: they must name the API process.
      REPRISE_PUBLIC_URL: apiBase,
      REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8',
      REPRISE_CALLBACK_SCHEDULE: '0,0.2',
      REPRISE_WORKERS: '1',
      LOG_LEVEL: 'error',
    };
    const created = await runCli(['accounts', 'create', '--name', 'fleet', '--credits', '100', '--webhook-key'], env);
    expect(created.code).toBe(0);
    const { apiKey, webhookHmacKey } = JSON.parse(created.stdout) as { apiKey: string; webhookHmacKey: string };
    const session = apiSession(() => ({ base: apiBase, apiKey, received: receiver?.received ?? [], secret: webhookHmacKey }), 60_000);

    const api = await startReprise('api', env, apiPort);
    children.push(api);
    // The command wins over REPRISE_ROLES: this process is a worker only, not an API.
    const worker = await startReprise('worker', { ...env, REPRISE_ROLES: 'api' }, workerPort);
    children.push(worker);
    const dispatcher = await startReprise('dispatcher', env, dispatcherPort);
    children.push(dispatcher);

    for (const [base, roles] of [
      [apiBase, ['api']],
      [workerBase, ['worker']],
      [dispatcherBase, ['dispatcher']],
    ] as const) {
      expect(await json(`${base}/healthz`)).toEqual({ code: 200, msg: 'ok', data: { roles } });
      const metrics = await text(`${base}/metrics`);
      for (const role of ROLES) expect(metricValue(metrics, 'reprise_process_role', { role })).toBe((roles as readonly string[]).includes(role) ? 1 : 0);
    }
    // Workers and dispatchers serve health and metrics only: the API, its docs and files are elsewhere.
    for (const base of [workerBase, dispatcherBase]) {
      const answer = await fetch(`${base}/api/v1/generate/record-info?taskId=x`, { headers: { authorization: `Bearer ${apiKey}` } });
      expect(answer.status).toBe(404);
      expect(await answer.json()).toEqual({ code: 404, msg: 'Not found: GET /api/v1/generate/record-info', data: null });
      expect((await fetch(`${base}/docs`)).status).toBe(404);
    }

    const form = new FormData();
    form.append('file', new Blob([sineWav(20, 22_050, 1)], { type: 'audio/wav' }), 'song.wav');
    form.append('uploadPath', 'songs');
    const upload = (await (
      await fetch(`${apiBase}/api/file-stream-upload`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` }, body: form })
    ).json()) as Json;
    expect(upload.success).toBe(true);
    const taskId = await session.submit('/api/v1/generate/replace-section', {
      uploadUrl: upload.data.downloadUrl,
      prompt: 'jazz piano',
      tags: 'Jazz',
      title: 'fleet',
      infillStartS: 6,
      infillEndS: 12,
      callBackUrl: receiver.url,
    });

    const callback = session.verified(await session.callbackOf(taskId), taskId);
    expect(callback).toMatchObject({ code: 200, data: { callbackType: 'complete', task_id: taskId } });
    const audioUrl = callback.data.data[0].audio_url as string;
    expect(audioUrl.startsWith(`${apiBase}/files/`)).toBe(true);
    const audio = await fetch(audioUrl);
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toBe('audio/mpeg');
    await audio.arrayBuffer();

    const record = await session.details('/api/v1/generate/record-info', taskId, (data) => data.callback?.status === 'delivered');
    expect(record.status).toBe('SUCCESS');
    expect(record.response.sunoData[0].audioUrl).toBe(audioUrl);

    // Rendered by the worker process: the job's last claimer names its pid.
    const store = await openStore(env.DATABASE_URL);
    stores.push(store);
    const job = await store.db.selectFrom('jobs').select(['state', 'locked_by']).where('ref_id', '=', taskId).executeTakeFirstOrThrow();
    expect(job.state).toBe('done');
    expect(job.locked_by?.startsWith(`worker-${worker.pid}-`)).toBe(true);

    // Each process counts only what it did itself.
    const [apiMetrics, workerMetrics, dispatcherMetrics] = await Promise.all([
      text(`${apiBase}/metrics`),
      text(`${workerBase}/metrics`),
      text(`${dispatcherBase}/metrics`),
    ]);
    expect(metricValue(apiMetrics, 'reprise_tasks_submitted_total')).toBe(1);
    expect(metricValue(apiMetrics, 'reprise_tasks_finished_total', { status: 'SUCCESS' })).toBeUndefined();
    expect(metricValue(apiMetrics, 'reprise_callback_attempts_total', { outcome: 'delivered' })).toBeUndefined();
    expect(metricValue(workerMetrics, 'reprise_tasks_finished_total', { status: 'SUCCESS' })).toBe(1);
    expect(metricValue(workerMetrics, 'reprise_callback_attempts_total', { outcome: 'delivered' })).toBeUndefined();
    expect(metricValue(dispatcherMetrics, 'reprise_callback_attempts_total', { outcome: 'delivered' })).toBe(1);
    expect(metricValue(dispatcherMetrics, 'reprise_tasks_finished_total', { status: 'SUCCESS' })).toBeUndefined();

    // SIGTERM: every role drains and exits on its own, with 0.
    expect(await Promise.all([api, worker, dispatcher].map(stopGracefully))).toEqual([0, 0, 0]);
  });

  it('starts and stops every combination of roles, serving the API only with `api`', { timeout: 60_000 }, async () => {
    const dataDir = tempDir('roles-each');
    const databaseUrl = await target.fresh();
    for (const roles of roleLists) {
      const config = loadConfig({
        REPRISE_DATA_DIR: dataDir,
        DATABASE_URL: databaseUrl,
        REPRISE_ROLES: roles.join(','),
        PORT: '0',
        REPRISE_PUBLIC_URL: 'http://127.0.0.1:3999',
        LOG_LEVEL: 'silent',
      });
      let server: RunningServer | null = await startServer(config, { logger: false });
      try {
        expect(await json(`${server.url}/healthz`)).toEqual({ code: 200, msg: 'ok', data: { roles } });
        expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
        expect(server.worker !== null).toBe(roles.includes('worker'));
        expect(server.dispatcher !== null).toBe(roles.includes('dispatcher'));
        // Without a key the API answers 401; a process without the API knows no such route.
        expect((await fetch(`${server.url}/api/v1/chat/credit`)).status).toBe(roles.includes('api') ? 401 : 404);
        await server.stop(1000);
        server = null;
      } finally {
        await server?.stop(0);
      }
    }
  });
});
