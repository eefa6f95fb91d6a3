import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallbackHandler } from '../handler.js';
import { refusal } from '../handler.js';
import { send, serveNode } from './node.js';

type ExpressRequestLike = IncomingMessage & { body?: unknown };
type Next = (error?: unknown) => void;

const PARSED_BODY =
  'the raw body is gone: express.json() (or another parser) ran before the callback route. ' +
  'Mount the callback route before express.json(), or give it express.raw({ type: "application/json" })';

/**
 * Express middleware (Express 4 and 5): `app.post('/callback', toExpressMiddleware(handler))`.
 * Works mounted before `express.json()` (it reads the raw stream itself) or
 * behind `express.raw()`/`express.text()` (it uses their Buffer or string).
 * Behind `express.json()` the signed bytes are lost; it answers 500 and says so
 * rather than failing every signature.
 */
export function toExpressMiddleware(handler: CallbackHandler): (request: ExpressRequestLike, response: ServerResponse, next?: Next) => void {
  return (request, response, next) => {
    const parsed = request.body;
    let preread: Buffer | string | undefined;
    if (Buffer.isBuffer(parsed) || typeof parsed === 'string') preread = parsed;
    else if (parsed !== undefined && parsed !== null && request.readableEnded) {
      const error = new Error(PARSED_BODY);
      if (next) next(error);
      else send(response, refusal(500, 'raw_body_unavailable', error));
      return;
    }
    serveNode(handler, request, response, preread).catch((error: unknown) => {
      if (next) next(error);
      else if (!response.headersSent) send(response, refusal(500, 'internal_error'));
    });
  };
}
