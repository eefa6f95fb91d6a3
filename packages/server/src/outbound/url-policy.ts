import { type AddressVerdict, type Cidr, checkAddress, parseAddress } from './address-policy.js';

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

export const MAX_URL_LENGTH = 2048;

/**
 * The checks that need no DNS: scheme, user info, length, and — when the host is
 * an IP literal — the address itself (Node connects to literals without a lookup,
 * so the resolver-time check would never see them). WHATWG URL parsing already
 * turns `http://0x7f.1/` into 127.0.0.1; `parseAddress` is the second line.
 */
export function checkUrl(raw: string, allow: readonly Cidr[] = []): UrlVerdict {
  if (raw.length > MAX_URL_LENGTH) return { ok: false, reason: `URL longer than ${MAX_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not an absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: `scheme ${url.protocol} is not allowed (only http and https)` };
  if (url.username || url.password) return { ok: false, reason: 'URLs with a user name or password are not allowed' };
  if (!url.hostname) return { ok: false, reason: 'the URL has no host' };
  const literal = literalAddress(url.hostname);
  if (literal) {
    const verdict: AddressVerdict = checkAddress(literal, allow);
    if (!verdict.ok) return verdict;
  }
  return { ok: true, url };
}

/** The address in a URL hostname that is an IP literal, or null for a name. */
export function literalAddress(hostname: string): Uint8Array | null {
  if (hostname.startsWith('[')) return parseAddress(hostname.slice(1, -1));
  return /^[0-9a-fA-FxX.]+$/.test(hostname) && /^[0-9]/.test(hostname) ? parseAddress(hostname) : null;
}
