import { setTimeout as sleep } from 'node:timers/promises';
import type { CallbackBody, FailureCode } from '../callbacks/index.js';
import type { OnProgress, Operation, RenderedTracks } from '../engine/types.js';
import { failTask, type KindRuntime, type LifecycleContext } from '../tasks/index.js';
import type { FailCode, Scenario } from './scenario.js';

/**
 * How the worker plays a sandbox task's scenario: it waits `delayMs`, then either fails the task
 * as scripted (no engine work) or runs the real kind — real outputs — with the skipped stages
 * left unreported.
 */

/** What the `error` of a scripted failure says: the code's cause (SPEC §4), and that it was scripted. */
const SCRIPTED_CAUSE: Record<FailCode, string> = {
  400: 'the source audio could not be read',
  408: 'the task ran past its time limit',
  500: 'internal error while rendering',
  501: 'the engine failed',
  531: 'the engine failed',
};

/** A failure the scenario asked for: thrown after the delay, turned into the task's failure by the worker. */
export class ScriptedFailure extends Error {
  override readonly name = 'ScriptedFailure';
  constructor(readonly code: FailCode) {
    super(`${SCRIPTED_CAUSE[code]} (sandbox scenario: failCode ${code})`);
  }
}

/** Waits the scenario's delay (ended early by `signal`: shutdown, deadline), then throws its failure if it has one. */
export async function playScenario(scenario: Scenario, signal: AbortSignal): Promise<void> {
  if (scenario.delayMs) await sleep(scenario.delayMs, undefined, { signal });
  if (scenario.outcome === 'fail') throw new ScriptedFailure(scenario.failCode ?? 531);
}

/**
 * Fails the task with the scripted code under the normal rules: refunded, except 501, KIE's code for
 * "refunds are disabled", which keeps the credits as that configuration would (and a server whose
 * refunds are disabled turns every code into 501, as for a real failure).
 */
export function failAsScripted(
  lifecycle: LifecycleContext,
  taskId: string,
  jobId: string,
  failure: ScriptedFailure,
  errorBody: (code: FailureCode, taskId: string, message: string) => CallbackBody,
): Promise<boolean> {
  if (failure.code === 501) return failTask({ ...lifecycle, refunds: false }, taskId, jobId, 531, failure.message, errorBody);
  return failTask(lifecycle, taskId, jobId, failure.code, failure.message, errorBody);
}

/**
 * The runtime a sandbox task runs with: the same engine, but the stages the scenario skips are
 * not reported. A first track kept back from its stage is put back into the result, where the
 * kind expects every track that was not handed over early.
 */
export function scriptedRuntime(runtime: KindRuntime, scenario: Scenario): KindRuntime {
  const skip = new Set(scenario.skipStages ?? []);
  if (skip.size === 0) return runtime;
  const render = async (operation: Operation, signal: AbortSignal, onProgress?: OnProgress): Promise<RenderedTracks> => {
    const keptBack = new Map<number, RenderedTracks[number]>();
    const tracks = await runtime.render(operation, signal, async (progress) => {
      if (progress.stage === 'text' && skip.has('text')) return;
      if (progress.stage === 'first' && skip.has('first')) {
        keptBack.set(progress.index, progress.track);
        return;
      }
      await onProgress?.(progress);
    });
    for (const [index, track] of keptBack) tracks[index] = track;
    return tracks;
  };
  return { ...runtime, render };
}
