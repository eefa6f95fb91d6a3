import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import type { Services } from '../services.js';
import { BlobNotFoundError, type ByteRange } from '../storage/index.js';

/**
 * Serves every file reprise hands out (`audio_url`, `stream_audio_url`,
 * `image_url`, upload `downloadUrl`). The token in the URL is the capability:
 * no API key, and an unknown or expired token is a plain 404. One byte range is
 * honoured so players can seek (RFC 9110 §14); several ranges get the whole
 * file, which the RFC allows and which spares us multipart/byteranges.
 */

export type RangeResult = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

const FULL: RangeResult = { kind: 'full' };

/**
 * `Range` → what to send for a file of `size` bytes. A header that is absent,
 * in another unit, malformed or asks for several ranges is ignored (200 with
 * everything), as RFC 9110 §14.2 says an invalid Range must be.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return FULL;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return FULL;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return FULL;
  if (first === '') {
    // Suffix range: the last n bytes.
    const length = Number(last);
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return FULL;
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { kind: 'partial', start, end };
}

/** `filename*` (RFC 8187) for any name, plus a plain ASCII `filename` for old clients. */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
  return `inline; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** `abc…` or `abc….mp3` → the token; anything else cannot be one of ours. */
const TOKEN = /^([A-Za-z0-9_-]{32})(?:\.[A-Za-z0-9]{1,10})?$/;

const notFound = () => new ApiError(404, 'file: not found (unknown or expired)', 404);

/**
 * Longest life of a URL a redirect hands out (stores that serve blobs directly): long enough
 * for a player to fetch and seek, short enough that a leaked URL soon stops working. The token
 * stays the capability: each use of it gets a fresh URL.
 */
const DIRECT_URL_MAX_S = 15 * 60;

/** Headers a client may cache by: the file behind a token never changes. */
function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed === etag || trimmed === `W/${etag}`;
  });
}

export function registerFileRoutes(app: FastifyInstance, services: Services): void {
  async function serve(request: FastifyRequest, reply: FastifyReply, rawToken: string, named: boolean) {
    const token = TOKEN.exec(rawToken)?.[1];
    if (!token) throw notFound();
    const file = await services.store.db
      .selectFrom('files')
      .select(['blob_key', 'content_type', 'file_name', 'expires_at'])
      .where('id', '=', token)
      .executeTakeFirst();
    const now = Date.now();
    // Expired rows may wait for the sweeper; they are gone as far as clients can tell.
    if (!file || file.expires_at <= now) throw notFound();
    const size = await services.blobs.size(file.blob_key);
    if (size === null) throw notFound();

    const remainingS = Math.floor((file.expires_at - now) / 1000);
    const direct = await services.blobs.directUrl(file.blob_key, {
      contentType: file.content_type,
      contentDisposition: named ? contentDisposition(file.file_name) : null,
      // Never outliving the file: an expired file must stop being served there too.
      expiresInS: Math.max(1, Math.min(DIRECT_URL_MAX_S, remainingS)),
    });
    if (direct !== null) {
      // A new URL on every request: no cache may keep this answer. Range is the store's business now.
      reply.header('cache-control', 'no-store');
      return reply.redirect(direct, 302);
    }

    const etag = `"${token}-${size}"`;
    const notModified = etagMatches(request.headers['if-none-match'], etag);
    // A Range with an If-Range for another version gets the whole file (RFC 9110 §13.1.5).
    const ifRange = request.headers['if-range'];
    const range = ifRange !== undefined && ifRange !== etag ? FULL : parseRange(request.headers.range, size);
    const head = request.method === 'HEAD';
    const sendsBytes = !head && !notModified && (range.kind === 'partial' || (range.kind === 'full' && size > 0));
    // Opened before any header is set: a blob deleted since `size` is still a clean 404.
    const body = sendsBytes ? await openBlob(file.blob_key, range.kind === 'partial' ? range : undefined) : null;

    reply.header('content-type', file.content_type);
    reply.header('accept-ranges', 'bytes');
    reply.header('cache-control', `private, max-age=${Math.max(0, remainingS)}`);
    reply.header('etag', etag);
    // Uploads are checked to be audio, but a type that is never sniffed keeps it that way.
    reply.header('x-content-type-options', 'nosniff');
    if (named) reply.header('content-disposition', contentDisposition(file.file_name));

    if (notModified) return reply.code(304).send();
    if (range.kind === 'unsatisfiable') {
      reply.header('content-range', `bytes */${size}`);
      reply.header('content-type', 'application/json; charset=utf-8');
      return reply.code(416).send({ code: 416, msg: `Range: ${request.headers.range} cannot be satisfied for a file of ${size} bytes`, data: null });
    }
    if (range.kind === 'partial') {
      reply.code(206);
      reply.header('content-range', `bytes ${range.start}-${range.end}/${size}`);
      reply.header('content-length', range.end - range.start + 1);
      return body ? reply.send(body) : reply.send();
    }
    reply.header('content-length', size);
    return body ? reply.send(body) : reply.send();
  }

  async function openBlob(key: string, range: ByteRange | undefined) {
    try {
      return await services.blobs.stream(key, range);
    } catch (error) {
      if (error instanceof BlobNotFoundError) throw notFound();
      throw error;
    }
  }

  const schema = {
    tags: ['files'],
    summary: 'A file handed out by reprise: its URL is the capability (no key); HTTP Range supported',
    security: [],
  };
  // GET and HEAD share one handler: Fastify's automatic HEAD would read the whole blob to discard it.
  app.route({
    method: ['GET', 'HEAD'],
    url: '/files/:token',
    schema: { ...schema, params: Type.Object({ token: Type.String({ description: 'The token, optionally with an extension (abc….mp3)' }) }) },
    handler: (request, reply) => serve(request, reply, (request.params as { token: string }).token, false),
  });
  app.route({
    method: ['GET', 'HEAD'],
    url: '/files/:token/*',
    schema: {
      ...schema,
      params: Type.Object({ token: Type.String(), '*': Type.String({ description: '`stream`, or the file name (served as a named download)' }) }),
    },
    handler: (request, reply) => {
      const params = request.params as { token: string; '*': string };
      const rest = params['*'];
      return serve(request, reply, params.token, rest !== 'stream' && rest !== '');
    },
  });
}
