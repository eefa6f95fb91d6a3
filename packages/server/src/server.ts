import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { forgetCachedKeys } from './accounts/index.js';
import { buildApp, buildOpsApp } from './api/app.js';
import { createDispatcher, type Dispatcher } from './callbacks/dispatcher.js';
import type { Config } from './config.js';
import { removeOrphanedScratch } from './engine/scratch.js';
import { checkEngine, checkMp3Encoder, type EngineSpec } from './engine/spec.js';
import { startRetentionSweeper } from './files/index.js';
import { type FleetRecord, joinFleet } from './fleet-config.js';
import { localDelivery } from './inbox/index.js';
import { createOutboundClient } from './outbound/index.js';
import { describeRoles } from './roles.js';
import { createEvents, type Services, type TaskChange } from './services.js';
import { openBlobStore } from './storage/index.js';
import { openStore } from './store/index.js';
import { createNotifier, type Notifier } from './store/notify.js';
import type { LifecycleContext } from './tasks/index.js';
import { createRenderPool, createTaskWorker, type RenderPool, type TaskWorker } from './worker/index.js';

/** Opens the store, blob store and outbound client a process needs. */
export async function createServices(config: Config): Promise<Services> {
  // Blobs first: an unreachable bucket stops start-up before the database is opened.
  const blobs = await openBlobStore(config);
  const store = await openStore(config.databaseUrl);
  return {
    config,
    store,
    blobs,
    outbound: createOutboundClient({ allow: config.outboundAllow }),
    events: createEvents(),
    draining: false,
  };
}

export function lifecycleContext(services: Services): LifecycleContext {
  return {
    db: services.store.db,
    // Read when used: with PORT=0 the URL gets its port only once the server listens.
    get publicUrl() {
      return services.config.publicUrl;
    },
    refunds: services.config.refunds,
    generatedRetentionMs: services.config.retention.generatedMs,
    firstCallbackDelayMs: services.config.callbackScheduleMs[0] ?? 0,
    onChange: (taskId, status) => services.events.emit('task', { taskId, status } satisfies TaskChange),
  };
}

/** The fleet's check (fleet-config.ts), made by every process whatever its roles; one refused closes what it opened before it throws. */
async function joinFleetOrClose(services: Services): Promise<FleetRecord> {
  const { config } = services;
  try {
    return await joinFleet(services.store.db, config, `reprise ${describeRoles(config.roles)}, pid ${process.pid} on ${os.hostname()}`);
  } catch (error) {
    await services.outbound.close();
    await services.store.close();
    throw error;
  }
}

/** Expired files are deleted this often (their URLs answer 404 from the moment they expire). */
const RETENTION_SWEEP_MS = 10 * 60_000;

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  /** Null without the `worker` role (or with REPRISE_WORKERS=0). */
  worker: TaskWorker | null;
  /** Null without the `dispatcher` role. */
  dispatcher: Dispatcher | null;
  url: string;
  /** Graceful stop: 455 for new tasks, in-flight work finished or released, then exit. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * A reprise process with the roles `config.roles` names (`reprise serve`: all three). Whatever its
 * roles, it listens on PORT/HOST: the whole API with `api`, otherwise only health and metrics.
 * Roles in other processes meet this one only through the store: work a process records there
 * is claimed by whichever worker or dispatcher polls next; one in this process is woken at once.
 */
