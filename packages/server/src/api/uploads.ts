import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { probeAudio } from '../audio/codecs/probe.js';
import { ApiError, invalid } from '../errors.js';
import { fileUrls, registerFile, tokenFromOwnUrl } from '../files/index.js';
import { download, OutboundError } from '../outbound/index.js';
import type { Services } from '../services.js';
import { accountOf } from './auth.js';
import { startBurstCollector } from './burst-collector.js';
import { createUploadSlots } from './upload-slots.js';
import { readHead, streamToBlob } from './upload-stream.js';

/**
 * KIE's File Upload API (SPEC §3): three ways to put an MP3 or WAV file on the
 * service and get back a capability URL for it (e.g. a replace-section
 * `uploadUrl`). A refused upload leaves no row and no blob: the base64 and URL
 * routes check everything before writing; the multipart route streams the file
 * to the blob store as it arrives (memory stays at one head per upload) and
 * removes it again if anything refuses the upload afterwards.
 */

// ---------------------------------------------------------------------------
// Field rules: small pure functions, property-tested.

export const UPLOAD_PATH_MAX = 200;
export const FILE_NAME_MAX = 255;
const PATH_CHAR = /[A-Za-z0-9._-]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// C0, DEL and C1 controls: never part of a name a person chose, and unsafe in headers.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * `uploadPath`: 1–200 characters, relative, segments of [A-Za-z0-9._-], none of
 * them `.` or `..`. Trailing slashes are dropped (`audio/` = `audio`) because
 * KIE accepts them and clients written for KIE send them.
 */
export function checkUploadPath(value: unknown): string {
  if (value === undefined || value === null || value === '') throw invalid('uploadPath', 'is required');
  if (typeof value !== 'string') throw invalid('uploadPath', 'must be a string');
  if (value.length > UPLOAD_PATH_MAX) throw invalid('uploadPath', `must be at most ${UPLOAD_PATH_MAX} characters (got ${value.length})`);
  if (value.startsWith('/')) throw invalid('uploadPath', 'must be a relative path (no leading /)');
  const path = value.replace(/\/+$/, '');
  for (const char of path) {
    if (char !== '/' && !PATH_CHAR.test(char)) {
      throw invalid('uploadPath', `may only contain letters, digits, '.', '_', '-' and '/' (found ${JSON.stringify(char)})`);
    }
  }
  for (const segment of path.split('/')) {
    if (segment === '') throw invalid('uploadPath', 'must not contain empty segments (//)');
    if (/^\.+$/.test(segment)) throw invalid('uploadPath', `must not contain a ${JSON.stringify(segment)} segment`);
  }
  return path;
}

/** `fileName` (optional): ≤ 255 characters, no `/`, no control characters. Absent or "" → null (a random name). */
export function checkFileName(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw invalid('fileName', 'must be a string');
  const length = [...value].length;
  if (length > FILE_NAME_MAX) throw invalid('fileName', `must be at most ${FILE_NAME_MAX} characters (got ${length})`);
  if (value.includes('/')) throw invalid('fileName', "must not contain '/' (put folders in uploadPath)");
  if (CONTROL.test(value)) throw invalid('fileName', 'must not contain control characters');
  // encodeURIComponent (the file's URL) throws on these.
  if (LONE_SURROGATE.test(value)) throw invalid('fileName', 'must be valid Unicode text (it contains a lone surrogate)');
  if (value === '.' || value === '..') throw invalid('fileName', `must not be ${JSON.stringify(value)}`);
  return value;
}

export const tooLarge = (field: string, maxBytes: number) => new ApiError(413, `${field}: is larger than the upload limit of ${maxBytes} bytes`);

/**
 * `base64Data`: raw base64 (standard or URL-safe alphabet, padding optional,
 * line breaks allowed) or a `data:<type>;base64,` URL. The decoded size is
 * checked before decoding so an oversized body is never decoded.
 */
