import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { CallbackHandler } from '../handler.js';

/**
 * The parts of Fastify (4 and 5) the plugin uses, so the SDK needs neither
 * Fastify nor its types at run time.
 */
export interface FastifyRequestLike {
  headers: IncomingHttpHeaders;
  body: unknown;
}
export interface FastifyReplyLike {
  raw: ServerResponse;
  code(statusCode: number): FastifyReplyLike;
  headers(values: Record<string, string>): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}
export interface FastifyInstanceLike {
  removeContentTypeParser(contentType: string | string[]): unknown;
  addContentTypeParser(
    contentType: string | string[],
    options: { parseAs: 'buffer'; bodyLimit?: number },
    parser: (request: never, body: Buffer, done: (error: Error | null, body?: Buffer) => void) => void,
  ): unknown;
  post(path: string, handler: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>): unknown;
}

/**
 * A Fastify plugin serving the callback route:
 * `await app.register(toFastifyPlugin(handler, { path: '/callback' }))`.
 * Inside the plugin's own scope JSON bodies are kept as raw bytes (Fastify
 * would otherwise parse them and the signed bytes would be lost); the rest of
 * your app keeps its usual parser.
 */
export function toFastifyPlugin(handler: CallbackHandler, options: { path?: string } = {}): (instance: FastifyInstanceLike) => Promise<void> {
  const path = options.path ?? '/';
  return async (instance) => {
    instance.removeContentTypeParser(['application/json']);
    instance.addContentTypeParser(['application/json', '*'], { parseAs: 'buffer', bodyLimit: handler.maxBodyBytes }, (_request, body, done) =>
      done(null, body),
    );
    instance.post(path, async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : typeof request.body === 'string' ? request.body : Buffer.alloc(0);
      const result = await handler.handle({ headers: request.headers, body });
      let ran = false;
      const after = (): void => {
        if (ran) return;
        ran = true;
        void result.process();
      };
      reply.raw.once('finish', after);
      reply.raw.once('close', after);
      return reply.code(result.status).headers(result.headers).send(result.body);
    });
  };
}
