import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KINDS, TERMINAL_STATUSES } from '../tasks/index.js';

/**
 * The web console: plain ES modules and a stylesheet from `packages/console/`, served as they
 * are (no build step). The folder sits two levels above this module both in `src/api/` and in
 * `dist/api/`, so a checkout serves it after `npm run build` and under `tsx` alike.
 */
const CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../console');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
};

/**
 * The console fetches only this origin; media (file URLs) may live on the public URL's host.
 * No inline script or style: a value shown on a page can never run.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: http: https:; media-src 'self' blob: http: https:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

interface ConsoleFile {
  body: Buffer;
  contentType: string;
  etag: string;
}

/** Every servable file of the folder (by extension), read once: the set is fixed for the process's life. */
export function loadConsoleFiles(dir: string = CONSOLE_DIR): Map<string, ConsoleFile> {
  const files = new Map<string, ConsoleFile>();
  if (!fs.existsSync(dir)) return files;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const contentType = CONTENT_TYPES[path.extname(entry.name)];
    if (!entry.isFile() || !contentType) continue;
    const full = path.join(entry.parentPath, entry.name);
    const body = fs.readFileSync(full);
    const relative = path.relative(dir, full).split(path.sep).join('/');
    files.set(relative, { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return files;
}

/** What the console's filters offer, from the registry itself so the two cannot drift apart. */
function metaFile(): ConsoleFile {
  const body = Buffer.from(
    JSON.stringify({ kinds: KINDS.map((kind) => kind.name), statuses: ['PENDING', 'TEXT_SUCCESS', 'FIRST_SUCCESS', ...TERMINAL_STATUSES] }),
  );
  return { body, contentType: CONTENT_TYPES['.json']!, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** Revalidated on every load (ETag → 304), so an upgraded server never runs a stale page against a new API. */
function send(request: FastifyRequest, reply: FastifyReply, file: ConsoleFile): FastifyReply {
  reply.headers({ ...SECURITY_HEADERS, 'cache-control': 'no-cache', etag: file.etag });
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  return reply.type(file.contentType).send(file.body);
}

/** `/console` and its files; public (the pages sign in with an API key kept in the tab). */
export function registerConsoleRoutes(app: FastifyInstance, dir?: string): void {
  const files = loadConsoleFiles(dir);
  files.set('meta.json', metaFile());
  const missing = (reply: FastifyReply) =>
    reply
      .code(404)
      .type('text/plain; charset=utf-8')
      .send(files.has('index.html') ? 'Not found' : 'The console files are not installed next to this server (packages/console is missing).');

  app.get('/console', { schema: { hide: true } }, (_request, reply) => reply.redirect('/console/'));
  app.get('/console/*', { schema: { hide: true } }, (request, reply) => {
    const name = (request.params as { '*': string })['*'] || 'index.html';
    const file = files.get(name);
    return file ? send(request, reply, file) : missing(reply);
  });
}
