import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent, errors, request } from 'undici';
import { type Cidr, checkAddress } from './address-policy.js';
import { checkUrl } from './url-policy.js';

/**
 * The one way reprise makes requests to user-supplied URLs (callbacks, uploadUrl,
 * fileUrl). One undici Agent whose connector resolves the host itself, refuses the
 * host if ANY answer is a refused address, and connects only to the addresses it
 * checked — so a second, different DNS answer (rebinding) can never be used.
 * Redirects are never followed; one time limit covers DNS, connect, TLS, headers
 * and body.
 */
export type OutboundErrorKind = 'refused' | 'timeout' | 'dns' | 'connect' | 'reset' | 'too_large' | 'protocol';

export class OutboundError extends Error {
  override readonly name = 'OutboundError';
  constructor(
    readonly kind: OutboundErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface OutboundClientOptions {
  allow: readonly Cidr[];
  /** Injectable for tests; defaults to the system resolver (all answers). */
  resolve?: Resolver;
  connections?: number;
}

export interface OutboundRequest {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  timeoutMs: number;
  maxResponseBytes: number;
  /** Keep the first `maxResponseBytes` and stop reading (callbacks); otherwise a larger body is an error. */
  truncate?: boolean;
  signal?: AbortSignal;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  truncated: boolean;
  durationMs: number;
}

export interface OutboundClient {
  request(url: string, options: OutboundRequest): Promise<OutboundResponse>;
  close(): Promise<void>;
}

const REFUSED = 'EREPRISEREFUSED';

const systemResolver: Resolver = async (hostname) => {
  const answers = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** The guarded lookup handed to every socket the Agent opens. */
function guardedLookup(resolve: Resolver, allow: readonly Cidr[]): LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    resolve(hostname).then(
      (answers) => {
        if (answers.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }));
        for (const answer of answers) {
          const verdict = checkAddress(answer.address, allow);
          if (!verdict.ok) return callback(Object.assign(new Error(`${hostname} resolves to a refused address: ${verdict.reason}`), { code: REFUSED }));
        }
        const wanted = options.family === 4 || options.family === 6 ? answers.filter((a) => a.family === options.family) : answers;
        if (options.all) return callback(null, wanted);
        const first = wanted[0];
        if (!first) return callback(Object.assign(new Error(`${hostname} has no IPv${options.family} address`), { code: 'ENOTFOUND' }));
        return callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error),
    );
  }) as LookupFunction;
}

/** undici and socket errors → a kind and a message safe to show the URL's owner. */
function toOutboundError(error: unknown, timedOut: boolean, timeoutMs: number): OutboundError {
  if (error instanceof OutboundError) return error;
  const failure = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = failure.code ?? failure.cause?.code;
  const message = failure.cause?.message ?? failure.message;
  if (code === REFUSED) return new OutboundError('refused', message);
  if (timedOut || error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError || error instanceof errors.ConnectTimeoutError || failure.name === 'TimeoutError') {
    return new OutboundError('timeout', `no complete answer within ${timeoutMs} ms`);
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') return new OutboundError('dns', `the host name could not be resolved (${code})`);
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new OutboundError('connect', `connection failed (${code})`);
  if (code === 'ECONNRESET' || code === 'EPIPE' || error instanceof errors.SocketError) return new OutboundError('reset', 'the connection was closed before a complete answer');
  if (error instanceof errors.ResponseExceededMaxSizeError) return new OutboundError('too_large', 'the answer is larger than allowed');
  return new OutboundError('protocol', `request failed (${code ?? failure.name})`);
}

export function createOutboundClient(options: OutboundClientOptions): OutboundClient {
  const allow = options.allow;
  const agent = new Agent({
    connections: options.connections ?? 64,
    keepAliveTimeout: 10_000,
    connect: { lookup: guardedLookup(options.resolve ?? systemResolver, allow) },
  });

  async function send(raw: string, req: OutboundRequest): Promise<OutboundResponse> {
    const started = Date.now();
    const verdict = checkUrl(raw, allow);
    if (!verdict.ok) throw new OutboundError('refused', verdict.reason);
    const timeout = AbortSignal.timeout(req.timeoutMs);
    const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
    try {
      const response = await request(verdict.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal,
        dispatcher: agent,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
        maxRedirections: 0,
      } as Parameters<typeof request>[1]);
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      for await (const chunk of response.body) {
        const buffer = chunk as Buffer;
        if (size + buffer.length > req.maxResponseBytes) {
          if (!req.truncate) {
            response.body.destroy();
            throw new OutboundError('too_large', `the answer is larger than ${req.maxResponseBytes} bytes`);
          }
          chunks.push(buffer.subarray(0, req.maxResponseBytes - size));
          size = req.maxResponseBytes;
          truncated = true;
          // Stop reading: the rest is not ours to buffer.
          response.body.destroy();
          break;
        }
        chunks.push(buffer);
        size += buffer.length;
      }
      return { status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks, size), truncated, durationMs: Date.now() - started };
    } catch (error) {
      throw toOutboundError(error, timeout.aborted, req.timeoutMs);
    }
  }

  return { request: send, close: () => agent.close() };
}

/** Downloads a file (uploadUrl, fileUrl): 2xx only, redirects refused, size-limited. */
export async function download(client: OutboundClient, url: string, limits: { timeoutMs: number; maxBytes: number }): Promise<Uint8Array> {
  const response = await client.request(url, { method: 'GET', timeoutMs: limits.timeoutMs, maxResponseBytes: limits.maxBytes });
  if (response.status >= 300 && response.status < 400) throw new OutboundError('protocol', `HTTP ${response.status}: redirects are not followed`);
  if (response.status < 200 || response.status >= 300) throw new OutboundError('protocol', `HTTP ${response.status}`);
  return response.body;
}
