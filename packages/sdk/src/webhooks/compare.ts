import { timingSafeEqual } from 'node:crypto';
import { BASE64_VALUE, stripPadding } from './base64.js';

/**
 * Constant-time comparison of a received base64 signature with the expected
 * one, padding optional on the received side. Lengths are public (every
 * signature of a scheme has the same length), the contents are not.
 */
export function base64SignatureEquals(received: string, expectedUnpadded: string): boolean {
  if (!BASE64_VALUE.test(received)) return false;
  const candidate = stripPadding(received);
  if (candidate.length !== expectedUnpadded.length) return false;
  return timingSafeEqual(Buffer.from(candidate, 'latin1'), Buffer.from(expectedUnpadded, 'latin1'));
}
