import { CompiledQuery, type Insertable } from 'kysely';
import { debitLedgerRows, debitTasks, debitTotal } from '../accounts/index.js';
import { enqueueJobs, newJobRows } from '../jobs/index.js';
import { insertRows, type Runner, type TasksTable } from '../store/index.js';

/** One account's share of a submission batch: the tasks it pays for. */
export interface AccountDebits {
  accountId: string;
  debits: ReadonlyArray<{ taskId: string; amount: number }>;
}

/**
 * Writes the accepted tasks of a submission batch with their debits and their jobs, in the
 * caller's transaction, after `admit` has checked every balance under its row lock (so a debit
 * cannot fail; if one did, this throws and the whole batch rolls back).
 *
 * SQLite runs statements in-process for a few µs each: a multi-row INSERT per table. PostgreSQL
 * pays a round trip and its backend's work per statement, so there it is one statement whatever
 * the batch: the balances, the ledger, the tasks and the jobs, each table's rows travelling as one
 * JSON parameter (`json_populate_recordset` types them by the table's own row type, so the rows
 * keep exactly the columns the SQLite path writes).
 */
export async function writeAccepted(
  tx: Runner,
  accounts: readonly AccountDebits[],
  tasks: ReadonlyArray<Insertable<TasksTable>>,
  jobs: ReadonlyArray<{ refId: string; runAt: number }>,
  now: number,
): Promise<void> {
  if (tx.dialect === 'sqlite') {
    for (const { accountId, debits } of accounts) {
      if (!(await debitTasks(tx, accountId, debits, now))) throw balanceChanged(accountId);
    }
    await insertRows(tx, 'tasks', tasks);
    await enqueueJobs(tx, 'task', jobs, now);
    return;
  }
  const ledger = accounts.flatMap(({ accountId, debits }) => debitLedgerRows(accountId, debits, now));
  const jobRows = newJobRows('task', jobs, now);
  const [first, firstDebit, firstJob] = [tasks[0], ledger[0], jobRows[0]];
  // Every accepted task has its debit (of its price, maybe 0) and its job: all three or none.
  if (!first || !firstDebit || !firstJob) return;
  const { rows } = await tx.executeQuery<{ debited: string[] }>(
    CompiledQuery.raw(writeStatement(Object.keys(first), Object.keys(firstDebit), Object.keys(firstJob)), [
      JSON.stringify(accounts.map(({ accountId, debits }) => ({ id: accountId, amount: debitTotal(debits) }))),
      JSON.stringify(ledger),
      JSON.stringify(tasks),
      JSON.stringify(jobRows),
    ]),
  );
  const debited = new Set(rows[0]?.debited ?? []);
  const missed = accounts.find(({ accountId }) => !debited.has(accountId));
  if (missed) throw balanceChanged(missed.accountId);
}

const balanceChanged = (accountId: string): Error => new Error(`account ${accountId}: balance changed during a submission batch`);

const quoted = (columns: readonly string[]): string => columns.map((column) => `"${column}"`).join(', ');

/** `insert into <table> (<columns>) <select of the same columns from the JSON rows in $param>`. */
const insertFromJson = (table: string, columns: readonly string[], param: number): string =>
  `insert into "${table}" (${quoted(columns)}) select ${quoted(columns)} from json_populate_recordset(null::"${table}", $${param}::json)`;

/**
 * The statement text for one set of columns (the same every time for a given build, so one
 * prepared statement per connection). The data-modifying CTEs all run, whatever the final select
 * reads; the conditional UPDATE is the last guard against overdraft, as on SQLite, and the
 * accounts it did debit come back for the caller to check.
 */
const statements = new Map<string, string>();
function writeStatement(taskColumns: readonly string[], ledgerColumns: readonly string[], jobColumns: readonly string[]): string {
  const key = `${taskColumns.join(',')}|${ledgerColumns.join(',')}|${jobColumns.join(',')}`;
  let text = statements.get(key);
  if (!text) {
    text = `with debit as (
        update accounts a set balance = a.balance - d.amount
        from json_to_recordset($1::json) as d(id text, amount bigint)
        where a.id = d.id and a.balance >= d.amount
        returning a.id
      ),
      ledger_rows as (${insertFromJson('ledger', ledgerColumns, 2)}),
      task_rows as (${insertFromJson('tasks', taskColumns, 3)}),
      job_rows as (${insertFromJson('jobs', jobColumns, 4)})
      select coalesce(array_agg(id), '{}') as debited from debit`;
    statements.set(key, text);
  }
  return text;
}
