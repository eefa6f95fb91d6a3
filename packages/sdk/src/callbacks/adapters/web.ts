import type { CallbackHandler } from '../handler.js';
import { refusal } from '../handler.js';

export interface WebHandlerOptions {
  /**
   * Keeps the platform alive until your handler finishes after the response:
   * Next.js `after` (from 'next/server'), Vercel's `waitUntil`, a Cloudflare
   * `ctx.waitUntil`. Without it the handler runs on the event loop, which is
   * right for a long-lived Node server.
   */
  waitUntil?: (promise: Promise<unknown>) => void;
}

async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array | null> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) return null;
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/**
 * A web-standard handler, `(request: Request) => Promise<Response>`: Next.js
 * route handlers (`export const POST = toWebHandler(handler)`), Hono, Bun,
 * Deno, Cloudflare Workers. Reads the raw body itself — do not call
 * `request.json()` first.
 */
export function toWebHandler(handler: CallbackHandler, options: WebHandlerOptions = {}): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'POST') {
      const refused = refusal(405, 'method_not_allowed');
      return new Response(refused.body, { status: refused.status, headers: { ...refused.headers, allow: 'POST' } });
    }
    const body = await readLimited(request, handler.maxBodyBytes);
    const result = body === null ? refusal(413, 'body_too_large') : await handler.handle({ headers: request.headers, body });
    const response = new Response(result.body, { status: result.status, headers: result.headers });
    if (result.outcome === 'accepted') {
      // The response is returned first; the handler starts on a later turn of the event loop.
      const later = new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => result.process());
      options.waitUntil?.(later);
    }
    return response;
  };
}
