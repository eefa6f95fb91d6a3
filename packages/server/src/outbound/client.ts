import { Agent, type Dispatcher } from 'undici';
import { boundedMemo } from '../memo.js';
import type { Cidr } from './address-policy.js';
import { guardedConnector, type Resolver, systemResolver } from './connector.js';
import { errorCode, OutboundError } from './errors.js';
import { checkUrl } from './url-policy.js';

/**
 * The one way reprise sends a request to a user-supplied URL (callbacks, `uploadUrl`, `fileUrl`;
 * SPEC §5.4). One undici Agent whose connector checks every destination (connector.ts); redirects
 * are never followed (undici's dispatch follows none without an interceptor, and we add none);
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
function classify(error: unknown, where: string): OutboundError {
  if (error instanceof OutboundError) return error;
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

/** What a request needs of its checked URL; kept per URL text (see `verdictOf`). */
type Target = { ok: true; origin: string; path: string; host: string } | { ok: false; reason: string };

/** URL verdicts kept: a callback URL is sent to again and again, and checking it anew is pure work. */
const VERDICT_CACHE_SIZE = 1024;

interface Exchange {
  status: number;
  headers: OutboundHeaders;
  body: Buffer;
  truncated: boolean;
}

/**
 * One request as an undici dispatch handler: the response is collected straight from the
 * parser's chunks (no stream), and the time limit is one timer rather than an AbortSignal.
 * `finish` settles it once; whatever undici reports after that (an abort we caused, a late
 * error) is ignored. An exchange given up before it has a connection aborts as soon as it
 * gets one: undici can only cancel a request once it is on a socket.
 */
function exchange(dispatch: (handler: Dispatcher.DispatchHandler) => void, req: OutboundRequest, where: string): Promise<Exchange> {
  return new Promise<Exchange>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | null = null;
    let settled = false;
    let status = 0;
    let headers: OutboundHeaders = {};
    const chunks: Buffer[] = [];
    let size = 0;
    const limit = req.maxResponseBytes;
    // Made only when needed: an Error captures a stack, which costs more than the rest of an exchange.
    const stopped = (): OutboundError => new OutboundError('protocol', 'the exchange was ended by reprise');
    const tooLarge = (): { error: OutboundError } => ({ error: new OutboundError('too_large', `the response from ${where} is larger than ${limit} bytes`) });

    const finish = (outcome: { value: Exchange } | { error: unknown }, abort: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onCallerAbort);
      if (abort) controller?.abort(stopped());
      if ('value' in outcome) resolve(outcome.value);
      else reject(outcome.error);
    };
    const collected = (truncated: boolean): { value: Exchange } => ({ value: { status, headers, body: Buffer.concat(chunks, size), truncated } });
    const timer = setTimeout(
      () => finish({ error: new OutboundError('timeout', `no complete response from ${where} within ${req.timeoutMs} ms`) }, true),
      req.timeoutMs,
    );
    // A cancellation is the caller's: its reason goes back unchanged.
    const onCallerAbort = (): void => finish({ error: req.signal?.reason }, true);
    req.signal?.addEventListener('abort', onCallerAbort, { once: true });

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(started) {
        controller = started;
        if (settled) started.abort(stopped());
      },
      onResponseStart(_controller, statusCode, responseHeaders) {
        if (statusCode < 200 || settled) return; // 1xx: the final response is still to come
        status = statusCode;
        headers = responseHeaders as OutboundHeaders;
        // A body we will not read is not downloaded: the exchange ends here, and so does its connection.
        if (req.readBodyIf && !req.readBodyIf(statusCode)) return finish(collected(false), true);
        const declared = Number(responseHeaders['content-length']);
        if (!req.truncate && Number.isFinite(declared) && declared > limit) finish(tooLarge(), true);
      },
      onResponseData(_controller, chunk) {
        if (settled) return;
        const room = limit - size;
        if (chunk.length > room) {
          // Stop receiving instead of downloading what we would drop.
          if (!req.truncate) return finish(tooLarge(), true);
          chunks.push(chunk.subarray(0, room));
          size = limit;
          return finish(collected(true), true);
        }
        chunks.push(chunk);
        size += chunk.length;
      },
      onResponseEnd() {
        finish(collected(false), false);
      },
      onResponseError(_controller, error) {
        finish({ error: classify(error, where) }, false);
      },
    };
    try {
      dispatch(handler);
    } catch (error) {
      finish({ error: classify(error, where) }, false);
    }
  });
}

export function createOutboundClient(options: OutboundClientOptions): OutboundClient {
  const allow = [...options.allow];
  const agent = new Agent({
    connections: options.maxConnections ?? DEFAULT_CONNECTIONS,
    keepAliveTimeout: 4_000,
    connect: guardedConnector({ allow, resolver: options.lookup ?? systemResolver, connectTimeoutMs: CONNECT_TIMEOUT_MS }),
  });
  let closing: Promise<void> | null = null;

  /** checkUrl, remembered by URL text: the verdict depends only on the text and `allow`, both fixed here. */
  const verdictOf = boundedMemo((raw: string): Target => {
    const verdict = checkUrl(raw, allow);
    return verdict.ok ? { ok: true, origin: verdict.url.origin, path: `${verdict.url.pathname}${verdict.url.search}`, host: verdict.url.host } : verdict;
  }, VERDICT_CACHE_SIZE);

  async function request(raw: string, req: OutboundRequest): Promise<OutboundResponse> {
    const started = performance.now();
    if (closing) throw new OutboundError('connect', 'outbound requests are stopped: the server is shutting down');
    if (!(req.timeoutMs > 0) || !(req.maxResponseBytes >= 0)) throw new RangeError('timeoutMs must be > 0 and maxResponseBytes >= 0');
    const target = verdictOf(raw);
    if (!target.ok) throw new OutboundError('refused', target.reason);
    req.signal?.throwIfAborted();
    const options: Dispatcher.DispatchOptions = {
      origin: target.origin,
      path: target.path,
      method: req.method,
      headers: req.headers,
      body: req.body,
      // The exchange's timer is the real limit; these keep undici's own (5 min) idle timers from outliving it.
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
    };
    const { status, headers, body, truncated } = await exchange((handler) => agent.dispatch(options, handler), req, target.host);
    return { status, headers, body, truncated, durationMs: Math.round(performance.now() - started) };
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
