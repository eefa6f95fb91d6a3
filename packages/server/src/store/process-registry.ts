import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Executor, Store } from './db.js';
import { ownersHere, stillRunning } from './process-lease.js';

/**
 * Who holds a claim, and whether it still lives. A process that claims work (task jobs, callback
 * attempts) registers itself as a row of `process_leases` named `process:<id>` and renews it every
 * heartbeat; its claims carry that id. A claim whose holder's row is gone or lapsed, or whose holder
 * ran on this host and its pid is gone (killed), is taken over at once instead of after the claim's
 * own, much longer, lease. A holder on another host counts as dead only once its heartbeat lapsed:
 * its pid says nothing here.
 *
 * Only holders named the registry's way (`<role>-<pid>-r.<random>`; the `.` is what tells them from
 * the `<role>-<pid>-<random>` of older versions) are judged this way: a claim made by an older
 * version, which registered nothing, waits out its lease as before (a rolling upgrade steals nothing).
 */
export interface Liveness {
  /** How often a process renews its row. */
  heartbeatMs: number;
  /** How long a row lives unrenewed: a process on another host that stopped is dead after this. */
  expiryMs: number;
}

export const DEFAULT_LIVENESS: Liveness = { heartbeatMs: 2500, expiryMs: 10_000 };

const REGISTERED_HOLDER = /^[a-z]+-\d+-r\./;
const ROW_PREFIX = 'process:';
/** Rows of processes gone this long are swept away by the next process that registers. */
const SWEEP_AFTER_EXPIRIES = 10;

export interface ProcessRegistration {
  /** What this process's claims record as their holder. */
  readonly id: string;
  /** Writes the row (once) and starts renewing it. Claim nothing before: an unregistered holder counts as dead. */
  ready(): Promise<void>;
  /** Stops renewing and deletes the row. */
  stop(): Promise<void>;
}

export function registerProcess(store: Store, role: string, liveness: Liveness, onError: (error: unknown) => void): ProcessRegistration {
  const id = `${role}-${process.pid}-r.${randomBytes(8).toString('hex')}`;
  const host = os.hostname();
  let first: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const beat = async (now: number): Promise<void> => {
    const until = now + liveness.expiryMs;
    await store.db
      .insertInto('process_leases')
      .values({ name: ROW_PREFIX + id, owner: id, host, pid: process.pid, until })
      .onConflict((conflict) => conflict.column('name').doUpdateSet({ until }))
      .execute();
  };

  async function start(): Promise<void> {
    const now = Date.now();
    ownersHere.add(id);
    await beat(now);
    await store.db
      .deleteFrom('process_leases')
      .where('name', 'like', `${ROW_PREFIX}%`)
      .where('until', '<', now - SWEEP_AFTER_EXPIRIES * liveness.expiryMs)
      .execute();
    if (stopped) return;
    timer = setInterval(() => beat(Date.now()).catch(onError), liveness.heartbeatMs);
    timer.unref();
  }

  return {
    id,
    ready() {
      first ??= start().catch((error: unknown) => {
        // Tried again by the next caller: the store may be back by then.
        first = null;
        throw error;
      });
      return first;
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      ownersHere.delete(id);
      await store.db
        .deleteFrom('process_leases')
        .where('name', '=', ROW_PREFIX + id)
        .execute();
    },
  };
}

export interface HolderRow {
  owner: string;
  host: string;
  pid: number;
  until: number;
}

/** The claimability rule: whether the holder a row describes (undefined: no row) is dead, seen from `host` at `now`. */
export function holderDead(row: HolderRow | undefined, host: string, now: number): boolean {
  if (!row || row.until < now) return true;
  return row.host === host && !stillRunning(row);
}

/** Of the holders named, those known dead (only registry holders can be: see the top of this file). */
export async function deadHolders(db: Executor, holders: readonly string[], now: number): Promise<string[]> {
  const tracked = [...new Set(holders)].filter(isRegisteredHolder);
  if (tracked.length === 0) return [];
  const rows = await db
    .selectFrom('process_leases')
    .select(['owner', 'host', 'pid', 'until'])
    .where(
      'name',
      'in',
      tracked.map((holder) => ROW_PREFIX + holder),
    )
    .execute();
  const byOwner = new Map(rows.map((row) => [row.owner, { ...row, pid: Number(row.pid), until: Number(row.until) }]));
  const host = os.hostname();
  return tracked.filter((holder) => holderDead(byOwner.get(holder), host, now));
}

/** Whether a claim holder is one the registry tracks. */
export const isRegisteredHolder = (holder: string): boolean => REGISTERED_HOLDER.test(holder);
