import { ApiError } from '../errors.js';

/**
 * Uploads in flight, counted per account and for the whole process: each one holds a socket, a
 * file being written and a little memory, so an account (or everyone together) may only have so
 * many at once. The next is answered 429 straight away instead of queueing behind the others.
 */
export interface UploadSlots {
  /** Takes a slot for `accountId`, or throws a 429; the returned function gives it back (once). */
  take(accountId: string): () => void;
  /** Uploads in flight now (for tests and metrics). */
  inFlight(): number;
}

export function createUploadSlots(limits: { perAccount: number; overall: number }): UploadSlots {
  const byAccount = new Map<string, number>();
  let total = 0;
  return {
    take(accountId) {
      const mine = byAccount.get(accountId) ?? 0;
      if (mine >= limits.perAccount) {
        throw new ApiError(429, `Too many uploads at once: at most ${limits.perAccount} per account; retry when one has finished`);
      }
      if (total >= limits.overall) throw new ApiError(429, `Too many uploads at once on this server (at most ${limits.overall}); retry shortly`);
      byAccount.set(accountId, mine + 1);
      total += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        total -= 1;
        const left = (byAccount.get(accountId) ?? 1) - 1;
        // Accounts with nothing in flight are forgotten: the map stays as small as the uploads in progress.
        if (left <= 0) byAccount.delete(accountId);
        else byAccount.set(accountId, left);
      };
    },
    inFlight: () => total,
  };
}
