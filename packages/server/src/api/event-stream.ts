import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import type { Services } from '../services.js';

/**
 * Server-Sent Events as every reprise stream runs them: a cap per account (each open stream holds
 * a socket, a listener and timers), keep-alive comments so proxies keep the connection, and an
 * end when the client goes or the server stops (an open stream would otherwise keep app.close()
 * waiting for as long as its client stays connected).
 */
export interface EventStream {
  /** Writes one event; `data` is sent as JSON. */
  send(event: string, data: unknown): void;
  /** Ends the stream (once); what was registered with `onFinish` runs. */
  finish(): void;
  onFinish(cleanup: () => void): void;
}

export interface EventStreams {
  /**
   * Takes over the reply as an event stream, or throws a 429 ApiError (nothing sent yet) when
   * the account holds as many streams as it may.
   */
  open(request: FastifyRequest, reply: FastifyReply, accountId: string): EventStream;
}

export const HEARTBEAT_MS = 15_000;

/** One set of streams per app: every stream route of it shares the per-account cap and the ending at close. */
const byApp = new WeakMap<FastifyInstance, EventStreams>();

export function eventStreams(app: FastifyInstance, services: Services): EventStreams {
  const existing = byApp.get(app);
  if (existing) return existing;
  const open = new Set<() => void>();
  app.addHook('preClose', (done) => {
    for (const finish of open) finish();
    done();
  });
  const heldBy = new Map<string, number>();
  const max = services.config.eventStreamsPerAccount;

  const streams: EventStreams = {
    open(request, reply, accountId) {
      const held = heldBy.get(accountId) ?? 0;
      if (held >= max) throw new ApiError(429, `Too many event streams open: at most ${max} per account; close one or poll record-info instead`);
      heldBy.set(accountId, held + 1);

      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      const heartbeat = setInterval(() => out.write(': keep-alive\n\n'), HEARTBEAT_MS);
      const cleanups: Array<() => void> = [];
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        clearInterval(heartbeat);
        for (const cleanup of cleanups) cleanup();
        open.delete(finish);
        const left = (heldBy.get(accountId) ?? 1) - 1;
        if (left <= 0) heldBy.delete(accountId);
        else heldBy.set(accountId, left);
        out.end();
      };
      open.add(finish);
      // The response's 'close' is the connection's end. A client that left while the route was
      // still awaiting the store is gone already, and its 'close' has fired: end the stream now,
      // or its slot, timers and listeners would be held until the server stops.
      if (request.raw.socket.destroyed || out.destroyed) finish();
      else out.once('close', finish);
      return {
        send(event, data) {
          if (!finished) out.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        },
        finish,
        onFinish(cleanup) {
          if (finished) cleanup();
          else cleanups.push(cleanup);
        },
      };
    },
  };
  byApp.set(app, streams);
  return streams;
}
