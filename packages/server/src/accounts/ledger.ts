import { type CompiledQuery, type Insertable, sql } from 'kysely';
import { ApiError } from '../errors.js';
import { newId } from '../ids.js';
import { changedRows, type Db, type Dialect, type Executor, insertRows, type LedgerTable, prepare, type Runner } from '../store/index.js';

/**
 * Credits: `accounts.balance` is the running sum of the ledger. Every change is a
 * ledger row written in the same transaction as the balance update.
 */

/**
 * The account's balance, read at the start of a submission batch. On
 * PostgreSQL the row stays locked until the transaction ends, so concurrent
 * batches of one account serialise (SQLite's BEGIN IMMEDIATE already does).
 */
export async function lockedBalance(tx: Runner, accountId: string): Promise<number | null> {
  const { rows } = await balanceForUpdate.execute<{ balance: number }>(tx, { accountId });
  return rows[0] ? Number(rows[0].balance) : null;
}

/**
 * Takes the prices of several tasks of one account: one balance update and one
 * ledger row per task. The conditional UPDATE (and the CHECK on the column) is
 * the last guard against overdraft; the unique (task_id, kind) index makes a
 * second debit of a task impossible. False, with nothing written, when the
 * balance does not cover them.
 */
export async function debitTasks(tx: Runner, accountId: string, debits: ReadonlyArray<{ taskId: string; amount: number }>, now: number): Promise<boolean> {
  if (changedRows(await takeBalance.execute(tx, { accountId, amount: debitTotal(debits) })) !== 1) return false;
  await insertRows(tx, 'ledger', debitLedgerRows(accountId, debits, now));
  return true;
}

export const debitTotal = (debits: ReadonlyArray<{ amount: number }>): number => debits.reduce((sum, debit) => sum + debit.amount, 0);

/** The ledger rows of `debitTasks`: one per task, the amount negative. */
export function debitLedgerRows(accountId: string, debits: ReadonlyArray<{ taskId: string; amount: number }>, now: number): Insertable<LedgerTable>[] {
  return debits.map((debit) => ({ id: newId('led'), account_id: accountId, task_id: debit.taskId, kind: 'debit', amount: -debit.amount, created_at: now }));
}

/** `lockedBalance`'s statement, for a caller that sends it together with others (`executeTogether`). */
export const lockBalanceStatement = (dialect: Dialect, accountId: string): CompiledQuery => balanceForUpdate.compiled(dialect, { accountId });

// Prepared: on the path of every submission batch.
const balanceForUpdate = prepare<{ accountId: string }>((db, arg, dialect) =>
  db
    .selectFrom('accounts')
    .select('balance')
    .where('id', '=', arg('accountId'))
    .$if(dialect === 'postgres', (qb) => qb.forUpdate()),
);
const takeBalance = prepare<{ accountId: string; amount: number }>((db, arg) =>
  db
    .updateTable('accounts')
    .set({ balance: sql`balance - ${arg('amount')}` })
    .where('id', '=', arg('accountId'))
    .where('balance', '>=', arg('amount')),
);

/** Gives a task's price back once; a second call (e.g. after a crash and re-run) does nothing. */
export async function refundTask(tx: Executor, accountId: string, taskId: string, amount: number, now: number): Promise<boolean> {
  const inserted = await tx
    .insertInto('ledger')
    .values({ id: newId('led'), account_id: accountId, task_id: taskId, kind: 'refund', amount, created_at: now })
    .onConflict((oc) => oc.columns(['task_id', 'kind']).doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== 1) return false;
  await tx
    .updateTable('accounts')
    .set({ balance: sql`balance + ${amount}` })
    .where('id', '=', accountId)
    .execute();
  return true;
}

export async function grantCredits(db: Db, accountId: string, amount: number): Promise<number> {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new ApiError(422, 'amount: must be a whole number greater than 0');
  return db.transaction().execute(async (tx) => {
    const updated = await tx
      .updateTable('accounts')
      .set({ balance: sql`balance + ${amount}` })
      .where('id', '=', accountId)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) throw new ApiError(404, `account ${accountId} does not exist`);
    await tx
      .insertInto('ledger')
      .values({ id: newId('led'), account_id: accountId, task_id: null, kind: 'grant', amount, created_at: Date.now() })
      .execute();
    const row = await tx.selectFrom('accounts').select('balance').where('id', '=', accountId).executeTakeFirstOrThrow();
    return row.balance;
  });
}

export async function balanceOf(db: Executor, accountId: string): Promise<number> {
  const row = await db.selectFrom('accounts').select('balance').where('id', '=', accountId).executeTakeFirst();
  return row?.balance ?? 0;
}
