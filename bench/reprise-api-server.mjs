// The reprise API alone (no worker), on the store named by DATABASE_URL, for bench/submit.
// The rate limit is lifted with a 1 ms window: the limit check still runs on every submission,
// counting as few rows as a real client within the default 20/10s would make it count.
// Prints `LISTENING <port>` and, on the next line, a JSON fixture: an API key and a finished
// parent task whose track mode-1 submissions can reference. Refusals keep their code as the HTTP
// status here (KIE's HTTP 200 would let the load generator count a refusal as accepted).
import { createAccount } from '../packages/server/dist/accounts/index.js';
import { buildApp } from '../packages/server/dist/api/app.js';
import { loadConfig } from '../packages/server/dist/config.js';
import { createServices, lifecycleContext } from '../packages/server/dist/server.js';
import { completeTask, submitTask, writeTracks } from '../packages/server/dist/tasks/index.js';

const config = loadConfig({
  ...process.env,
  REPRISE_WORKERS: '0',
  LOG_LEVEL: 'silent',
  REPRISE_RATE_LIMIT: '1000000/1ms',
  REPRISE_HTTP_STATUS_MIRRORS_CODE: 'true',
});
const services = await createServices(config);
const app = await buildApp(services, { logger: false });
const account = await createAccount(services.store.db, { name: 'bench', credits: 1_000_000_000, webhookKey: true });
const taskId = await submitTask(
  services.store,
  {
    accountId: account.accountId,
    type: 'GENERATE',
    param: '{}',
    input: { kind: 'generate', prompt: 'p', style: 'jazz', title: 'T', negativeTags: '', instrumental: true, customMode: false, durationS: 180 },
    parentMusicId: '',
    callbackUrl: undefined,
    model: 'V4_5',
    price: 0,
  },
  { rateLimit: { max: 10, windowMs: 1 }, taskTimeoutMs: 60_000 },
);
const job = await services.store.db.selectFrom('jobs').select('id').where('ref_id', '=', taskId).executeTakeFirstOrThrow();
const bytes = new Uint8Array(16);
await services.blobs.put(`tasks/${taskId}/0.mp3`, bytes);
await services.blobs.put(`tasks/${taskId}/0.jpeg`, bytes);
const lifecycle = lifecycleContext(services);
await completeTask(
  lifecycle,
  taskId,
  job.id,
  writeTracks(lifecycle, [
    {
      idx: 0,
      audioBlob: `tasks/${taskId}/0.mp3`,
      audioSize: 16,
      imageBlob: `tasks/${taskId}/0.jpeg`,
      imageSize: 16,
      durationS: 180,
      modelName: 'm',
      title: 'T',
      tags: 'jazz',
      prompt: 'p',
    },
  ]),
);
const track = await services.store.db.selectFrom('tracks').select('id').where('task_id', '=', taskId).executeTakeFirstOrThrow();
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`LISTENING ${app.server.address().port}\n${JSON.stringify({ apiKey: account.apiKey, taskId, audioId: track.id })}\n`);
