import { CallbackPayloadError, WebhookVerificationError } from '../errors.js';
import type { CallbackPayload, ErrorCallbackPayload, SeparatedStem, SeparatedStems, VocalSeparationInfo } from '../types.js';
import type { HeadersLike } from '../webhooks/headers.js';
import { headerValues } from '../webhooks/headers.js';
import { WebhookKeyring } from '../webhooks/keys.js';
import { verifyKieSignature } from '../webhooks/kie.js';
import { verifyStandardWebhook } from '../webhooks/standard.js';
import { checkTolerance } from '../webhooks/timestamp.js';
import { type DedupeStore, MemoryDedupeStore } from './dedupe.js';
import type {
  CallbackEvent,
  CoverImageCallbackEvent,
  ErrorCallbackEvent,
  LyricsCallbackEvent,
  MarketCallbackEvent,
  MidiCallbackEvent,
  MusicVideoCallbackEvent,
  ReceivedCallbackEvent,
  SuccessCallbackEvent,
  VocalSeparationCallbackEvent,
  WavCallbackEvent,
} from './events.js';
import { isFinalEvent } from './events.js';
import { CallbackHub } from './hub.js';
import {
  type CallbackFamily,
  callbackFamilyOf,
  parseCallbackPayload,
  parseCoverImagePayload,
  parseLyricsPayload,
  parseMarketCallbackPayload,
  parseMidiPayload,
  parseMusicVideoPayload,
  parseVocalSeparationPayload,
  parseWavPayload,
  SEPARATION_STEMS,
  toSunoTrack,
} from './payload.js';

type Handler<E> = (event: E) => void | Promise<void>;

export interface CallbackHandlerOptions {
  /** The account's `whsec_…` secret; several during a key rotation. Signs both schemes. */
  secret?: string | readonly string[];
  /** Ed25519 `whpk_…` public keys, for senders that sign `v1a`. */
  publicKeys?: string | readonly string[];
  /**
   * Which signatures to accept. `standard` (default) covers the body;
   * `kie` is what KIE.AI itself sends (task id and time only);
   * `any` takes Standard Webhooks when present and KIE's otherwise, which lets
   * an attacker who replays a KIE-signed request alter its body: use it only
   * while migrating.
   */
  scheme?: 'standard' | 'kie' | 'any';
  /** Accepted clock difference, seconds (default 300). */
  toleranceSeconds?: number;
  /** Where seen callbacks are remembered; `false` turns deduplication off. Default: in memory. */
  dedupe?: DedupeStore | false;
  /** How long a callback is remembered (default 24 h, longer than any retry schedule you are likely to configure). */
  dedupeTtlMs?: number;
  /** Runs once per replace-section or generate task that succeeded (`complete`). */
  onComplete?: Handler<SuccessCallbackEvent>;
  /** Runs for generate's intermediate stages (`text`, `first`). */
  onProgress?: Handler<SuccessCallbackEvent>;
  /** Runs once per music task that failed. */
  onError?: Handler<ErrorCallbackEvent>;
  /** Runs once per cover-image task (`POST /api/v1/suno/cover/generate`), success or failure: see `event.stage`. */
  onCoverImage?: Handler<CoverImageCallbackEvent>;
  /** Runs once per lyrics task (`POST /api/v1/lyrics`), success or failure: see `event.stage`. */
  onLyrics?: Handler<LyricsCallbackEvent>;
  /** Runs once per WAV task (`POST /api/v1/wav/generate`), success or failure: see `event.stage`. */
  onWav?: Handler<WavCallbackEvent>;
  /** Market-form tasks without a body of their own (persona, Boost Music Style, timestamped lyrics). */
  onMarket?: Handler<MarketCallbackEvent>;
  /** Music videos (`POST /api/v1/mp4/generate`). */
  onMusicVideo?: Handler<MusicVideoCallbackEvent>;
  /** Runs once per stem-separation task (`POST /api/v1/vocal-removal/generate`), success or failure: see `event.stage`. */
  onVocalSeparation?: Handler<VocalSeparationCallbackEvent>;
  /** Runs once per MIDI task (`POST /api/v1/midi/generate`), success or failure: see `event.stage`. */
  onMidi?: Handler<MidiCallbackEvent>;
  /**
   * Your handler threw or rejected. The sender already has its 200, so this is
   * where to log or queue a retry; the callback is forgotten by the dedupe store
   * so a redelivery (`POST …/callbacks/redeliver`) runs it again.
   * Default: `console.error`.
   */
  onHandlerError?: (error: unknown, event: ReceivedCallbackEvent) => void;
  /** A request was refused (bad signature, stale, malformed): for logs and metrics. */
  onReject?: (error: WebhookVerificationError | CallbackPayloadError, status: number) => void;
  /** Largest body accepted by the adapters (default 1 MiB; callbacks are a few KB). */
  maxBodyBytes?: number;
}

