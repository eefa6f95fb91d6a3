import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { ApiError } from '../errors.js';

/**
 * The HTTP status of an envelope with this code (SPEC §1). api.kie.ai answers HTTP 200 for
 * business outcomes and puts the outcome in `code` (recorded: a missing callBackUrl is HTTP 200
 * with code 422), and several KIE clients throw on any non-2xx before reading the body; only
 * 401, 413, 429 and 5xx keep their status. `mirror` [EXT] puts every code into the status.
 */
export function httpStatusFor(code: number, mirror: boolean): number {
  if (mirror || code === 401 || code === 413 || code === 429 || code >= 500) return code;
  return 200;
}

/**
 * Every failure leaves as the KIE envelope (SPEC §1). Internal details are logged, never sent.
 */
export function registerErrorHandling(app: FastifyInstance, mirror: boolean): void {
  // Serialised by hand: a refusal leaves with HTTP 200 like a success, and must not be shaped by the route's success schema.
  const send = (reply: FastifyReply, code: number, msg: string, status = httpStatusFor(code, mirror), data: unknown = null) =>
    reply.code(status).type('application/json; charset=utf-8').serializer(JSON.stringify).send({ code, msg, data });
  app.setErrorHandler((error: FastifyError | ApiError | Error, request, reply) => {
    if (error instanceof ApiError) return send(reply, error.code, error.message, error.httpStatus, error.data);
    const fastifyError = error as FastifyError;
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fastifyError.statusCode === 413) {
      return send(reply, 413, 'body: payload too large');
    }
    if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || fastifyError.statusCode === 415) {
      return send(reply, 400, `Content-Type: ${request.headers['content-type'] ?? '(none)'} is not accepted here; send application/json`);
    }
    if (fastifyError.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return send(reply, 400, 'body: empty, expected a JSON object');
    }
    if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      return send(reply, 400, fastifyError.message);
    }
    request.log.error({ err: error }, 'unhandled error');
    return send(reply, 500, 'Server Error - an unexpected error occurred, please try again later');
  });
  // An unknown route is a transport matter, not a business outcome: a real 404.
  app.setNotFoundHandler((request, reply) => send(reply, 404, `Not found: ${request.method} ${request.url.split('?')[0]}`, 404));
}

/**
 * JSON bodies are kept as received (record-info `param` echoes them) and parsed
 * here so a malformed body is a precise 400 rather than a generic one.
 */
export function registerJsonParser(app: FastifyInstance, bodyLimit: number): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (request, body, done) => {
    const text = body as string;
    (request as { rawBody?: string }).rawBody = text;
    if (text.trim() === '') return done(new ApiError(400, 'body: empty, expected a JSON object'), undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(new ApiError(400, `body: malformed JSON (${(error as Error).message})`), undefined);
    }
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
}
