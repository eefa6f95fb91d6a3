import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { WebhookVerificationError } from '../errors.js';
import { decodeBase64 } from './base64.js';

export const HMAC_PREFIX = 'whsec_';
export const PUBLIC_KEY_PREFIX = 'whpk_';
export const SIGNING_KEY_PREFIX = 'whsk_';

const invalidKey = (message: string) => new WebhookVerificationError('invalid_key', message);

/** `whsec_<base64>` or bare base64 → the HMAC key bytes (what the `standardwebhooks` library does with it). */
export function hmacKeyBytes(secret: string): Buffer {
  if (typeof secret !== 'string') throw invalidKey('a webhook secret must be a string');
  const encoded = secret.startsWith(HMAC_PREFIX) ? secret.slice(HMAC_PREFIX.length) : secret;
  if (encoded === '') throw invalidKey('the webhook secret is empty');
  const bytes = decodeBase64(encoded);
  if (!bytes || bytes.length === 0) throw invalidKey('the webhook secret is not base64 (expected whsec_<base64>)');
  return bytes;
}

/** Ed25519 keys travel as raw bytes; Node imports them through JWK. */
function ed25519PublicKey(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

export function publicKeyFromString(key: string): KeyObject {
  const raw = decodeBase64(key.slice(PUBLIC_KEY_PREFIX.length));
  if (raw?.length !== 32) throw invalidKey('a whpk_ public key must be base64 of 32 bytes');
  try {
    return ed25519PublicKey(raw);
  } catch {
    throw invalidKey('the whpk_ public key is not a valid Ed25519 key');
  }
}

/** `whsk_base64(seed ‖ public)` (64 bytes, Svix's format) or `whsk_base64(seed)` (32 bytes). */
export function signingKeyFromString(key: string): KeyObject {
  const raw = decodeBase64(key.slice(SIGNING_KEY_PREFIX.length));
  if (!raw || (raw.length !== 64 && raw.length !== 32))
    throw invalidKey('a whsk_ signing key must be base64 of 64 bytes (seed ‖ public key) or 32 bytes (seed)');
  const seed = raw.subarray(0, 32);
  try {
    const derived = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    if (raw.length === 64) {
      const publicRaw = Buffer.from(createPublicKey(derived).export({ format: 'jwk' }).x ?? '', 'base64url');
      if (!publicRaw.equals(raw.subarray(32))) throw new Error('mismatch');
    }
    return derived;
  } catch {
    throw invalidKey('the whsk_ signing key is not a valid Ed25519 key (its public half does not match its seed)');
  }
}

/** PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * The keys a receiver trusts, parsed once. `whsec_…` (or bare base64) are HMAC
 * secrets for `v1`; `whpk_…` are Ed25519 public keys for `v1a`. Build one per
 * process and pass it to the verifiers: parsing public keys costs more than
 * verifying an HMAC.
 */
export class WebhookKeyring {
  readonly hmac: readonly Buffer[];
  readonly ed25519: readonly KeyObject[];

  constructor(keys: string | readonly string[]) {
    const list = typeof keys === 'string' ? [keys] : keys;
    if (!Array.isArray(list) || list.length === 0) throw invalidKey('at least one webhook key is required');
    const hmac: Buffer[] = [];
    const ed25519: KeyObject[] = [];
    for (const key of list) {
      if (typeof key !== 'string') throw invalidKey('webhook keys must be strings');
      if (key.startsWith(SIGNING_KEY_PREFIX)) throw invalidKey('a whsk_ signing key was given to a verifier: receivers need the whpk_ public key');
      if (key.startsWith(PUBLIC_KEY_PREFIX)) ed25519.push(publicKeyFromString(key));
      else hmac.push(hmacKeyBytes(key));
    }
    this.hmac = hmac;
    this.ed25519 = ed25519;
  }
}

export type WebhookKeys = string | readonly string[] | WebhookKeyring;

export function toKeyring(keys: WebhookKeys): WebhookKeyring {
  return keys instanceof WebhookKeyring ? keys : new WebhookKeyring(keys);
}
