import path from 'node:path';
import type { Mp3EncoderChoice } from './engine/spec.js';
import { type Cidr, parseCidrList } from './outbound/address-policy.js';
import { ALL_ROLES, parseRoles, ROLES_ALLOWED, type Roles } from './roles.js';

/**
 * Every setting of the service, read once from the environment and validated.
 * A wrong value stops start-up with one line naming the variable and what is allowed.
 */
export interface Config {
  /** What this process does (REPRISE_ROLES); `reprise api|worker|dispatcher` replace it with their one role. */
  roles: Roles;
  port: number;
  host: string;
  dataDir: string;
  /** `sqlite:<file>` or a `postgres://` URL. */
  databaseUrl: string;
  publicUrl: string;
  /** True when REPRISE_PUBLIC_URL was not set: the URL then follows the port actually bound. */
  publicUrlIsDefault: boolean;
  engine: 'procedural' | 'acestep';
  acestepUrl: string | null;
  acestepApiKey: string | null;
  /** Longest one ACE-Step task may take, from submission to the downloaded result. */
  acestepTimeoutMs: number;
  /** Pause between two `/query_result` polls. */
  acestepPollMs: number;
  /** Limit for one HTTP exchange with ACE-Step (the upload of the source included). */
  acestepRequestTimeoutMs: number;
  /** Which LAME the render threads encode MP3 with (REPRISE_MP3_ENCODER): native where built, or the WebAssembly build. */
  mp3Encoder: Mp3EncoderChoice;
  outboundAllow: Cidr[];
  callbackTimeoutMs: number;
  /** Callback attempts in flight at once, overall and against one host. */
  callbackConcurrency: number;
  callbackPerHost: number;
  /** Delays in ms before attempt 1, 2, 3 … (length = number of attempts). */
  callbackScheduleMs: number[];
  rateLimit: { max: number; windowMs: number };
  workers: number;
  taskTimeoutMs: number;
  leaseMs: number;
  /**
   * How a process that claims work tells it is alive: it renews a row every `heartbeatMs`; one not
   * renewed for `expiryMs` (on another host), or whose pid is gone (on this host), is dead, and its
   * claims are taken over at once.
   */
  liveness: { heartbeatMs: number; expiryMs: number };
  /** How often an idle worker or dispatcher looks for work it was not woken for. */
  pollMs: number;
  /** On SIGTERM, running tasks get this long to finish before they are released for the next start. */
  shutdownGraceMs: number;
  /** Credits each task kind costs (SPEC §1; defaults near KIE's relative prices). */
  prices: Prices;
  /** [EXT] Put the envelope's `code` into the HTTP status too (KIE answers HTTP 200 for business outcomes). */
  httpStatusMirrorsCode: boolean;
  /** Seconds of new music an extend adds after `continueAt`. */
  extendDurationS: number;
  refunds: boolean;
  generateDurationS: number;
  uploadMaxBytes: number;
  /**
   * Longest source audio a task may name, in seconds; longer is a 422 at submission. The default is
   * the procedural engine's longest song (MAX_SONG_S), whose renders stay within its memory goal.
   */
  sourceMaxS: number;
  /** Uploads (and upload fetches) in flight at once per account and in the whole process; the next gets 429. */
  uploadsPerAccount: number;
  uploadsMax: number;
  jsonBodyMaxBytes: number;
  /**
   * Slow clients (api/app.ts): the request's headers must arrive within `headersMs`, the whole
   * request (body included) within `requestMs`; a connection silent both ways for `idleMs` is
   * closed, and an idle keep-alive connection after `keepAliveMs`.
   */
  httpTimeouts: { headersMs: number; requestMs: number; idleMs: number; keepAliveMs: number };
  /** Event streams (`/api/v1/tasks/:taskId/events`) one account may hold open at once; the next gets 429. */
  eventStreamsPerAccount: number;
  retention: { generatedMs: number; uploadsMs: number };
  /** Where blobs live (REPRISE_BLOB_STORE): files under the data dir, or an S3-compatible bucket. */
  blobStore: BlobStoreConfig;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** Static credentials for the S3 service; a session token is there for temporary ones. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** An S3-compatible bucket (SPEC §9). */
export interface S3Config {
  endpoint: string;
  region: string;
  bucket: string;
  /** `http://endpoint/bucket/key` instead of `http://bucket.endpoint/key`: most self-hosted servers need it. */
  forcePathStyle: boolean;
  /** File URLs redirect (302) to a short-lived presigned GET instead of streaming through reprise. */
  presign: boolean;
  /** Null when AWS_ACCESS_KEY_ID is unset: the SDK's default chain then finds them (profile, web identity, instance role). */
  credentials: S3Credentials | null;
}

export type BlobStoreConfig = { kind: 'fs' } | ({ kind: 's3' } & S3Config);

/**
 * Default prices in credits, one per priced operation. KIE charges about 12 credits for a
 * song-making task, 5 for replace-section, nothing for cover images and personas, 0.4 for a
 * style boost and 0.4–0.5 for lyrics, a WAV or timestamped lyrics; reprise's credits are whole
 * numbers, so those three cost the smallest whole price and stay paid operations as on KIE. A
 * music video is about a cent on KIE: 2 credits. Stems cost what KIE's separation page says:
 * 10 credits for vocal and instrumental, 50 for up to twelve instrument stems; MIDI is free.
 */
export const DEFAULT_PRICES = {
  generate: 10,
  replaceSection: 5,
  extend: 10,
  uploadExtend: 10,
  uploadCover: 10,
  addInstrumental: 10,
  addVocals: 10,
  mashup: 10,
  coverImage: 0,
  persona: 0,
  boostStyle: 0,
  lyrics: 1,
  wav: 1,
  timestampedLyrics: 1,
  musicVideo: 2,
  separateVocal: 10,
  splitStem: 50,
  midi: 0,
} as const;
export type PriceName = keyof typeof DEFAULT_PRICES;
export type Prices = Record<PriceName, number>;

/** `replaceSection` → `REPRISE_PRICE_REPLACE_SECTION`. */
export const priceVariable = (name: string): string => `REPRISE_PRICE_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function fail(variable: string, value: string, allowed: string): never {
  throw new ConfigError(`${variable}=${JSON.stringify(value)} is not valid: ${allowed}`);
}

function integer(env: Env, variable: string, fallback: number, min: number, max: number): number {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) fail(variable, raw, `expected a whole number from ${min} to ${max}`);
  const value = Number(raw.trim());
  if (value < min || value > max) fail(variable, raw, `expected a whole number from ${min} to ${max}`);
  return value;
}

function oneOf<T extends string>(env: Env, variable: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) fail(variable, raw, `expected one of ${allowed.join(', ')}`);
  return raw as T;
}

function bool(env: Env, variable: string, fallback: boolean): boolean {
  const raw = env[variable];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  fail(variable, raw, 'expected true or false');
}

function httpUrl(variable: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    fail(variable, raw, 'expected an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(variable, raw, 'expected an http:// or https:// URL');
  return raw.replace(/\/+$/, '');
}

/** `0,5,25` → [0, 5000, 25000]; fractions allowed for tests (`0,0.2,0.5`). */
export function parseSchedule(variable: string, raw: string): number[] {
  const parts = raw.split(',').map((part) => part.trim());
  const allowed = 'expected comma-separated delays in seconds, e.g. 0,5,25 (1 to 50 attempts, each 0 to 604800)';
  if (parts.length < 1 || parts.length > 50) fail(variable, raw, allowed);
  return parts.map((part) => {
    if (!/^\d+(\.\d+)?$/.test(part)) fail(variable, raw, allowed);
    const seconds = Number(part);
    if (seconds > 604_800) fail(variable, raw, allowed);
    return Math.round(seconds * 1000);
  });
}

/** `20/10s` → 20 tasks per 10 000 ms. Units: ms, s, m, h. */
export function parseRateLimit(variable: string, raw: string): { max: number; windowMs: number } {
  const match = /^(\d+)\/(\d+)(ms|s|m|h)$/.exec(raw.trim());
  const allowed = 'expected COUNT/WINDOW, e.g. 20/10s (units ms, s, m, h; count ≥ 1)';
  if (!match) fail(variable, raw, allowed);
  const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[3] as 'ms' | 's' | 'm' | 'h'];
  const max = Number(match[1]);
  const windowMs = Number(match[2]) * unitMs;
  if (max < 1 || windowMs < 1) fail(variable, raw, allowed);
  return { max, windowMs };
}

/** Unset or empty: all three, like every other variable here, where empty means unset. */
function roles(env: Env): Roles {
  const raw = env.REPRISE_ROLES;
  if (raw === undefined || raw === '') return ALL_ROLES;
  try {
    return parseRoles(raw);
  } catch (error) {
    fail('REPRISE_ROLES', raw, `${ROLES_ALLOWED} (${(error as Error).message})`);
  }
}

function databaseUrl(env: Env, dataDir: string): string {
  const raw = env.DATABASE_URL;
  if (raw === undefined || raw === '') return `sqlite:${path.join(dataDir, 'reprise.sqlite')}`;
  if (/^postgres(ql)?:\/\//.test(raw)) return raw;
  if (raw.startsWith('sqlite:')) return raw;
  fail('DATABASE_URL', raw, 'expected postgres://… or sqlite:<file> (or leave it unset for SQLite in the data dir)');
}

/** S3 bucket names: 3–63 characters, lowercase letters, digits, dots and hyphens (underscores for older servers). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

/** REPRISE_BLOB_STORE and, for `s3`, the bucket's settings; unset S3 variables are ignored with `fs`. */
function blobStore(env: Env): BlobStoreConfig {
  const kind = oneOf(env, 'REPRISE_BLOB_STORE', 'fs', ['fs', 's3'] as const);
  if (kind === 'fs') return { kind };
  const required = (variable: string, example: string): string => {
    const raw = env[variable];
    if (raw === undefined || raw === '') throw new ConfigError(`${variable} is required when REPRISE_BLOB_STORE=s3 (e.g. ${example})`);
    return raw;
  };
  const endpoint = httpUrl('REPRISE_S3_ENDPOINT', required('REPRISE_S3_ENDPOINT', 'https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000'));
  const bucket = required('REPRISE_S3_BUCKET', 'reprise-files');
  if (!BUCKET_NAME.test(bucket)) fail('REPRISE_S3_BUCKET', bucket, 'expected an S3 bucket name: 3 to 63 lowercase letters, digits, dots or hyphens');
  const region = env.REPRISE_S3_REGION || 'us-east-1';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(region)) fail('REPRISE_S3_REGION', region, 'expected a region name such as us-east-1');
  const accessKeyId = env.AWS_ACCESS_KEY_ID || '';
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY || '';
  // One without the other is a typo, never a choice: the SDK would fall back to other sources silently.
  if ((accessKeyId === '') !== (secretAccessKey === '')) {
    const [missing, present] = accessKeyId ? ['AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID'] : ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];
    throw new ConfigError(`${missing} is required when ${present} is set`);
  }
  const sessionToken = env.AWS_SESSION_TOKEN || undefined;
  return {
    kind,
    endpoint,
    region,
    bucket,
    forcePathStyle: bool(env, 'REPRISE_S3_FORCE_PATH_STYLE', false),
    presign: bool(env, 'REPRISE_S3_PRESIGN', false),
    credentials: accessKeyId ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } : null,
  };
}

/** = engine/procedural/common.ts MAX_SONG_S (a test holds them equal; config stays free of engine imports). */
export const DEFAULT_SOURCE_MAX_S = 900;

export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, 'PORT', 3000, 0, 65535);
  const host = env.HOST || '127.0.0.1';
  const dataDir = path.resolve(env.REPRISE_DATA_DIR || './data');
  const engine = oneOf(env, 'REPRISE_ENGINE', 'procedural', ['procedural', 'acestep'] as const);
  const acestepUrl = env.ACESTEP_URL ? httpUrl('ACESTEP_URL', env.ACESTEP_URL) : null;
  if (engine === 'acestep' && !acestepUrl) {
    throw new ConfigError('ACESTEP_URL is required when REPRISE_ENGINE=acestep (e.g. http://gpu-host:8001)');
  }
  let outboundAllow: Cidr[];
  try {
    outboundAllow = parseCidrList(env.REPRISE_OUTBOUND_ALLOW ?? '');
  } catch (error) {
    fail(
      'REPRISE_OUTBOUND_ALLOW',
      env.REPRISE_OUTBOUND_ALLOW ?? '',
      `expected comma-separated CIDRs such as 127.0.0.0/8,::1/128 (${(error as Error).message})`,
    );
  }
  const publicHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const uploadMaxBytes = integer(env, 'REPRISE_UPLOAD_MAX_BYTES', 100 * 1024 * 1024, 1024, 2 ** 40);
  return {
    roles: roles(env),
    port,
    host,
    dataDir,
    databaseUrl: databaseUrl(env, dataDir),
    publicUrl: env.REPRISE_PUBLIC_URL ? httpUrl('REPRISE_PUBLIC_URL', env.REPRISE_PUBLIC_URL) : `http://${publicHost}:${port}`,
    publicUrlIsDefault: !env.REPRISE_PUBLIC_URL,
    engine,
    acestepUrl,
    acestepApiKey: env.ACESTEP_API_KEY || null,
    acestepTimeoutMs: integer(env, 'ACESTEP_TIMEOUT_S', 300, 1, 86_400) * 1000,
    acestepPollMs: integer(env, 'ACESTEP_POLL_MS', 2000, 50, 60_000),
    acestepRequestTimeoutMs: integer(env, 'ACESTEP_REQUEST_TIMEOUT_S', 60, 1, 3600) * 1000,
    mp3Encoder: oneOf(env, 'REPRISE_MP3_ENCODER', 'auto', ['auto', 'native', 'wasm'] as const),
    outboundAllow,
    callbackTimeoutMs: integer(env, 'REPRISE_CALLBACK_TIMEOUT_MS', 10_000, 100, 600_000),
    callbackConcurrency: integer(env, 'REPRISE_CALLBACK_CONCURRENCY', 32, 1, 1024),
    callbackPerHost: integer(env, 'REPRISE_CALLBACK_PER_HOST', 8, 1, 1024),
    callbackScheduleMs: parseSchedule('REPRISE_CALLBACK_SCHEDULE', env.REPRISE_CALLBACK_SCHEDULE || '0,5,25'),
    rateLimit: parseRateLimit('REPRISE_RATE_LIMIT', env.REPRISE_RATE_LIMIT || '20/10s'),
    workers: integer(env, 'REPRISE_WORKERS', 2, 0, 64),
    taskTimeoutMs: integer(env, 'REPRISE_TASK_TIMEOUT_S', 600, 1, 86_400) * 1000,
    leaseMs: integer(env, 'REPRISE_LEASE_MS', 30_000, 500, 3_600_000),
    liveness: liveness(env),
    pollMs: integer(env, 'REPRISE_POLL_MS', 1000, 10, 600_000),
    shutdownGraceMs: integer(env, 'REPRISE_SHUTDOWN_GRACE_S', 10, 0, 3600) * 1000,
    prices: Object.fromEntries(
      Object.entries(DEFAULT_PRICES).map(([name, fallback]) => [name, integer(env, priceVariable(name), fallback, 0, 1_000_000)]),
    ) as Prices,
    httpStatusMirrorsCode: bool(env, 'REPRISE_HTTP_STATUS_MIRRORS_CODE', false),
    extendDurationS: integer(env, 'REPRISE_EXTEND_DURATION_S', 60, 5, 480),
    refunds: bool(env, 'REPRISE_REFUNDS', true),
    generateDurationS: integer(env, 'REPRISE_GENERATE_DURATION_S', 120, 10, 480),
    uploadMaxBytes,
    sourceMaxS: integer(env, 'REPRISE_SOURCE_MAX_S', DEFAULT_SOURCE_MAX_S, 1, 86_400),
    uploadsPerAccount: integer(env, 'REPRISE_UPLOADS_PER_ACCOUNT', 4, 1, 1024),
    uploadsMax: integer(env, 'REPRISE_UPLOADS_MAX', 32, 1, 65_536),
    jsonBodyMaxBytes: integer(env, 'REPRISE_JSON_BODY_MAX_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    httpTimeouts: {
      headersMs: integer(env, 'REPRISE_HEADERS_TIMEOUT_S', 10, 1, 3600) * 1000,
      requestMs: integer(env, 'REPRISE_REQUEST_TIMEOUT_S', 300, 1, 86_400) * 1000,
      idleMs: integer(env, 'REPRISE_IDLE_TIMEOUT_S', 60, 1, 86_400) * 1000,
      keepAliveMs: integer(env, 'REPRISE_KEEP_ALIVE_TIMEOUT_S', 72, 1, 3600) * 1000,
    },
    eventStreamsPerAccount: integer(env, 'REPRISE_EVENT_STREAMS_PER_ACCOUNT', 10, 1, 10_000),
    retention: {
      generatedMs: integer(env, 'REPRISE_RETENTION_DAYS', 14, 1, 3650) * 86_400_000,
      uploadsMs: integer(env, 'REPRISE_UPLOAD_RETENTION_DAYS', 3, 1, 3650) * 86_400_000,
    },
    blobStore: blobStore(env),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
  };
}

/** The heartbeat must come well within the expiry, or a live process would look dead between beats. */
function liveness(env: Env): { heartbeatMs: number; expiryMs: number } {
  const heartbeatMs = integer(env, 'REPRISE_HEARTBEAT_MS', 2500, 100, 600_000);
  const expiryMs = integer(env, 'REPRISE_PROCESS_EXPIRY_MS', 10_000, 300, 3_600_000);
  if (expiryMs < 2 * heartbeatMs) fail('REPRISE_PROCESS_EXPIRY_MS', String(expiryMs), `expected at least twice REPRISE_HEARTBEAT_MS (${heartbeatMs})`);
  return { heartbeatMs, expiryMs };
}
