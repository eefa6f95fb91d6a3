import type { FastifyError, FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';

/**
 * Every failure leaves as the KIE envelope with HTTP status = code (SPEC §1).
 * Internal details are logged, never sent.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | ApiError | Error, request, reply) => {
    if (error instanceof ApiError) {
      return reply.code(error.code).send({ code: error.code, msg: error.message, data: null });
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fastifyError.statusCode === 413) {
      return reply.code(413).send({ code: 413, msg: 'body: payload too large', data: null });
    }
    if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || fastifyError.statusCode === 415) {
      return reply
        .code(400)
        .send({ code: 400, msg: `Content-Type: ${request.headers['content-type'] ?? '(none)'} is not accepted here; send application/json`, data: null });
    }
    if (fastifyError.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      return reply.code(400).send({ code: 400, msg: 'body: empty, expected a JSON object', data: null });
    }
    if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      return reply.code(400).send({ code: 400, msg: fastifyError.message, data: null });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ code: 500, msg: 'Server Error - an unexpected error occurred, please try again later', data: null });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ code: 404, msg: `Not found: ${request.method} ${request.url.split('?')[0]}`, data: null }));
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
