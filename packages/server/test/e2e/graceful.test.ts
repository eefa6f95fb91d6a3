import { afterAll, describe, expect, it } from 'vitest';
import { httpStatusFor } from '../../src/api/errors.js';
import { openStore, type Store } from '../../src/store/index.js';
import { freePort, kill, runCli, startServe } from '../helpers/process.js';
import { storeTargets, tempDir } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

/**
 * SIGTERM while a task renders: new tasks get 455 during the drain, the process
 * exits on its own, the unfinished task is released, and the next start finishes it.
 */
describe.each(storeTargets())('graceful shutdown on $name', (target) => {
  const stores: Store[] = [];
  afterAll(async () => {
    for (const store of stores) await store.close();
  });

  it('drains with 455, releases in-flight work, and finishes it after a restart', { timeout: 180_000 }, async () => {
    const env = {
      REPRISE_DATA_DIR: tempDir('graceful'),
      DATABASE_URL: await target.fresh(),
      REPRISE_WORKERS: '1',
      REPRISE_GENERATE_DURATION_S: '240',
      REPRISE_SHUTDOWN_GRACE_S: '1',
      LOG_LEVEL: 'error',
    };
    const created = await runCli(['accounts', 'create', '--name', 'g', '--credits', '100'], env);
    const { apiKey } = JSON.parse(created.stdout) as { apiKey: string };
    const store = await openStore(env.DATABASE_URL);
    stores.push(store);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
    const generate = () =>
      fetch(`${base}/api/v1/generate`, {
        method: 'POST',
        headers,
        // Loopback is closed to outbound requests here (no REPRISE_OUTBOUND_ALLOW): the callback is never sent.
        body: JSON.stringify({ customMode: false, instrumental: true, prompt: 'long ambient piece', callBackUrl: 'http://127.0.0.1:9/cb' }),
      });

    let server = await startServe(env, port);
    const { code, data } = (await (await generate()).json()) as { code: number; data: { taskId: string } };
    expect(code).toBe(200);
    await waitFor(
      async () =>
        (await store.db.selectFrom('jobs').select('state').where('ref_id', '=', data.taskId).executeTakeFirstOrThrow()).state === 'running' ? true : undefined,
      30_000,
      'the task to start rendering',
    );
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    // While the worker drains (1 s here), the API still answers, but takes no task
    // (a request that beat the signal may still have been accepted).
    const refused = await waitFor(
      async () => {
        const response = await generate().catch(() => null);
        const body = response ? ((await response.json()) as { code: number; msg: string }) : undefined;
        return body?.code === 455 ? { status: response?.status, body } : undefined;
      },
      5_000,
      'a 455 while draining',
      20,
    );
    expect(refused.body).toEqual({ code: 455, msg: 'Service is under maintenance (shutting down): please retry shortly', data: null });
    expect(refused.status).toBe(httpStatusFor(455, false));
    expect(await exited).toBe(0);

    const job = await store.db.selectFrom('jobs').select(['state', 'locked_by', 'last_error']).where('ref_id', '=', data.taskId).executeTakeFirstOrThrow();
    const task = await store.db.selectFrom('tasks').select('status').where('id', '=', data.taskId).executeTakeFirstOrThrow();
    expect(['PENDING', 'TEXT_SUCCESS', 'FIRST_SUCCESS']).toContain(task.status);
    expect(job).toEqual({ state: 'queued', locked_by: null, last_error: 'released at shutdown' });

    server = await startServe(env, port);
    await waitFor(
      async () =>
        (await store.db.selectFrom('tasks').select('status').where('id', '=', data.taskId).executeTakeFirstOrThrow()).status === 'SUCCESS' ? true : undefined,
      120_000,
      'the task to finish after restart',
      200,
    );
    await kill(server, 'SIGTERM');
    const ledger = await store.db.selectFrom('ledger').select('kind').where('task_id', '=', data.taskId).execute();
    expect(ledger.map((row) => row.kind)).toEqual(['debit']);
  });
});
