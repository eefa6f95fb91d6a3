import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import type { Services } from '../services.js';
import { getTaskRecord, type SubmitContext, submitGenerate, submitReplaceSection } from '../tasks/index.js';
import { accountOf } from './auth.js';
import { ok } from './envelope.js';
import { GenerateBody, RecordInfoResponse, ReplaceSectionBody, TaskIdResponse } from './schemas.js';

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

export function registerTaskRoutes(app: FastifyInstance, services: Services): void {
  const context = submitContext(services);

  app.post(
    '/api/v1/generate/replace-section',
    { schema: { tags: ['tasks'], summary: 'Replace a section of a song', body: ReplaceSectionBody, response: { 200: TaskIdResponse } } },
    async (request) => {
      refuseWhileDraining(services);
      const taskId = await submitReplaceSection(context, accountOf(request), request.body, request.rawBody ?? JSON.stringify(request.body));
      return ok({ taskId });
    },
  );

  app.post(
    '/api/v1/generate',
    { schema: { tags: ['tasks'], summary: 'Generate two songs', body: GenerateBody, response: { 200: TaskIdResponse } } },
    async (request) => {
      refuseWhileDraining(services);
      const taskId = await submitGenerate(context, accountOf(request), request.body, request.rawBody ?? JSON.stringify(request.body));
      return ok({ taskId });
    },
  );

  app.get(
    '/api/v1/generate/record-info',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Get a task (polling)',
        querystring: Type.Object({ taskId: Type.String({ description: 'The taskId returned at submission' }) }),
        response: { 200: RecordInfoResponse },
      },
    },
    async (request) => {
      const { taskId } = request.query as { taskId?: unknown };
      if (typeof taskId !== 'string' || taskId === '') throw new ApiError(422, 'taskId: is required as a query parameter');
      return ok(await getTaskRecord(services.store.db, accountOf(request).id, taskId, services.config.publicUrl));
    },
  );
}
