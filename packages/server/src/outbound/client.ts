import { Agent, type Dispatcher } from 'undici';
import type { Cidr } from './address-policy.js';
import { guardedConnector, type Resolver, systemResolver } from './connector.js';
import { errorCode, OutboundError } from './errors.js';
import { checkUrl } from './url-policy.js';

/**
 * The one way reprise sends a request to a user-supplied URL (callbacks, `uploadUrl`, `fileUrl`;
 * SPEC §5.4). One undici Agent whose connector checks every destination (connector.ts); redirects
 * are never followed (undici's `request` follows none without an interceptor, and we add none);
 * one time limit covers DNS, connect, TLS, headers and body; the body is read up to a byte limit.
 */

export interface OutboundClientOptions {
  /** CIDRs re-opened despite the refused ranges (REPRISE_OUTBOUND_ALLOW). */
  allow: readonly Cidr[];
  /** Name resolution, injectable so tests never use real DNS; defaults to the system resolver (all answers). */
  lookup?: Resolver;
  /** Connections per origin. */
  maxConnections?: number;
}

export type OutboundHeaders = Record<string, string | string[] | undefined>;

export interface OutboundRequest {
  method: 'GET' | 'POST' | 'PUT' | 'HEAD';
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Limit for the whole attempt: DNS, connect, TLS, response headers and body. */
  timeoutMs: number;
  maxResponseBytes: number;
  /** Keep the first `maxResponseBytes` and stop reading (callbacks) instead of failing with 'too_large' (downloads). */
  truncate?: boolean;
  /** Read the body only for statuses this accepts; others get an empty body and the rest is discarded. */
  readBodyIf?: (status: number) => boolean;
  /** Cancels the attempt; its reason is thrown unchanged (a cancellation is the caller's, not a delivery failure). */
  signal?: AbortSignal;
}

export interface OutboundResponse {
  status: number;
  headers: OutboundHeaders;
  body: Buffer;
  truncated: boolean;
  durationMs: number;
}

export interface OutboundClient {
  request(url: string, options: OutboundRequest): Promise<OutboundResponse>;
  close(): Promise<void>;
}

const DEFAULT_CONNECTIONS = 32;
/** Connect + TLS cap per socket; lower than any sane overall limit would make it the binding one. */
const CONNECT_TIMEOUT_MS = 15_000;
/** How long close() waits for in-flight work before cutting sockets. */
const CLOSE_GRACE_MS = 1_000;

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL']);
const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|EPROTO$)/;

/**
 * Any failure → an OutboundError whose message names only the class of failure, the error code and
 * the user's own host: an undici/Node message can quote what an internal host sent.
 */
function classify(error: unknown, where: string, timedOut: boolean, timeoutMs: number): OutboundError {
  if (error instanceof OutboundError) return error;
  if (timedOut) return new OutboundError('timeout', `no complete response from ${where} within ${timeoutMs} ms`);
  const code = errorCode(error);
  if (code === undefined) return new OutboundError('protocol', `request to ${where} failed`);
  if (TIMEOUT_CODES.has(code)) return new OutboundError('timeout', `${where} did not answer in time (${code})`);
  if (DNS_CODES.has(code)) return new OutboundError('dns', `could not resolve ${where} (${code})`);
  if (CONNECT_CODES.has(code)) return new OutboundError('connect', `could not connect to ${where} (${code})`);
  if (RESET_CODES.has(code)) return new OutboundError('reset', `${where} closed the connection before a complete response (${code})`);
  if (TLS_CODE.test(code)) return new OutboundError('connect', `TLS handshake with ${where} failed (${code})`);
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return new OutboundError('too_large', `the response from ${where} is too large`);
  return new OutboundError('protocol', `${where} sent an invalid HTTP response or the request was rejected (${code})`);
}

/** Stops a response body we will not read; its abort error has no reader to go to. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

/**
 * Settles with `promise`, or rejects as soon as `signal` aborts. Needed because undici only honours a
 * signal once the request has a connection: while the connector is still resolving or connecting,
 * an abort is merely remembered (the request is dropped, unsent, when the connection arrives).
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => {}); // its late failure, after we have given up, is nobody's concern
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

async function readBody(
  body: Dispatcher.ResponseData['body'],
  limit: number,
  truncate: boolean,
  where: string,
): Promise<{ bytes: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    const room = limit - size;
    if (buffer.length > room) {
      // Destroying the stream aborts the request: we stop receiving instead of downloading what we will drop.
      discard(body);
      if (!truncate) throw new OutboundError('too_large', `the response from ${where} is larger than ${limit} bytes`);
      chunks.push(buffer.subarray(0, room));
      return { bytes: Buffer.concat(chunks, limit), truncated: true };
    }
    chunks.push(buffer);
    size += buffer.length;
  }
  return { bytes: Buffer.concat(chunks, size), truncated: false };
}

export function createOutboundClient(options: OutboundClientOptions): OutboundClient {
  const allow = [...options.allow];
  const agent = new Agent({
    connections: options.maxConnections ?? DEFAULT_CONNECTIONS,
    keepAliveTimeout: 4_000,
    connect: guardedConnector({ allow, resolver: options.lookup ?? systemResolver, connectTimeoutMs: CONNECT_TIMEOUT_MS }),
  });
  let closing: Promise<void> | null = null;

  async function request(raw: string, req: OutboundRequest): Promise<OutboundResponse> {
    const started = performance.now();
    if (closing) throw new OutboundError('connect', 'outbound requests are stopped: the server is shutting down');
    if (!(req.timeoutMs > 0) || !(req.maxResponseBytes >= 0)) throw new RangeError('timeoutMs must be > 0 and maxResponseBytes >= 0');
    const verdict = checkUrl(raw, allow);
    if (!verdict.ok) throw new OutboundError('refused', verdict.reason);
    const url = verdict.url;
    const where = url.host;
    req.signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(req.timeoutMs);
    const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
    try {
      const pending = agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal,
        // The signal is the real limit; these keep undici's own (5 min) idle timers from outliving it.
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
      });
      const response = await untilAborted(pending, signal);
      const status = response.statusCode;
      const wanted = req.readBodyIf ? req.readBodyIf(status) : true;
      let read: { bytes: Buffer; truncated: boolean } = { bytes: Buffer.alloc(0), truncated: false };
      if (!wanted) {
        discard(response.body);
      } else {
        const declared = Number(response.headers['content-length']);
        if (!req.truncate && Number.isFinite(declared) && declared > req.maxResponseBytes) {
          discard(response.body);
          throw new OutboundError('too_large', `the response from ${where} is larger than ${req.maxResponseBytes} bytes`);
        }
        read = await readBody(response.body, req.maxResponseBytes, req.truncate === true, where);
      }
      return { status, headers: response.headers, body: read.bytes, truncated: read.truncated, durationMs: Math.round(performance.now() - started) };
    } catch (error) {
      if (req.signal?.aborted && !timeout.aborted) throw req.signal.reason;
      throw classify(error, where, timeout.aborted, req.timeoutMs);
    }
  }

  function close(): Promise<void> {
    closing ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), CLOSE_GRACE_MS);
      });
      // A connection still resolving or connecting would hold close() open; after the grace it is cut.
      const outcome = await Promise.race([agent.close().then(() => 'closed' as const), grace]);
      clearTimeout(timer);
      if (outcome === 'late') await agent.destroy();
    })();
    return closing;
  }

  return { request, close };
}
