import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import type { Services } from '../services.js';
import { FAMILIES, type Family, findOwnTask, inMarketTerms, KINDS, kindOf, marketRecord, parseMarket, type SubmitContext, submitKind } from '../tasks/index.js';
import { accountOf } from './auth.js';
import { ok } from './envelope.js';
import { detailsResponse, MarketRecordResponse, MarketTaskResponse, TaskIdResponse } from './schemas.js';

export function submitContext(services: Services): SubmitContext {
  return {
    store: services.store,
    blobs: services.blobs,
    publicUrl: services.config.publicUrl,
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

function taskIdQuery(request: FastifyRequest): string {
  const { taskId } = request.query as { taskId?: unknown };
  if (typeof taskId !== 'string' || taskId === '') throw new ApiError(422, 'taskId: is required as a query parameter');
  return taskId;
}

const TaskIdQuery = Type.Object({ taskId: Type.String({ description: 'The taskId returned at submission' }) });

/**
 * Every task kind's route (both KIE API generations) and every family's details route, from
 * the registry: a new kind needs no change here.
 */
export function registerTaskRoutes(app: FastifyInstance, services: Services): void {
  const context = submitContext(services);
  const { db } = services.store;
  const publicUrl = services.config.publicUrl;

  for (const kind of KINDS) {
    if (!kind.route) continue;
    app.post(
      kind.route.path,
      { schema: { tags: ['tasks'], summary: kind.route.summary, body: kind.route.body, response: { 200: TaskIdResponse } } },
      async (request) => {
        refuseWhileDraining(services);
        return ok({ taskId: await submitKind(context, kind, accountOf(request), request.body, rawBodyOf(request)) });
      },
    );
  }

  app.post(
    '/api/v1/jobs/createTask',
    {
      schema: {
        tags: ['tasks'],
        summary: `Create a task in KIE's Market form: model ${KINDS.map((kind) => kind.market).join(', ')}`,
        body: Type.Object({ model: Type.String(), callBackUrl: Type.Optional(Type.String()), input: Type.Object({}, { additionalProperties: true }) }),
        response: { 200: MarketTaskResponse },
      },
    },
    async (request) => {
      refuseWhileDraining(services);
      const market = parseMarket(request.body);
      try {
        const taskId = await submitKind(context, market.kind, accountOf(request), market.body, rawBodyOf(request));
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
    return family.details(db, task, publicUrl, kind);
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
      return ok(await marketRecord(db, task, publicUrl));
    },
  );
}
