import { describe, expect, it } from 'vitest';
import { Client, createCallbackHandler, RepriseError, type TaskEvent, type TaskRecord, type TaskSource, WaitTimeoutError, waitForTask } from '../src/index.js';
import { completeBody, errorBody, SECRET, signed } from './helpers/callbacks.js';
import { fakeApi, json, ok, record } from './helpers/fake-api.js';

const track = {
  id: 'a1',
  audioUrl: 'u',
  streamAudioUrl: 's',
  imageUrl: 'i',
  prompt: 'p',
  modelName: 'm',
  title: 't',
  tags: 'g',
  createTime: 'c',
  duration: 20,
};

/** A scripted task: `statuses` are what successive polls see; `events` are pushed on demand. */
function scripted(statuses: string[], options: { events?: boolean } = {}) {
  let polls = 0;
  const pushers: Array<(event: TaskEvent | null) => void> = [];
  let eventStreams = 0;
  const source: TaskSource = {
    async getTask(taskId) {
      const status = statuses[Math.min(polls, statuses.length - 1)] ?? 'PENDING';
      polls++;
      return record(taskId, status, status === 'SUCCESS' ? [track] : []) as TaskRecord;
    },
    events(taskId, requestOptions) {
      eventStreams++;
      if (options.events === false) {
        return {
          [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new RepriseError(404, 'Not found: events', 404)) }),
        };
      }
      const queue: Array<TaskEvent | null> = [];
      let wake: (() => void) | null = null;
      pushers.push((event) => {
        queue.push(event);
        wake?.();
      });
      return (async function* () {
        for (;;) {
          while (queue.length === 0) {
            await new Promise<void>((resolve, reject) => {
              wake = resolve;
              requestOptions?.signal?.addEventListener('abort', () => reject(requestOptions.signal?.reason), { once: true });
            });
          }
          const next = queue.shift();
          if (!next) return;
          yield { ...next, taskId };
        }
      })();
    },
  };
  return {
    source,
    push: (status: string | null) => {
      for (const push of pushers) push(status === null ? null : ({ taskId: '', status } as TaskEvent));
    },
    get polls() {
      return polls;
    },
    get eventStreams() {
      return eventStreams;
    },
  };
}

describe('waitForTask', () => {
  it('polling: the first poll is immediate; resolves on the first final status', async () => {
    const task = scripted(['PENDING', 'PENDING', 'SUCCESS']);
    const result = await waitForTask(task.source, 't', { events: false, pollIntervalMs: 10 });
    expect(result).toMatchObject({ taskId: 't', status: 'SUCCESS', succeeded: true, via: 'poll', tracks: [track], callback: null });
    expect(task.polls).toBe(3);
  });

  it('events: a final status event settles it (with the record fetched once for the tracks)', async () => {
    const task = scripted(['PENDING', 'SUCCESS']);
    const waiting = waitForTask(task.source, 't', { pollIntervalMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    task.push('FIRST_SUCCESS');
    task.push('SUCCESS');
    const result = await waiting;
    expect(result.via).toBe('events');
    expect(task.polls).toBe(2);
  });

  it('callbacks: a verified callback settles it — even one that arrived before the wait began', async () => {
    const handler = createCallbackHandler({ secret: SECRET });
    const body = completeBody('cb1');
    await handler.handle({ headers: signed(body), body });
    const task = scripted(['PENDING']);
    const result = await waitForTask(task.source, 'cb1', { callbacks: handler, events: false, poll: false });
    expect(result).toMatchObject({ via: 'callback', status: 'SUCCESS', tracks: [{ audioUrl: 'http://127.0.0.1:1/a.mp3' }], record: null });
    const failure = errorBody('cb2');
    const waiting = waitForTask(task.source, 'cb2', { callbacks: handler, pollIntervalMs: 10 });
    await handler.handle({ headers: signed(failure), body: failure });
    expect(await waiting).toMatchObject({
      via: 'callback',
      status: 'GENERATE_AUDIO_FAILED',
      succeeded: false,
      errorCode: 531,
      errorMessage: 'the engine failed',
    });
  });

  it('exactly one result when every source reports at once, and all sources stop afterwards', async () => {
    const handler = createCallbackHandler({ secret: SECRET });
    const task = scripted(['PENDING', 'SUCCESS']);
    const results: string[] = [];
    const waiting = waitForTask(task.source, 'x1', { callbacks: handler, pollIntervalMs: 5 }).then((r) => {
      results.push(r.via);
      return r;
    });
    const body = completeBody('x1');
    await Promise.all([
      handler.handle({ headers: signed(body), body }),
      handler.handle({ headers: signed(body), body }),
      Promise.resolve(task.push('SUCCESS')),
    ]);
    await waiting;
    const pollsAtEnd = task.polls;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(results).toHaveLength(1);
    expect(task.polls).toBe(pollsAtEnd);
  });

  it('rejects with WaitTimeoutError after timeoutMs, and with the reason on abort', async () => {
    const task = scripted(['PENDING']);
    await expect(waitForTask(task.source, 't', { timeoutMs: 50, pollIntervalMs: 10 })).rejects.toBeInstanceOf(WaitTimeoutError);
    const controller = new AbortController();
    const waiting = waitForTask(task.source, 't', { signal: controller.signal, pollIntervalMs: 10 });
    controller.abort(new Error('user left'));
    await expect(waiting).rejects.toThrow('user left');
    const aborted = AbortSignal.abort(new Error('already'));
    await expect(waitForTask(task.source, 't', { signal: aborted })).rejects.toThrow('already');
  });

  it('a poll answering 404 ends the wait with that error; other poll errors are retried', async () => {
    let calls = 0;
    const source: TaskSource = {
      async getTask() {
        calls++;
        if (calls === 1) throw new RepriseError(500, 'boom', 500);
        throw new RepriseError(404, 'taskId: no task', 404);
      },
      events: () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new RepriseError(404, 'no events', 404)) }) }),
    };
    await expect(waitForTask(source, 't', { pollIntervalMs: 5 })).rejects.toMatchObject({ code: 404, msg: 'taskId: no task' });
    expect(calls).toBe(2);
  });

  it('when the only source ends, the wait ends with its error rather than hanging until the timeout', async () => {
    const task = scripted(['PENDING'], { events: false });
    await expect(waitForTask(task.source, 't', { poll: false })).rejects.toMatchObject({ code: 404 });
    await expect(waitForTask(task.source, 't', { poll: false, events: false })).rejects.toThrow(TypeError);
  });

  it('against KIE.AI (no events endpoint) the real client falls back to polling quietly', async () => {
    let polls = 0;
    const api = await fakeApi({
      'GET /api/v1/generate/record-info': (_r, res) => {
        polls++;
        json(
          res,
          200,
          ok({ ...record('k', polls < 3 ? 'PENDING' : 'SUCCESS', polls < 3 ? [] : [track]), response: polls < 3 ? null : { taskId: 'k', sunoData: [track] } }),
        );
      },
    });
    try {
      const client = new Client({ apiKey: 'k', baseUrl: api.url });
      const result = await client.waitForTask('k', { pollIntervalMs: 10 });
      expect(result).toMatchObject({ via: 'poll', status: 'SUCCESS', tracks: [track] });
      expect(api.seen.some((s) => s.path.endsWith('/events'))).toBe(true);
    } finally {
      await api.close();
    }
  });
});
