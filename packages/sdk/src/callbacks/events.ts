import type { ErrorCallbackPayload, SuccessCallbackPayload, SunoTrack } from '../types.js';

/** What a verified, validated callback hands to your code. */
interface CallbackEventBase {
  taskId: string;
  /** `webhook-id` (reprise, Standard Webhooks): the same on every delivery of this callback. Null under the KIE scheme. */
  webhookId: string | null;
  /** The signed timestamp, Unix seconds. */
  timestamp: number;
  /** Which signature scheme vouched for it. `kie` covers the task id and time, not the rest of the body. */
  scheme: 'standard' | 'kie';
}

export interface SuccessCallbackEvent extends CallbackEventBase {
  stage: 'text' | 'first' | 'complete';
  code: 200;
  msg: string;
  /** The tracks ready so far, in record-info's camelCase. Empty at the `text` stage. */
  tracks: SunoTrack[];
  payload: SuccessCallbackPayload;
}

export interface ErrorCallbackEvent extends CallbackEventBase {
  stage: 'error';
  /** SPEC §4: 531 refunded, 400 unreadable source, 408 timed out, 500 internal, 501 not refunded. */
  code: number;
  msg: string;
  error: string;
  payload: ErrorCallbackPayload;
}

export type CallbackEvent = SuccessCallbackEvent | ErrorCallbackEvent;

export const isFinalEvent = (event: CallbackEvent): boolean => event.stage === 'complete' || event.stage === 'error';
