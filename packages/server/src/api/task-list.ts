import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ApiError, invalid } from '../errors.js';
import type { Services, TaskChange } from '../services.js';
import type { TaskStatus } from '../store/index.js';
import { accountFeed } from '../tasks/account-feed.js';
import { KIND_NAMES, TASK_STATUSES, type TaskFilter, taskPage, taskView } from '../tasks/listing.js';
import { accountOf } from './auth.js';
import { ok } from './envelope.js';
import { eventStreams } from './event-stream.js';
import { nextCursor, PageQuery, parsePage } from './paging.js';
import { envelope, nullable } from './schemas.js';

/** The console's task list, one task, and the account's live feed [EXT] (docs/api.md "Console API"). */

/** How often a feed looks at the store: changes made by other processes reach it this way (as the per-task stream does). */
const FEED_POLL_MS = 2000;

const TaskSummarySchema = Type.Object({
  taskId: Type.String(),
  kind: Type.String({ enum: [...KIND_NAMES], description: 'The task kind’s registry name' }),
  type: Type.String(),
  status: Type.String({ enum: [...TASK_STATUSES] }),
  createTime: Type.Integer({ description: 'epoch ms' }),
  completeTime: nullable(Type.Integer({ description: 'epoch ms' })),
  callBackUrl: nullable(Type.String()),
  errorCode: nullable(Type.Integer()),
  errorMessage: nullable(Type.String()),
  simulated: Type.Boolean({ description: 'A sandbox account’s task: paid with play money, run as its scenario says (an outcome of succeed renders for real)' }),
  recordInfoUrl: Type.String({ description: 'Path (with ?taskId=) of the kind’s own KIE details route' }),
});

const TaskViewSchema = Type.Composite([
  TaskSummarySchema,
  Type.Object({
    param: Type.Object({}, { additionalProperties: true, description: 'The request body as received' }),
    tracks: Type.Array(
      Type.Object({
        id: Type.String(),
        audioUrl: Type.String(),
        imageUrl: Type.String(),
        duration: Type.Number(),
        title: Type.String(),
        appliedRange: nullable(Type.Object({ start: Type.Number(), end: Type.Number() })),
      }),
    ),
    sourceUrl: nullable(Type.String({ description: 'The audio the task read, while reprise still serves it' })),
  }),
]);

const ListQuery = Type.Object({
  ...PageQuery,
  kind: Type.Optional(Type.String({ enum: [...KIND_NAMES] })),
  status: Type.Optional(Type.String({ enum: [...TASK_STATUSES] })),
});

/** `?kind=&status=` → the filter, or a 422 naming the allowed values. */
export function parseTaskFilter(query: { kind?: unknown; status?: unknown }): TaskFilter {
  const filter: TaskFilter = {};
  if (query.kind !== undefined && query.kind !== '') {
    if (typeof query.kind !== 'string' || !KIND_NAMES.includes(query.kind)) throw invalid('kind', `must be one of ${KIND_NAMES.join(', ')}`);
    filter.kind = query.kind;
  }
  if (query.status !== undefined && query.status !== '') {
    if (typeof query.status !== 'string' || !(TASK_STATUSES as readonly string[]).includes(query.status)) {
      throw invalid('status', `must be one of ${TASK_STATUSES.join(', ')}`);
    }
    filter.status = query.status as TaskStatus;
  }
  return filter;
}

export function registerTaskListRoutes(app: FastifyInstance, services: Services): void {
  const db = services.store.db;

  app.get(
    '/api/v1/tasks',
    {
      schema: {
        tags: ['console'],
        summary: '[reprise extension] The account’s tasks, newest first',
        querystring: ListQuery,
        response: { 200: envelope(Type.Object({ tasks: Type.Array(TaskSummarySchema), nextCursor: nullable(Type.String()) }), 'A page of tasks') },
      },
    },
    async (request) => {
      const query = request.query as Record<string, unknown>;
      const filter = parseTaskFilter(query);
      const page = parsePage(query);
      const rows = await taskPage(db, accountOf(request).id, filter, page.limit, page.after);
      const shown = nextCursor(rows, page.limit, (task) => ({ at: task.createTime, id: task.taskId }));
      return ok({ tasks: shown.rows, nextCursor: shown.nextCursor });
    },
  );

  const streams = eventStreams(app, services);
  app.get(
    '/api/v1/tasks/feed',
    {
      schema: {
        tags: ['console'],
        summary:
          '[reprise extension] Server-Sent Events of every status change of the account’s tasks (`event: task`, `data`: the task summary); new tasks appear as they are created',
      },
    },
    async (request, reply) => {
      const accountId = accountOf(request).id;
      const feed = accountFeed(db, accountId);
      // Learns the present before the stream opens: only what changes from here on is sent.
      await feed.changes();
      const stream = streams.open(request, reply, accountId);
      let looking = false;
      let again = false;
      const look = async (): Promise<void> => {
        if (looking) {
          again = true;
          return;
        }
        looking = true;
        try {
          do {
            again = false;
            for (const task of await feed.changes()) stream.send('task', task);
          } while (again);
        } catch (error) {
          // The next look tries again; a store that stays unreachable is reported by /readyz.
          request.log.warn({ err: error }, 'task feed could not read the store');
        } finally {
          looking = false;
        }
      };
      // A change made in this process is sent at once; the store is still what says what changed.
      const onChange = (change: TaskChange): void => {
        if (feed.watches(change.taskId)) void look();
      };
      const poll = setInterval(() => void look(), FEED_POLL_MS);
      services.events.on('task', onChange);
      stream.onFinish(() => {
        clearInterval(poll);
        services.events.off('task', onChange);
      });
      reply.raw.write(': ready\n\n');
    },
  );

  app.get(
    '/api/v1/tasks/:taskId',
    {
      schema: {
        tags: ['console'],
        summary: '[reprise extension] One task with its request, tracks and source audio',
        params: Type.Object({ taskId: Type.String() }),
        response: { 200: envelope(TaskViewSchema, 'The task') },
      },
    },
    async (request) => {
      const { taskId } = request.params as { taskId: string };
      const task = await taskView(db, accountOf(request).id, taskId, services.config.publicUrl);
      // Another account's task answers as an unknown one (SPEC §1).
      if (!task) throw new ApiError(404, `taskId: no task ${taskId} for this account`);
      return ok(task);
    },
  );
}
