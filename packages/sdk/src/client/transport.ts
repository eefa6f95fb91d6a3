import { RepriseConnectionError, RepriseError } from '../errors.js';
import { backoffMs, isRetryableCode, retryAfterMs, sleep } from './retry.js';

export interface TransportConfig {
  apiKey: string;
  fetch: typeof fetch;
  timeoutMs: number;
  retries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  userAgent: string;
}

/** Per-call overrides. */
export interface RequestOptions {
  signal?: AbortSignal;
  /** Time limit for this request, per attempt (connect, headers and body). */
  timeoutMs?: number;
}

/** Per-call overrides of a task submission. */
export interface SubmitOptions extends RequestOptions {
  /**
   * reprise's `Idempotency-Key` [EXT] (1–255 visible ASCII characters): the same key within 24 h
   * gets the first task back, charged once, from any reprise process. With one, a submission is
   * retried like a read (on 429/455/5xx and failed connections); without one, never. api.kie.ai
   * ignores the header, so there a retried submission may still be charged twice: set
   * `retries: 0` against KIE.
   */
  idempotencyKey?: string;
}

export interface ApiCall {
  method: 'GET' | 'POST';
  url: string;
  body?: string | FormData;
  /**
   * Safe to send twice. Only these are retried: a task submission or an upload
   * that timed out may still have been taken, and a second one would be charged
   * or stored twice.
   */
  idempotent: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Extra request headers (e.g. `Idempotency-Key`). */
  headers?: Record<string, string>;
}

interface Envelope {
  code: number;
  msg: string;
  data: unknown;
}

function asEnvelope(value: unknown): Envelope | null {
  if (typeof value !== 'object' || value === null) return null;
  const { code, msg, data } = value as Record<string, unknown>;
  if (typeof code !== 'number') return null;
  return { code, msg: typeof msg === 'string' ? msg : '', data: data ?? null };
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

interface Failure {
  error: Error;
  retryable: boolean;
  waitMs: number | null;
}

/** One HTTP exchange → the envelope's `data`, or a typed failure. */
async function attempt(config: TransportConfig, call: ApiCall): Promise<{ data: unknown } | Failure> {
  const timeout = AbortSignal.timeout(call.timeoutMs);
  const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
  const headers: Record<string, string> = {
    ...call.headers,
    authorization: `Bearer ${config.apiKey}`,
    accept: 'application/json',
    'user-agent': config.userAgent,
  };
  if (typeof call.body === 'string') headers['content-type'] = 'application/json';
  let response: Response;
  let body: unknown;
  try {
    response = await config.fetch(call.url, { method: call.method, headers, body: call.body, signal });
    body = await readJson(response);
  } catch (error) {
    if (call.signal?.aborted) throw call.signal.reason;
    const timedOut = timeout.aborted;
    const reason = timedOut
      ? `no answer within ${call.timeoutMs} ms`
      : `connection failed (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message})`;
    return { error: new RepriseConnectionError(`${call.method} ${call.url}: ${reason}`, { timedOut, cause: error }), retryable: true, waitMs: null };
  }
  const envelope = asEnvelope(body);
  if (envelope && envelope.code === 200 && response.ok && (body as { success?: unknown }).success !== false) return { data: envelope.data };
  const code = envelope && envelope.code !== 200 ? envelope.code : response.ok ? 502 : response.status;
  const msg = envelope?.msg || (response.ok ? 'the answer is not a JSON envelope' : response.statusText || `HTTP ${response.status}`);
  return {
    error: new RepriseError(code, msg, response.status, envelope?.data ?? null),
    retryable: isRetryableCode(code) || isRetryableCode(response.status),
    waitMs: retryAfterMs(response.headers.get('retry-after')),
  };
}

/**
 * Sends one API call. Idempotent calls are retried on 429/455/5xx and on
 * connection failures, with backoff (or the server's Retry-After, capped);
 * everything else fails on the first error.
 */
export async function callApi(config: TransportConfig, call: ApiCall): Promise<unknown> {
  for (let retry = 0; ; retry++) {
    const outcome = await attempt(config, call);
    if ('data' in outcome) return outcome.data;
    if (!call.idempotent || !outcome.retryable || retry >= config.retries) throw outcome.error;
    const wait = outcome.waitMs ?? backoffMs(retry, config.retryBaseDelayMs, config.retryMaxDelayMs);
    await sleep(Math.min(wait, config.retryMaxDelayMs), call.signal);
  }
}
