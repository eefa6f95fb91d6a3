import net, { type AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTaskFilter } from '../../src/api/task-list.js';
import { ApiError } from '../../src/errors.js';
import { lifecycleContext } from '../../src/server.js';
import type { Services } from '../../src/services.js';
import { failTask, KINDS, musicFamily } from '../../src/tasks/index.js';
import { KIND_NAMES, TASK_STATUSES } from '../../src/tasks/listing.js';
import { finishedGenerateTask, uploadedWav } from '../helpers/fixtures.js';
import { closeServices, createTestAccount, createTestApp, createTestServices, type TestAccount } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';

type App = Awaited<ReturnType<typeof createTestApp>>;

describe('console task filters', () => {
  it('every kind has its own type, so a list can name and filter kinds by the stored type', () => {
    expect(new Set(KINDS.map((kind) => kind.type)).size).toBe(KINDS.length);
  });

  it('accepts exactly the kinds and statuses there are, and names them when refusing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...KIND_NAMES), fc.string()), fc.oneof(fc.constantFrom(...TASK_STATUSES), fc.string()), (kind, status) => {
        const kindOk = kind === '' || KIND_NAMES.includes(kind);
        const statusOk = status === '' || (TASK_STATUSES as readonly string[]).includes(status);
        if (kindOk && statusOk) {
          expect(parseTaskFilter({ kind, status })).toEqual({ ...(kind ? { kind } : {}), ...(status ? { status } : {}) });
          return;
        }
        try {
          parseTaskFilter({ kind, status });
          expect.unreachable();
        } catch (error) {
          expect(error).toBeInstanceOf(ApiError);
          expect((error as ApiError).code).toBe(422);
          const message = (error as ApiError).message;
          if (!kindOk) expect(message).toBe(`kind: must be one of ${KIND_NAMES.join(', ')}`);
          else expect(message).toBe(`status: must be one of ${TASK_STATUSES.join(', ')}`);
        }
      }),
    );
    expect(() => parseTaskFilter({ kind: ['generate'] })).toThrow(/^kind: must be one of/);
  });
});

