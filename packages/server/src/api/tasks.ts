import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import { markedIfSimulated } from '../sandbox/index.js';
import type { Services } from '../services.js';
import { type KeyedRequest, parseIdempotencyKey, requestFingerprint } from '../tasks/idempotency.js';
import {
  FAMILIES,
  type Family,
  findOwnTask,
  inMarketTerms,
  KINDS,
  kindOf,
  marketRecord,
  parseMarket,
  type Submission,
  type SubmitContext,
  submitKindOnce,
} from '../tasks/index.js';
import { accountOf } from './auth.js';
import { ok } from './envelope.js';
import { detailsResponse, IdempotencyHeaders, MarketRecordResponse, MarketTaskResponse, TaskIdResponse } from './schemas.js';

export function submitContext(services: Services): SubmitContext {
  return {
    store: services.store,
    blobs: services.blobs,
    // Read when used: with PORT=0 the URL gets its port only once the server listens.
    get publicUrl() {
      return services.config.publicUrl;
    },
    outbound: services.outbound,
    uploadMaxBytes: services.config.uploadMaxBytes,
    config: services.config,
    onSubmitted: (taskId) => services.events.emit('submitted', taskId),
  };
}

/** SPEC §1: while draining, no new task is taken. */
function refuseWhileDraining(services: Services): void {
  if (services.draining) throw new ApiError(455, 'Service is under maintenance (shutting down): please retry shortly');
}

const rawBodyOf = (request: FastifyRequest) => request.rawBody ?? JSON.stringify(request.body);

/**
 * The request's Idempotency-Key [EXT], checked (a bad one is a 422 before anything is looked up),
 * with what a retry must match: the route and the body as parsed, canonically written.
 */
function idempotencyOf(request: FastifyRequest, route: string): KeyedRequest | undefined {
  const key = parseIdempotencyKey(request.headers['idempotency-key']);
  return key === undefined ? undefined : { key, fingerprint: requestFingerprint(route, request.body) };
}

/** A retry answered with the first request's task says so, as other APIs with this header do. */
function markReplay(reply: FastifyReply, submission: Submission): string {
  if (submission.replayed) reply.header('idempotent-replayed', 'true');
  return submission.taskId;
}

function taskIdQuery(request: FastifyRequest): string {
  const { taskId } = request.query as { taskId?: unknown };
  if (typeof taskId !== 'string' || taskId === '') throw new ApiError(422, 'taskId: is required as a query parameter');
  return taskId;
}

const MARKET_ROUTE = '/api/v1/jobs/createTask';

const TaskIdQuery = Type.Object({ taskId: Type.String({ description: 'The taskId returned at submission' }) });

/**
 * Every task kind's route (both KIE API generations) and every family's details route, from
 * the registry: a new kind needs no change here.
 */
export function registerTaskRoutes(app: FastifyInstance, services: Services): void {
  const context = submitContext(services);
  const { db } = services.store;

  for (const kind of KINDS) {
    const route = kind.route;
    if (!route) continue;
    app.post(
      route.path,
      { schema: { tags: ['tasks'], summary: route.summary, headers: IdempotencyHeaders, body: route.body, response: { 200: TaskIdResponse } } },
      async (request, reply) => {
        refuseWhileDraining(services);
        const idempotency = idempotencyOf(request, route.path);
        const submission = await submitKindOnce(context, kind, accountOf(request), request.body, rawBodyOf(request), idempotency);
        return ok({ taskId: markReplay(reply, submission) });
      },
    );
  }

  app.post(
    MARKET_ROUTE,
    {
      schema: {
        tags: ['tasks'],
        summary: `Create a task in KIE's Market form: model ${KINDS.map((kind) => kind.market).join(', ')}`,
        headers: IdempotencyHeaders,
        body: Type.Object({ model: Type.String(), callBackUrl: Type.Optional(Type.String()), input: Type.Object({}, { additionalProperties: true }) }),
        response: { 200: MarketTaskResponse },
      },
    },
    async (request, reply) => {
      refuseWhileDraining(services);
      const idempotency = idempotencyOf(request, MARKET_ROUTE);
      const market = parseMarket(request.body);
      try {
        const submission = await submitKindOnce(context, market.kind, accountOf(request), market.body, rawBodyOf(request), idempotency);
        const taskId = markReplay(reply, submission);
        return ok({ taskId, recordId: taskId });
      } catch (error) {
        // The kind's rules name camelCase fields; this client wrote them in `input`, in snake case.
        throw inMarketTerms(error);
      }
    },
  );

  /** A family's details show only its own kinds: anything else reads as unknown, as on KIE's separate tables. */
  const detailsOf = async (family: Family, accountId: string, taskId: string) => {
    const task = await findOwnTask(db, accountId, taskId);
    const kind = task ? kindOf(task.input) : null;
    if (!task || !kind || kind.family !== family) return null;
    return markedIfSimulated(task, await family.details(db, task, services.config.publicUrl, kind));
  };

  for (const family of FAMILIES) {
    if (!family.detailsPath) continue;
    app.get(
      family.detailsPath,
      {
        schema: {
          tags: ['tasks'],
          summary: `Get a ${family.name} task (polling)`,
          querystring: TaskIdQuery,
          response: { 200: detailsResponse(family.detailsSchema) },
        },
      },
      async (request) => ok(await detailsOf(family, accountOf(request).id, taskIdQuery(request))),
    );
  }

  app.get(
    '/api/v1/jobs/recordInfo',
    { schema: { tags: ['tasks'], summary: 'Get any task in the Market form (polling)', querystring: TaskIdQuery, response: { 200: MarketRecordResponse } } },
    async (request) => {
      const task = await findOwnTask(db, accountOf(request).id, taskIdQuery(request));
      // KIE documents this answer for an unknown task on the Market route.
      if (!task) throw new ApiError(422, 'recordInfo is null');
      return ok(markedIfSimulated(task, await marketRecord(db, task, services.config.publicUrl)));
    },
  );
}
