import { createAccount } from '../../src/accounts/index.js';
import { loadConfig } from '../../src/config.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { sineWav } from '../helpers/audio.js';
import { freePort } from '../helpers/process.js';
import type { Json } from '../helpers/serve.js';
import { type StoreTarget, tempDir } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

/**
 * `reprise serve` in this process (API, worker, dispatcher) on a fresh store, with a public URL
 * on loopback so that inbox URLs are this server's own; plus accounts and a small API client.
 */
export interface Harness {
  server: RunningServer;
  base: string;
  account(options?: { credits?: number; webhookKey?: boolean; sandbox?: boolean }): Promise<Client>;
  stop(): Promise<void>;
}

export interface Client {
  accountId: string;
  apiKey: string;
  secret: string | null;
  get(path: string): Promise<Json>;
  post(path: string, body?: unknown): Promise<Json>;
  put(path: string, body: unknown): Promise<Json>;
  del(path: string): Promise<Json>;
  credit(): Promise<number>;
  /** Uploads a WAV of `seconds` through the File Upload API: its downloadUrl. */
  upload(seconds: number): Promise<string>;
  /** Polls the music family's record-info until the task is finished. */
  finished(taskId: string): Promise<Json>;
  /** Polls the inbox until it holds `count` requests: them, newest first. */
  inboxRequests(inboxId: string, count: number): Promise<Json[]>;
}

export async function startHarness(target: StoreTarget, env: Record<string, string> = {}): Promise<Harness> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    REPRISE_DATA_DIR: tempDir('console'),
    DATABASE_URL: await target.fresh(),
    HOST: '127.0.0.1',
    PORT: String(port),
    REPRISE_PUBLIC_URL: base,
    REPRISE_GENERATE_DURATION_S: '10',
    REPRISE_CALLBACK_SCHEDULE: '0,0.2,0.2',
    REPRISE_POLL_MS: '50',
    REPRISE_WORKERS: '1',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const server = await startServer(config, { logger: false });

  async function account(options: { credits?: number; webhookKey?: boolean; sandbox?: boolean } = {}): Promise<Client> {
    const created = await createAccount(server.services.store.db, {
      name: 'console-test',
      credits: options.credits ?? 100,
      webhookKey: options.webhookKey ?? true,
      sandbox: options.sandbox ?? false,
    });
    const auth = { authorization: `Bearer ${created.apiKey}` };
    const call = async (method: string, path: string, body?: unknown): Promise<Json> => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return response.json();
    };
    const client: Client = {
      accountId: created.accountId,
      apiKey: created.apiKey,
      secret: created.webhookHmacKey,
      get: (path) => call('GET', path),
      post: (path, body) => call('POST', path, body),
      put: (path, body) => call('PUT', path, body),
      del: (path) => call('DELETE', path),
      credit: async () => (await call('GET', '/api/v1/chat/credit')).data,
      async upload(seconds) {
        const form = new FormData();
        form.append('file', new Blob([sineWav(seconds, 22_050, 1)], { type: 'audio/wav' }), 'song.wav');
        form.append('uploadPath', 'songs');
        const answer = (await (await fetch(`${base}/api/file-stream-upload`, { method: 'POST', headers: auth, body: form })).json()) as Json;
        if (!answer.success) throw new Error(`upload refused: ${JSON.stringify(answer)}`);
        return answer.data.downloadUrl;
      },
      finished: (taskId) =>
        waitFor(
          async () => {
            const { data } = await call('GET', `/api/v1/generate/record-info?taskId=${taskId}`);
            return data && ['SUCCESS', 'GENERATE_AUDIO_FAILED'].includes(data.status) ? data : undefined;
          },
          120_000,
          `task ${taskId} to finish`,
          100,
        ),
      inboxRequests: (inboxId, count) =>
        waitFor(
          async () => {
            const { data } = await call('GET', `/api/v1/inbox/${inboxId}/requests`);
            return data.requests.length >= count ? data.requests : undefined;
          },
          30_000,
          `${count} request(s) in inbox ${inboxId}`,
          100,
        ),
    };
    return client;
  }

  return { server, base, account, stop: () => server.stop(1000) };
}
