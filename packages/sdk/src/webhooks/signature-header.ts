import { WebhookVerificationError } from '../errors.js';
import { type HeadersLike, headerValues, MAX_HEADER_LENGTH } from './headers.js';

export interface SignatureEntry {
  version: string;
  value: string;
}

/** A sender rotating keys signs with each; nobody needs more than this, and it caps the work per request. */
export const MAX_SIGNATURES = 32;

/**
 * `webhook-signature`: space-separated `<version>,<base64>` entries. Repeated
 * header lines are merged (each entry is checked on its own, so that is safe),
 * which also covers Node's comma-joining of repeats ("v1,a, v1,b"): the
 * trailing comma is dropped. Entries without a version are skipped.
 */
export function signatureEntries(headers: HeadersLike, name: string): SignatureEntry[] {
  const values = headerValues(headers, name);
  if (values.every((value) => value.trim() === '')) throw new WebhookVerificationError('missing_header', `${name}: header is missing`, name);
  let total = 0;
  const entries: SignatureEntry[] = [];
  for (const value of values) {
    total += value.length;
    if (total > MAX_HEADER_LENGTH) throw new WebhookVerificationError('malformed_header', `${name}: longer than ${MAX_HEADER_LENGTH} characters`, name);
    for (const token of value.split(/[ \t]+/)) {
      const comma = token.indexOf(',');
      if (comma <= 0) continue;
      let end = token.length;
      while (end > comma + 1 && token.charCodeAt(end - 1) === 0x2c /* , */) end--;
      const entry = { version: token.slice(0, comma), value: token.slice(comma + 1, end) };
      if (entry.value === '') continue;
      if (entries.length === MAX_SIGNATURES) throw new WebhookVerificationError('malformed_header', `${name}: more than ${MAX_SIGNATURES} signatures`, name);
      entries.push(entry);
    }
  }
  return entries;
}
