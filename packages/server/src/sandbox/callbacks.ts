import type { ClaimedCallback } from '../callbacks/deliveries.js';
import { OutboundError, type OutboundResponse } from '../outbound/index.js';
import type { Store } from '../store/index.js';
import { isSandboxAccount, knownSandboxFlag, scenarioOfTask } from './queue.js';
import type { CallbackFailureStatus } from './scenario.js';

/**
 * A sandbox scenario's receiver failures (`callbackFailures`, `callbackFailureStatus`): the first
 * N attempts of each of the task's callbacks fail as the scenario says, without anything being
 * sent, and are recorded like any failed attempt — then the normal schedule carries on, and real
 * delivery resumes (or the schedule runs out, as with a receiver that stays down).
 *
 * Asked for every callback the dispatcher sends: answered without a promise once the account
 * is known not to be a sandbox, which is every account but the few sandboxes.
 */
export type SimulatedFailures = (callback: ClaimedCallback) => Promise<OutboundResponse | null> | null;

interface Script {
  failures: number;
  status: CallbackFailureStatus;
}

const SCRIPTS_MAX = 10_000;

export function simulatedCallbackFailures(store: Store): SimulatedFailures {
  // A task's scenario never changes once taken: read once per task.
  const scripts = new Map<string, Script>();
  async function scriptOf(taskId: string): Promise<Script> {
    const known = scripts.get(taskId);
    if (known) return known;
    const scenario = await scenarioOfTask(store.db, taskId);
    const script: Script = { failures: scenario?.callbackFailures ?? 0, status: scenario?.callbackFailureStatus ?? 500 };
    if (scripts.size >= SCRIPTS_MAX) scripts.delete(scripts.keys().next().value as string);
    scripts.set(taskId, script);
    return script;
  }

  async function play(callback: ClaimedCallback): Promise<OutboundResponse | null> {
    // The flag is fixed when the account is made: read from the store only when not yet known here.
    const sandbox = knownSandboxFlag(callback.account_id) ?? (await isSandboxAccount(store.db, callback.account_id));
    if (!sandbox) return null;
    const script = await scriptOf(callback.task_id);
    if (callback.attempts >= script.failures) return null;
    const note = `simulated by the sandbox scenario: attempt ${callback.attempts + 1} of ${script.failures} scripted failures`;
    if (script.status === 0) throw new OutboundError('connect', `connection refused (${note})`);
    return { status: script.status, headers: {}, body: Buffer.from(note), truncated: false, durationMs: 0 };
  }

  return (callback) => (knownSandboxFlag(callback.account_id) === false ? null : play(callback));
}
