import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { callbackLog, redeliverLatest } from '../callbacks/index.js';
import { ApiError } from '../errors.js';
import type { Services, TaskChange } from '../services.js';
import { TERMINAL_STATUSES } from '../tasks/index.js';
import { accountOf } from './auth.js';
import { ok } from './envelope.js';
import { eventStreams } from './event-stream.js';

const TaskParams = Type.Object({ taskId: Type.String() });
const EVENT_POLL_MS = 2000;

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

  // Shared with the account's feed (task-list.ts): one cap per account, every stream ended at close.
  const streams = eventStreams(app, services);

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
      const stream = streams.open(request, reply, accountId);
      const send = (status: string): void => {
        stream.send('status', { taskId, status });
        if ((TERMINAL_STATUSES as readonly string[]).includes(status)) stream.finish();
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
      services.events.on('task', onChange);
      stream.onFinish(() => {
        clearInterval(poll);
        services.events.off('task', onChange);
      });
      send(last);
    },
  );
}
