import { WebhookVerificationError } from '../errors.js';

/**
 * Headers as the frameworks hand them over: a web `Headers` (fetch, Next.js,
 * Hono), Node's `IncomingHttpHeaders` (node:http, Express, Fastify: lower-case
 * keys, repeated headers as arrays or comma-joined), or a plain object with any
 * key case.
 */
export type HeadersLike = { get(name: string): string | null } | Readonly<Record<string, string | readonly string[] | undefined>>;

/** A header value may not be longer than this: no sender needs more, and it bounds the work per request. */
export const MAX_HEADER_LENGTH = 8192;

function isWebHeaders(headers: HeadersLike): headers is { get(name: string): string | null } {
  return typeof (headers as { get?: unknown }).get === 'function';
}

/**
 * Every value of header `name` (lower-case), in order; [] when absent. Values of
 * another type than string (JS callers, fuzzers) are refused as malformed.
 */
export function headerValues(headers: HeadersLike, name: string): string[] {
  if (headers === null || typeof headers !== 'object')
    throw new WebhookVerificationError('missing_header', `no headers were given (looking for ${name})`, name);
  if (isWebHeaders(headers)) {
    const value = headers.get(name);
    return value === null ? [] : [value];
  }
  const values: string[] = [];
  const add = (value: unknown): void => {
    if (value === undefined) return;
    if (typeof value === 'string') values.push(value);
    else if (Array.isArray(value)) for (const item of value) add(item);
    else throw new WebhookVerificationError('malformed_header', `${name}: not a string`, name);
  };
  // Node lower-cases names, so the direct lookup is the common path; the scan covers hand-built objects.
  const record = headers as Readonly<Record<string, unknown>>;
  if (Object.hasOwn(record, name)) add(record[name]);
  for (const key of Object.keys(record)) {
    if (key !== name && key.length === name.length && key.toLowerCase() === name) add(record[key]);
  }
  return values;
}

/** Exactly one non-empty value: a repeated id or timestamp is ambiguous, so it is refused. */
export function singleHeader(headers: HeadersLike, name: string): string {
  const values = headerValues(headers, name).filter((value) => value.trim() !== '');
  const [value] = values;
  if (value === undefined) throw new WebhookVerificationError('missing_header', `${name}: header is missing`, name);
  if (values.length > 1) throw new WebhookVerificationError('malformed_header', `${name}: header is repeated (${values.length} values)`, name);
  if (value.length > MAX_HEADER_LENGTH)
    throw new WebhookVerificationError('malformed_header', `${name}: header is longer than ${MAX_HEADER_LENGTH} characters`, name);
  return value.trim();
}
