import { newId } from '../ids.js';
import type { Executor } from '../store/index.js';
import { type CallbackBody, stageOf } from './payloads.js';

/**
 * Records a callback the task owes, inside the caller's transaction (the
 * transactional outbox): the task's new state and the debt to its receiver
 * commit together or not at all. A stage owes at most one callback; a re-run
 * stage after a crash finds the row already there and adds nothing.
 */
export async function oweCallback(
  tx: Executor,
  task: { id: string; account_id: string; callback_url: string | null },
  payload: CallbackBody,
  now: number,
  firstDelayMs = 0,
): Promise<string | null> {
  if (!task.callback_url) return null;
  const id = `msg_${newId('cb').slice(3)}`;
  const inserted = await tx
    .insertInto('callbacks')
    .values({
      id,
      task_id: task.id,
      account_id: task.account_id,
      stage: stageOf(payload),
      url: task.callback_url,
      payload: JSON.stringify(payload),
      status: 'pending',
      attempts: 0,
      round_attempts: 0,
      last_error: null,
      created_at: now,
      updated_at: now,
      delivered_at: null,
      due_at: now + firstDelayMs,
      leased_by: null,
    })
    .onConflict((oc) => oc.columns(['task_id', 'stage']).doNothing())
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1 ? id : null;
}
