import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallbackHandler, CallbackResponse } from '../handler.js';
import { refusal } from '../handler.js';

class BodyTooLarge extends Error {}

/** Reads the raw body, at most `maxBytes`: the exact bytes are what was signed. */
export function readRawBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    function cleanup(): void {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
    }
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
  });
}

/** Sends the answer, then runs the handler once the answer has left (or the client went away). */
export function send(response: ServerResponse, result: CallbackResponse): void {
  let ran = false;
  const after = (): void => {
    if (ran) return;
    ran = true;
    void result.process();
  };
  response.once('finish', after);
  response.once('close', after);
  response.writeHead(result.status, result.headers);
  response.end(result.body);
}

/**
 * Verifies, validates, and answers one callback request. `preread` is a body
 * a framework has already read (Express's `express.raw()`); without it the
 * request stream is read here.
 */
export async function serveNode(handler: CallbackHandler, request: IncomingMessage, response: ServerResponse, preread?: Buffer | string): Promise<void> {
  if (request.method !== 'POST') {
    response.setHeader('allow', 'POST');
    send(response, refusal(405, 'method_not_allowed'));
    return;
  }
  let body: Buffer | string;
  if (preread !== undefined) {
    body = preread;
    if (Buffer.byteLength(body) > handler.maxBodyBytes) {
      send(response, refusal(413, 'body_too_large'));
      return;
    }
  } else {
    try {
      body = await readRawBody(request, handler.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        // Closing stops an oversized upload instead of reading it to the end.
        response.setHeader('connection', 'close');
        send(response, refusal(413, 'body_too_large'));
        request.resume();
        return;
      }
      throw error;
    }
  }
  send(response, await handler.handle({ headers: request.headers, body }));
}

/**
 * A `node:http` request listener: `http.createServer(toNodeListener(handler))`.
 * Every path is the callback path; route before calling it if you need more.
 */
export function toNodeListener(handler: CallbackHandler): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    serveNode(handler, request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, refusal(500, 'internal_error', error instanceof Error ? error : null));
      else response.destroy();
    });
  };
}
