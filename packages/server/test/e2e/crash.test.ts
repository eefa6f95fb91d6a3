import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';
import { freePort, kill, runCli, startServe } from '../helpers/process.js';
import { storeTargets, tempDir } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A real server is SIGKILLed twice while tasks are rendering and restarted: every
 * task must still finish exactly once, charged exactly once, owing each callback once.
 */
describe.each(storeTargets())('crash recovery on $name', (target) => {
  const stores: Store[] = [];
  afterAll(async () => {
    for (const store of stores) await store.close();
  });

  it('loses no task, charges once, completes once', { timeout: 240_000 }, async () => {
    const env = {
      REPRISE_DATA_DIR: tempDir('crash'),
      DATABASE_URL: await target.fresh(),
      REPRISE_WORKERS: '2',
      REPRISE_LEASE_MS: '1500',
      REPRISE_GENERATE_DURATION_S: '20',
      REPRISE_RATE_LIMIT: '1000/1s',
      LOG_LEVEL: 'error',
    };
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const created = await runCli(['accounts', 'create', '--name', 'crash', '--credits', '1000'], env);
    expect(created.code).toBe(0);
    const { apiKey } = JSON.parse(created.stdout) as { apiKey: string };
    const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
    const store = await openStore(env.DATABASE_URL);
    stores.push(store);
    const statusOf = async (taskId: string) => (await store.db.selectFrom('tasks').select('status').where('id', '=', taskId).executeTakeFirstOrThrow()).status;
    const post = async (url: string, body: unknown) => {
      const response = await fetch(`${base}${url}`, { method: 'POST', headers, body: JSON.stringify(body) });
      const json = (await response.json()) as { code: number; data: { taskId: string } };
      expect(json.code).toBe(200);
      return json.data.taskId;
    };

    let server = await startServe(env, port);
    // Loopback is closed to outbound requests here (no REPRISE_OUTBOUND_ALLOW): callbacks are owed, never sent.
    const parent = await post('/api/v1/generate', { customMode: false, instrumental: true, prompt: 'warm jazz piano', callBackUrl: 'http://127.0.0.1:9/cb' });
    await waitFor(async () => ((await statusOf(parent)) === 'SUCCESS' ? true : undefined), 60_000, 'the parent task');
    const audioId = (await store.db.selectFrom('tracks').select('id').where('task_id', '=', parent).where('idx', '=', 0).executeTakeFirstOrThrow()).id;

    const tasks: string[] = [];
    for (let i = 0; i < 4; i++) {
      tasks.push(await post('/api/v1/generate', { customMode: false, instrumental: true, prompt: `rock song ${i}`, callBackUrl: 'http://127.0.0.1:9/cb' }));
      tasks.push(
        await post('/api/v1/generate/replace-section', {
          taskId: parent,
          audioId,
          prompt: 'piano solo',
          tags: 'jazz',
          title: `Edit ${i}`,
          infillStartS: 2,
          infillEndS: 9.5,
          callBackUrl: 'http://127.0.0.1:9/cb',
        }),
      );
    }

    for (let crash = 0; crash < 2; crash++) {
      // Kill while work is in flight: a claimed job whose task has not finished.
      await waitFor(
        async () => {
          const running = await store.db
            .selectFrom('jobs')
            .innerJoin('tasks', 'tasks.id', 'jobs.ref_id')
            .select('jobs.id')
            .where('jobs.queue', '=', 'task')
            .where('jobs.state', '=', 'running')
            .where('tasks.finished_at', 'is', null)
            .executeTakeFirst();
          return running ? true : undefined;
        },
        60_000,
        'a task in flight',
        10,
      );
      await kill(server, 'SIGKILL');
      server = await startServe(env, port);
    }

    for (const taskId of tasks) await waitFor(async () => ((await statusOf(taskId)) === 'SUCCESS' ? true : undefined), 120_000, `task ${taskId}`, 100);
    await kill(server, 'SIGTERM');

    const interrupted = await store.db.selectFrom('jobs').select('id').where('ref_id', 'in', tasks).where('attempts', '>', 1).execute();
    expect(interrupted.length).toBeGreaterThan(0);
    for (const taskId of tasks) {
      const ledger = await store.db.selectFrom('ledger').select(['kind', 'amount']).where('task_id', '=', taskId).execute();
      expect(ledger.map((row) => row.kind)).toEqual(['debit']);
      const type = (await store.db.selectFrom('tasks').select('type').where('id', '=', taskId).executeTakeFirstOrThrow()).type;
      const tracks = await store.db.selectFrom('tracks').select('idx').where('task_id', '=', taskId).orderBy('idx').execute();
      expect(tracks.map((t) => t.idx)).toEqual(type === 'GENERATE' ? [0, 1] : [0]);
      const stages = await store.db.selectFrom('callbacks').select('stage').where('task_id', '=', taskId).orderBy('created_at').execute();
      expect(stages.map((s) => s.stage)).toEqual(type === 'GENERATE' ? ['text', 'first', 'complete'] : ['complete']);
    }
    const account = await store.db.selectFrom('accounts').select('balance').executeTakeFirstOrThrow();
    expect(account.balance).toBe(1000 - 10 - 4 * 10 - 4 * 5);
  });
});