describe.each(storeTargets())('console task API on $name', (target) => {
  let services: Services;
  let app: App;
  let alice: TestAccount;
  let bob: TestAccount;
  let generated: { taskId: string; audioIds: string[] };
  let replaceId: string;
  let uploadUrl: string;

  beforeAll(async () => {
    services = await createTestServices(target);
    app = await createTestApp(services);
    alice = await createTestAccount(services, 100);
    bob = await createTestAccount(services, 100);
    generated = await finishedGenerateTask(services, alice.account.id, 60);
    uploadUrl = await uploadedWav(services, alice.account.id, 60);
    const submitted = await app.inject({
      method: 'POST',
      url: '/api/v1/generate/replace-section',
      headers: { ...alice.auth, 'content-type': 'application/json' },
      payload: { uploadUrl, prompt: 'jazz piano', tags: 'Jazz', title: 'New', infillStartS: 12, infillEndS: 24, callBackUrl: 'https://example.com/hook' },
    });
    replaceId = submitted.json().data.taskId;
    await finishedGenerateTask(services, bob.account.id, 30);
  });
  afterAll(async () => {
    await app.close();
    await closeServices(services);
  });

  const get = (url: string, who: TestAccount = alice) => app.inject({ method: 'GET', url, headers: who.auth });

  it('lists the caller’s tasks newest first as summaries', async () => {
    const { tasks, nextCursor } = (await get('/api/v1/tasks')).json().data;
    expect(nextCursor).toBeNull();
    expect(tasks.map((task: { taskId: string }) => task.taskId)).toEqual([replaceId, generated.taskId]);
    expect(tasks[0]).toEqual({
      taskId: replaceId,
      kind: 'replace',
      type: 'REPLACE_SECTION',
      status: 'PENDING',
      createTime: expect.any(Number),
      completeTime: null,
      callBackUrl: 'https://example.com/hook',
      errorCode: null,
      errorMessage: null,
      simulated: false,
      recordInfoUrl: `/api/v1/generate/record-info?taskId=${replaceId}`,
    });
    expect(tasks[1]).toMatchObject({ kind: 'generate', type: 'GENERATE', status: 'SUCCESS', completeTime: expect.any(Number), callBackUrl: null });
    const bobs = (await get('/api/v1/tasks', bob)).json().data.tasks;
    expect(bobs).toHaveLength(1);
    expect(bobs[0].taskId).not.toBe(generated.taskId);
  });

  it('filters by kind and status, and refuses unknown ones naming the allowed values', async () => {
    const ids = async (query: string) => (await get(`/api/v1/tasks?${query}`)).json().data.tasks.map((task: { taskId: string }) => task.taskId);
    expect(await ids('kind=generate')).toEqual([generated.taskId]);
    expect(await ids('kind=replace&status=PENDING')).toEqual([replaceId]);
    expect(await ids('status=SUCCESS')).toEqual([generated.taskId]);
    expect(await ids('kind=mashup')).toEqual([]);
    const refused = (await get('/api/v1/tasks?kind=remix')).json();
    expect(refused).toEqual({ code: 422, msg: `kind: must be one of ${KIND_NAMES.join(', ')}`, data: null });
    expect((await get('/api/v1/tasks?status=DONE')).json().msg).toBe(`status: must be one of ${TASK_STATUSES.join(', ')}`);
    expect((await get('/api/v1/tasks?limit=201')).json().code).toBe(422);
  });

  it('pages with a cursor that stays stable when tasks are added', async () => {
    const first = (await get('/api/v1/tasks?limit=1')).json().data;
    expect(first.tasks.map((task: { taskId: string }) => task.taskId)).toEqual([replaceId]);
    expect(first.nextCursor).toEqual(expect.any(String));
    // A task created meanwhile lands before the cursor, not on the next page.
    const newer = await finishedGenerateTask(services, alice.account.id, 10);
    const second = (await get(`/api/v1/tasks?limit=1&cursor=${first.nextCursor}`)).json().data;
    expect(second.tasks.map((task: { taskId: string }) => task.taskId)).toEqual([generated.taskId]);
    expect(second.nextCursor).toBeNull();
    expect((await get('/api/v1/tasks?limit=1')).json().data.tasks[0].taskId).toBe(newer.taskId);
  });

  it('shows one task with its request, tracks and source; another account’s task reads as unknown', async () => {
    const replace = (await get(`/api/v1/tasks/${replaceId}`)).json().data;
    expect(replace).toMatchObject({ taskId: replaceId, kind: 'replace', tracks: [] });
    expect(replace.param).toEqual({
      uploadUrl,
      prompt: 'jazz piano',
      tags: 'Jazz',
      title: 'New',
      infillStartS: 12,
      infillEndS: 24,
      callBackUrl: 'https://example.com/hook',
    });
    const token = /\/files\/([A-Za-z0-9_-]{32})\//.exec(uploadUrl)?.[1];
    expect(replace.sourceUrl).toBe(`http://127.0.0.1:3999/files/${token}/stream`);

    const song = (await get(`/api/v1/tasks/${generated.taskId}`)).json().data;
    expect(song.sourceUrl).toBeNull();
    expect(song.tracks).toHaveLength(2);
    expect(song.tracks[0]).toEqual({
      id: generated.audioIds[0],
      audioUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:3999\/files\/[A-Za-z0-9_-]{32}\.mp3$/),
      imageUrl: expect.stringMatching(/\.jpeg$/),
      duration: 60,
      title: 'T0',
      appliedRange: null,
    });

    const unknown = { code: 404, msg: `taskId: no task ${replaceId} for this account`, data: null };
    expect((await get(`/api/v1/tasks/${replaceId}`, bob)).json()).toEqual(unknown);
    expect((await get('/api/v1/tasks/0123456789abcdef0123456789abcdef')).json().code).toBe(404);
  });

  it('a replace-section of one of the account’s tracks names that track’s audio as its source', async () => {
    const submitted = await app.inject({
      method: 'POST',
      url: '/api/v1/generate/replace-section',
      headers: { ...alice.auth, 'content-type': 'application/json' },
      payload: { taskId: generated.taskId, audioId: generated.audioIds[1], prompt: 'p', tags: 'Jazz', title: 'Edit', infillStartS: 6, infillEndS: 18 },
    });
    const taskId = submitted.json().data.taskId;
    const view = (await get(`/api/v1/tasks/${taskId}`)).json().data;
    const track = (await get(`/api/v1/tasks/${generated.taskId}`)).json().data.tracks[1];
    const token = /\/files\/([A-Za-z0-9_-]{32})\.mp3$/.exec(track.audioUrl)?.[1];
    expect(view.sourceUrl).toBe(`http://127.0.0.1:3999/files/${token}/stream`);
  });

  it('feeds every change of the account’s tasks, from this process and through the store, and nothing of others', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const controller = new AbortController();
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/tasks/feed`, { headers: alice.auth, signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let received = '';
    const seen: Array<{ taskId: string; status: string }> = [];
    /** Reads events until the task shows with the status (a task made and finished at once may show PENDING first). */
    const until = async (taskId: string, status: string): Promise<Record<string, unknown>> => {
      for (;;) {
        const match = /event: task\ndata: (.*)\n\n/.exec(received);
        if (match) {
          received = received.slice((match.index ?? 0) + match[0].length);
          const event = JSON.parse(match[1] ?? '');
          seen.push(event);
          if (event.taskId === taskId && event.status === status) return event;
          continue;
        }
        const { done, value } = await reader.read();
        if (done) throw new Error('the feed ended');
        received += new TextDecoder().decode(value);
      }
    };
    try {
      // Opens with nothing but a comment: what exists is read by the list.
      const { value } = await reader.read();
      expect(new TextDecoder().decode(value)).toBe(': ready\n\n');

      // A change made in this process (the worker failing the task).
      await failTask(lifecycleContext(services), replaceId, null, 500, 'boom', musicFamily.errorBody);
      expect(await until(replaceId, 'GENERATE_AUDIO_FAILED')).toMatchObject({ kind: 'replace', errorCode: 500, completeTime: expect.any(Number) });

      // Another account's new task is not shown; the caller's own is, as soon as it exists.
      const bobs = await finishedGenerateTask(services, bob.account.id, 10);
      const made = await finishedGenerateTask(services, alice.account.id, 10);
      expect(await until(made.taskId, 'SUCCESS')).toMatchObject({ kind: 'generate' });

      // A change written by another process reaches the feed through the store alone.
      const pending = await app.inject({
        method: 'POST',
        url: '/api/v1/generate/replace-section',
        headers: { ...alice.auth, 'content-type': 'application/json' },
        payload: { uploadUrl, prompt: 'p', tags: 'Jazz', title: 'Later', infillStartS: 12, infillEndS: 24 },
      });
      const laterId = pending.json().data.taskId;
      await until(laterId, 'PENDING');
      await services.store.db.updateTable('tasks').set({ status: 'TEXT_SUCCESS', updated_at: Date.now() }).where('id', '=', laterId).execute();
      await until(laterId, 'TEXT_SUCCESS');
      expect(seen.some((event) => event.taskId === bobs.taskId)).toBe(false);
      // Each change once.
      expect(seen.filter((event) => event.taskId === laterId).map((event) => event.status)).toEqual(['PENDING', 'TEXT_SUCCESS']);
    } finally {
      controller.abort();
    }
  });
});

it('the feed counts against the same per-account cap as task event streams, and a stopping server ends it', async () => {
  const [target] = storeTargets();
  const services = await createTestServices(target!, { REPRISE_EVENT_STREAMS_PER_ACCOUNT: '1' });
  const app = await createTestApp(services);
  try {
    const alice = await createTestAccount(services, 100);
    const { taskId } = await finishedGenerateTask(services, alice.account.id, 10);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}`;
    const feed = await fetch(`${base}/api/v1/tasks/feed`, { headers: alice.auth });
    expect(feed.headers.get('content-type')).toBe('text/event-stream');
    expect(await (await fetch(`${base}/api/v1/tasks/${taskId}/events`, { headers: alice.auth })).json()).toMatchObject({ code: 429 });
    expect(await (await fetch(`${base}/api/v1/tasks/feed`, { headers: alice.auth })).json()).toMatchObject({ code: 429 });

    await app.close();
    // The stream ends (the read completes) instead of holding the server open.
    const reader = (feed.body as ReadableStream<Uint8Array>).getReader();
    for (;;) if ((await reader.read()).done) break;
  } finally {
    await app.close();
    await closeServices(services);
  }
});

it("gives a stream's slot back when its client leaves before the stream opens", async () => {
  const [target] = storeTargets();
  const services = await createTestServices(target!, { REPRISE_EVENT_STREAMS_PER_ACCOUNT: '1' });
  const app = await createTestApp(services);
  try {
    const alice = await createTestAccount(services, 100);
    // A slow store, as under load: the client below has left before the route gets to open its stream.
    app.addHook('preHandler', async (request) => {
      if (request.url === '/api/v1/tasks/feed') await new Promise((resolve) => setTimeout(resolve, 100));
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    for (const delayMs of [10, 30]) {
      const socket = net.connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(`GET /api/v1/tasks/feed HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${alice.auth.authorization}\r\n\r\n`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      socket.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The cap is 1: a slot kept by any of them would make this a 429.
    const controller = new AbortController();
    const feed = await fetch(`http://127.0.0.1:${port}/api/v1/tasks/feed`, { headers: alice.auth, signal: controller.signal });
    expect(feed.headers.get('content-type')).toBe('text/event-stream');
    controller.abort();
  } finally {
    await app.close();
    await closeServices(services);
  }
});
