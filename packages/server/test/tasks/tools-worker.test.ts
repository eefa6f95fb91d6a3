import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitContext } from '../../src/api/tasks.js';
import { decodeAudio, readWavLayout, waveformPeaks } from '../../src/audio/index.js';
import type { SungLyrics } from '../../src/engine/types.js';
import { ApiError } from '../../src/errors.js';
import { sweepExpiredFiles } from '../../src/files/index.js';
import { lifecycleContext } from '../../src/server.js';
import type { Services } from '../../src/services.js';
import { findOwnTask, generateKind, masterBlobOf, submitKind } from '../../src/tasks/index.js';
import { lyricsFamily, lyricsKind } from '../../src/tasks/kinds/lyrics.js';
import { wavFamily, wavKind } from '../../src/tasks/kinds/wav.js';
import { admitTimestampedLyrics, timestampedLyricsOf, WAVEFORM_POINTS } from '../../src/tasks/timestamped-lyrics.js';
import { createRenderPool, createTaskWorker, type RenderPool, type TaskWorker } from '../../src/worker/index.js';
import { finishedGenerateTask } from '../helpers/fixtures.js';
import { silentLog } from '../helpers/log.js';
import { closeServices, createTestAccount, createTestServices, TEST_PUBLIC_URL, type TestAccount } from '../helpers/services.js';
import { lagByCrossCorrelation, snrDb } from '../helpers/signal.js';
import { storeTargets } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The audio tools run by the real worker on rendered songs: a WAV is the track's master sample
 * for sample (or its MP3 decoded without the encoder's delay), timestamped words are the
 * renderer's own, a conversion that breaks fails the task (531, refunded) leaving no file, and a
 * lyrics task that runs out of time fails with its family's error body.
 */
describe.each(storeTargets())('the audio tools in the worker on $name', (target) => {
  let services: Services;
  let pool: RenderPool;
  let worker: TaskWorker | null = null;
  let user: TestAccount;
  /** A sung 12 s generate task, rendered by the procedural engine. */
  let song: { taskId: string; audioIds: string[] };
  const CB = 'https://example.com/cb';

  beforeAll(async () => {
    services = await createTestServices(target, { REPRISE_GENERATE_DURATION_S: '12', REPRISE_RATE_LIMIT: '1000/1s', REPRISE_PRICE_WAV: '3' });
    pool = createRenderPool();
    user = await createTestAccount(services, 1000);
  });
  afterAll(async () => {
    await worker?.stop(1000);
    await pool.close();
    await closeServices(services);
  });

  function startWorker(): void {
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
    services.events.on('submitted', () => worker?.wake());
    worker.start();
  }

  const db = () => services.store.db;
  const finished = (taskId: string) =>
    waitFor(
      async () => {
        const task = await db().selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirstOrThrow();
        return task.finished_at ? task : undefined;
      },
      90_000,
      `task ${taskId} to finish`,
    );
  const ledgerOf = async (taskId: string) =>
    (await db().selectFrom('ledger').select(['kind', 'amount']).where('task_id', '=', taskId).orderBy('kind').execute()).map((row) => ({
      kind: row.kind,
      amount: Number(row.amount),
    }));
  const callbackOf = async (taskId: string) => {
    const rows = await db().selectFrom('callbacks').select(['stage', 'payload']).where('task_id', '=', taskId).execute();
    expect(rows).toHaveLength(1);
    return { stage: rows[0]!.stage, body: JSON.parse(rows[0]!.payload) };
  };
  const submit = (kind: Parameters<typeof submitKind>[1], body: Record<string, unknown>) =>
    submitKind(submitContext(services), kind, user.account, body, JSON.stringify(body));
  const blobsUnder = async (prefix: string) => {
    const rows = await db().selectFrom('files').select('blob_key').where('blob_key', 'like', `${prefix}%`).execute();
    return rows.map((row) => row.blob_key);
  };

  it('a lyrics task that runs past its time limit fails with the lyrics error body, refunded', async () => {
    // Submitted while no worker runs, its deadline then moved into the past: the worker's first look fails it.
    const taskId = await submit(lyricsKind, { prompt: 'coffee in the morning', callBackUrl: CB });
    await db()
      .updateTable('tasks')
      .set({ deadline_at: Date.now() - 1 })
      .where('id', '=', taskId)
      .execute();
    startWorker();
    const task = await finished(taskId);
    expect(task).toMatchObject({ status: 'GENERATE_AUDIO_FAILED', error_code: 408, error_message: 'the task ran past its time limit', result: null });
    expect(await ledgerOf(taskId)).toEqual([
      { kind: 'debit', amount: -1 },
      { kind: 'refund', amount: 1 },
    ]);
    expect(await callbackOf(taskId)).toEqual({
      stage: 'error',
      body: {
        code: 408,
        msg: 'Generation timed out, credits refunded',
        data: { callbackType: 'error', task_id: taskId, data: [{ text: '', title: '', status: 'failed', error_message: 'the task ran past its time limit' }] },
      },
    });
    expect(await lyricsFamily.details(db(), task, TEST_PUBLIC_URL, lyricsKind)).toMatchObject({
      status: 'GENERATE_LYRICS_FAILED',
      errorCode: 408,
      errorMessage: 'the task ran past its time limit',
      response: { taskId, data: [], lyricsData: [] },
    });
  });

  it('renders a sung song to work on', async () => {
    const body = { customMode: false, instrumental: false, prompt: 'a song about the sea at night', callBackUrl: CB };
    const taskId = await submit(generateKind, body);
    expect((await finished(taskId)).status).toBe('SUCCESS');
    const tracks = await db().selectFrom('tracks').select(['id', 'sung', 'master_file']).where('task_id', '=', taskId).orderBy('idx').execute();
    expect(tracks.every((track) => track.sung !== null && track.master_file !== null)).toBe(true);
    song = { taskId, audioIds: tracks.map((track) => track.id) };
  });

  it('a WAV of a rendered track is its master, sample for sample (and byte for byte)', async () => {
    const [audioId] = song.audioIds;
    const taskId = await submit(wavKind, { taskId: song.taskId, audioId, callBackUrl: CB });
    const task = await finished(taskId);
    expect(task.status).toBe('SUCCESS');
    const details = (await wavFamily.details(db(), task, TEST_PUBLIC_URL, wavKind)) as { response: { audioWavUrl: string }; musicIndex: number };
    expect(details.musicIndex).toBe(0);
    const token = /\/files\/([A-Za-z0-9_-]{32})\.wav$/.exec(details.response.audioWavUrl)?.[1];
    const file = await db().selectFrom('files').selectAll().where('id', '=', token!).executeTakeFirstOrThrow();
    expect(file).toMatchObject({ kind: 'audio', content_type: 'audio/wav', account_id: user.account.id });
    const wav = await services.blobs.get(file.blob_key);
    expect(wav.byteLength).toBe(Number(file.size));
    const master = await services.blobs.get((await masterBlobOf(db(), audioId!))!);
    const [fromWav, fromMaster] = [await decodeAudio(wav), await decodeAudio(master)];
    expect(readWavLayout(wav)).toMatchObject({ float: true, bitsPerSample: 32 });
    expect(fromWav.sampleRate).toBe(fromMaster.sampleRate);
    expect(fromWav.channels).toHaveLength(fromMaster.channels.length);
    for (const [c, channel] of fromMaster.channels.entries()) {
      // Bit for bit: the float32 words themselves, so even a NaN or a -0 would have to match.
      expect(Buffer.from(fromWav.channels[c]!.buffer).equals(Buffer.from(channel.buffer)), `channel ${c}`).toBe(true);
    }
    expect(wav.equals(master)).toBe(true);
    expect(await ledgerOf(taskId)).toEqual([{ kind: 'debit', amount: -3 }]);
    expect(await callbackOf(taskId)).toEqual({
      stage: 'complete',
      body: { code: 200, msg: 'success', data: { audioWavUrl: details.response.audioWavUrl, task_id: taskId } },
    });
    // One WAV per track: a second request names the first task and stores nothing.
    const again = await submit(wavKind, { taskId: song.taskId, audioId, callBackUrl: CB }).catch((error: unknown) => error);
    expect(again).toBeInstanceOf(ApiError);
    expect({ code: (again as ApiError).code, msg: (again as ApiError).message, data: (again as ApiError).data }).toEqual({
      code: 409,
      msg: 'WAV record already exists',
      data: { taskId },
    });
    // Kept like every generated file: for the retention, then deleted with its row (its URL then answers 404).
    expect(Number(file.expires_at) - Number(file.created_at)).toBe(14 * 86_400_000);
    await db()
      .updateTable('files')
      .set({ expires_at: Date.now() - 1 })
      .where('id', '=', file.id)
      .execute();
    await sweepExpiredFiles(services, Date.now());
    expect(await services.blobs.size(file.blob_key)).toBeNull();
    expect(await db().selectFrom('files').select('id').where('id', '=', file.id).executeTakeFirst()).toBeUndefined();
  });

  it('a WAV of a track without its master is the MP3 decoded, the encoder delay removed', async () => {
    const audioId = song.audioIds[1]!;
    const masterKey = (await masterBlobOf(db(), audioId))!;
    const master = await decodeAudio(await services.blobs.get(masterKey));
    await services.blobs.delete(masterKey);
    const taskId = await submit(wavKind, { taskId: song.taskId, audioId, callBackUrl: CB });
    const task = await finished(taskId);
    expect(task.status).toBe('SUCCESS');
    const [wavKey] = await blobsUnder(`tasks/${taskId}/`);
    const fromWav = await decodeAudio(await services.blobs.get(wavKey!));
    const mp3Key = (
      await db()
        .selectFrom('tracks')
        .innerJoin('files', 'files.id', 'tracks.audio_file')
        .select('files.blob_key')
        .where('tracks.id', '=', audioId)
        .executeTakeFirstOrThrow()
    ).blob_key;
    const fromMp3 = await decodeAudio(await services.blobs.get(mp3Key));
    // Exactly what the MP3 decodes to …
    for (const [c, channel] of fromMp3.channels.entries()) expect(Buffer.from(fromWav.channels[c]!.buffer).equals(Buffer.from(channel.buffer))).toBe(true);
    // … which is the master's length, in time with it (no delay left in front), and close to it.
    expect(fromWav.channels[0]!.length).toBe(master.channels[0]!.length);
    const middle = Math.floor(master.channels[0]!.length / 2);
    expect(Math.abs(lagByCrossCorrelation(master.channels[0]!, fromWav.channels[0]!, [middle - 22_050, middle + 22_050], 2000))).toBeLessThan(0.5);
    expect(snrDb(master.channels, fromWav.channels, [[0, master.channels[0]!.length]])).toBeGreaterThan(15);
  });

  it('a conversion that breaks fails the task (531, refunded) with a clear message and leaves no file', async () => {
    const fixture = await finishedGenerateTask(services, user.account.id, 1);
    const audioId = fixture.audioIds[0]!;
    const audio = await db()
      .selectFrom('tracks')
      .innerJoin('files', 'files.id', 'tracks.audio_file')
      .select('files.blob_key')
      .where('tracks.id', '=', audioId)
      .executeTakeFirstOrThrow();
    // A WAV header whose fmt chunk ends early: readable as a WAV until its format is read.
    const broken = Buffer.concat([Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00', 'latin1'), Buffer.alloc(6)]);
    await services.blobs.put(audio.blob_key, broken);
    const balance = async () =>
      Number((await db().selectFrom('accounts').select('balance').where('id', '=', user.account.id).executeTakeFirstOrThrow()).balance);
    const before = await balance();
    const filesBefore = await db().selectFrom('files').select('id').execute();
    const taskId = await submit(wavKind, { taskId: fixture.taskId, audioId, callBackUrl: CB });
    const task = await finished(taskId);
    const message = 'converting the track’s MP3 to WAV failed: WAV fmt chunk is truncated';
    expect(task).toMatchObject({ status: 'GENERATE_AUDIO_FAILED', error_code: 531, error_message: message, result: null });
    expect(await ledgerOf(taskId)).toEqual([
      { kind: 'debit', amount: -3 },
      { kind: 'refund', amount: 3 },
    ]);
    expect(await balance()).toBe(before);
    expect(await callbackOf(taskId)).toEqual({
      stage: 'error',
      body: { code: 531, msg: `Generation failed, credits refunded: ${message}`, data: { audioWavUrl: null, task_id: taskId } },
    });
    expect(await wavFamily.details(db(), task, TEST_PUBLIC_URL, wavKind)).toMatchObject({
      successFlag: 'GENERATE_WAV_FAILED',
      errorCode: 531,
      errorMessage: message,
      response: { audioWavUrl: null },
    });
    expect(await db().selectFrom('files').select('id').execute()).toEqual(filesBefore);
    expect(await services.blobs.size(`tasks/${taskId}/${audioId}.wav`)).toBeNull();
    // A failed WAV may be asked for again (not a 409); on an emptied MP3 it fails the same way.
    await services.blobs.put(audio.blob_key, Buffer.alloc(0));
    const retry = await submit(wavKind, { taskId: fixture.taskId, audioId, callBackUrl: CB });
    expect((await finished(retry)).error_code).toBe(531);
  });

  it('timestamped lyrics of a sung track are the renderer’s word times, over a waveform of its master', async () => {
    const [audioId] = song.audioIds;
    const track = await db().selectFrom('tracks').selectAll().where('id', '=', audioId!).executeTakeFirstOrThrow();
    const sung = JSON.parse(track.sung!) as SungLyrics;
    const admitted = await admitTimestampedLyrics(db(), user.account.id, { taskId: song.taskId, audioId });
    const answer = await timestampedLyricsOf({ db: db(), blobs: services.blobs }, admitted);
    expect(Object.keys(answer)).toEqual(['alignedWords', 'waveformData', 'hootCer', 'isStreamed']);
    expect(answer.alignedWords.map(({ startS, endS }) => ({ startS, endS }))).toEqual(sung.words.map(({ startS, endS }) => ({ startS, endS })));
    expect(answer.alignedWords.map((w) => w.word.replace(/^\[[^\]]*\]\n|^\n/, ''))).toEqual(sung.words.map((w) => w.word));
    expect(answer.alignedWords[0]!.word).toMatch(/^\[(Verse|Chorus|Bridge)\]\n\S/);
    expect(answer.alignedWords.every((w) => w.success && w.palign === 1)).toBe(true);
    for (const [i, word] of answer.alignedWords.entries()) {
      expect(word.endS).toBeGreaterThan(word.startS);
      expect(word.startS).toBeGreaterThanOrEqual(i === 0 ? 0 : answer.alignedWords[i - 1]!.endS - 1e-9);
      expect(word.endS).toBeLessThanOrEqual(track.duration + 1e-6);
    }
    const master = await decodeAudio(await services.blobs.get((await masterBlobOf(db(), audioId!))!));
    expect(answer.waveformData).toEqual(waveformPeaks(master.channels, WAVEFORM_POINTS));
    expect(answer.waveformData).toHaveLength(WAVEFORM_POINTS);
    expect(Math.max(...answer.waveformData)).toBe(1);
    expect({ hootCer: answer.hootCer, isStreamed: answer.isStreamed }).toEqual({ hootCer: 0, isStreamed: false });
  });

  it('timestamped lyrics of an instrumental have no words, and a waveform of its audio', async () => {
    const fixture = await finishedGenerateTask(services, user.account.id, 1);
    const admitted = await admitTimestampedLyrics(db(), user.account.id, { taskId: fixture.taskId, audioId: fixture.audioIds[1] });
    const answer = await timestampedLyricsOf({ db: db(), blobs: services.blobs }, admitted);
    expect(answer.alignedWords).toEqual([]);
    // The fixture's audio is a steady tone: every stretch peaks alike.
    expect(answer.waveformData).toHaveLength(WAVEFORM_POINTS);
    expect(Math.min(...answer.waveformData)).toBeGreaterThan(0.95);
    // The task record still reads as KIE's for the WAV made from this task's other track.
    expect(await findOwnTask(db(), user.account.id, fixture.taskId)).not.toBeNull();
  });
});
