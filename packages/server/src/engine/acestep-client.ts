import type { FormData } from 'undici';
import { EngineError } from './types.js';

/**
 * undici is loaded on first use: every render thread loads this module with the engines, and
 * one running the procedural engine never talks to ACE-Step (undici is ~9 MB of its memory).
 */
const loadUndici = () => import('undici');

/**
 * The routes of an ACE-Step 1.5 API server that reprise uses, as plain
 * functions: `POST /release_task` (submit), `POST /query_result` (poll),
 * `GET /v1/audio` (download), `GET /v1/models` (which DiT models are loaded)
 * and `GET /health`. Every route and result file is addressed under the base
 * URL, path prefix included (a server behind a proxy at `http://host/acestep`
 * knows nothing of `/acestep`). The server's address is operator configuration,
 * not user input, so these requests do not go through the outbound guard that
 * protects user-supplied URLs. Every failure is an `AcestepError` (an
 * `EngineError`, so a task fails with code 531 and is refunded) whose message
 * says what went wrong in the operator's terms.
 */

export interface AcestepConnection {
  /** Base URL without a trailing slash, e.g. `http://gpu-host:8001` or `http://proxy/acestep`. */
  url: string;
  apiKey: string | null;
  /** Limit for one HTTP exchange, upload and download included. */
  requestTimeoutMs: number;
}

/** What went wrong, for callers that treat some failures differently (the start-up check). */
export type AcestepFailure = 'unreachable' | 'timeout' | 'unauthorized' | 'forbidden' | 'busy' | 'server' | 'refused' | 'protocol' | 'task-failed' | 'no-model';

/** Keeps the name `EngineError` so that the worker (and the render thread's error transport) map it to code 531. */
export class AcestepError extends EngineError {
  constructor(
    readonly failure: AcestepFailure,
    message: string,
  ) {
    super(message);
  }
}

export type TaskState = { state: 'running' } | { state: 'failed'; error: string } | { state: 'succeeded'; results: TaskResult[] };

/** One generated file of a finished task, as `/query_result` describes it. */
export interface TaskResult {
  /** Usually `/v1/audio?path=…`, relative to the server. */
  file: string;
  /** The DiT model that made it, when the server says so. */
  ditModel?: string;
}

/** ACE-Step's JSON answers are `{data, code, error, timestamp, extra}`; FastAPI's own errors are `{detail}`. */
interface Envelope {
  data?: unknown;
  code?: unknown;
  error?: unknown;
  detail?: unknown;
}

/**
 * A fresh connection per exchange. Between two requests of a task there can be
 * seconds of decoding and encoding; a kept-alive socket that the server closed
 * meanwhile (uvicorn's default idle limit is 5 s) resets the next POST, which
 * cannot be retried safely. A handful of connections per task costs nothing,
 * hence `connection: close` on every request.
 */

const MAX_JSON_BYTES = 16 * 1024 * 1024;
/** A 10-minute 48 kHz stereo WAV in 32-bit float is 230 MB; anything beyond this is not a song. */
const MAX_AUDIO_BYTES = 512 * 1024 * 1024;

function headers(connection: AcestepConnection, extra: Record<string, string> = {}): Record<string, string> {
  const all = { ...extra, connection: 'close' };
  return connection.apiKey ? { ...all, authorization: `Bearer ${connection.apiKey}` } : all;
}

/** `300000` → "300 s", `200` → "0.2 s". */
export const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(1))} s`;

const shorten = (text: string, max = 300): string => (text.length > max ? `${text.slice(0, max)}…` : text);

function describeBody(body: string): string {
  try {
    const parsed = JSON.parse(body) as Envelope;
    const said = parsed.error ?? parsed.detail;
    if (said !== undefined && said !== null) return shorten(typeof said === 'string' ? said : JSON.stringify(said));
  } catch {
    // not JSON: show the text itself
  }
  return shorten(body.trim()) || 'no details';
}

async function readCapped(body: AsyncIterable<Uint8Array>, max: number, what: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > max) throw new AcestepError('protocol', `ACE-Step's ${what} is larger than ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

