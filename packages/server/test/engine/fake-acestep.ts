import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { probeAudio } from '../../src/audio/codecs/probe.js';
import { encodeWav } from '../../src/audio/codecs/wav.js';
import type { AcestepOptions } from '../../src/engine/acestep.js';

/**
 * A stand-in for an ACE-Step 1.5 API server on loopback, with the shapes and habits of its
 * source (see docs/engines.md for the commit read): `POST /release_task` (multipart or JSON)
 * answering `{data:{task_id,status,queue_position},code:200,error:null,…}`, `POST /query_result`
 * answering a list of `{task_id,status:0|1|2,result:"<JSON string of a list>"}`,
 * `GET /v1/audio?path=…` serving files of its audio folder only (403 for any other path),
 * `GET /v1/models` listing DiT models and `GET /health`, the one route without a key.
 * Results are WAVs it makes itself, as long as the real server makes them: the uploaded
 * source's length for the tasks that lock to it (a repaint or lego range past its end pads
 * it), `audio_duration` otherwise. Like the real server it lowers the batch on a GPU short of
 * memory and still succeeds, seeds the songs past a comma-separated seed list at random, runs
 * a task naming a model it has not loaded on its default model (saying so only in
 * `dit_model`), and reports a failure with a Python traceback or with no reason at all.
 * Started with a `prefix`, it answers only under that path, as behind a proxy that strips it,
 * while still naming result files from its own root. Switched per test through `behaviour`.
 */

export interface FakeBehaviour {
  /** `fail`: the task ends with status 2; `never`: it stays at status 0 forever. */
  outcome: 'succeed' | 'fail' | 'never';
  /**
   * How a failed task says why: `traceback` (the job store's `traceback.format_exc()`, as
   * recent servers put in `error`), `none` (no `error` at all, as the local-cache result path
   * of older servers answers) or `message` (the exception text alone).
   */
  failureReport: 'traceback' | 'none' | 'message';
  /** The exception of a failed task, as Python prints its last line. */
  failureException: string;
  /** Polls answered with status 0 before the outcome. */
  pollsBeforeDone: number;
  /** Status code forced on one route (e.g. 500), with a FastAPI-style `{detail}` body. */
  failRoute: { route: '/release_task' | '/query_result' | '/v1/audio' | '/v1/models'; status: number } | null;
  /** A route that never answers (for request timeouts). */
  hangRoute: '/release_task' | '/query_result' | '/v1/audio' | null;
  /** Seconds added to the asked duration (ACE-Step pads to whole latent frames). */
  extraSeconds: number;
  /** Overrides the length of the result, in seconds. */
  resultSeconds: number | null;
  /** Serve these bytes instead of a WAV. */
  resultBytes: Uint8Array | null;
  /** Result files named with an absolute URL instead of `/v1/audio?path=…`. */
  fileUrl: string | null;
  /** Result files whose path lies outside the audio folder: `/v1/audio` answers 403 for them. */
  fileOutside: boolean;
  /** The most songs one task returns: ACE-Step's VRAM guard lowers the batch and still succeeds. */
  maxBatch: number | null;
  /** What `GET /v1/models` lists (ACE-Step's field names); older servers leave out the last two. */
  models: Array<{ name: string; is_default: boolean; is_loaded?: boolean; supported_task_types?: string[] }>;
  /** What `GET /health` says of the default model: false while it is still loading. */
  modelsInitialized: boolean;
  /** The model every task runs on, whatever it asked for: a slot reloaded between the model check and the task. */
  ranOn: string | null;
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  /** Which TCP connection carried it (numbered in order of arrival). */
  connection: number;
}

export interface ReleasedTask {
  id: string;
  fields: Record<string, string>;
  file: { name: string; type: string; bytes: Uint8Array } | null;
  polls: number;
}

