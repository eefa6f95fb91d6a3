import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitContext } from '../../src/api/tasks.js';
import { lifecycleContext } from '../../src/server.js';
import type { Services } from '../../src/services.js';
import { BlobNotFoundError, type BlobStore } from '../../src/storage/index.js';
import { replaceSectionKind, submitKind } from '../../src/tasks/index.js';
import { createRenderPool, createTaskWorker, type RenderPool, type TaskWorker } from '../../src/worker/index.js';
import { uploadedWav } from '../helpers/fixtures.js';
import { silentLog } from '../helpers/log.js';
import { closeServices, createTestAccount, createTestServices } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A file deleted between the moment a task saw it (its size) and the moment it reads it (the
 * retention sweep, an operator, another process): the task fails with code 400, refunded, and
 * a message that says the file is gone, not an internal error.
 */
describe.each(storeTargets())('a blob that vanishes while a task reads it, on $name', (target) => {
  let services: Services;
  let pool: RenderPool;
  let worker: TaskWorker;
  const vanished = new Set<string>();

  beforeAll(async () => {
    services = await createTestServices(target, { REPRISE_RATE_LIMIT: '1000/1s' });
    const real = services.blobs;
    // Still listed (its size is known), gone when read: the race, made certain.
    const racing: BlobStore = {
      ...real,
      get: async (key) => {
        if (vanished.has(key)) throw new BlobNotFoundError(key);
        return real.get(key);
      },
    };
    pool = createRenderPool();
    worker = createTaskWorker({
      store: services.store,
      blobs: racing,
      pool,
      engine: { name: 'procedural', acestepUrl: null, acestepApiKey: null },
      lifecycle: lifecycleContext(services),
      concurrency: 1,
      leaseMs: 5000,
      pollMs: 100,
      log: silentLog,
    });
    services.events.on('submitted', () => worker.wake());
    worker.start();
  });
  afterAll(async () => {
    await worker.stop(1000);
    await pool.close();
    await closeServices(services);
  });

  it('fails the task with code 400 and refunds it', async () => {
    const { account } = await createTestAccount(services, 100);
    const uploadUrl = await uploadedWav(services, account.id, 20);
    const file = await services.store.db
      .selectFrom('files')
      .select('blob_key')
      .where('id', '=', uploadUrl.split('/files/')[1]!.split('/')[0]!)
      .executeTakeFirstOrThrow();
    vanished.add(file.blob_key);
    const body = { uploadUrl, prompt: 'x', tags: 'Jazz', title: 'Gone', infillStartS: 6, infillEndS: 14, callBackUrl: 'https://example.com/cb' };
    const taskId = await submitKind(submitContext(services), replaceSectionKind, account, body, JSON.stringify(body));
    const task = await waitFor(
      async () => {
        const row = await services.store.db.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirstOrThrow();
        return row.finished_at ? row : undefined;
      },
      30_000,
      'the task to finish',
    );
    expect(task.status).toBe('GENERATE_AUDIO_FAILED');
    expect(task.error_code).toBe(400);
    expect(task.error_message).toBe('a file the task reads is no longer available (it was deleted from storage)');
    const ledger = await services.store.db.selectFrom('ledger').select(['kind', 'amount']).where('task_id', '=', taskId).orderBy('kind').execute();
    expect(ledger).toEqual([
      { kind: 'debit', amount: -5 },
      { kind: 'refund', amount: 5 },
    ]);
  });
});
