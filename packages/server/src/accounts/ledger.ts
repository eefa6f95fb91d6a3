import { sql } from 'kysely';
import { ApiError } from '../errors.js';
import { newId } from '../ids.js';
import { asRunner, changedRows, type Db, type Executor, prepare, type Runner } from '../store/index.js';

/**
 * Credits: `accounts.balance` is the running sum of the ledger. Every change is a
 * ledger row written in the same transaction as the balance update.
 */

/**
 * Takes `amount` for a task. The conditional UPDATE is the guard against
 * overdraft under concurrency (it also locks the account row on PostgreSQL);
 * the unique (task_id, kind) index makes a second debit of a task impossible.
 * Returns false when the balance is too low.
 */
export async function debitForTask(tx: Executor | Runner, accountId: string, taskId: string, amount: number, now: number): Promise<boolean> {
  const runner = asRunner(tx);
  if (changedRows(await takeBalance.execute(runner, { accountId, amount })) !== 1) return false;
  await insertDebit.execute(runner, { id: newId('led'), accountId, taskId, amount: -amount, now });
  return true;
}

// Prepared: a debit is on the path of every submission.
const takeBalance = prepare<{ accountId: string; amount: number }>((db, arg) =>
  db
    .updateTable('accounts')
    .set({ balance: sql`balance - ${arg('amount')}` })
    .where('id', '=', arg('accountId'))
    .where('balance', '>=', arg('amount')),
);
const insertDebit = prepare<{ id: string; accountId: string; taskId: string; amount: number; now: number }>((db, arg) =>
  db.insertInto('ledger').values({ id: arg('id'), account_id: arg('accountId'), task_id: arg('taskId'), kind: 'debit', amount: arg('amount'), created_at: arg('now') }),
);

/** Gives a task's price back once; a second call (e.g. after a crash and re-run) does nothing. */
export async function refundTask(tx: Executor, accountId: string, taskId: string, amount: number, now: number): Promise<boolean> {
  const inserted = await tx
    .insertInto('ledger')
    .values({ id: newId('led'), account_id: accountId, task_id: taskId, kind: 'refund', amount, created_at: now })
    .onConflict((oc) => oc.columns(['task_id', 'kind']).doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== 1) return false;
  await tx.updateTable('accounts').set({ balance: sql`balance + ${amount}` }).where('id', '=', accountId).execute();
  return true;
}

export async function grantCredits(db: Db, accountId: string, amount: number): Promise<number> {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new ApiError(422, 'amount: must be a whole number greater than 0');
  return db.transaction().execute(async (tx) => {
    const updated = await tx.updateTable('accounts').set({ balance: sql`balance + ${amount}` }).where('id', '=', accountId).executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) throw new ApiError(404, `account ${accountId} does not exist`);
    await tx.insertInto('ledger').values({ id: newId('led'), account_id: accountId, task_id: null, kind: 'grant', amount, created_at: Date.now() }).execute();
    const row = await tx.selectFrom('accounts').select('balance').where('id', '=', accountId).executeTakeFirstOrThrow();
    return row.balance;
  });
}

export async function balanceOf(db: Executor, accountId: string): Promise<number> {
  const row = await db.selectFrom('accounts').select('balance').where('id', '=', accountId).executeTakeFirst();
  return row?.balance ?? 0;
}