interface Exchange {
  method: 'GET' | 'POST';
  /** The whole URL: a route under the base URL (`routeUrl`) or a result file (`audioUrl`). */
  url: string;
  body?: FormData | string;
  contentType?: string;
  maxBytes: number;
  signal: AbortSignal;
  /** Cuts this exchange short (an overall deadline); defaults to the request timeout. */
  timeoutMs?: number;
}

/**
 * One request with a time limit. A caller's abort comes back as the caller's
 * own reason, untouched, so the worker can tell a shutdown from a deadline.
 */
async function exchange(connection: AcestepConnection, what: string, options: Exchange): Promise<{ status: number; bytes: Uint8Array }> {
  options.signal.throwIfAborted();
  const timeoutMs = Math.max(1, Math.min(connection.requestTimeoutMs, options.timeoutMs ?? Number.POSITIVE_INFINITY));
  const timer = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([options.signal, timer]);
  const { request } = await loadUndici();
  try {
    const response = await request(options.url, {
      method: options.method,
      headers: headers(connection, options.contentType ? { 'content-type': options.contentType } : {}),
      body: options.body,
      signal,
    });
    const bytes = await readCapped(response.body, options.maxBytes, `answer to ${what}`);
    return { status: response.statusCode, bytes };
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason;
    if (error instanceof AcestepError) throw error;
    if (timer.aborted) throw new AcestepError('timeout', `ACE-Step at ${connection.url} did not answer ${what} within ${seconds(timeoutMs)}`);
    const code = (error as { code?: unknown }).code;
    const reason = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
    throw new AcestepError('unreachable', `ACE-Step at ${connection.url} is not reachable (${what}: ${reason})`);
  }
}

/** A route of the server, under the base URL and its path prefix. */
export const routeUrl = (connection: AcestepConnection, route: string): string => `${connection.url}${route}`;

function failOnStatus(connection: AcestepConnection, what: string, status: number, bytes: Uint8Array): void {
  if (status >= 200 && status < 300) return;
  const details = describeBody(Buffer.from(bytes).toString('utf8'));
  // ACE-Step's key check answers 401 only; its 403 is `/v1/audio` refusing a path outside its
  // own audio folder (or a proxy in front refusing the route), which no key fixes.
  if (status === 401) {
    throw new AcestepError('unauthorized', `ACE-Step at ${connection.url} refused ${what} (401: ${details}); check ACESTEP_API_KEY`);
  }
  if (status === 403) {
    throw new AcestepError(
      'forbidden',
      `ACE-Step at ${connection.url} forbade ${what} (403: ${details}): it serves only files inside its own audio folder, and a proxy in front of it may refuse routes too; the API key is not the cause`,
    );
  }
  if (status === 429) throw new AcestepError('busy', `ACE-Step's queue is full (429 to ${what}); try again later`);
  throw new AcestepError(status >= 500 ? 'server' : 'refused', `ACE-Step answered ${what} with HTTP ${status}: ${details}`);
}

async function callJson(connection: AcestepConnection, what: string, options: Omit<Exchange, 'maxBytes'>): Promise<unknown> {
  const { status, bytes } = await exchange(connection, what, { ...options, maxBytes: MAX_JSON_BYTES });
  failOnStatus(connection, what, status, bytes);
  let envelope: Envelope;
  try {
    envelope = JSON.parse(Buffer.from(bytes).toString('utf8')) as Envelope;
  } catch {
    throw new AcestepError('protocol', `ACE-Step's answer to ${what} is not JSON; is ${connection.url} an ACE-Step 1.5 API server?`);
  }
  if (typeof envelope !== 'object' || envelope === null || !('data' in envelope)) {
    throw new AcestepError('protocol', `ACE-Step's answer to ${what} has no "data"; is ${connection.url} an ACE-Step 1.5 API server?`);
  }
  if (typeof envelope.code === 'number' && envelope.code !== 200) {
    throw new AcestepError('refused', `ACE-Step answered ${what} with code ${envelope.code}: ${describeBody(JSON.stringify(envelope))}`);
  }
  return envelope.data;
}

export interface UploadedAudio {
  bytes: Uint8Array;
  fileName: string;
  mimeType: string;
}