export interface FakeAcestep {
  url: string;
  behaviour: FakeBehaviour;
  requests: RecordedRequest[];
  tasks: ReleasedTask[];
  reset(): void;
  close(): Promise<void>;
}

const RATE = 48_000;
/** The server's audio folder, as it names result files (a made-up path: nothing is on disk). */
const AUDIO_DIR = 'acestep-cache/tmp/api_audio';

const defaults = (): FakeBehaviour => ({
  outcome: 'succeed',
  failureReport: 'traceback',
  failureException: 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB',
  pollsBeforeDone: 1,
  failRoute: null,
  hangRoute: null,
  extraSeconds: 0.04,
  resultSeconds: null,
  resultBytes: null,
  fileUrl: null,
  fileOutside: false,
  maxBatch: null,
  models: [{ name: 'acestep-v15-turbo', is_default: true, is_loaded: true, supported_task_types: ['text2music', 'repaint', 'cover', 'cover-nofsq'] }],
  modelsInitialized: true,
  ranOn: null,
});

/** A traceback as the job store keeps it (`traceback.format_exc()`), ending in `exception`. */
function traceback(exception: string): string {
  return [
    'Traceback (most recent call last):',
    '  File "acestep/api/job_execution.py", line 212, in _run_one_job',
    '    result = await loop.run_in_executor(executor, _blocking_generate)',
    '  File "acestep/api/job_generation_runtime.py", line 131, in run_generation_with_optional_sequential_cover_mode',
    '    raise RuntimeError(f"Music generation failed: {result.error or result.status_message}")',
    exception,
    '',
  ].join('\n');
}

/** The `error` of a failed item, or none, as `failureReport` says. */
function failureFields(behaviour: FakeBehaviour): { error?: string } {
  if (behaviour.failureReport === 'none') return {};
  return { error: behaviour.failureReport === 'traceback' ? traceback(behaviour.failureException) : behaviour.failureException };
}

/** The model a task runs on: the one it names if loaded, else (silently, like the real server) the default one. */
function modelOf(task: ReleasedTask, behaviour: FakeBehaviour): string {
  const primary = behaviour.models.find((model) => model.is_default)?.name ?? 'acestep-v15-turbo';
  const asked = behaviour.models.find((model) => model.name === task.fields.model && model.is_loaded !== false);
  return asked?.name ?? primary;
}

/** The real server refuses, with 403, any path that resolves outside its audio folder. */
const insideAudioDir = (path: string): boolean => path.startsWith(`${AUDIO_DIR}/`) && !path.split('/').includes('..');

/** Task types whose output the real server locks to the uploaded source's length. */
const LOCKED_TO_SOURCE = new Set(['cover', 'cover-nofsq', 'repaint', 'lego', 'extract']);

/** Seconds of audio the real server would return for this task, before latent padding. */
function resultLength(task: ReleasedTask): number {
  const { fields, file } = task;
  const type = fields.task_type ?? 'text2music';
  if (file && LOCKED_TO_SOURCE.has(type)) {
    const sourceS = probeAudio(file.bytes).durationS;
    const end = Number(fields.repainting_end ?? -1);
    // A repaint or lego range that ends past the source pads it with silence on the right.
    return (type === 'repaint' || type === 'lego') && end > sourceS ? end : sourceS;
  }
  return Number(fields.audio_duration ?? fields.duration ?? 30);
}

const envelope = (data: unknown) => JSON.stringify({ data, code: 200, error: null, timestamp: Date.now(), extra: null });

/** Stereo tone of `seconds` whose pitch follows the song's seed, so songs of other seeds differ. */
function resultWav(seconds: number, seed: number): Uint8Array {
  const frames = Math.round(seconds * RATE);
  const left = new Float32Array(frames);
  const frequency = 220 + (seed % 440);
  for (let i = 0; i < frames; i++) left[i] = 0.25 * Math.sin((2 * Math.PI * frequency * i) / RATE);
  return encodeWav({ sampleRate: RATE, channels: [left, Float32Array.from(left)] });
}