export async function startServer(config: Config, options: { logger?: boolean } = {}): Promise<RunningServer> {
  const roles = new Set(config.roles);
  const rendersHere = roles.has('worker') && config.workers > 0;
  const engine: EngineSpec = {
    name: config.engine,
    acestepUrl: config.acestepUrl,
    acestepApiKey: config.acestepApiKey,
    acestepTimeoutMs: config.acestepTimeoutMs,
    acestepPollMs: config.acestepPollMs,
    acestepRequestTimeoutMs: config.acestepRequestTimeoutMs,
    mp3Encoder: config.mp3Encoder,
    scratchDir: path.join(config.dataDir, 'scratch'),
  };
  // Before anything is opened: a configuration that cannot work stops start-up here.
  const engineCheck = rendersHere ? await checkEngine(engine) : null;
  const encoderCheck = rendersHere ? await checkMp3Encoder(engine) : null;
  // What render threads of a killed process on this host left on disk (a process still running keeps its own).
  if (rendersHere && engine.scratchDir) removeOrphanedScratch(engine.scratchDir);
  const services = await createServices(config);
  // Before this process serves or works: settings the fleet must share are checked against the
  // store's record (a difference stops start-up with a ConfigError naming it).
  const fleetUrl = (await joinFleetOrClose(services)).settings.REPRISE_PUBLIC_URL ?? null;
  // A process given no public URL uses the fleet's, so that the URLs it hands out work from every
  // process; the URL then no longer follows this process's port.
  const usesFleetUrl = config.publicUrlIsDefault && fleetUrl !== null;
  if (usesFleetUrl) {
    config.publicUrl = fleetUrl;
    config.publicUrlIsDefault = false;
  }
  const logger = options.logger ?? true;
  const app = roles.has('api') ? await buildApp(services, { logger }) : await buildOpsApp(services, { logger });
  if (engineCheck) app.log[engineCheck.level]({ engine: engine.name }, engineCheck.message);
  if (encoderCheck) app.log.info({ mp3Encoder: encoderCheck.encoder }, encoderCheck.message);
  if (usesFleetUrl) app.log.info({ publicUrl: fleetUrl }, "REPRISE_PUBLIC_URL is not set: file URLs use the fleet's, recorded in the store");
  if (roles.has('worker') && !rendersHere) app.log.info('REPRISE_WORKERS=0: the worker role renders nothing in this process');
  // Callback bodies carry file URLs, and the worker writes them: without the API here, only an
  // explicit REPRISE_PUBLIC_URL can name where those files are served.
  if (rendersHere && !roles.has('api') && config.publicUrlIsDefault) {
    app.log.warn('REPRISE_PUBLIC_URL is not set: file URLs in callbacks will name this process, which serves no files; set it to the API address');
  }

  // The render threads exist only where tasks are rendered: an API process renders nothing.
  const pool = rendersHere ? createRenderPool() : null;
  // PostgreSQL: work recorded here wakes the workers and dispatchers of other processes at once.
  const notifier = createNotifier(services.store, {
    databaseUrl: config.databaseUrl,
    onError: (error, what) => app.log.warn({ err: error }, what),
  });
  services.events.on('submitted', () => notifier.notify('reprise_tasks'));
  services.events.on('task', () => notifier.notify('reprise_callbacks'));
  services.events.on('redeliver', () => notifier.notify('reprise_callbacks'));
  // A key revoked by any process (the CLI, say) stops authenticating here at once (accounts/key-cache.ts).
  if (roles.has('api')) notifier.listen('reprise_keys', forgetCachedKeys);
  const worker = pool ? startTaskWorker(services, pool, engine, app, notifier) : null;
  const dispatcher = roles.has('dispatcher') ? startDispatcher(services, app, notifier) : null;
  // Every process sweeps, whatever its roles: a fleet of any shape then sweeps somewhere, and a
  // sweep is safe beside another (rows are deleted only while still expired, blobs only once no
  // row names them, and deleting a blob already gone is no error).
  const sweeper = startRetentionSweeper(services, RETENTION_SWEEP_MS, (error) => app.log.error({ err: error }, 'retention sweep failed'));

  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  // With PORT=0 the real port is known only now; URLs handed out must carry it.
  if (config.publicUrlIsDefault) config.publicUrl = config.publicUrl.replace(/:\d+$/, `:${port}`);
  return {
    app,
    services,
    worker,
    dispatcher,
    url,
    async stop(graceMs = config.shutdownGraceMs) {
      services.draining = true;
      await worker?.stop(graceMs);
      sweeper.stop();
      await dispatcher?.stop();
      await notifier.close();
      // close() ends only the connections idle when it starts; one whose request finishes later
      // would sit in keep-alive (Fastify keeps them 72 s) and hold the stop open until it times out.
      const closeIdle = setInterval(() => app.server.closeIdleConnections(), 100);
      await app.close();
      clearInterval(closeIdle);
      await pool?.close();
      await services.outbound.close();
      await services.store.close();
    },
  };
}

/** The `worker` role: claims task jobs and renders them; a submission made in this process wakes it. */
function startTaskWorker(services: Services, pool: RenderPool, engine: EngineSpec, app: FastifyInstance, notifier: Notifier): TaskWorker {
  const { config } = services;
  const worker = createTaskWorker({
    store: services.store,
    blobs: services.blobs,
    pool,
    engine,
    lifecycle: lifecycleContext(services),
    concurrency: config.workers,
    leaseMs: config.leaseMs,
    pollMs: config.pollMs,
    liveness: config.liveness,
    log: app.log,
  });
  services.events.on('submitted', () => worker.wake());
  notifier.listen('reprise_tasks', () => worker.wake());
  worker.start();
  return worker;
}

/** The `dispatcher` role: sends the callbacks tasks owe; a stage finished or a redelivery asked for in this process wakes it. */
function startDispatcher(services: Services, app: FastifyInstance, notifier: Notifier): Dispatcher {
  const { config } = services;
  const dispatcher = createDispatcher({
    store: services.store,
    outbound: services.outbound,
    scheduleMs: config.callbackScheduleMs,
    timeoutMs: config.callbackTimeoutMs,
    concurrency: config.callbackConcurrency,
    perHost: config.callbackPerHost,
    pollMs: config.pollMs,
    liveness: config.liveness,
    log: app.log,
    // The service's own inbox URLs and sandbox scenarios are answered without the network.
    deliverLocally: localDelivery(services.store, () => config.publicUrl),
    observer: {
      attempt: (outcome, durationMs) => services.events.emit('callback-attempt', { outcome, durationMs }),
      delivered: (latencyMs) => services.events.emit('callback-delivered', { latencyMs }),
    },
  });
  // A finished stage owes a callback due now: wake the dispatcher instead of waiting for its poll.
  services.events.on('task', () => dispatcher.wake());
  services.events.on('redeliver', () => dispatcher.wake());
  notifier.listen('reprise_callbacks', () => dispatcher.wake());
  dispatcher.start();
  return dispatcher;
}