export function decodeBase64Data(value: unknown, maxBytes: number): Buffer {
  if (value === undefined || value === null) throw invalid('base64Data', 'is required');
  if (typeof value !== 'string') throw invalid('base64Data', 'must be a string');
  let text = value;
  if (/^data:/i.test(text)) {
    const comma = text.indexOf(',');
    if (comma < 0) throw invalid('base64Data', 'is a data: URL without a comma before the data');
    const header = text.slice(5, comma);
    if (!/;base64$/i.test(header)) throw invalid('base64Data', 'a data: URL must be base64-encoded (data:<type>;base64,<data>)');
    text = text.slice(comma + 1);
  }
  text = text.replace(/\s+/g, '');
  const bad = /[^A-Za-z0-9+/_=-]/.exec(text);
  if (bad) throw invalid('base64Data', `is not valid base64 (unexpected ${JSON.stringify(bad[0])} at position ${bad.index})`);
  const body = text.replace(/=+$/, '');
  if (body.includes('=') || text.length - body.length > 2) throw invalid('base64Data', "is not valid base64 ('=' padding only at the end, at most two)");
  if (body.length % 4 === 1) throw invalid('base64Data', 'is not valid base64 (truncated: its length leaves a single dangling character)');
  const decodedSize = Math.floor((body.length * 3) / 4);
  if (decodedSize > maxBytes) throw tooLarge('base64Data', maxBytes);
  return Buffer.from(body, 'base64');
}

/** `fileUrl`: an absolute http(s) URL of at most 2048 characters. */
export function checkFileUrl(value: unknown): string {
  if (value === undefined || value === null || value === '') throw invalid('fileUrl', 'is required');
  if (typeof value !== 'string') throw invalid('fileUrl', 'must be a string');
  if (value.length > 2048) throw invalid('fileUrl', `must be at most 2048 characters (got ${value.length})`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('fileUrl', 'must be an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('fileUrl', `must be an http:// or https:// URL (got ${url.protocol})`);
  return value;
}

// ---------------------------------------------------------------------------
// Content check and storage.

interface UploadTarget {
  uploadPath: string;
  fileName: string | null;
}

interface CheckedAudio {
  ext: 'mp3' | 'wav';
  mimeType: 'audio/mpeg' | 'audio/wav';
}

/** Audio is recognised by its bytes, never by its name or declared type (SPEC §3). */
export function checkAudioContent(bytes: Uint8Array): CheckedAudio {
  if (bytes.byteLength === 0) throw invalid('file', 'is empty');
  let format: 'mp3' | 'wav';
  try {
    format = probeAudio(bytes).format;
  } catch (error) {
    throw invalid('file', `is not MP3 or WAV audio (${(error as Error).message})`);
  }
  return format === 'mp3' ? { ext: 'mp3', mimeType: 'audio/mpeg' } : { ext: 'wav', mimeType: 'audio/wav' };
}

export interface UploadAnswer {
  success: true;
  code: 200;
  msg: 'File uploaded successfully';
  data: { success: true; fileName: string; filePath: string; downloadUrl: string; fileUrl: string; fileSize: number; mimeType: string; uploadedAt: string };
}

const randomHex = (bytes: number) => randomBytes(bytes).toString('hex');

/**
 * The path moves from the old row (if any) to the new one in one transaction.
 * The old row keeps its token and blob until it expires, so a task that already
 * holds its URL still reads it. On PostgreSQL two uploads to one path could
 * each miss the other's new row and collide on the unique index, so they queue
 * on an advisory lock for that path; SQLite runs one write transaction at a time.
 */
async function claimPath(services: Services, row: Parameters<typeof registerFile>[1], now: number): Promise<string> {
  return services.store.db.transaction().execute(async (tx) => {
    if (services.store.dialect === 'postgres') {
      await sql`select pg_advisory_xact_lock(hashtextextended(${`upload:${row.accountId}:${row.filePath}`}, 0))`.execute(tx);
    }
    await tx
      .updateTable('files')
      .set({ file_path: null })
      .where('account_id', '=', row.accountId)
      .where('file_path', '=', row.filePath ?? '')
      .execute();
    return registerFile(tx, row, now);
  });
}

/** A checked file already in the blob store, waiting for its row. */
interface StoredBlob {
  blobKey: string;
  audio: CheckedAudio;
  size: number;
}

const newUploadKey = (audio: CheckedAudio) => `uploads/${randomHex(16)}.${audio.ext}`;

/** Validated fields + bytes → blob, row, KIE answer. The blob is written first and removed if the row cannot be. */
export async function storeUpload(services: Services, accountId: string, target: UploadTarget, bytes: Uint8Array): Promise<UploadAnswer> {
  const audio = checkAudioContent(bytes);
  const blobKey = newUploadKey(audio);
  await services.blobs.put(blobKey, bytes);
  return recordUpload(services, accountId, target, { blobKey, audio, size: bytes.byteLength });
}

/** A stored, checked blob → its row and KIE's answer; the blob is removed if the row cannot be written. */
async function recordUpload(services: Services, accountId: string, target: UploadTarget, stored: StoredBlob): Promise<UploadAnswer> {
  const { blobKey, audio, size } = stored;
  // KIE's own default name (recorded answers): the upload's epoch milliseconds, a dash, random characters.
  const fileName = target.fileName ?? `${Date.now()}-${randomBytes(4).toString('hex')}.${audio.ext}`;
  const filePath = `${target.uploadPath}/${fileName}`;
  const now = Date.now();
  let token: string;
  try {
    token = await claimPath(
      services,
      {
        accountId,
        kind: 'upload',
        blobKey,
        contentType: audio.mimeType,
        size,
        fileName,
        filePath,
        expiresAt: now + services.config.retention.uploadsMs,
      },
      now,
    );
  } catch (error) {
    await services.blobs.delete(blobKey).catch(() => undefined);
    throw error;
  }
  const url = fileUrls(services.config.publicUrl, token).named(fileName);
  return {
    success: true,
    code: 200,
    msg: 'File uploaded successfully',
    data: {
      success: true,
      fileName,
      filePath,
      downloadUrl: url,
      fileUrl: url,
      fileSize: size,
      mimeType: audio.mimeType,
      uploadedAt: new Date(now).toISOString(),
    },
  };
}

// ---------------------------------------------------------------------------
// Request readers, one per route.

function jsonObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'body: expected a JSON object');
  return body as Record<string, unknown>;
}