/** `POST /release_task` as multipart: the scalar fields as text, the source (if any) as the `src_audio` file. */
export async function releaseTask(
  connection: AcestepConnection,
  fields: Record<string, string>,
  source: UploadedAudio | null,
  signal: AbortSignal,
  timeoutMs?: number,
): Promise<string> {
  const { FormData: Form } = await loadUndici();
  const form: FormData = new Form();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (source) form.append('src_audio', new Blob([source.bytes], { type: source.mimeType }), source.fileName);
  const data = await callJson(connection, 'POST /release_task', {
    method: 'POST',
    url: routeUrl(connection, '/release_task'),
    body: form,
    signal,
    timeoutMs,
  });
  const taskId = (data as { task_id?: unknown } | null)?.task_id;
  if (typeof taskId !== 'string' || taskId === '') throw new AcestepError('protocol', 'ACE-Step accepted the task but returned no task_id');
  return taskId;
}

function parseResults(raw: unknown): Array<Record<string, unknown>> {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return [];
    }
  }
  if (Array.isArray(value)) return value.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null);
  return typeof value === 'object' && value !== null ? [value as Record<string, unknown>] : [];
}

/**
 * The line of a Python traceback that says what went wrong: the last exception's
 * `Type: message` (with any lines of its message after it), not the stack above it.
 * ACE-Step's job store records `traceback.format_exc()` as a failed task's `error`;
 * text that is not a traceback is kept whole. At most 300 characters either way.
 */
export function exceptionLine(text: string): string {
  const lines = text.replace(/\r\n/g, '\n').trimEnd().split('\n');
  if (!lines.some((line) => line.startsWith('Traceback (most recent call last)'))) return shorten(text.trim());
  // The last unindented line naming an exception starts the final exception's message.
  const start = lines.findLastIndex((line) => /^[A-Za-z_][\w.]*(:|$)/.test(line) && !line.startsWith('Traceback ') && !line.startsWith('During handling'));
  const message = start >= 0 ? lines.slice(start) : lines.slice(-1);
  return shorten(
    message
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .join(' '),
  );
}

/**
 * Said when a failed task carries no `error`: ACE-Step's local-cache result path (the one it
 * answers from whenever its cache is on) drops the reason that its job store keeps.
 */
export const NO_REASON = "ACE-Step gave no reason (its result carries no error; the traceback is in the ACE-Step server's console)";

/** Status codes of `/query_result`: 0 queued or running, 1 succeeded, 2 failed. */
export function readTaskState(taskId: string, data: unknown): TaskState {
  const entry = (Array.isArray(data) ? data : []).find((item) => (item as { task_id?: unknown })?.task_id === taskId) as
    | { status?: unknown; result?: unknown }
    | undefined;
  if (!entry) throw new AcestepError('protocol', `ACE-Step's /query_result did not mention task ${taskId}`);
  const items = parseResults(entry.result);
  if (entry.status === 0) return { state: 'running' };
  if (entry.status === 2) {
    const said = items.map((item) => item.error).find((error) => typeof error === 'string' && error.trim() !== '');
    return { state: 'failed', error: typeof said === 'string' ? exceptionLine(said) : NO_REASON };
  }
  if (entry.status === 1) {
    const results = items
      .filter((item) => typeof item.file === 'string' && item.file !== '')
      .map((item) => ({ file: item.file as string, ...(typeof item.dit_model === 'string' && item.dit_model ? { ditModel: item.dit_model } : {}) }));
    return { state: 'succeeded', results };
  }
  throw new AcestepError('protocol', `ACE-Step reported an unknown status ${JSON.stringify(entry.status)} for task ${taskId}`);
}

/** `POST /query_result` for one task. */
export async function queryResult(connection: AcestepConnection, taskId: string, signal: AbortSignal, timeoutMs?: number): Promise<TaskState> {
  const data = await callJson(connection, 'POST /query_result', {
    method: 'POST',
    url: routeUrl(connection, '/query_result'),
    body: JSON.stringify({ task_id_list: [taskId] }),
    contentType: 'application/json',
    signal,
    timeoutMs,
  });
  return readTaskState(taskId, data);
}

/**
 * The URL of a result file. ACE-Step names it `/v1/audio?path=…`, relative to its own root,
 * which is the base URL (prefix included) when a proxy serves it under a path. A full URL is
 * taken as it is, but only on the base URL's origin: the API key must not travel to a host
 * nobody configured.
 */
