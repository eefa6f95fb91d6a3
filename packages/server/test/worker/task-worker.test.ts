import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitContext } from '../../src/api/tasks.js';
import { decodeWav } from '../../src/audio/codecs/wav.js';
import { lifecycleContext } from '../../src/server.js';
import type { Services, TaskChange } from '../../src/services.js';
import { findOwnTask, generateKind, musicFamily, replaceSectionKind, submitKind, type TaskRecord } from '../../src/tasks/index.js';
import { createRenderPool, createTaskWorker, type RenderPool, type TaskWorker } from '../../src/worker/index.js';
import { uploadedWav } from '../helpers/fixtures.js';
import { silentLog } from '../helpers/log.js';
import { closeServices, createTestAccount, createTestServices, type TestAccount } from '../helpers/services.js';
import { differingFrames, outside } from '../helpers/signal.js';
import { storeTargets } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

describe.each(storeTargets())('task worker on $name', (target) => {
  let services: Services;
  let pool: RenderPool;
  let worker: TaskWorker;
  let user: TestAccount;
  const changes: TaskChange[] = [];

  beforeAll(async () => {
    services = await createTestServices(target, { REPRISE_GENERATE_DURATION_S: '12', REPRISE_RATE_LIMIT: '1000/1s' });
    services.events.on('task', (change: TaskChange) => changes.push(change));
    pool = createRenderPool();
    worker = createTaskWorker({
      store: services.store,
      blobs: services.blobs,
      pool,
      engine: { name: 'procedural', acestepUrl: null, acestepApiKey: null },
      lifecycle: lifecycleContext(services),
      concurrency: 2,
      leaseMs: 5000,
      pollMs: 100,
      log: silentLog,
    });
    services.events.on('submitted', () => worker.wake());
    worker.start();
    user = await createTestAccount(services, 1000);
  });
  afterAll(async () => {
    await worker.stop(1000);
    await pool.close();
    await closeServices(services);
  });

  const finished = (taskId: string) =>
    waitFor(
      async () => {
        const task = await services.store.db.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirstOrThrow();
        return task.finished_at ? task : undefined;
      },
      60_000,
      `task ${taskId} to finish`,
    );

  const ledgerOf = (taskId: string) =>
    services.store.db.selectFrom('ledger').select(['kind', 'amount']).where('task_id', '=', taskId).orderBy('kind').execute();
  const callbacksOf = (taskId: string) => services.store.db.selectFrom('callbacks').selectAll().where('task_id', '=', taskId).orderBy('created_at').execute();

  it('renders a replace-section task, stores its files and owes the complete callback', async () => {
    const uploadUrl = await uploadedWav(services, user.account.id, 30);
    const body = { uploadUrl, prompt: 'jazz piano', tags: 'Jazz', title: 'Jazzed', infillStartS: 8, infillEndS: 20, callBackUrl: 'https://example.com/cb' };
    const taskId = await submitKind(submitContext(services), replaceSectionKind, user.account, body, JSON.stringify(body));
    const task = await finished(taskId);
    expect(task.status).toBe('SUCCESS');
    const tracks = await services.store.db.selectFrom('tracks').selectAll().where('task_id', '=', taskId).execute();
    expect(tracks).toHaveLength(1);
    expect(tracks[0]!.duration).toBeCloseTo(30, 1);
    // The range the engine actually replaced is recorded with the track (moved by at most half a second onto beats)
    // and shown by record-info as infillStartS/infillEndS [EXT]; the callback's track keeps KIE's fields only (below).
    expect(Math.abs(tracks[0]!.applied_start_s! - 8)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(tracks[0]!.applied_end_s! - 20)).toBeLessThanOrEqual(0.5);
    const record = (await musicFamily.details(
      services.store.db,
      (await findOwnTask(services.store.db, user.account.id, taskId))!,
      'http://127.0.0.1:1',
      replaceSectionKind,
    )) as TaskRecord;
    expect(record.response.sunoData[0]).toMatchObject({
      infillStartS: Math.round(tracks[0]!.applied_start_s! * 1000) / 1000,
      infillEndS: Math.round(tracks[0]!.applied_end_s! * 1000) / 1000,
    });
    const audio = await services.store.db.selectFrom('files').selectAll().where('id', '=', tracks[0]!.audio_file).executeTakeFirstOrThrow();
    expect(audio.content_type).toBe('audio/mpeg');
    expect(await services.blobs.size(audio.blob_key)).toBe(audio.size);
    expect(await ledgerOf(taskId)).toEqual([{ kind: 'debit', amount: -5 }]);
    const callbacks = await callbacksOf(taskId);
    expect(callbacks.map((c) => c.stage)).toEqual(['complete']);
    const payload = JSON.parse(callbacks[0]!.payload);
    expect(payload).toMatchObject({ code: 200, msg: 'All generated successfully.', data: { callbackType: 'complete', task_id: taskId } });
    expect(Object.keys(payload.data.data[0])).toEqual([
      'id',
      'audio_url',
      'stream_audio_url',
      'image_url',
      'prompt',
      'model_name',
      'title',
      'tags',
      'createTime',
      'duration',
    ]);
    const job = await services.store.db.selectFrom('jobs').select('state').where('ref_id', '=', taskId).executeTakeFirstOrThrow();
    expect(job.state).toBe('done');
  });

  it('passes a generate task through TEXT_SUCCESS and FIRST_SUCCESS to SUCCESS with two tracks', async () => {
    const body = { customMode: false, instrumental: true, prompt: 'energetic rock with guitar', callBackUrl: 'https://example.com/cb' };
    const taskId = await submitKind(submitContext(services), generateKind, user.account, body, JSON.stringify(body));
    const task = await finished(taskId);
    expect(task.status).toBe('SUCCESS');
    expect(task.sheet).toBeTruthy();
    expect(changes.filter((c) => c.taskId === taskId).map((c) => c.status)).toEqual(['TEXT_SUCCESS', 'FIRST_SUCCESS', 'SUCCESS']);
    const tracks = await services.store.db.selectFrom('tracks').selectAll().where('task_id', '=', taskId).orderBy('idx').execute();
    expect(tracks.map((t) => t.idx)).toEqual([0, 1]);
    expect(tracks.map((t) => [t.applied_start_s, t.applied_end_s])).toEqual([
      [null, null],
      [null, null],
    ]);
    expect(tracks[0]!.audio_file).not.toBe(tracks[1]!.audio_file);
    const callbacks = await callbacksOf(taskId);
    expect(callbacks.map((c) => c.stage)).toEqual(['text', 'first', 'complete']);
    expect(JSON.parse(callbacks[0]!.payload)).toEqual({
      code: 200,
      msg: 'Text generation completed successfully.',
      data: { callbackType: 'text', task_id: taskId, data: [] },
    });
    expect(JSON.parse(callbacks[1]!.payload).data.data).toHaveLength(1);
    expect(JSON.parse(callbacks[2]!.payload).data.data).toHaveLength(2);
  });

  /** The track's master as decoded samples, and the file row that records it. */
  async function masterOf(trackId: string) {
    const row = await services.store.db
      .selectFrom('tracks')
      .innerJoin('files', 'files.id', 'tracks.master_file')
      .select(['files.kind', 'files.content_type', 'files.blob_key', 'files.size', 'files.expires_at'])
      .where('tracks.id', '=', trackId)
      .executeTakeFirstOrThrow();
    return { row, pcm: decodeWav(await services.blobs.get(row.blob_key)) };
  }

  it('stores a lossless master with every track, and edits it (not the MP3) when a task names the track', async () => {
    const genBody = { customMode: false, instrumental: true, prompt: 'slow blues', callBackUrl: 'https://example.com/cb' };
    const genId = await submitKind(submitContext(services), generateKind, user.account, genBody, JSON.stringify(genBody));
    expect((await finished(genId)).status).toBe('SUCCESS');
    const [parent] = await services.store.db.selectFrom('tracks').selectAll().where('task_id', '=', genId).orderBy('idx').execute();
    const audio = await services.store.db.selectFrom('files').select('expires_at').where('id', '=', parent!.audio_file).executeTakeFirstOrThrow();
    const original = await masterOf(parent!.id);
    // A 32-bit float WAV, registered like the track's other files (same expiry) but never published.
    expect(original.row).toMatchObject({ kind: 'master', content_type: 'audio/wav', expires_at: audio.expires_at });
    expect(await services.blobs.size(original.row.blob_key)).toBe(original.row.size);
    expect(original.pcm.channels[0]!.length).toBe(12 * 44_100);
    const callbacks = await callbacksOf(genId);
    expect(callbacks.every((c) => !c.payload.includes(parent!.master_file!))).toBe(true);

    const editBody = { taskId: genId, audioId: parent!.id, prompt: 'organ', tags: 'Blues', title: 'Edited', infillStartS: 3, infillEndS: 9 };
    const editId = await submitKind(submitContext(services), replaceSectionKind, user.account, editBody, JSON.stringify(editBody));
    expect((await finished(editId)).status).toBe('SUCCESS');
    const [edited] = await services.store.db.selectFrom('tracks').selectAll().where('task_id', '=', editId).execute();
    const result = await masterOf(edited!.id);
    expect(result.pcm.channels[0]!.length).toBe(12 * 44_100);
    // Edited from the master: outside the section ±1.5 s every sample is the parent's. (From the MP3 it would carry coding noise.)
    const keep = outside(12 * 44_100, [[3 * 44_100, 9 * 44_100]], 1.5 * 44_100);
    expect(differingFrames(original.pcm.channels, result.pcm.channels, keep)).toBe(0);

    // Without its master (gone from storage), the track is edited from its MP3 and the task still succeeds.
    await services.blobs.delete(original.row.blob_key);
    const fallbackId = await submitKind(submitContext(services), replaceSectionKind, user.account, editBody, JSON.stringify({ ...editBody, title: 'Again' }));
    expect((await finished(fallbackId)).status).toBe('SUCCESS');
    const [fallback] = await services.store.db.selectFrom('tracks').selectAll().where('task_id', '=', fallbackId).execute();
    expect(differingFrames(original.pcm.channels, (await masterOf(fallback!.id)).pcm.channels, keep)).toBeGreaterThan(44_100);
  });

  it('fails an undecodable source with code 400 and refunds it once', async () => {
    const uploadUrl = await uploadedWav(services, user.account.id, 30);
    const file = await services.store.db
      .selectFrom('files')
      .select('blob_key')
      .where('id', '=', uploadUrl.split('/files/')[1]!.split('/')[0]!)
      .executeTakeFirstOrThrow();
    const body = { uploadUrl, prompt: 'x', tags: 'Jazz', title: 'Broken', infillStartS: 8, infillEndS: 20, callBackUrl: 'https://example.com/cb' };
    await worker.stop(5000);
    // The source turns to junk after it was accepted: decoding fails during processing.
    const taskId = await submitKind(submitContext(services), replaceSectionKind, user.account, body, JSON.stringify(body));
    await services.blobs.put(file.blob_key, Buffer.from('RIFF....WAVEjunk, not audio at all'));
    worker.start();
    worker.wake();
    const task = await finished(taskId);
    expect(task.status).toBe('GENERATE_AUDIO_FAILED');
    expect(task.error_code).toBe(400);
    expect(await ledgerOf(taskId)).toEqual([
      { kind: 'debit', amount: -5 },
      { kind: 'refund', amount: 5 },
    ]);
    const [callback] = await callbacksOf(taskId);
    expect(JSON.parse(callback!.payload)).toMatchObject({ code: 400, data: { callbackType: 'error', task_id: taskId } });
  });

  it('fails a task past its time limit with code 408, refunded', async () => {
    await worker.stop(5000);
    const body = { customMode: false, instrumental: true, prompt: 'calm ambient', callBackUrl: 'https://example.com/cb' };
    const taskId = await submitKind(submitContext(services), generateKind, user.account, body, JSON.stringify(body));
    await services.store.db
      .updateTable('tasks')
      .set({ deadline_at: Date.now() - 1 })
      .where('id', '=', taskId)
      .execute();
    worker.start();
    const task = await finished(taskId);
    expect(task.error_code).toBe(408);
    expect(task.error_message).toBe('the task ran past its time limit');
    expect((await ledgerOf(taskId)).map((row) => row.kind)).toEqual(['debit', 'refund']);
    // No dispatcher runs here: the error callback is only queued, with the 408 outcome.
    const callbacks = await callbacksOf(taskId);
    expect(callbacks.map((c) => c.stage)).toEqual(['error']);
    expect(JSON.parse(callbacks[0]!.payload)).toMatchObject({
      code: 408,
      data: { callbackType: 'error', task_id: taskId, error: 'the task ran past its time limit' },
    });
  });
});