function targetOf(fields: Record<string, unknown>): UploadTarget {
  return { uploadPath: checkUploadPath(fields.uploadPath), fileName: checkFileName(fields.fileName) };
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream);
}

/** The file part, as far as it got: stored (checked and written), or refused by its content. */
type FilePart = { stored: StoredBlob } | { refused: ApiError };

/**
 * Recognises the file from its first bytes (the same check as ever, on the head: the whole file
 * when it is small) and streams the rest to the blob store, so memory stays at one head per upload
 * whatever the file's size. A refused file is still read to its end, because fields may follow it
 * and their mistakes are named first.
 */
async function receiveFile(services: Services, file: Readable & { truncated?: boolean }, maxBytes: number): Promise<FilePart> {
  const { head, whole } = await readHead(file);
  let audio: CheckedAudio;
  try {
    audio = checkAudioContent(head);
  } catch (error) {
    await drain(whole);
    if (file.truncated) throw tooLarge('file', maxBytes);
    if (error instanceof ApiError) return { refused: error };
    throw error;
  }
  const blobKey = newUploadKey(audio);
  const size = await streamToBlob(services.blobs, blobKey, whole, maxBytes, () => tooLarge('file', maxBytes));
  // busboy stops at the limit and flags the stream rather than failing it in some versions.
  if (file.truncated) {
    await services.blobs.delete(blobKey).catch(() => undefined);
    throw tooLarge('file', maxBytes);
  }
  return { stored: { blobKey, audio, size } };
}

/**
 * The multipart body: text fields in any order, one file part named `file`, which streams to the
 * blob store as it arrives (receiveFile). Whatever refuses the upload afterwards removes the blob.
 */
