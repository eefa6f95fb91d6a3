import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { probeAudio } from '../../src/audio/codecs/probe.js';
import { encodeWav } from '../../src/audio/codecs/wav.js';

/**
 * A stand-in for an ACE-Step 1.5 API server on loopback, with the shapes its
 * documentation gives: `POST /release_task` (multipart or JSON) answering
 * `{data:{task_id,status,queue_position},code:200,error:null,…}`, `POST /query_result`
 * answering a list of `{task_id,status:0|1|2,result:"<JSON string of a list>"}`
 * `GET /v1/audio?path=…` serving the file and `GET /v1/models` listing DiT models.
 * Results are WAVs it makes itself, as long as the real server makes them: the
 * uploaded source's length for the tasks that lock to it (a repaint or lego
 * range past its end pads it), `audio_duration` otherwise. Failures and a GPU
 * short of memory are switched on per test through `behaviour`.
 */

export interface FakeBehaviour {
  /** `fail`: the task ends with status 2; `never`: it stays at status 0 forever. */
  outcome: 'succeed' | 'fail' | 'never';
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
  /** The most songs one task returns: ACE-Step's VRAM guard lowers the batch and still succeeds. */
  maxBatch: number | null;
  /** What `GET /v1/models` lists (ACE-Step's field names). */
  models: Array<{ name: string; is_default: boolean; is_loaded?: boolean; supported_task_types?: string[] }>;
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

const defaults = (): FakeBehaviour => ({
  outcome: 'succeed',
  pollsBeforeDone: 1,
  failRoute: null,
  hangRoute: null,
  extraSeconds: 0.04,
  resultSeconds: null,
  resultBytes: null,
  fileUrl: null,
  maxBatch: null,
  models: [{ name: 'acestep-v15-turbo', is_default: true, is_loaded: true, supported_task_types: ['text2music', 'repaint', 'cover', 'cover-nofsq'] }],
});

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

export async function startFakeAcestep(apiKey: string | null = null): Promise<FakeAcestep> {
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
    const route = url.pathname;
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
    if (apiKey !== null) {
      const given = request.headers.authorization;
      if (!given) return send(401, JSON.stringify({ detail: 'Missing Authorization header' }));
      if ((given.startsWith('Bearer ') ? given.slice(7) : given) !== apiKey) return send(401, JSON.stringify({ detail: 'Invalid API key' }));
    }
    if (behaviour.failRoute?.route === route) return send(behaviour.failRoute.status, JSON.stringify({ detail: 'injected failure' }));

    if (request.method === 'GET' && route === '/health') return send(200, envelope({ status: 'ok', service: 'ACE-Step API', version: '1.0' }));
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
          return { task_id: id, status: 2, result: JSON.stringify([{ file: '', wave: '', status: 2, create_time: created, error: 'CUDA out of memory' }]) };
        }
        const seconds = behaviour.resultSeconds ?? resultLength(task) + behaviour.extraSeconds;
        const count = Math.min(Number(task.fields.batch_size ?? 2), behaviour.maxBatch ?? Number.POSITIVE_INFINITY);
        // One seed per song from a comma-separated list; songs past the list get their index (the real server draws one).
        const seeds = (task.fields.seed ?? '').split(',').map((seed) => Number.parseInt(seed, 10));
        const items = Array.from({ length: count }, (_, index) => {
          const path = `api_audio/${id}-${index}.wav`;
          const seed = seeds[index] !== undefined && seeds[index]! >= 0 ? seeds[index]! : index;
          files.set(path, behaviour.resultBytes ?? resultWav(seconds, seed));
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
            seed_value: String(seed),
            dit_model: 'acestep-v15-turbo',
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
      const bytes = files.get(url.searchParams.get('path') ?? '');
      if (!bytes) return send(404, JSON.stringify({ detail: 'Audio file not found' }));
      return send(200, bytes, 'audio/wav');
    }
    return send(404, JSON.stringify({ detail: 'Not Found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
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
