import { createHmac } from 'node:crypto';
import { WebhookVerificationError } from '../errors.js';
import { parseJsonBody } from './body.js';
import { base64SignatureEquals } from './compare.js';
import { type HeadersLike, singleHeader } from './headers.js';
import { findTaskId, type TaskIdKey } from './task-id.js';
import { checkTimestamp, type FreshnessOptions } from './timestamp.js';

export type VerifyKieSignatureOptions = FreshnessOptions;

export interface VerifiedKieWebhook {
  /** The body's task id: the value the signature covers. */
  taskId: string;
  /** Where the body carried it: `data.task_id` (music tracks), `data.taskId` (cover images) or a top-level `task_id`. */
  taskIdKey: TaskIdKey;
  /** `X-Webhook-Timestamp` in Unix seconds. */
  timestamp: number;
  /** The parsed JSON body. Only its task id is covered by the signature. */
  payload: unknown;
}

/** The KIE HMAC key is the UTF-8 bytes of the whole secret as copied, `whsec_` included (SPEC §5.3). */
export function kieSignature(secret: string, taskId: string, timestamp: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${taskId}.${timestamp}`, 'utf8').digest('base64');
}

function secretList(secrets: string | readonly string[]): readonly string[] {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  if (!Array.isArray(list) || list.length === 0) throw new WebhookVerificationError('invalid_key', 'at least one webhook secret is required');
  for (const secret of list) {
    if (typeof secret !== 'string' || secret === '') throw new WebhookVerificationError('invalid_key', 'webhook secrets must be non-empty strings');
  }
  return list;
}

function taskIdOf(payload: unknown): { taskId: string; key: TaskIdKey } {
  const found = findTaskId(payload);
  if (found.taskId === null) throw new WebhookVerificationError('invalid_payload', `${found.reason}: the body has no task id to check the signature against`);
  return found;
}

/**
 * KIE's scheme: `X-Webhook-Signature` = base64 HMAC-SHA256 of
 * `<task id> + "." + X-Webhook-Timestamp`, keyed with the secret's UTF-8 bytes.
 * The task id is read wherever the body's family carries it (`data.task_id`,
 * `data.taskId` or a top-level `task_id`); a body naming two different ids is
 * refused.
 * It proves who sent the callback and when, but does not cover the rest of the
 * body: prefer {@link verifyStandardWebhook} when the sender offers it.
 * Order of checks: keys, timestamp header, signature header, timestamp,
 * JSON, task id, signature.
 */
export function verifyKieSignature(
  body: string | Uint8Array,
  headers: HeadersLike,
  secrets: string | readonly string[],
  options: VerifyKieSignatureOptions = {},
): VerifiedKieWebhook {
  const list = secretList(secrets);
  const rawTimestamp = singleHeader(headers, 'x-webhook-timestamp');
  const signature = singleHeader(headers, 'x-webhook-signature');
  const timestamp = checkTimestamp(rawTimestamp, 'x-webhook-timestamp', options);
  if (typeof body !== 'string' && !(body instanceof Uint8Array))
    throw new WebhookVerificationError('invalid_payload', 'the body must be the raw request body as a string or bytes');
  const payload = parseJsonBody(body, false);
  const { taskId, key } = taskIdOf(payload);
  let matched = false;
  // Every key is tried (no early exit), so timing does not reveal which one matched.
  for (const secret of list) {
    if (base64SignatureEquals(signature, kieSignature(secret, taskId, rawTimestamp).slice(0, 43))) matched = true;
  }
  if (!matched) throw new WebhookVerificationError('no_matching_signature', 'x-webhook-signature: does not match a trusted secret', 'x-webhook-signature');
  return { taskId, taskIdKey: key, timestamp, payload };
}