export function audioUrl(connection: AcestepConnection, file: string): string {
  if (file.startsWith('/') && !file.startsWith('//')) return `${connection.url}${file}`;
  let resolved: URL;
  try {
    resolved = new URL(file, `${connection.url}/`);
  } catch {
    throw new AcestepError('protocol', `ACE-Step returned a result file that is not a URL or path: ${shorten(file)}`);
  }
  const origin = new URL(connection.url).origin;
  if (resolved.origin !== origin)
    throw new AcestepError('protocol', `ACE-Step returned a result file on another origin (${resolved.origin}), which reprise does not fetch`);
  return resolved.href;
}

/** `GET /v1/audio?path=…`: the bytes of one result file. */
export async function downloadAudio(connection: AcestepConnection, file: string, signal: AbortSignal, timeoutMs?: number): Promise<Uint8Array> {
  const what = 'GET /v1/audio';
  const { status, bytes } = await exchange(connection, what, {
    method: 'GET',
    url: audioUrl(connection, file),
    maxBytes: MAX_AUDIO_BYTES,
    signal,
    timeoutMs,
  });
  failOnStatus(connection, what, status, bytes);
  return bytes;
}

/** One DiT model the server holds, as `GET /v1/models` describes it. */
export interface DitModel {
  name: string;
  isDefault: boolean;
  /** False for a checkpoint on disk that no handler has loaded: a request naming it falls back to the default model. */
  loaded: boolean;
  /** The task types its config allows; null on servers that do not say (older servers list only the name and `is_default`). */
  taskTypes: string[] | null;
}

/** `GET /v1/models`: the DiT models, loaded or merely on disk. */
export async function listModels(connection: AcestepConnection, signal: AbortSignal, timeoutMs?: number): Promise<DitModel[]> {
  const data = await callJson(connection, 'GET /v1/models', { method: 'GET', url: routeUrl(connection, '/v1/models'), signal, timeoutMs });
  const models = (data as { models?: unknown } | null)?.models;
  if (!Array.isArray(models)) throw new AcestepError('protocol', `ACE-Step's /v1/models did not list models; is ${connection.url} an ACE-Step 1.5 API server?`);
  return models
    .filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null && typeof item.name === 'string' && item.name !== '')
    .map((item) => ({
      name: item.name as string,
      isDefault: item.is_default === true,
      // Older servers list only the models they have loaded, without the flag.
      loaded: item.is_loaded !== false,
      taskTypes: Array.isArray(item.supported_task_types) ? item.supported_task_types.filter((type): type is string => typeof type === 'string') : null,
    }));
}

/** What `GET /health` says; older servers say only that they answer. */
export interface Health {
  /** False while the server is still loading its DiT model; null where it does not say. */
  modelsInitialized: boolean | null;
  /** The default (primary) DiT model, where it says. */
  loadedModel: string | null;
}

/** `GET /health`: the one route that asks for no key; it tells an ACE-Step server from anything else. */
export async function health(connection: AcestepConnection, signal: AbortSignal): Promise<Health> {
  const data = (await callJson(connection, 'GET /health', { method: 'GET', url: routeUrl(connection, '/health'), signal })) as Record<string, unknown> | null;
  if (typeof data !== 'object' || data === null || data.status !== 'ok') {
    throw new AcestepError('protocol', `ACE-Step's /health did not answer status "ok"; is ${connection.url} an ACE-Step 1.5 API server?`);
  }
  return {
    modelsInitialized: typeof data.models_initialized === 'boolean' ? data.models_initialized : null,
    loadedModel: typeof data.loaded_model === 'string' && data.loaded_model ? data.loaded_model : null,
  };
}

/**
 * A cheap authenticated call: `/query_result` for no task answers `data: []`
 * and checks the API key, which `/health` does not.
 */
export async function probe(connection: AcestepConnection, signal: AbortSignal): Promise<void> {
  const data = await callJson(connection, 'POST /query_result', {
    method: 'POST',
    url: routeUrl(connection, '/query_result'),
    body: JSON.stringify({ task_id_list: [] }),
    contentType: 'application/json',
    signal,
  });
  if (!Array.isArray(data))
    throw new AcestepError('protocol', `ACE-Step's /query_result did not answer a list; is ${connection.url} an ACE-Step 1.5 API server?`);
}
