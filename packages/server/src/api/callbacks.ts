import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callbackLog, redeliverLatest } from '../callbacks/index.js';
import { ApiError } from '../errors.js';
import type { Services, TaskChange } from '../services.js';
import { TERMINAL_STATUSES } from '../tasks/index.js';
import { accountOf } from './auth.js';
import { ok } from './envelope.js';

const TaskParams = Type.Object({ taskId: Type.String() });
const EVENT_POLL_MS = 2000;
const HEARTBEAT_MS = 15_000;

/** The delivery log, redelivery, and task events for clients that can neither receive callbacks nor poll comfortably (SPEC §5.5). */
export function registerCallbackRoutes(app: FastifyInstance, services: Services): void {
  const db = services.store.db;

  app.get(
    '/api/v1/tasks/:taskId/callbacks',
    { schema: { tags: ['callbacks'], summary: 'Every callback of a task with its attempts', params: TaskParams } },
    async (request) => {
      const { taskId } = request.params as { taskId: string };
      return ok(await callbackLog(db, accountOf(request).id, taskId));
    },
  );

  app.post(
    '/api/v1/tasks/:taskId/callbacks/redeliver',
    { schema: { tags: ['callbacks'], summary: 'Send the latest callback again (same webhook-id)', params: TaskParams } },
    async (request) => {
      const { taskId } = request.params as { taskId: string };
      const deliveryId = await redeliverLatest(db, accountOf(request).id, taskId);
      services.events.emit('redeliver', deliveryId);
      return ok({ deliveryId });
    },
  );

  // A stopping server ends the event streams it holds: an open stream would otherwise keep
  // app.close() waiting for as long as its client stays connected.
  const openStreams = new Set<() => void>();
  app.addHook('preClose', (done) => {
    for (const finish of openStreams) finish();
    done();
  });

  // Each open stream holds a socket, a listener and two timers: an account may hold only so many.
  const streamsByAccount = new Map<string, number>();
  const maxStreams = services.config.eventStreamsPerAccount;

  app.get(
    '/api/v1/tasks/:taskId/events',
    { schema: { tags: ['callbacks'], summary: 'Server-Sent Events of the task’s status changes', params: TaskParams } },
    async (request, reply) => {
      const { taskId } = request.params as { taskId: string };
      const accountId = accountOf(request).id;
      const current = async () =>
        (await db.selectFrom('tasks').select('status').where('id', '=', taskId).where('account_id', '=', accountId).executeTakeFirst())?.status;
      let last = await current();
      if (!last) throw new ApiError(404, `taskId: no task ${taskId} for this account`);
      const held = streamsByAccount.get(accountId) ?? 0;
      if (held >= maxStreams) {
        throw new ApiError(429, `Too many event streams open: at most ${maxStreams} per account; close one or poll record-info instead`);
      }
      streamsByAccount.set(accountId, held + 1);

      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      const send = (status: string): void => {
        out.write(`event: status\ndata: ${JSON.stringify({ taskId, status })}\n\n`);
        if ((TERMINAL_STATUSES as readonly string[]).includes(status)) finish();
      };
      const onChange = (change: TaskChange): void => {
        if (change.taskId !== taskId || change.status === last) return;
        last = change.status;
        send(change.status);
      };
      // Changes made by other processes reach this one only through the store.
      const poll = setInterval(async () => {
        const status = await current().catch(() => undefined);
        if (status && status !== last) {
          last = status;
          send(status);
        }
      }, EVENT_POLL_MS);
      const heartbeat = setInterval(() => out.write(': keep-alive\n\n'), HEARTBEAT_MS);
      let finished = false;
      function finish(): void {
        if (finished) return;
        finished = true;
        clearInterval(poll);
        clearInterval(heartbeat);
        services.events.off('task', onChange);
        openStreams.delete(finish);
        const left = (streamsByAccount.get(accountId) ?? 1) - 1;
        if (left <= 0) streamsByAccount.delete(accountId);
        else streamsByAccount.set(accountId, left);
        out.end();
      }
      openStreams.add(finish);
      services.events.on('task', onChange);
      request.raw.once('close', finish);
      send(last);
    },
  );
}
