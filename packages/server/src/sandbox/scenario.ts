import { ApiError } from '../errors.js';

/**
 * A sandbox scenario [EXT]: what the next task of a sandbox account does, so that an unmodified
 * KIE client can rehearse every path of the callback contract (SPEC §4, §5) — a refunded 531, a
 * 408, a slow success, a skipped stage, a receiver that is down for the first attempts.
 * Plain data, checked here once, stored as JSON and read back by the worker and the dispatcher.
 */
export const OUTCOMES = ['succeed', 'fail'] as const;
/** SPEC §4's failure codes: the task fails with this code, KIE's message, and the normal refund rules. */
export const FAIL_CODES = [400, 408, 500, 501, 531] as const;
/** The stages a generate-style task reports before `complete`. */
export const SKIPPABLE_STAGES = ['text', 'first'] as const;
/** What a simulated receiver failure looks like: an HTTP status, or 0 for a refused connection. */
export const CALLBACK_FAILURE_STATUSES = [500, 503, 408, 0] as const;
export const MAX_DELAY_MS = 600_000;
export const MAX_CALLBACK_FAILURES = 10;
/** A queue long enough for any rehearsal, short enough that one request stays small. */
export const MAX_SCENARIOS = 100;

export type Outcome = (typeof OUTCOMES)[number];
export type FailCode = (typeof FAIL_CODES)[number];
export type SkippableStage = (typeof SKIPPABLE_STAGES)[number];
export type CallbackFailureStatus = (typeof CALLBACK_FAILURE_STATUSES)[number];

export interface Scenario {
  outcome: Outcome;
  /** Required when `outcome` is "fail", refused otherwise. */
  failCode?: FailCode;
  /** Waited before the task runs (or fails); counts against the task's time limit. */
  delayMs?: number;
  /** Stages of a succeeding task that are not reported (no status change, no callback). */
  skipStages?: SkippableStage[];
  /** The first N attempts of each of the task's callbacks are recorded as failures without being sent. */
  callbackFailures?: number;
  /** How those attempts fail; 500 when not given. */
  callbackFailureStatus?: CallbackFailureStatus;
}

const FIELDS = ['outcome', 'failCode', 'delayMs', 'skipStages', 'callbackFailures', 'callbackFailureStatus'] as const;

const refuse = (field: string, rule: string): ApiError => new ApiError(422, `${field}: ${rule}`);
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const listOf = (values: readonly unknown[]): string => values.map((value) => JSON.stringify(value)).join(', ');

function oneOf<T>(value: unknown, allowed: readonly T[], field: string): T {
  if (!allowed.includes(value as T)) throw refuse(field, `must be one of ${listOf(allowed)}`);
  return value as T;
}

function wholeNumber(value: unknown, field: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) throw refuse(field, `must be a whole number from 0 to ${max}`);
  return value;
}

/** One scenario, checked; `field` names it in messages (e.g. `scenarios[2]`). */
export function parseScenario(raw: unknown, field: string): Scenario {
  if (!isRecord(raw)) throw refuse(field, 'must be an object');
  // A misspelt field would silently rehearse the wrong thing: refused, with the names that exist.
  for (const key of Object.keys(raw)) {
    if (!(FIELDS as readonly string[]).includes(key)) throw refuse(`${field}.${key}`, `unknown field (allowed: ${FIELDS.join(', ')})`);
  }
  if (raw.outcome === undefined) throw refuse(`${field}.outcome`, `is required (${listOf(OUTCOMES)})`);
  const scenario: Scenario = { outcome: oneOf(raw.outcome, OUTCOMES, `${field}.outcome`) };
  if (scenario.outcome === 'fail') {
    if (raw.failCode === undefined) throw refuse(`${field}.failCode`, `is required when outcome is "fail" (${listOf(FAIL_CODES)})`);
    scenario.failCode = oneOf(raw.failCode, FAIL_CODES, `${field}.failCode`);
  } else if (raw.failCode !== undefined) {
    throw refuse(`${field}.failCode`, 'is only allowed when outcome is "fail"');
  }
  if (raw.delayMs !== undefined) scenario.delayMs = wholeNumber(raw.delayMs, `${field}.delayMs`, MAX_DELAY_MS);
  if (raw.skipStages !== undefined) {
    const stages = raw.skipStages;
    if (!Array.isArray(stages)) throw refuse(`${field}.skipStages`, `must be an array of ${listOf(SKIPPABLE_STAGES)}`);
    const seen = new Set<SkippableStage>();
    stages.forEach((stage: unknown, index) => {
      const name = oneOf(stage, SKIPPABLE_STAGES, `${field}.skipStages[${index}]`);
      if (seen.has(name)) throw refuse(`${field}.skipStages[${index}]`, `"${name}" is listed twice`);
      seen.add(name);
    });
    scenario.skipStages = [...seen];
  }
  if (raw.callbackFailures !== undefined) scenario.callbackFailures = wholeNumber(raw.callbackFailures, `${field}.callbackFailures`, MAX_CALLBACK_FAILURES);
  if (raw.callbackFailureStatus !== undefined) {
    scenario.callbackFailureStatus = oneOf(raw.callbackFailureStatus, CALLBACK_FAILURE_STATUSES, `${field}.callbackFailureStatus`);
  }
  return scenario;
}

/** `PUT /api/v1/sandbox`'s body (and `reprise sandbox set --json`): `{scenarios: [Scenario]}`. */
export function parseScenarioQueue(body: unknown): Scenario[] {
  if (!isRecord(body)) throw refuse('body', 'must be a JSON object {"scenarios": [...]}');
  const list = body.scenarios;
  if (list === undefined) throw refuse('scenarios', 'is required (an array; [] empties the queue)');
  if (!Array.isArray(list)) throw refuse('scenarios', 'must be an array');
  if (list.length > MAX_SCENARIOS) throw refuse('scenarios', `at most ${MAX_SCENARIOS} scenarios, got ${list.length}`);
  return list.map((item: unknown, index) => parseScenario(item, `scenarios[${index}]`));
}
