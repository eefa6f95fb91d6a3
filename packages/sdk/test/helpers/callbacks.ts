import { signKieWebhook, signStandardWebhook } from '../../src/index.js';

export const SECRET = 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';

export function completeBody(taskId: string, audioUrl = 'http://127.0.0.1:1/a.mp3'): string {
  return JSON.stringify({
    code: 200,
    msg: 'All generated successfully.',
    data: {
      callbackType: 'complete',
      task_id: taskId,
      data: [
        {
          id: 'e2310f4a-6c1b-4d1e-9a7b-3f1c8cadc7dc',
          audio_url: audioUrl,
          stream_audio_url: `${audioUrl}/stream`,
          image_url: 'http://127.0.0.1:1/a.jpeg',
          prompt: 'jazz piano',
          model_name: 'm',
          title: 'T',
          tags: 'Jazz',
          createTime: '2026-01-01 00:00:00',
          duration: 20,
        },
      ],
    },
  });
}

export const errorBody = (taskId: string) =>
  JSON.stringify({ code: 531, msg: 'Generation failed, credits refunded', data: { callbackType: 'error', task_id: taskId, error: 'the engine failed' } });

/** Headers for `body` as reprise sends them: both schemes. */
export function signed(body: string, options: { id?: string; taskId?: string; timestamp?: number; secret?: string } = {}): Record<string, string> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const secret = options.secret ?? SECRET;
  const taskId = options.taskId ?? (JSON.parse(body) as { data: { task_id: string } }).data.task_id;
  return {
    'content-type': 'application/json',
    ...signKieWebhook({ secret, taskId, timestamp }),
    ...signStandardWebhook({ id: options.id ?? `msg_${taskId}`, timestamp, body, keys: [secret] }),
  };
}

export async function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, body: await response.text() };
}

export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export const until = async (check: () => boolean, ms = 2000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};
