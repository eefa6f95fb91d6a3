import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Config } from '../config.js';
import type { Services } from '../services.js';
import { registerAccountRoutes } from './account.js';
import { authenticate } from './auth.js';
import { registerCallbackRoutes } from './callbacks.js';
import { registerConsoleRoutes } from './console.js';
import { registerCreditRoutes } from './credits.js';
import { registerErrorHandling, registerJsonParser } from './errors.js';
import { registerFileRoutes } from './files.js';
import { registerInboxReceiver, registerInboxRoutes } from './inbox.js';
import { registerMetrics } from './metrics.js';
import { registerOpsRoutes } from './ops.js';
import { registerPeaksRoutes } from './peaks.js';
import { registerSandboxRoutes } from './sandbox.js';
import { registerSyncRoutes } from './sync.js';
import { registerTaskListRoutes } from './task-list.js';
import { registerTaskRoutes } from './tasks.js';
import { registerUploadRoutes } from './uploads.js';

export interface AppOptions {
  logger?: boolean;
}

/**
 * Slow clients hold a socket and a request's memory for as long as they like unless cut off:
 * headers and the whole request (a body trickled a byte at a time included) get deadlines, and
 * a silent connection is closed. Node checks the first two on a timer; it runs often enough here
 * that a deadline is met within a quarter of the shorter one (30 s at most, Node's own default).
 */
function slowClientLimits(timeouts: Config['httpTimeouts']) {
  const checkEveryMs = Math.max(250, Math.min(30_000, Math.floor(Math.min(timeouts.headersMs, timeouts.requestMs) / 4)));
  return {
    requestTimeout: timeouts.requestMs,
    connectionTimeout: timeouts.idleMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    // Node refuses a headers timeout longer than the request timeout.
    http: { headersTimeout: Math.min(timeouts.headersMs, timeouts.requestMs), connectionsCheckingInterval: checkEveryMs },
  };
}

/** Fastify as every reprise process runs it: its logger, body limits and the KIE error envelope. */
function createFastify(services: Services, options: AppOptions): FastifyInstance {
  const app = Fastify({
    logger: options.logger === false ? false : { level: services.config.logLevel },
    // Per-request access logs cost about a third of throughput; /metrics covers requests instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: services.config.jsonBodyMaxBytes,
    ...slowClientLimits(services.config.httpTimeouts),
    // Bodies are checked by the task domain's validators, which give KIE-style
    // `field: rule` messages; the schemas only document and serialise.
    ajv: { customOptions: { strict: false } },
    // While a stopping process closes, a request still reaching it (a kept-alive connection, a
    // balancer that has not yet seen /readyz fail) is served as during draining: reads answered,
    // new tasks 455 (SPEC §1), which clients retry. Fastify's own 503 would be outside KIE's envelope.
    return503OnClosing: false,
  });
  registerErrorHandling(app, services.config.httpStatusMirrorsCode);
  return app;
}

/** The HTTP API: KIE-compatible routes under /api, files, operations, docs (the `api` role). */
export async function buildApp(services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = createFastify(services, options);
  app.setValidatorCompiler(() => (data) => ({ value: data }));
  app.decorateRequest('account', null);
  registerJsonParser(app, services.config.jsonBodyMaxBytes);

  await app.register(swagger, {
    openapi: {
      info: { title: 'reprise', description: 'KIE.AI-compatible music task service', version: '0.1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  registerMetrics(app, services);
  registerOpsRoutes(app, services);
  registerFileRoutes(app, services);
  await registerInboxReceiver(app, services);
  registerConsoleRoutes(app);

  await app.register(async (api) => {
    api.addHook('onRequest', authenticate(services));
    registerTaskRoutes(api, services);
    registerSyncRoutes(api, services);
    registerCreditRoutes(api, services);
    registerUploadRoutes(api, services);
    registerCallbackRoutes(api, services);
    registerInboxRoutes(api, services);
    registerSandboxRoutes(api, services);
    registerAccountRoutes(api, services);
    registerTaskListRoutes(api, services);
    registerPeaksRoutes(api, services);
  });
  return app;
}

/**
 * A process without the `api` role (a worker, a dispatcher) still listens, for its orchestrator
 * only: health, readiness and metrics. Every other path, the API's included, is a plain 404.
 */
export async function buildOpsApp(services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = createFastify(services, options);
  registerMetrics(app, services);
  registerOpsRoutes(app, services);
  return app;
}