export interface CallbackRequest {
  headers: HeadersLike;
  /** The raw body, exactly as received. */
  body: string | Uint8Array;
}

export interface CallbackResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  outcome: 'accepted' | 'duplicate' | 'rejected';
  event: ReceivedCallbackEvent | null;
  error: Error | null;
  /**
   * Runs your handler for an accepted callback. Call it after the response has
   * been sent (the adapters do). Never rejects: failures go to onHandlerError.
   */
  process(): Promise<void>;
}

export interface CallbackHandler {
  /** Verifies, validates and deduplicates one request; the adapters call this. */
  handle(request: CallbackRequest): Promise<CallbackResponse>;
  /** The music task's final verified callback (complete or error), for waitForTask's `callbacks` option. */
  waitFor(taskId: string, signal?: AbortSignal): Promise<CallbackEvent>;
  readonly maxBodyBytes: number;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
const noop = async (): Promise<void> => undefined;

/** A response that runs nothing afterwards: refusals, and the adapters' 405/413. */
export function refusal(status: number, error: string, cause: Error | null = null): CallbackResponse {
  return { status, headers: { ...JSON_HEADERS }, body: JSON.stringify({ error }), outcome: 'rejected', event: null, error: cause, process: noop };
}

const asList = (value: string | readonly string[] | undefined): readonly string[] => (value === undefined ? [] : typeof value === 'string' ? [value] : value);

const isFailure = (payload: CallbackPayload): payload is ErrorCallbackPayload => payload.data.callbackType === 'error';

type EventMeta = Pick<CallbackEvent, 'webhookId' | 'timestamp' | 'scheme'>;

/** What every one-answer tool event says of its outcome: complete or error, KIE's code and msg, the msg as the error. */
function outcomeOf(payload: { code: number; msg: string }, succeeded: boolean) {
  return {
    stage: succeeded ? ('complete' as const) : ('error' as const),
    code: payload.code,
    msg: payload.msg,
    error: succeeded ? null : payload.msg,
  };
}

function toCoverImageEvent(body: unknown, meta: EventMeta): CoverImageCallbackEvent {
  const payload = parseCoverImagePayload(body);
  const succeeded = payload.code === 200 && payload.data.images !== null;
  const images = payload.data.images ?? [];
  return {
    ...meta,
    family: 'cover_image',
    taskId: payload.data.taskId,
    ...outcomeOf(payload, succeeded),
    images,
    payload,
  };
}

function toLyricsEvent(body: unknown, meta: EventMeta): LyricsCallbackEvent {
  const payload = parseLyricsPayload(body);
  const failed = payload.data.callbackType === 'error';
  const lyrics = payload.data.data.map((item) => ({ text: item.text, title: item.title, status: item.status, errorMessage: item.error_message }));
  return {
    ...meta,
    family: 'lyrics',
    taskId: payload.data.task_id,
    stage: failed ? 'error' : 'complete',
    code: payload.code,
    msg: payload.msg,
    lyrics,
    error: failed ? (lyrics.find((item) => item.errorMessage !== '')?.errorMessage ?? payload.msg) : null,
    payload,
  };
}

function toWavEvent(body: unknown, meta: EventMeta): WavCallbackEvent {
  const payload = parseWavPayload(body);
  const succeeded = payload.code === 200 && payload.data.audioWavUrl !== null;
  return {
    ...meta,
    family: 'wav',
    taskId: payload.data.task_id,
    ...outcomeOf(payload, succeeded),
    audioWavUrl: payload.data.audioWavUrl,
    payload,
  };
}

function toMusicVideoEvent(body: unknown, meta: EventMeta): MusicVideoCallbackEvent {
  const payload = parseMusicVideoPayload(body);
  const succeeded = payload.code === 200 && payload.data.video_url !== null;
  return {
    ...meta,
    family: 'music_video',
    taskId: payload.data.task_id,
    ...outcomeOf(payload, succeeded),
    videoUrl: payload.data.video_url,
    payload,
  };
}

/** The info object's stem URLs under the event's camelCase names, only those the body named. */
function stemsOf(info: VocalSeparationInfo): SeparatedStems {
  const stems: SeparatedStems = {};
  for (const [stem, key] of Object.entries(SEPARATION_STEMS) as Array<[SeparatedStem, keyof VocalSeparationInfo]>) {
    if (key in info) stems[stem] = info[key] ?? null;
  }
  return stems;
}

function toVocalSeparationEvent(body: unknown, meta: EventMeta): VocalSeparationCallbackEvent {
  const payload = parseVocalSeparationPayload(body);
  const info = payload.data.vocal_separation_info;
  const succeeded = payload.code === 200 && info !== null;
  return {
    ...meta,
    family: 'vocal_separation',
    taskId: payload.data.task_id,
    ...outcomeOf(payload, succeeded),
    originUrl: info?.origin_url ?? null,
    stems: succeeded ? stemsOf(info) : {},
    payload,
  };
}

function toMidiEvent(body: unknown, meta: EventMeta): MidiCallbackEvent {
  const payload = parseMidiPayload(body);
  // KIE documents `complete` only; a body without a state but with code 200 is taken at its code.
  const succeeded = payload.code === 200 && payload.data !== null && (payload.data.state === 'complete' || payload.data.state === '');
  return {
    ...meta,
    family: 'midi',
    taskId: payload.task_id,
    ...outcomeOf(payload, succeeded),
    instruments: succeeded ? (payload.data?.instruments ?? []) : [],
    midiUrl: succeeded ? (payload.data?.midi_url ?? null) : null,
    payload,
  };
}

function toMarketEvent(body: unknown, meta: EventMeta): MarketCallbackEvent {
  const payload = parseMarketCallbackPayload(body);
  const succeeded = payload.data.state === 'success';
  return {
    ...meta,
    family: 'market',
    taskId: payload.data.taskId,
    stage: succeeded ? 'complete' : 'error',
    code: payload.code,
    msg: payload.msg,
    result: succeeded && payload.data.resultJson !== '' ? (JSON.parse(payload.data.resultJson) as unknown) : null,
    error: succeeded ? null : (payload.data.failMsg ?? payload.msg),
    payload,
  };
}

/** Each family's reader of a verified body. */
const READERS: Record<CallbackFamily, (body: unknown, meta: EventMeta) => ReceivedCallbackEvent> = {
  music: toMusicEvent,
  cover_image: toCoverImageEvent,
  lyrics: toLyricsEvent,
  wav: toWavEvent,
  market: toMarketEvent,
  music_video: toMusicVideoEvent,
  vocal_separation: toVocalSeparationEvent,
  midi: toMidiEvent,
};

/**
 * The body → the event of its family. Under the KIE scheme `signedTaskId` is
 * the id the signature covered; the event must name that task and no other.
 */
function toEvent(body: unknown, meta: EventMeta, signedTaskId: string | null = null): ReceivedCallbackEvent {
  const event = READERS[callbackFamilyOf(body)](body, meta);
  if (signedTaskId !== null && event.taskId !== signedTaskId) throw new WebhookVerificationError('invalid_payload', 'the task id read is not the one signed');
  return event;
}

function toMusicEvent(body: unknown, meta: EventMeta): CallbackEvent {
  const payload = parseCallbackPayload(body);
  if (isFailure(payload)) {
    return { ...meta, family: 'music', taskId: payload.data.task_id, stage: 'error', code: payload.code, msg: payload.msg, error: payload.data.error, payload };
  }
  return {
    ...meta,
    family: 'music',
    taskId: payload.data.task_id,
    stage: payload.data.callbackType,
    code: 200,
    msg: payload.msg,
    tracks: payload.data.data.map(toSunoTrack),
    payload,
  };
}

/**
 * A callback receiver that is right by default: it verifies the signature over
 * the raw body, rejects stale timestamps, validates the payload, drops
 * duplicates (by `webhook-id` and by task + stage), answers 200 at once and
 * runs your handler after the answer is sent — so a slow or failing handler
 * never causes a retry storm. Wire it with an adapter: toNodeListener,
 * toExpressMiddleware, toFastifyPlugin or toWebHandler.
 */
export function createCallbackHandler(options: CallbackHandlerOptions): CallbackHandler {
  const scheme = options.scheme ?? 'standard';
  const secrets = asList(options.secret);
  const publicKeys = asList(options.publicKeys);
  if (scheme !== 'kie' && secrets.length + publicKeys.length === 0)
    throw new TypeError('createCallbackHandler: give `secret` (whsec_…) or `publicKeys` (whpk_…)');
  if (scheme === 'kie' && secrets.length === 0) throw new TypeError('createCallbackHandler: the KIE scheme needs `secret`');
  // Parsed once: a bad key is a start-up error, not a 401 on every request.
  const keyring = secrets.length + publicKeys.length > 0 ? new WebhookKeyring([...secrets, ...publicKeys]) : null;
  const tolerance = checkTolerance(options.toleranceSeconds);
  const dedupe = options.dedupe === false ? null : (options.dedupe ?? new MemoryDedupeStore());
  const ttlMs = options.dedupeTtlMs ?? 24 * 3_600_000;
  const hub = new CallbackHub();
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const reportHandlerError =
    options.onHandlerError ??
    ((error: unknown, event: ReceivedCallbackEvent) => console.error(`reprise callback handler failed for task ${event.taskId} (${event.stage}):`, error));

  function verify(request: CallbackRequest): ReceivedCallbackEvent {
    const useStandard = scheme === 'standard' || (scheme === 'any' && headerValues(request.headers, 'webhook-signature').some((v) => v.trim() !== ''));
    if (useStandard) {
      if (!keyring) throw new WebhookVerificationError('invalid_key', 'no key for Standard Webhooks is configured');
      const verified = verifyStandardWebhook(request.body, request.headers, keyring, { toleranceSeconds: tolerance });
      return toEvent(verified.payload, { webhookId: verified.id, timestamp: verified.timestamp, scheme: 'standard' });
    }
    const verified = verifyKieSignature(request.body, request.headers, secrets, { toleranceSeconds: tolerance });
    return toEvent(verified.payload, { webhookId: null, timestamp: verified.timestamp, scheme: 'kie' }, verified.taskId);
  }

  async function claim(keys: readonly string[]): Promise<boolean> {
    if (!dedupe) return true;
    let fresh = true;
    for (const key of keys) if (!(await dedupe.claim(key, ttlMs))) fresh = false;
    return fresh;
  }

  async function release(keys: readonly string[]): Promise<void> {
    if (!dedupe?.release) return;
    for (const key of keys) await dedupe.release(key);
  }

  async function run(event: ReceivedCallbackEvent, keys: readonly string[]): Promise<void> {
    try {
      if (event.family === 'cover_image') await options.onCoverImage?.(event);
      else if (event.family === 'lyrics') await options.onLyrics?.(event);
      else if (event.family === 'wav') await options.onWav?.(event);
      else if (event.family === 'market') await options.onMarket?.(event);
      else if (event.family === 'music_video') await options.onMusicVideo?.(event);
      else if (event.family === 'vocal_separation') await options.onVocalSeparation?.(event);
      else if (event.family === 'midi') await options.onMidi?.(event);
      else if (event.stage === 'error') await options.onError?.(event);
      else if (event.stage === 'complete') await options.onComplete?.(event);
      else await options.onProgress?.(event);
    } catch (error) {
      await release(keys).catch(() => undefined);
      try {
        reportHandlerError(error, event);
      } catch {
        // A failing error hook must not become an unhandled rejection.
      }
    }
  }

  async function handle(request: CallbackRequest): Promise<CallbackResponse> {
    let event: ReceivedCallbackEvent;
    try {
      event = verify(request);
    } catch (error) {
      if (error instanceof WebhookVerificationError || error instanceof CallbackPayloadError) {
        // A bad signature or stale time is the sender's (or an attacker's) problem: 401. A verified body of the wrong shape: 400.
        const status = error instanceof CallbackPayloadError || error.code === 'invalid_json' || error.code === 'invalid_payload' ? 400 : 401;
        options.onReject?.(error, status);
        return refusal(status, error.code, error);
      }
      throw error;
    }
    // Waiters learn of a final result even when this copy is a duplicate (another process may have taken the first).
    if (event.family === 'music' && isFinalEvent(event)) hub.publish(event);
    const keys = [`task:${event.taskId}:${event.stage}`, ...(event.webhookId ? [`id:${event.webhookId}`] : [])];
    let fresh: boolean;
    try {
      fresh = await claim(keys);
    } catch (error) {
      // Not knowing whether it was seen: let the sender retry later rather than risk losing it.
      return refusal(503, 'dedupe_unavailable', error instanceof Error ? error : new Error(String(error)));
    }
    if (!fresh) {
      return { status: 200, headers: { ...JSON_HEADERS }, body: '{"status":"duplicate"}', outcome: 'duplicate', event, error: null, process: noop };
    }
    let started: Promise<void> | null = null;
    return {
      status: 200,
      headers: { ...JSON_HEADERS },
      body: '{"status":"received"}',
      outcome: 'accepted',
      event,
      error: null,
      process: () => {
        started ??= run(event, keys);
        return started;
      },
    };
  }

  return { handle, waitFor: (taskId, signal) => hub.waitFor(taskId, signal), maxBodyBytes };
}
