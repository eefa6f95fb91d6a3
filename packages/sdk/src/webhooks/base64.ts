/**
 * Strict base64: standard or URL-safe alphabet, with or without `=` padding.
 * `Buffer.from(text, 'base64')` silently skips characters it does not know, so
 * a secret with a typo would quietly become a different key; this refuses it.
 */
const STANDARD = /^[A-Za-z0-9+/]*$/;
const URL_SAFE = /^[A-Za-z0-9_-]*$/;

/** The decoded bytes, or null when `text` is not base64. */
export function decodeBase64(text: string): Buffer | null {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x3d /* = */) end--;
  const body = end === text.length ? text : text.slice(0, end);
  const padding = text.length - end;
  if (body.length % 4 === 1) return null;
  // Padding is optional, but when present it must complete the last quantum.
  if (padding > 0 && (padding > 2 || (body.length + padding) % 4 !== 0)) return null;
  if (STANDARD.test(body)) return Buffer.from(body, 'base64');
  if (URL_SAFE.test(body)) return Buffer.from(body, 'base64url');
  return null;
}

/** Characters a standard base64 value (padding optional) may hold. */
export const BASE64_VALUE = /^[A-Za-z0-9+/]+={0,2}$/;

export function stripPadding(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--;
  return end === text.length ? text : text.slice(0, end);
}
