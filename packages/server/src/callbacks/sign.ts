import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { boundedMemo } from '../memo.js';

/**
 * Callback signatures (SPEC §5.3). One secret per account, `whsec_<base64>`,
 * serves both schemes:
 * - KIE: HMAC-SHA256 over `task_id + "." + timestamp` keyed with the UTF-8 bytes
 *   of the whole secret string (what a KIE client does with the key it copied).
 * - Standard Webhooks v1: HMAC-SHA256 over `id + "." + timestamp + "." + body`
 *   keyed with the base64-decoded bytes after `whsec_`; covers the body.
 */
export function kieSignature(secret: string, taskId: string, timestamp: string): string {
  return createHmac('sha256', keysOf(secret).kie).update(`${taskId}.${timestamp}`).digest('base64');
}

export function standardWebhookKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
}

export function standardWebhookSignature(secret: string, id: string, timestamp: string, body: string): string {
  // Three updates rather than one joined string: the body is not copied once more to be hashed.
  const hmac = createHmac('sha256', keysOf(secret).standard).update(id).update('.').update(timestamp).update('.').update(body);
  return `v1,${hmac.digest('base64')}`;
}

/** Each secret's key bytes for both schemes, decoded once: every callback of the account is signed with them. */
const keysOf = boundedMemo(
  (secret: string): { kie: KeyObject; standard: KeyObject } => ({
    kie: createSecretKey(Buffer.from(secret, 'utf8')),
    standard: createSecretKey(standardWebhookKey(secret)),
  }),
  1024,
);

/**
 * Headers for one attempt. `secrets` lists the keys signing now, newest first:
 * Standard Webhooks carries one signature per key (rotation overlap); KIE's
 * header holds one value, so it uses the newest key.
 */
export function signatureHeaders(secrets: string[], delivery: { id: string; taskId: string; body: string; timestamp: number }): Record<string, string> {
  const newest = secrets[0];
  if (!newest) return { 'webhook-id': delivery.id };
  const timestamp = String(Math.floor(delivery.timestamp / 1000));
  return {
    'x-webhook-timestamp': timestamp,
    'x-webhook-signature': kieSignature(newest, delivery.taskId, timestamp),
    'webhook-id': delivery.id,
    'webhook-timestamp': timestamp,
    'webhook-signature': secrets.map((secret) => standardWebhookSignature(secret, delivery.id, timestamp, delivery.body)).join(' '),
  };
}
