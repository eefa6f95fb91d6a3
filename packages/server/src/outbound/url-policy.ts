import { type AddressVerdict, type Cidr, checkAddress, parseIPv4 } from './address-policy.js';

/**
 * The checks a user-supplied URL must pass before any DNS or socket work (SPEC §5.4).
 * An IP-literal host is judged here because nothing later sees it: undici and Node connect to
 * literals without calling a lookup function. (The connector checks literals again; this check
 * exists so callers can reject a bad URL early, e.g. when a task is submitted.)
 */

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

export const MAX_URL_LENGTH = 2048;

/** The address text of an IP-literal hostname (brackets removed), or null for a name that needs DNS. */
export function literalAddress(hostname: string): string | null {
  if (hostname.startsWith('[') && hostname.endsWith(']')) return hostname.slice(1, -1);
  // WHATWG URL has already rewritten every IPv4 spelling to dotted decimal; parsing again
  // costs nothing and keeps this safe for a hostname that did not come out of `new URL`.
  return parseIPv4(hostname) === null ? null : hostname;
}

export function checkUrl(raw: string, allow: readonly Cidr[] = []): UrlVerdict {
  if (typeof raw !== 'string' || raw.length === 0) return { ok: false, reason: 'the URL is empty' };
  if (raw.length > MAX_URL_LENGTH) return { ok: false, reason: `the URL is longer than ${MAX_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a valid absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: `scheme ${url.protocol} is not allowed (only http: and https:)` };
  }
  // Userinfo would become an Authorization header we never meant to send, and hides the real host from readers.
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'URLs with a user name or password (user:pass@host) are not allowed' };
  if (url.hostname === '') return { ok: false, reason: 'the URL has no host' };
  const literal = literalAddress(url.hostname);
  if (literal !== null) {
    const verdict: AddressVerdict = checkAddress(literal, allow);
    if (!verdict.ok) return { ok: false, reason: `destination ${verdict.reason}` };
  }
  return { ok: true, url };
}