async function receiveMultipart(services: Services, request: FastifyRequest, accountId: string, maxBytes: number): Promise<UploadAnswer> {
  if (!request.isMultipart()) {
    throw new ApiError(400, `Content-Type: ${request.headers['content-type'] ?? '(none)'} is not accepted here; send multipart/form-data`);
  }
  const fields: Record<string, unknown> = {};
  let file: FilePart | null = null;
  const removeBlob = async () => {
    if (file && 'stored' in file) await services.blobs.delete(file.stored.blobKey).catch(() => undefined);
  };
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') {
          await drain(part.file);
          if (part.fieldname === 'uploadPath' || part.fieldname === 'fileName') throw invalid(part.fieldname, 'must be a text field, not a file');
          continue;
        }
        if (file !== null) throw invalid('file', 'send exactly one file');
        file = await receiveFile(services, part.file, maxBytes);
      } else {
        if (part.fieldname === 'file') throw invalid('file', 'must be a file part (Content-Disposition with a filename)');
        if (part.valueTruncated) throw invalid(part.fieldname, 'is too long');
        if (!Object.hasOwn(fields, part.fieldname)) fields[part.fieldname] = part.value;
      }
    }
  } catch (error) {
    await removeBlob();
    if (error instanceof ApiError) throw error;
    const failure = error as { code?: string; statusCode?: number; message?: string };
    if (failure.code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge('file', maxBytes);
    if (failure.statusCode === 413) throw new ApiError(413, `body: too many multipart parts (${failure.message})`);
    throw new ApiError(400, `body: malformed multipart data (${failure.message ?? 'unreadable'})`);
  }
  try {
    // Field rules first: they are the caller's mistake most worth naming; then the file's own.
    const target = targetOf(fields);
    if (file === null) throw invalid('file', 'is required (a multipart part named "file")');
    if ('refused' in file) throw file.refused;
    return await recordUpload(services, accountId, target, file.stored);
  } catch (error) {
    await removeBlob();
    throw error;
  }
}

/** A URL this service handed out is read from storage: no network, no loopback exception needed. */
async function readOwnFile(services: Services, token: string | null): Promise<Buffer> {
  const missing = invalid('fileUrl', 'no such file on this service (it may have expired)');
  if (!token) throw missing;
  const row = await services.store.db.selectFrom('files').select(['blob_key', 'expires_at']).where('id', '=', token).executeTakeFirst();
  if (!row || row.expires_at <= Date.now()) throw missing;
  const size = await services.blobs.size(row.blob_key);
  if (size === null) throw missing;
  if (size > services.config.uploadMaxBytes) throw tooLarge('fileUrl', services.config.uploadMaxBytes);
  // A copy, not a shared blob key: the source may expire and be swept while this upload lives on.
  return services.blobs.get(row.blob_key);
}

async function fetchFile(services: Services, fileUrl: string): Promise<Uint8Array> {
  const { publicUrl, uploadMaxBytes } = services.config;
  if (fileUrl.startsWith(`${publicUrl}/files/`)) return readOwnFile(services, tokenFromOwnUrl(publicUrl, fileUrl));
  try {
    return await download(services.outbound, fileUrl, { timeoutMs: 30_000, maxBytes: uploadMaxBytes });
  } catch (error) {
    if (!(error instanceof OutboundError)) throw error;
    if (error.kind === 'too_large') throw tooLarge('fileUrl', uploadMaxBytes);
    throw invalid('fileUrl', `could not be downloaded: ${error.message}`);
  }
}

/** The JSON body is in memory already (bounded by the route's bodyLimit); the decoded file is stored whole. */
async function storeBase64(services: Services, request: FastifyRequest, accountId: string, maxBytes: number): Promise<UploadAnswer> {
  const body = jsonObject(request.body);
  // The raw text is as large as the file and nobody needs it here.
  request.rawBody = undefined;
  const target = targetOf(body);
  const bytes = decodeBase64Data(body.base64Data, maxBytes);
  return storeUpload(services, accountId, target, bytes);
}

