import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../src/accounts/index.js';
import { createLocalBlobStore } from '../../src/storage/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { completeTask, submitTask, writeTracks } from '../../src/tasks/index.js';
import { freePort, kill, startServe } from '../helpers/process.js';
import { storeTargets, tempDir } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

const TASKS = 1000;
const KILLS = 5;

/**
 * 1,000 finished tasks owe callbacks; the server delivering them is SIGKILLed at
 * random moments five times and restarted. Every callback must arrive at least
 * once, and every copy of one callback must carry the same webhook-id.
 */
describe.each(storeTargets())('callbacks survive kill -9 on $name', (target) => {
  const stores: Store[] = [];
  const deliveries = new Map<string, string[]>();
  const receiver = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const taskId = (JSON.parse(body) as { data: { task_id: string } }).data.task_id;
      const ids = deliveries.get(taskId) ?? [];
      ids.push(String(request.headers['webhook-id']));
      deliveries.set(taskId, ids);
      // Answers at once, as the seed advises receivers to.
      response.end('ok');
    });
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it(`delivers all ${TASKS} callbacks at least once across ${KILLS} kills`, { timeout: 300_000 }, async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/cb`;
    const env = {
      REPRISE_DATA_DIR: tempDir('cbkill'),
      DATABASE_URL: await target.fresh(),
      REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8',
      REPRISE_CALLBACK_TIMEOUT_MS: '1000',
      REPRISE_CALLBACK_PER_HOST: '4',
      REPRISE_WORKERS: '0',
      LOG_LEVEL: 'error',
    };
    const store = await openStore(env.DATABASE_URL);
    stores.push(store);
    const blobs = createLocalBlobStore(`${env.REPRISE_DATA_DIR}/blobs`);
    const account = await createAccount(store.db, { name: 'kill', credits: TASKS, webhookKey: true });
    const context = { db: store.db, publicUrl: 'http://127.0.0.1:1', refunds: true, generatedRetentionMs: 86_400_000, firstCallbackDelayMs: 0 };
    await blobs.put('fixture/a.mp3', new Uint8Array(8));

    const port = await freePort();
    let server = await startServe(env, port);
    // Tasks finish while the server runs: each completion writes its callback into the outbox.
    const finishing = (async () => {
      for (let i = 0; i < TASKS; i++) {
        const taskId = await submitTask(
          store,
          {
            accountId: account.accountId,
            type: 'REPLACE_SECTION',
            param: '{}',
            input: { kind: 'generate', prompt: '', style: '', title: '', negativeTags: '', instrumental: true, customMode: false, durationS: 1 },
            parentMusicId: '',
            callbackUrl: receiverUrl,
            model: '',
            price: 1,
          },
          { rateLimit: { max: TASKS, windowMs: 1 }, taskTimeoutMs: 600_000 },
        );
        const job = await store.db.selectFrom('jobs').select('id').where('ref_id', '=', taskId).executeTakeFirstOrThrow();
        await completeTask(
          context,
          taskId,
          job.id,
          writeTracks(context, [
            {
              idx: 0,
              audioBlob: 'fixture/a.mp3',
              audioSize: 8,
              imageBlob: 'fixture/a.mp3',
              imageSize: 8,
              durationS: 1,
              modelName: 'm',
              title: 't',
              tags: 'x',
              prompt: 'p',
            },
          ]),
        );
      }
    })();

    for (let k = 0; k < KILLS; k++) {
      await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 1200));
      await kill(server, 'SIGKILL');
      server = await startServe(env, port);
    }
    await finishing;
    await waitFor(async () => (deliveries.size === TASKS ? true : undefined), 120_000, 'every callback', 200);
    // A callback sent by a process killed before it recorded the answer is sent again once its
    // lease lapses: wait until the store, too, knows every callback was delivered.
    await waitFor(
      async () => ((await store.db.selectFrom('callbacks').select('id').where('status', '!=', 'delivered').execute()).length === 0 ? true : undefined),
      60_000,
      'the store to record every delivery',
      200,
    );
    await kill(server, 'SIGTERM');

    const copies = [...deliveries.values()];
    expect(copies.every((ids) => ids.length >= 1 && new Set(ids).size === 1)).toBe(true);
    const duplicates = copies.reduce((sum, ids) => sum + ids.length - 1, 0);
    const rate = (100 * duplicates) / TASKS;
    console.log(`[${target.name}] ${TASKS} callbacks, ${KILLS} kills: ${duplicates} duplicates (${rate.toFixed(2)} %; goal ≤ 1 %)`);
    const pending = await store.db.selectFrom('callbacks').select('id').where('status', '!=', 'delivered').execute();
    expect(pending).toEqual([]);
  });
});
