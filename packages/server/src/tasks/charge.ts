import { debitTasks, lockedBalance } from '../accounts/index.js';
import { ApiError } from '../errors.js';
import type { Store } from '../store/index.js';

/**
 * The price of a synchronous route (boost style, persona), taken before it answers. `reference`
 * is the answer's id: the ledger's unique (reference, debit) makes it one charge.
 */
export async function chargeNow(store: Store, accountId: string, price: number, reference: string, what: string): Promise<void> {
  if (price <= 0) return;
  const charged = await store.transaction(async (tx) => {
    if (((await lockedBalance(tx, accountId)) ?? 0) < price) return false;
    return debitTasks(tx, accountId, [{ taskId: reference, amount: price }], Date.now());
  });
  if (!charged) throw new ApiError(402, `Insufficient credits: ${what} costs ${price}`);
}