// ---------------------------------------------------------------------------
// Routes.

const UploadResponse = Type.Object(
  {
    success: Type.Boolean(),
    code: Type.Integer({ examples: [200] }),
    msg: Type.String({ examples: ['File uploaded successfully'] }),
    data: Type.Object({
      success: Type.Boolean({ description: 'Always true, as KIE repeats it inside data' }),
      fileName: Type.String(),
      filePath: Type.String({ description: 'uploadPath/fileName; uploading to the same path again replaces it' }),
      downloadUrl: Type.String({ format: 'uri' }),
      fileUrl: Type.String({ format: 'uri' }),
      fileSize: Type.Integer(),
      mimeType: Type.String({ examples: ['audio/mpeg', 'audio/wav'] }),
      uploadedAt: Type.String({ format: 'date-time' }),
    }),
  },
  { description: 'The stored file; its URLs work until the upload retention ends' },
);

const common = {
  uploadPath: Type.String({ minLength: 1, maxLength: UPLOAD_PATH_MAX, description: 'Folder, e.g. "audio/songs": segments of A-Z a-z 0-9 . _ -' }),
  fileName: Type.Optional(Type.String({ maxLength: FILE_NAME_MAX, description: 'Without it a random name is chosen' })),
};

export function registerUploadRoutes(app: FastifyInstance, services: Services): void {
  const maxBytes = services.config.uploadMaxBytes;
  const slots = createUploadSlots({ perAccount: services.config.uploadsPerAccount, overall: services.config.uploadsMax });
  // After a burst of uploads, their dead chunks go back once it is over rather than at the next burst.
  const stopCollector = startBurstCollector({ quiet: () => slots.inFlight() === 0 });
  app.addHook('onClose', async () => stopCollector());

  // Multipart parsing only in this child context: the task routes keep accepting JSON alone.
  void app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: maxBytes, files: 4, fields: 32, fieldSize: 64 * 1024, parts: 40 } });
    scope.post(
      '/api/file-stream-upload',
      {
        schema: {
          tags: ['files'],
          summary: 'Upload an MP3 or WAV file (multipart: file, uploadPath, fileName?)',
          consumes: ['multipart/form-data'],
          response: { 200: UploadResponse },
        },
      },
      async (request) => {
        const account = accountOf(request);
        const release = slots.take(account.id);
        try {
          return await receiveMultipart(services, request, account.id, maxBytes);
        } finally {
          release();
        }
      },
    );
  });

  app.post(
    '/api/file-base64-upload',
    {
      // base64 is 4/3 of the file, plus room for the other fields.
      bodyLimit: Math.ceil((maxBytes * 4) / 3) + 64 * 1024,
      schema: {
        tags: ['files'],
        summary: 'Upload an MP3 or WAV file as base64',
        body: Type.Object({ base64Data: Type.String({ description: 'Raw base64 or a data:<type>;base64, URL' }), ...common }, { additionalProperties: true }),
        response: { 200: UploadResponse },
      },
    },
    async (request) => {
      // No upload slot: the body is parsed (and bounded by bodyLimit) before the handler runs, so
      // a slot would bound nothing; the slots guard the routes that stream or fetch.
      return storeBase64(services, request, accountOf(request).id, maxBytes);
    },
  );

  app.post(
    '/api/file-url-upload',
    {
      schema: {
        tags: ['files'],
        summary: 'Upload an MP3 or WAV file from a URL (30 s limit, SSRF-guarded)',
        body: Type.Object({ fileUrl: Type.String({ format: 'uri', maxLength: 2048 }), ...common }, { additionalProperties: true }),
        response: { 200: UploadResponse },
      },
    },
    async (request) => {
      const account = accountOf(request);
      const body = jsonObject(request.body);
      const target = targetOf(body);
      const fileUrl = checkFileUrl(body.fileUrl);
      const release = slots.take(account.id);
      try {
        const bytes = await fetchFile(services, fileUrl);
        return await storeUpload(services, account.id, target, bytes);
      } finally {
        release();
      }
    },
  );
}
