import { ApiError, invalid } from '../errors.js';
import { jobRunning } from '../jobs/index.js';
import type { Executor, TasksTable } from '../store/index.js';
import { asBody, type Body, camelCase, snakeCase } from './fields.js';
import type { TaskKind } from './kinds/kind.js';
import { kindByMarketModel, kindOf } from './kinds/registry.js';

/**
 * KIE's current API generation (SPEC §8, kie-catalogue §25): `POST /api/v1/jobs/createTask`
 * with `{model: "ai-music-api/<op>", callBackUrl, input: {snake_case}}`, read back through
 * `GET /api/v1/jobs/recordInfo`. A Market request is the dedicated route's request with its
 * names in snake case, so it is translated and admitted by the same kind.
 */

export interface MarketRequest {
  kind: TaskKind<never>;
  /** The dedicated route's body: the input's names in camel case, plus `callBackUrl`. */
  body: Body;
}

export function parseMarket(raw: unknown): MarketRequest {
  const body = asBody(raw);
  const model = body.model;
  if (model === undefined || model === null || model === '') throw invalid('model', 'is required, e.g. "ai-music-api/generate"');
  if (typeof model !== 'string') throw invalid('model', 'must be a string');
  const kind = kindByMarketModel(model);
  if (!kind) throw invalid('model', `"${model}" is not a model this service runs (the version, such as "V5", goes in input.model)`);
  const input = body.input ?? {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid('input', 'must be a JSON object');
  // fromEntries defines own properties: an input key "__proto__" stays a key, never a prototype.
  const translated: Body = Object.fromEntries(Object.entries(input).map(([key, value]) => [camelCase(key), value]));
  if (body.callBackUrl !== undefined) translated.callBackUrl = body.callBackUrl;
  return { kind, body: translated };
}

/**
 * A refusal names the field as the Market client wrote it: `customMode: is required`
 * becomes `input.custom_mode: is required`; KIE's own sentences are left as they are.
 */
export function inMarketTerms(error: unknown): unknown {
  if (!(error instanceof ApiError)) return error;
  const match = /^([A-Za-z][A-Za-z0-9]*)(\[\d+\])?: /.exec(error.message);
  if (!match?.[1] || match[1] === 'callBackUrl' || match[1] === 'body') return error;
  const field = `input.${snakeCase(match[1])}${match[2] ?? ''}`;
  return new ApiError(error.code, `${field}: ${error.message.slice(match[0].length)}`, error.httpStatus, error.data);
}

/**
 * `param` as KIE's recordInfo shows it (recorded): `{"input":"<the input as JSON text>","model":…}`.
 * A task made through a dedicated route shows its body with snake_case names, less the callback
 * URL, which a Market request carries outside `input`.
 */
function marketParam(task: TasksTable, kind: TaskKind<never>): string {
  let request: Body = {};
  try {
    request = asBody(JSON.parse(task.param));
  } catch {
    // A task created with a body that is not an object has no input to show.
  }
  const fromMarket = typeof request.model === 'string' && request.model === kind.market;
  const input = fromMarket
    ? (request.input ?? {})
    : Object.fromEntries(
        Object.entries(request)
          .filter(([key]) => key !== 'callBackUrl')
          .map(([key, value]) => [snakeCase(key), value]),
      );
  return JSON.stringify({ input: JSON.stringify(input), model: kind.market });
}

type MarketState = 'waiting' | 'queuing' | 'generating' | 'success' | 'fail';

function stateOf(task: TasksTable, running: boolean): MarketState {
  if (task.status === 'SUCCESS') return 'success';
  if (task.status === 'PENDING') return running ? 'generating' : 'waiting';
  if (task.status === 'TEXT_SUCCESS' || task.status === 'FIRST_SUCCESS') return 'generating';
  return 'fail';
}

/** `GET /api/v1/jobs/recordInfo` `data` for any task, whichever route created it. */
export async function marketRecord(db: Executor, task: TasksTable, publicUrl: string): Promise<Record<string, unknown>> {
  const kind = kindOf(task.input);
  const state = stateOf(task, await jobRunning(db, task.id));
  return {
    taskId: task.id,
    model: kind.market,
    state,
    param: marketParam(task, kind),
    resultJson: state === 'success' ? JSON.stringify(await kind.family.resultJson(db, task, publicUrl)) : '',
    failCode: state === 'fail' && task.error_code !== null ? String(task.error_code) : null,
    failMsg: state === 'fail' ? task.error_message : null,
    // Seconds from creation to the end, as the recorded answers count it.
    costTime: task.finished_at === null ? null : Math.round((task.finished_at - task.created_at) / 1000),
    completeTime: task.finished_at,
    createTime: task.created_at,
  };
}
