import { spawn } from 'node:child_process';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../src/accounts/index.js';
import { claimDueCallbacks, takeOverOrphanedCallbacks } from '../../src/callbacks/deliveries.js';
import { callbackLog, oweCallback, successPayload } from '../../src/callbacks/index.js';
import type { Services } from '../../src/services.js';
import { submitTask } from '../../src/tasks/index.js';
import { closeServices, createTestServices } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

// Row leases exist on PostgreSQL only (on SQLite the one dispatcher holds its claims in memory).
describe.each(storeTargets().filter((target) => target.name === 'postgres'))('callbacks of a dead dispatcher on $name', (target) => {
  let services: Services;
  beforeAll(async () => {
    services = await createTestServices(target);
  });
  afterAll(async () => closeServices(services));

  it('are due again at once, their attempt in flight recorded as interrupted without spending the retry schedule', async () => {
    const account = await createAccount(services.store.db, { name: 'recovery', credits: 100, webhookKey: false });
    const taskId = await submitTask(
      services.store,
      {
        accountId: account.accountId,
        type: 'REPLACE_SECTION',
        param: '{}',
        input: { kind: 'generate', prompt: '', style: '', title: '', negativeTags: '', instrumental: true, customMode: false, durationS: 1 },
        parentMusicId: '',
        callbackUrl: 'http://127.0.0.1:9/cb',
        model: '',
        price: 1,
      },
      { rateLimit: { max: 10_000, windowMs: 1 }, taskTimeoutMs: 60_000 },
    );
    await services.store.db.transaction().execute(async (tx) => {
      const task = await tx.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirstOrThrow();
      await oweCallback(tx, task, successPayload('complete', taskId, []), Date.now());
    });
    const killed = 'dispatcher-1-r.killed';
    await services.store.db
      .insertInto('process_leases')
      .values({ name: `process:${killed}`, owner: killed, host: os.hostname(), pid: await deadPid(), until: Date.now() + 60_000 })
      .execute();
    const leaseMs = 20_000;
    const claimedAt = Date.now();
    const [claimed] = await claimDueCallbacks(services.store, { owner: killed, leaseMs, now: claimedAt, limit: 10, held: new Set() });
    expect(claimed).toBeDefined();

    const now = Date.now();
    expect(await takeOverOrphanedCallbacks(services.store, leaseMs, now)).toBe(1);
    const row = await services.store.db.selectFrom('callbacks').selectAll().where('id', '=', claimed!.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'pending', due_at: now, leased_by: null, attempts: 1, round_attempts: 0 });
    const [entry] = await callbackLog(services.store.db, account.accountId, taskId);
    expect(entry?.attemptLog).toHaveLength(1);
    expect(entry?.attemptLog[0]).toMatchObject({ errorClass: 'interrupted', httpStatus: null, startedAt: claimedAt });
    // Taken once: nothing more to take.
    expect(await takeOverOrphanedCallbacks(services.store, leaseMs, Date.now())).toBe(0);
  });
});
