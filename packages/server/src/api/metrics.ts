import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { countDueCallbacks } from '../callbacks/deliveries.js';
import { countDue } from '../jobs/index.js';
import { ROLES } from '../roles.js';
import type { Services, TaskChange } from '../services.js';

/** Prometheus metrics of this process (SPEC §6), served at /metrics. */
export function registerMetrics(app: FastifyInstance, services: Services): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'reprise_' });

  // One series per role, 1 where this process has it: `sum by (role)` counts a fleet's processes per role.
  const role = new Gauge({
    name: 'reprise_process_role',
    help: 'Whether this process has the role (REPRISE_ROLES): 1 or 0',
    labelNames: ['role'] as const,
    registers: [registry],
  });
  for (const name of ROLES) role.set({ role: name }, services.config.roles.includes(name) ? 1 : 0);

  const httpDuration = new Histogram({
    name: 'reprise_http_request_duration_seconds',
    help: 'API request duration by route and status code',
    labelNames: ['method', 'route', 'code'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const submitted = new Counter({ name: 'reprise_tasks_submitted_total', help: 'Tasks accepted', registers: [registry] });
  const finished = new Counter({
    name: 'reprise_tasks_finished_total',
    help: 'Tasks finished, by final status',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'reprise_jobs_due',
    help: 'Jobs ready to run and not yet claimed, by queue',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      const now = Date.now();
      this.set({ queue: 'task' }, (await countDue(services.store.db, 'task', now)).count);
      this.set({ queue: 'callback' }, (await countDueCallbacks(services.store.db, now)).count);
    },
  });

  new Gauge({
    name: 'reprise_callback_oldest_due_age_seconds',
    help: 'How long the oldest due callback has been waiting (0 when none)',
    registers: [registry],
    async collect() {
      const now = Date.now();
      const { oldestDueAt } = await countDueCallbacks(services.store.db, now);
      this.set(oldestDueAt === null ? 0 : (now - oldestDueAt) / 1000);
    },
  });
  const attempts = new Counter({
    name: 'reprise_callback_attempts_total',
    help: 'Callback attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const deliveryLatency = new Histogram({
    name: 'reprise_callback_delivery_latency_seconds',
    help: 'From a callback being owed to its successful delivery',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30, 120, 600, 3600],
    registers: [registry],
  });

  services.events.on('callback-attempt', (event: { outcome: string }) => attempts.inc({ outcome: event.outcome }));
  services.events.on('callback-delivered', (event: { latencyMs: number }) => deliveryLatency.observe(event.latencyMs / 1000));
  services.events.on('submitted', () => submitted.inc());
  services.events.on('task', (change: TaskChange) => {
    if (change.status === 'SUCCESS' || change.status === 'GENERATE_AUDIO_FAILED') finished.inc({ status: change.status });
  });

  app.addHook('onResponse', async (request, reply) => {
    httpDuration.observe({ method: request.method, route: request.routeOptions.url ?? 'unknown', code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  return registry;
}
