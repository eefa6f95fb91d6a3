import { createHmac, generateKeyPairSync, randomBytes, sign as signBytes } from 'node:crypto';
import { HMAC_PREFIX, hmacKeyBytes, PUBLIC_KEY_PREFIX, SIGNING_KEY_PREFIX, signingKeyFromString } from './keys.js';
import { kieSignature } from './kie.js';

/**
 * Signing, for tests, fixtures and the published test vectors: a receiver can
 * be exercised without a server. Production signing is the server's job.
 */

/** A type alias, not an interface, so it can be passed wherever a header record is expected. */
export type StandardWebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

function unixSeconds(timestamp: number | Date): string {
  const seconds = timestamp instanceof Date ? Math.floor(timestamp.getTime() / 1000) : timestamp;
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new TypeError('timestamp must be a Date or non-negative integer Unix seconds');
  return String(seconds);
}

/**
 * Standard Webhooks headers for one message. Each key adds one signature, in
 * order: `whsec_…` (or bare base64) signs `v1`, `whsk_…` signs `v1a`.
 */
export function signStandardWebhook(input: {
  id: string;
  timestamp: number | Date;
  body: string | Uint8Array;
  keys: string | readonly string[];
}): StandardWebhookHeaders {
  const timestamp = unixSeconds(input.timestamp);
  const keys = typeof input.keys === 'string' ? [input.keys] : input.keys;
  if (keys.length === 0) throw new TypeError('at least one key is needed to sign');
  const signed = Buffer.concat([
    Buffer.from(`${input.id}.${timestamp}.`, 'utf8'),
    typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body,
  ]);
  const signatures = keys.map((key) =>
    key.startsWith(SIGNING_KEY_PREFIX)
      ? `v1a,${signBytes(null, signed, signingKeyFromString(key)).toString('base64')}`
      : `v1,${createHmac('sha256', hmacKeyBytes(key)).update(signed).digest('base64')}`,
  );
  return { 'webhook-id': input.id, 'webhook-timestamp': timestamp, 'webhook-signature': signatures.join(' ') };
}

export type KieWebhookHeaders = {
  'x-webhook-timestamp': string;
  'x-webhook-signature': string;
};

/** KIE's headers for a callback of `taskId` (SPEC §5.3). */
export function signKieWebhook(input: { secret: string; taskId: string; timestamp: number | Date }): KieWebhookHeaders {
  const timestamp = unixSeconds(input.timestamp);
  return { 'x-webhook-timestamp': timestamp, 'x-webhook-signature': kieSignature(input.secret, input.taskId, timestamp) };
}

/** A fresh `whsec_` secret of 32 random bytes, the format reprise hands out. */
export function generateWebhookSecret(): string {
  return `${HMAC_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** A fresh Ed25519 pair for `v1a`: `whsk_base64(seed ‖ public)` signs, `whpk_base64(public)` verifies. */
export function generateWebhookKeyPair(): { signingKey: string; publicKey: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d ?? '', 'base64url');
  const raw = Buffer.from(jwk.x ?? '', 'base64url');
  return { signingKey: `${SIGNING_KEY_PREFIX}${Buffer.concat([seed, raw]).toString('base64')}`, publicKey: `${PUBLIC_KEY_PREFIX}${raw.toString('base64')}` };
}