async function readBody(request: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function parseFields(request: http.IncomingMessage, body: Buffer): Promise<{ fields: Record<string, string>; file: ReleasedTask['file'] }> {
  const type = request.headers['content-type'] ?? '';
  if (type.startsWith('application/json')) {
    const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    return { fields: Object.fromEntries(Object.entries(json).map(([k, v]) => [k, String(v)])), file: null };
  }
  const form = await new Response(body, { headers: { 'content-type': type } }).formData();
  const fields: Record<string, string> = {};
  let file: ReleasedTask['file'] = null;
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') fields[name] = value;
    else if (name === 'src_audio') file = { name: value.name, type: value.type, bytes: new Uint8Array(await value.arrayBuffer()) };
  }
  return { fields, file };
}

export async function startFakeAcestep(apiKey: string | null = null, options: { prefix?: string } = {}): Promise<FakeAcestep> {
  const prefix = options.prefix ?? '';
  const files = new Map<string, Uint8Array>();
  const state = {
    behaviour: defaults(),
    requests: [] as RecordedRequest[],
    tasks: [] as ReleasedTask[],
  };
  let nextId = 1;
  const connections = new WeakMap<object, number>();
  let nextConnection = 1;

  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    // Behind a proxy at `prefix`, only paths under it reach the server, without it.
    const under = prefix === '' || url.pathname.startsWith(`${prefix}/`);
    const route = under ? url.pathname.slice(prefix.length) : `(outside ${prefix})${url.pathname}`;
    if (!connections.has(request.socket)) connections.set(request.socket, nextConnection++);
    state.requests.push({
      method: request.method ?? '',
      path: route,
      authorization: request.headers.authorization,
      contentType: request.headers['content-type'],
      connection: connections.get(request.socket) ?? 0,
    });
    const body = await readBody(request);
    const send = (status: number, text: string | Uint8Array, type = 'application/json') => {
      response.writeHead(status, { 'content-type': type });
      response.end(text);
    };
    const { behaviour } = state;
    if (behaviour.hangRoute === route) return; // never answers; the client's timeout must end it
    if (!under) return send(404, JSON.stringify({ detail: 'Not Found' }));
    // The one route without a key.
    if (request.method === 'GET' && route === '/health') {
      const primary = behaviour.models.find((model) => model.is_default)?.name ?? null;
      return send(
        200,
        envelope({
          status: 'ok',
          service: 'ACE-Step API',
          version: '1.0',
          models_initialized: behaviour.modelsInitialized,
          llm_initialized: false,
          loaded_model: primary,
          loaded_lm_model: null,
        }),
      );
    }
    if (apiKey !== null) {
      const given = request.headers.authorization;
      if (!given) return send(401, JSON.stringify({ detail: 'Missing Authorization header' }));
      if ((given.startsWith('Bearer ') ? given.slice(7) : given) !== apiKey) return send(401, JSON.stringify({ detail: 'Invalid API key' }));
    }
    if (behaviour.failRoute?.route === route) return send(behaviour.failRoute.status, JSON.stringify({ detail: 'injected failure' }));
    if (request.method === 'POST' && route === '/release_task') {
      const { fields, file } = await parseFields(request, body);
      const id = `00000000-0000-4000-8000-${String(nextId++).padStart(12, '0')}`;
      state.tasks.push({ id, fields, file, polls: 0 });
      return send(200, envelope({ task_id: id, status: 'queued', queue_position: 1 }));
    }
    if (request.method === 'POST' && route === '/query_result') {
      const ids = (JSON.parse(body.toString('utf8')) as { task_id_list: string[] }).task_id_list;
      const data = ids.map((id) => {
        const task = state.tasks.find((t) => t.id === id);
        // ACE-Step answers an unknown task as still running, with an empty result.
        if (!task) return { task_id: id, result: '[]', status: 0 };
        task.polls++;
        const created = Math.floor(Date.now() / 1000);
        if (behaviour.outcome === 'never' || task.polls <= behaviour.pollsBeforeDone) {
          return {
            task_id: id,
            status: 0,
            progress_text: 'working',
            result: JSON.stringify([{ file: '', wave: '', status: 0, create_time: created, progress: 0.5, stage: 'running' }]),
          };
        }
        if (behaviour.outcome === 'fail') {
          const item = { file: '', wave: '', status: 2, create_time: created, env: 'test', progress: 0, stage: 'failed', ...failureFields(behaviour) };
          return { task_id: id, status: 2, result: JSON.stringify([item]) };
        }
        const seconds = behaviour.resultSeconds ?? resultLength(task) + behaviour.extraSeconds;
        // The VRAM guard lowers the batch and still succeeds, with fewer songs.
        const count = Math.min(Number(task.fields.batch_size ?? 2), behaviour.maxBatch ?? Number.POSITIVE_INFINITY);
        // One seed per song from a comma-separated list; songs past the list are drawn at random, as the real server does.
        const asked = (task.fields.seed ?? '').split(',').map((seed) => Number.parseInt(seed, 10));
        const seeds = Array.from({ length: count }, (_, index) => {
          const seed = asked[index];
          return seed !== undefined && seed >= 0 ? seed : Math.floor(Math.random() * 2 ** 32);
        });
        const ditModel = behaviour.ranOn ?? modelOf(task, behaviour);
        const items = seeds.map((seed, index) => {
          const path = behaviour.fileOutside ? `${AUDIO_DIR}/../elsewhere/${id}-${index}.wav` : `${AUDIO_DIR}/${id}-${index}.wav`;
          files.set(path, behaviour.resultBytes ?? resultWav(seconds, seed));
          // Named from the server's own root, whatever proxy prefix it is reached under.
          const file = behaviour.fileUrl ?? `/v1/audio?path=${encodeURIComponent(path)}`;
          return {
            file,
            wave: '',
            status: 1,
            create_time: created,
            env: 'test',
            prompt: task.fields.prompt ?? '',
            lyrics: task.fields.lyrics ?? '',
            metas: { duration: seconds },
            seed_value: seeds.join(','),
            dit_model: ditModel,
          };
        });
        return { task_id: id, status: 1, progress_text: 'done', result: JSON.stringify(items) };
      });
      return send(200, envelope(data));
    }
    if (request.method === 'GET' && route === '/v1/models') {
      const primary = behaviour.models.find((model) => model.is_default)?.name ?? null;
      return send(200, envelope({ models: behaviour.models, default_model: primary, lm_models: [], loaded_lm_model: null, llm_initialized: false }));
    }
    if (request.method === 'GET' && route === '/v1/audio') {
      const path = url.searchParams.get('path') ?? '';
      if (!insideAudioDir(path)) return send(403, JSON.stringify({ detail: 'Access denied: path outside allowed directory' }));
      const bytes = files.get(path);
      if (!bytes) return send(404, JSON.stringify({ detail: 'Audio file not found' }));
      return send(200, bytes, 'audio/wav');
    }
    return send(404, JSON.stringify({ detail: 'Not Found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(value) {
      state.behaviour = value;
    },
    get requests() {
      return state.requests;
    },
    get tasks() {
      return state.tasks;
    },
    reset() {
      state.behaviour = defaults();
      state.requests.length = 0;
      state.tasks.length = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The engine's options pointed at a fake: its URL and key, polling fast, generous time limits. */
export const fakeEngineOptions = (fake: FakeAcestep, apiKey: string, overrides: Partial<AcestepOptions> = {}): AcestepOptions => ({
  url: fake.url,
  apiKey,
  pollMs: 10,
  timeoutMs: 20_000,
  requestTimeoutMs: 10_000,
  ...overrides,
});
