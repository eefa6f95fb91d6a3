import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Store } from './db.js';

/**
 * A role that one process at a time holds on the store (a row of `process_leases`), kept while
 * its holder renews it. A holder that stops renewing loses it once `until` passes; one on this
 * host whose process is gone (killed) loses it at once, so a restarted server takes over without
 * waiting. Whether a process is gone is told by its pid, so only on the same host: a holder on
 * another one (a database file on a shared volume) is waited out.
 */
export interface ProcessLease {
  /** Whether this process holds the role now. Renews it, a round trip to the store, only once a third of its time has passed. */
  held(now: number): boolean | Promise<boolean>;
  /** Gives the role up, so another process may take it at once. */
  release(): Promise<void>;
}

/** The owners of leases (and process registrations) made by this process and not released. */
export const ownersHere = new Set<string>();

/**
 * Whether the holder of a lease still runs. With our pid it is this process only if one of our
 * owners holds it; otherwise it was an earlier process that had our pid (a restarted container).
 */
export function stillRunning(holder: { owner: string; pid: number }): boolean {
  if (holder.pid === process.pid) return ownersHere.has(holder.owner);
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function processLease(store: Store, name: string, ttlMs: number): ProcessLease {
  const owner = randomBytes(8).toString('hex');
  const host = os.hostname();
  let heldUntil = 0;
  let renewAfter = 0;

  async function acquire(now: number): Promise<boolean> {
    const current = await store.db.selectFrom('process_leases').selectAll().where('name', '=', name).executeTakeFirst();
    const lapsed = current !== undefined && current.owner !== owner && (current.until < now || (current.host === host && !stillRunning(current)));
    // One statement decides: it replaces only our own row or the lapsed one just read, so of two
    // processes taking over at once only one wins.
    const taken = await store.db
      .insertInto('process_leases')
      .values({ name, owner, host, pid: process.pid, until: now + ttlMs })
      .onConflict((conflict) =>
        conflict
          .column('name')
          .doUpdateSet((eb) => ({
            owner: eb.ref('excluded.owner'),
            host: eb.ref('excluded.host'),
            pid: eb.ref('excluded.pid'),
            until: eb.ref('excluded.until'),
          }))
          .where('process_leases.owner', 'in', lapsed ? [owner, current.owner] : [owner]),
      )
      .executeTakeFirst();
    return Number(taken.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  return {
    held(now) {
      if (now < renewAfter) return true;
      return acquire(now).then(
        (ok) => {
          if (ok) ownersHere.add(owner);
          heldUntil = ok ? now + ttlMs : 0;
          renewAfter = ok ? now + ttlMs / 3 : 0;
          return ok;
        },
        // The store did not answer: what was held is held until it lapses.
        () => now < heldUntil,
      );
    },
    async release() {
      renewAfter = heldUntil = 0;
      ownersHere.delete(owner);
      await store.db.deleteFrom('process_leases').where('name', '=', name).where('owner', '=', owner).execute();
    },
  };
}
