import { spawn } from 'node:child_process';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../src/services.js';
import { processLease } from '../../src/store/process-lease.js';
import { closeServices, createTestServices } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

describe.each(storeTargets())('process leases on $name', (target) => {
  let services: Services;
  beforeAll(async () => {
    services = await createTestServices(target);
  });
  afterAll(async () => closeServices(services));

  const row = (name: string) => services.store.db.selectFrom('process_leases').selectAll().where('name', '=', name).executeTakeFirst();
  const plant = (name: string, holder: { owner: string; host: string; pid: number; until: number }) =>
    services.store.db
      .insertInto('process_leases')
      .values({ name, ...holder })
      .execute();

  it('go to one holder at a time, are renewed only after a third of their time, and pass on once released', async () => {
    const first = processLease(services.store, 'a', 30_000);
    const second = processLease(services.store, 'a', 30_000);
    const now = Date.now();
    expect(await first.held(now)).toBe(true);
    expect(await second.held(now)).toBe(false);
    // Within the first third no round trip: the answer is synchronous.
    expect(first.held(now + 9_000)).toBe(true);
    const renewed = first.held(now + 10_001);
    expect(renewed).toBeInstanceOf(Promise);
    expect(await renewed).toBe(true);
    expect((await row('a'))?.until).toBe(now + 10_001 + 30_000);
    expect(await second.held(now + 20_000)).toBe(false);
    // Lapsed: not renewed past its end, another takes it; the old holder learns it at its next renewal.
    expect(await second.held(now + 10_001 + 30_001)).toBe(true);
    expect(await first.held(now + 10_001 + 30_002)).toBe(false);
    await second.release();
    expect(await row('a')).toBeUndefined();
    expect(await first.held(now + 50_000)).toBe(true);
    await first.release();
  });

  it('are taken over at once from a process of this host that is gone, or an earlier process with our own pid', async () => {
    const now = Date.now();
    await plant('gone', { owner: 'killed', host: os.hostname(), pid: await deadPid(), until: now + 60_000 });
    const heir = processLease(services.store, 'gone', 30_000);
    expect(await heir.held(now)).toBe(true);
    expect((await row('gone'))?.pid).toBe(process.pid);

    await plant('restarted', { owner: 'earlier', host: os.hostname(), pid: process.pid, until: now + 60_000 });
    expect(await processLease(services.store, 'restarted', 30_000).held(now)).toBe(true);
  });

  it('are waited out while their holder runs, or runs on another host', async () => {
    const now = Date.now();
    await plant('alive', { owner: 'parent', host: os.hostname(), pid: process.ppid, until: now + 60_000 });
    await plant('elsewhere', { owner: 'remote', host: `not-${os.hostname()}`, pid: await deadPid(), until: now + 60_000 });
    for (const name of ['alive', 'elsewhere']) {
      const waiting = processLease(services.store, name, 30_000);
      expect(await waiting.held(now)).toBe(false);
      expect(await waiting.held(now + 60_001)).toBe(true);
    }
  });
});
