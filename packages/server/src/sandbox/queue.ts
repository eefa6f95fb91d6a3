import { lockAccount } from '../accounts/accounts.js';
import { ApiError } from '../errors.js';
import { newId } from '../ids.js';
import { type Db, type Executor, inList, listParam, prepare, type Runner } from '../store/index.js';
import type { Scenario } from './scenario.js';

/**
 * A sandbox account's scenario queue: rows without a task, in `position` order. Each new task of
 * the account takes the first in its submission transaction; the taken row stays, naming the
 * task, as the record the worker and the dispatcher read its script from. An empty queue: the
 * account's tasks run normally (still simulated: play money).
 */

export const notSandbox = (): ApiError =>
  new ApiError(403, 'sandbox: this account is not a sandbox account (an operator creates one with `reprise accounts create --sandbox`)');

/**
 * Whether accounts are sandboxes, remembered: the flag is set when an account is created and
 * never changes, so once read it is known for good, and a busy submission path or dispatcher
 * asks the store about an account once.
 */
const knownFlags = new Map<string, boolean>();
const KNOWN_FLAGS_MAX = 10_000;

function remember(accountId: string, sandbox: boolean): void {
  if (knownFlags.size >= KNOWN_FLAGS_MAX) knownFlags.delete(knownFlags.keys().next().value as string);
  knownFlags.set(accountId, sandbox);
}

/** The sandbox flag of an account, or undefined when this process has not read it yet. */
export const knownSandboxFlag = (accountId: string): boolean | undefined => knownFlags.get(accountId);

/** Which of these accounts are sandboxes. */
export async function sandboxAccounts(runner: Runner, accountIds: readonly string[]): Promise<Set<string>> {
  const unknown = accountIds.filter((id) => !knownFlags.has(id));
  if (unknown.length > 0) {
    const { rows } = await flagsQuery.execute<{ id: string; sandbox: number }>(runner, { ids: listParam(runner.dialect, unknown) });
    for (const row of rows) remember(row.id, Number(row.sandbox) === 1);
  }
  return new Set(accountIds.filter((id) => knownFlags.get(id) === true));
}

export async function isSandboxAccount(db: Executor, accountId: string): Promise<boolean> {
  const row = await db.selectFrom('accounts').select('sandbox').where('id', '=', accountId).executeTakeFirst();
  if (row) remember(accountId, Number(row.sandbox) === 1);
  return Number(row?.sandbox ?? 0) === 1;
}

export async function requireSandbox(db: Executor, accountId: string): Promise<void> {
  if (!(await isSandboxAccount(db, accountId))) throw notSandbox();
}

/** The scenarios waiting for the account's next tasks, first first. */
export async function queuedScenarios(db: Executor, accountId: string): Promise<Scenario[]> {
  const rows = await db
    .selectFrom('sandbox_scenarios')
    .select('scenario')
    .where('account_id', '=', accountId)
    .where('task_id', 'is', null)
    .orderBy('position')
    .execute();
  return rows.map((row) => JSON.parse(row.scenario) as Scenario);
}

/** Replaces the queue (already checked: sandbox/scenario.ts) in one transaction. */
export async function replaceQueue(db: Db, accountId: string, scenarios: readonly Scenario[]): Promise<void> {
  await db.transaction().execute(async (tx) => {
    // Two replacements at once: one after the other, never their queues interleaved.
    await lockAccount(tx, accountId);
    await tx.deleteFrom('sandbox_scenarios').where('account_id', '=', accountId).where('task_id', 'is', null).execute();
    if (scenarios.length === 0) return;
    await tx
      .insertInto('sandbox_scenarios')
      .values(
        scenarios.map((scenario, index) => ({
          id: newId('scn'),
          account_id: accountId,
          position: index,
          scenario: JSON.stringify(scenario),
          task_id: null,
          taken_at: null,
        })),
      )
      .execute();
  });
}

/**
 * Inside the submission transaction (tasks/submit.ts), after the tasks are written: each task of a
 * sandbox account is marked simulated and takes the first queued scenario, in submission order.
 * The account's row is locked by then, so two submissions cannot take the same scenario.
 */
export async function takeScenarios(runner: Runner, tasks: ReadonlyArray<{ taskId: string; accountId: string }>, now: number): Promise<void> {
  if (tasks.length === 0) return;
  const sandboxes = await sandboxAccounts(runner, [...new Set(tasks.map((task) => task.accountId))]);
  if (sandboxes.size === 0) return;
  for (const { taskId, accountId } of tasks) {
    if (!sandboxes.has(accountId)) continue;
    await markSimulated.execute(runner, { taskId });
    await takeFirst.execute(runner, { taskId, accountId, now });
  }
}

/** The scenario a task took, or null (a real task, or a sandbox task that found the queue empty). */
export async function scenarioOfTask(db: Executor, taskId: string): Promise<Scenario | null> {
  const row = await db.selectFrom('sandbox_scenarios').select('scenario').where('task_id', '=', taskId).executeTakeFirst();
  return row ? (JSON.parse(row.scenario) as Scenario) : null;
}

const flagsQuery = prepare<{ ids: string | readonly string[] }>((db, arg, dialect) =>
  db
    .selectFrom('accounts')
    .select(['id', 'sandbox'])
    .where(inList(dialect, 'id', arg('ids'))),
);
const markSimulated = prepare<{ taskId: string }>((db, arg) => db.updateTable('tasks').set({ simulated: 1 }).where('id', '=', arg('taskId')));
const takeFirst = prepare<{ taskId: string; accountId: string; now: number }>((db, arg) =>
  db
    .updateTable('sandbox_scenarios')
    .set({ task_id: arg('taskId'), taken_at: arg('now') })
    .where('id', '=', (eb) =>
      eb.selectFrom('sandbox_scenarios').select('id').where('account_id', '=', arg('accountId')).where('task_id', 'is', null).orderBy('position').limit(1),
    ),
);

/** record-info [EXT]: a sandbox task's details say `simulated: true`; every other task's stay exactly as KIE's. */
export function markedIfSimulated<T>(task: { simulated: number }, details: T): T {
  if (Number(task.simulated) !== 1 || typeof details !== 'object' || details === null || Array.isArray(details)) return details;
  return { ...details, simulated: true };
}
