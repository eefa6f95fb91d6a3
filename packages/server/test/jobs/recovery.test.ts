import { spawn } from 'node:child_process';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimJob, enqueueJobs, requeueExpired, requeueOrphaned } from '../../src/jobs/index.js';
import type { Services } from '../../src/services.js';
import { asRunner } from '../../src/store/index.js';
import { closeServices, createTestServices } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

describe.each(storeTargets())('task jobs taken over on $name', (target) => {
  let services: Services;
  beforeAll(async () => {
    services = await createTestServices(target);
  });
  afterAll(async () => closeServices(services));

  const plantHolder = (owner: string, host: string, pid: number, until: number) =>
    services.store.db
      .insertInto('process_leases')
      .values({ name: `process:${owner}`, owner, host, pid, until })
      .execute();
  const clear = () => services.store.db.deleteFrom('jobs').execute();
  /** Task jobs due one millisecond apart from `t0`, in the order given. */
  const queueInOrder = (t0: number, refIds: readonly string[]) =>
    enqueueJobs(
      asRunner(services.store.db),
      'task',
      refIds.map((refId, k) => ({ refId, runAt: t0 + k })),
      t0,
    );

  it('are put back at once when their holder is known dead, ahead of the jobs queued after them', async () => {
    await clear();
    const t0 = Date.now() - 1000;
    const [first] = await queueInOrder(t0, ['task_a', 'task_b', 'task_c']);
    await plantHolder('worker-1-r.killed', os.hostname(), await deadPid(), Date.now() + 60_000);
    await plantHolder('worker-1-r.remote', 'elsewhere', 1, Date.now() + 60_000);
    const claimed = await claimJob(services.store.db, 'task', 'worker-1-r.killed', 30_000, Date.now());
    expect(claimed?.id).toBe(first);
    const other = await claimJob(services.store.db, 'task', 'worker-1-r.remote', 30_000, Date.now());
    expect(other?.ref_id).toBe('task_b');

    // Its lease has 30 s to go, yet it is free now; the remote holder's job stays (its heartbeat is fresh).
    expect(await requeueOrphaned(services.store.db, 'task', Date.now())).toBe(1);
    const retaken = await claimJob(services.store.db, 'task', 'worker-1-r.heir', 30_000, Date.now());
    expect(retaken?.id).toBe(first);
    expect(retaken?.run_at).toBe(t0);
    expect(retaken?.attempts).toBe(2);
  });

  it('whose lease lapsed keep their place too', async () => {
    await clear();
    const t0 = Date.now() - 1000;
    const [first] = await queueInOrder(t0, ['task_a', 'task_b']);
    // A holder from an older version, which the registry does not track: only its lease counts.
    await claimJob(services.store.db, 'task', 'worker-123-old', 1, Date.now());
    expect(await requeueOrphaned(services.store.db, 'task', Date.now())).toBe(0);
    expect(await requeueExpired(services.store.db, 'task', Date.now() + 10)).toBe(1);
    const retaken = await claimJob(services.store.db, 'task', 'worker-1-r.heir', 30_000, Date.now());
    expect(retaken?.id).toBe(first);
  });
});
