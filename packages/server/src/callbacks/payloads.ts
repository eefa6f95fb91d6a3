import type { CallbackTrack, ErrorCallbackPayload, SuccessCallbackPayload } from '@reprise/sdk';
import type { CallbackStage } from '../store/index.js';

/**
 * Callback bodies exactly as KIE sends them (SPEC §5.2, the seed): snake_case
 * `task_id`, `audio_url`… but camelCase `createTime` and `callbackType`. The
 * track shape is the SDK's, so the contract is written once.
 */
export type { CallbackTrack };

export type SuccessPayload = SuccessCallbackPayload;

/** The SDK's error body, with the code narrowed to the ones reprise sends. */
export interface ErrorPayload extends ErrorCallbackPayload {
  code: FailureCode;
}

export type CallbackPayload = SuccessPayload | ErrorPayload;

/** SPEC §4: why a task failed decides the code. */
export type FailureCode = 400 | 408 | 500 | 501 | 531;

const SUCCESS_MSG: Record<'text' | 'first' | 'complete', string> = {
  text: 'Text generation completed successfully.',
  first: 'First track generation completed successfully.',
  complete: 'All generated successfully.',
};

export const FAILURE_MSG: Record<FailureCode, string> = {
  400: 'Source audio could not be read, credits refunded',
  408: 'Generation timed out, credits refunded',
  500: 'Internal error, credits refunded',
  501: 'Audio generation failed.',
  531: 'Generation failed, credits refunded',
};

/**
 * The `msg` of a failed tool task (WAV, music video, stems, MIDI), whose bodies have no field for a
 * reason: what the code means, then why.
 */
export const failureMsg = (code: FailureCode, reason: string): string => `${FAILURE_MSG[code]}: ${reason}`;

export function successPayload(stage: 'text' | 'first' | 'complete', taskId: string, tracks: readonly CallbackTrack[]): SuccessPayload {
  return { code: 200, msg: SUCCESS_MSG[stage], data: { callbackType: stage, task_id: taskId, data: stage === 'text' ? [] : [...tracks] } };
}

export function errorPayload(code: FailureCode, taskId: string, error: string): ErrorPayload {
  return { code, msg: FAILURE_MSG[code], data: { callbackType: 'error', task_id: taskId, error } };
}

/**
 * Any family's callback body (SPEC §8): KIE's families differ in everything but `code` and
 * `msg`, so the outbox stores whatever object the task's kind built.
 */
export interface CallbackBody {
  code: number;
  msg: string;
  data: unknown;
}

/** The stage a body reports: the music family names it (`callbackType`); other families have one success and one failure. */
export function stageOf(payload: CallbackBody): CallbackStage {
  const named = (payload.data as { callbackType?: unknown } | null)?.callbackType;
  if (named === 'text' || named === 'first' || named === 'complete' || named === 'error') return named;
  return payload.code === 200 ? 'complete' : 'error';
}
