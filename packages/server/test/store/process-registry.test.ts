import { spawn } from 'node:child_process';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../src/services.js';
import { deadHolders, holderDead, isRegisteredHolder, registerProcess } from '../../src/store/process-registry.js';
import { closeServices, createTestServices } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

const here = os.hostname();
const liveness = { heartbeatMs: 100_000, expiryMs: 10_000 };

describe('the claimability rule', () => {
  const now = 1_000_000;
  it('counts a holder with no row, or a lapsed one, as dead on any host', () => {
    expect(holderDead(undefined, here, now)).toBe(true);
    expect(holderDead({ owner: 'a', host: 'elsewhere', pid: 1, until: now - 1 }, here, now)).toBe(true);
  });
  it('counts a holder on another host as alive until its heartbeat lapses, whatever its pid', async () => {
    expect(holderDead({ owner: 'a', host: 'elsewhere', pid: await deadPid(), until: now + 1 }, here, now)).toBe(false);
  });
  it('counts a holder on this host dead at once when its pid is gone', async () => {
    expect(holderDead({ owner: 'a', host: here, pid: await deadPid(), until: now + 10_000 }, here, now)).toBe(true);
  });
  it('counts an earlier process that had our pid (a restarted container) as dead', () => {
    expect(holderDead({ owner: 'earlier', host: here, pid: process.pid, until: now + 10_000 }, here, now)).toBe(true);
  });

  it('judges only holders named the registry’s way: older versions’ claims wait out their lease', () => {
    expect(isRegisteredHolder('worker-42-r.0123456789abcdef')).toBe(true);
    expect(isRegisteredHolder('dispatcher-42-r.0123456789abcdef')).toBe(true);
    expect(isRegisteredHolder('worker-42-k3j9xq')).toBe(false);
  });
});

describe.each(storeTargets())('process registrations on $name', (target) => {
  let services: Services;
  beforeAll(async () => {
    services = await createTestServices(target);
  });
  afterAll(async () => closeServices(services));

  const plant = (holder: { owner: string; host: string; pid: number; until: number }) =>
    services.store.db
      .insertInto('process_leases')
      .values({ name: `process:${holder.owner}`, ...holder })
      .execute();

  it('tell registered holders that are alive from those known dead, and leave holders they do not track alone', async () => {
    const now = Date.now();
    const alive = registerProcess(services.store, 'worker', liveness, () => {});
    await alive.ready();
    await plant({ owner: 'worker-1-r.killed', host: here, pid: await deadPid(), until: now + 60_000 });
    await plant({ owner: 'worker-1-r.remote', host: 'elsewhere', pid: 1, until: now + 60_000 });
    await plant({ owner: 'worker-1-r.silent', host: 'elsewhere', pid: 1, until: now - 1 });
    const dead = await deadHolders(
      services.store.db,
      [alive.id, 'worker-1-r.killed', 'worker-1-r.remote', 'worker-1-r.silent', 'worker-1-r.unregistered', 'worker-123-old'],
      now,
    );
    expect(dead.sort()).toEqual(['worker-1-r.killed', 'worker-1-r.silent', 'worker-1-r.unregistered']);
    await alive.stop();
    // Stopped: its row is gone, so its claims are free at once.
    expect(await deadHolders(services.store.db, [alive.id], Date.now())).toEqual([alive.id]);
  });
});
