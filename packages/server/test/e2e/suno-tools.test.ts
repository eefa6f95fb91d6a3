import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type CallbackHandler, createCallbackHandler, type ReceivedCallbackEvent } from '@reprise/sdk';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAudio, parseLyrics, readWavLayout, syllableCount } from '../../src/audio/index.js';
import type { SungLyrics } from '../../src/engine/types.js';
import { kill } from '../helpers/process.js';
import { apiSession, type Json, type Received, type Receiver, serveWithAccount, startReceiver, TRACK_TOOL_RECORD_KEYS } from '../helpers/serve.js';
import { storeTargets, tempDir } from '../helpers/stores.js';

/**
 * The Suno audio tools (issue 13 items 1–3) against a real `reprise serve`, on every store: each
 * route submitted → its callback body checked key by key against kie-catalogue §17/§18, both
 * signatures verified over the key that body carries its task id in, and read by the SDK's
 * receiver → the family's details route and the Market one → files that download and decode.
 */
describe.each(storeTargets())('the Suno audio tools on $name', (target) => {
  let server: ChildProcess;
  let base: string;
  let apiKey: string;
  let secret: string;
  let receiver: Receiver;
  let receiverUrl: string;
  let received: Received[];
  let sdk: CallbackHandler;
  let dataDir: string;
  let databaseUrl: string;
  const credits = 1000;

  beforeAll(async () => {
    receiver = await startReceiver('ok');
    ({ url: receiverUrl, received } = receiver);
    dataDir = tempDir('tools');
    databaseUrl = await target.fresh();
    ({ server, base, apiKey, secret } = await serveWithAccount(
      {
        REPRISE_DATA_DIR: dataDir,
        DATABASE_URL: databaseUrl,
        REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8',
        REPRISE_GENERATE_DURATION_S: '12',
        REPRISE_CALLBACK_SCHEDULE: '0,0.2',
        REPRISE_RATE_LIMIT: '1000/10s',
        REPRISE_PRICE_LYRICS: '2',
        REPRISE_PRICE_WAV: '3',
        REPRISE_PRICE_TIMESTAMPED_LYRICS: '4',
        LOG_LEVEL: 'error',
      },
      credits,
    ));
    sdk = createCallbackHandler({ secret, scheme: 'kie', dedupe: false });
  });
  afterAll(async () => {
    await kill(server, 'SIGTERM');
    await receiver.close();
  });

  const { post, get, credit, submit, details, callbacksFor, verified } = apiSession(() => ({ base, apiKey, received, secret }));

  /** The SDK's receiver takes the callback (KIE scheme) and reads it as an event of its family. */
  async function sdkEvent(callback: Received): Promise<ReceivedCallbackEvent> {
    const answer = await sdk.handle({ headers: callback.headers, body: callback.body });
    expect(answer.outcome, answer.error?.message).toBe('accepted');
    return answer.event as ReceivedCallbackEvent;
  }

  /** What the renderer recorded for a track (the tracks' `sung` column), read from the server's own store. */
  async function sungOf(audioId: string): Promise<SungLyrics> {
    let text: string | undefined;
    if (databaseUrl.startsWith('sqlite:')) {
      const db = new SqliteDatabase(databaseUrl.slice('sqlite:'.length), { readonly: true });
      text = (db.prepare('select sung from tracks where id = ?').get(audioId) as { sung: string } | undefined)?.sung;
      db.close();
    } else {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      text = (await client.query<{ sung: string }>('select sung from tracks where id = $1', [audioId])).rows[0]?.sung;
      await client.end();
    }
    expect(text, `the sung words of ${audioId}`).toBeTruthy();
    return JSON.parse(text!) as SungLyrics;
  }

  /** A track's lossless master as the engine rendered it, from the server's blob store. */
  const masterOf = (taskId: string, index: number): Buffer => fs.readFileSync(path.join(dataDir, 'blobs', 'tasks', taskId, `${index}.master.wav`));

  /** A music task to work on, rendered by the server: sung, or instrumental. */
  async function song(body: Record<string, unknown>): Promise<{ taskId: string; tracks: Json[] }> {
    const taskId = await submit('/api/v1/generate', { model: 'V5', callBackUrl: receiverUrl, ...body });
    const data = await details('/api/v1/generate/record-info', taskId, (d) => d.status === 'SUCCESS' || d.status === 'GENERATE_AUDIO_FAILED');
    expect(data.status).toBe('SUCCESS');
    return { taskId, tracks: data.response.sunoData };
  }
  let sung: { taskId: string; tracks: Json[] };
  let instrumental: { taskId: string; tracks: Json[] };

  describe('lyrics', () => {
    it('POST /api/v1/lyrics: two tagged, rhyming variations from the prompt; one signed callback; record-info; charged', async () => {
      const before = await credit();
      const prompt = 'A short song about morning coffee';
      const taskId = await submit('/api/v1/lyrics', { prompt, callBackUrl: receiverUrl });
      expect(await credit()).toBe(before - 2);
      const data = await details('/api/v1/lyrics/record-info', taskId, (d) => d.status !== 'PENDING');
      expect(Object.keys(data)).toEqual(['taskId', 'param', 'response', 'status', 'type', 'errorCode', 'errorMessage']);
      expect(data).toMatchObject({ taskId, status: 'SUCCESS', type: 'LYRICS', errorCode: null, errorMessage: null });
      expect(JSON.parse(data.param)).toEqual({ prompt, callBackUrl: receiverUrl });
      const items = data.response.data as Json[];
      expect(data.response).toEqual({ taskId, data: items, lyricsData: items });
      expect(items).toHaveLength(2);
      for (const item of items) {
        expect(Object.keys(item)).toEqual(['text', 'title', 'status', 'errorMessage']);
        expect(item).toMatchObject({ status: 'complete', errorMessage: '' });
        const sections = parseLyrics(item.text);
        expect(sections[0]!.tag).toBe('Verse');
        expect(sections.some((section) => section.tag === 'Chorus')).toBe(true);
        // Steady lines: every line within two syllables of its section's aim (verses 9, choruses 8, bridges 7).
        for (const line of sections.flatMap((section) => section.lines)) expect(syllableCount(line.text)).toBeGreaterThanOrEqual(5);
        expect(item.text.toLowerCase()).toContain('coffee');
        expect(item.text.toLowerCase()).toContain('morning');
        expect(item.title.length).toBeGreaterThan(0);
      }
      expect(items[0].text).not.toBe(items[1].text);

      // The one callback, key by key as kie-catalogue §17.1 shows it.
      const [callback, ...more] = await callbacksFor(taskId, 1);
      expect(more).toEqual([]);
      const body = verified(callback!, taskId);
      expect(body).toEqual({
        code: 200,
        msg: 'All generated successfully.',
        data: {
          callbackType: 'complete',
          task_id: taskId,
          data: items.map((item) => ({ text: item.text, title: item.title, status: 'complete', error_message: '' })),
        },
      });
      expect(Object.keys(body.data.data[0])).toEqual(['text', 'title', 'status', 'error_message']);
      const event = await sdkEvent(callback!);
      expect(event).toMatchObject({
        family: 'lyrics',
        taskId,
        stage: 'complete',
        code: 200,
        error: null,
        lyrics: items.map(({ text, title }) => ({ text, title })),
      });

      // The Market view of the same task; the music details route does not know it.
      const market = (await get(`/api/v1/jobs/recordInfo?taskId=${taskId}`)).data;
      expect(market).toMatchObject({ taskId, model: 'ai-music-api/generate-lyrics', state: 'success', failCode: null, failMsg: null });
      expect(JSON.parse(market.param)).toEqual({ input: JSON.stringify({ prompt }), model: 'ai-music-api/generate-lyrics' });
      expect(JSON.parse(market.resultJson)).toEqual({ resultObject: data.response });
      expect((await get(`/api/v1/generate/record-info?taskId=${taskId}`)).data).toBeNull();
    });

    it('the Market form ai-music-api/generate-lyrics: the same lyrics for the same prompt, readable through both details routes', async () => {
      const created = await post('/api/v1/jobs/createTask', {
        model: 'ai-music-api/generate-lyrics',
        callBackUrl: receiverUrl,
        input: { prompt: 'rain on the city at night' },
      });
      expect(created).toMatchObject({ code: 200, msg: 'success' });
      const taskId = created.data.taskId as string;
      const data = await details('/api/v1/lyrics/record-info', taskId, (d) => d.status !== 'PENDING');
      expect(data.status).toBe('SUCCESS');
      const [callback] = await callbacksFor(taskId, 1);
      expect(verified(callback!, taskId)).toMatchObject({ code: 200, data: { callbackType: 'complete', task_id: taskId } });
      expect(
        data.response.data
          .map((item: Json) => item.text)
          .join('\n')
          .toLowerCase(),
      ).toMatch(/rain|city|night/);
      const market = (await get(`/api/v1/jobs/recordInfo?taskId=${taskId}`)).data;
      expect(JSON.parse(market.param)).toEqual({ input: JSON.stringify({ prompt: 'rain on the city at night' }), model: 'ai-music-api/generate-lyrics' });
      expect(JSON.parse(market.resultJson).resultObject.data).toEqual(data.response.data);
    });

    it('refuses a bad request before anything is stored or charged, and reads an unknown task as KIE does', async () => {
      const before = await credit();
      expect(await post('/api/v1/lyrics', { prompt: 'x'.repeat(201), callBackUrl: receiverUrl })).toEqual({
        code: 422,
        msg: 'prompt: must be at most 200 characters',
        data: null,
      });
      expect(await post('/api/v1/lyrics', { prompt: 'coffee' })).toEqual({ code: 422, msg: 'Please enter callBackUrl.', data: null });
      expect(await credit()).toBe(before);
      expect(await get(`/api/v1/lyrics/record-info?taskId=${'0'.repeat(32)}`)).toEqual({ code: 200, msg: 'success', data: null });
    });
  });

  describe('timestamped lyrics', () => {
    it('of a sung track: the renderer’s word times, monotonic, inside the track, over a waveform of its audio; charged', async () => {
      sung = await song({ customMode: false, instrumental: false, prompt: 'a song about the sea at night' });
      const track = sung.tracks[0];
      const before = await credit();
      const answer = await post('/api/v1/generate/get-timestamped-lyrics', { taskId: sung.taskId, audioId: track.id });
      expect(await credit()).toBe(before - 4);
      expect({ code: answer.code, msg: answer.msg }).toEqual({ code: 200, msg: 'success' });
      const data = answer.data;
      expect(Object.keys(data)).toEqual(['alignedWords', 'waveformData', 'hootCer', 'isStreamed']);
      expect({ hootCer: data.hootCer, isStreamed: data.isStreamed }).toEqual({ hootCer: 0, isStreamed: false });
      const words = data.alignedWords as Json[];
      expect(words.length).toBeGreaterThan(10);
      for (const word of words) expect(Object.keys(word)).toEqual(['word', 'success', 'startS', 'endS', 'palign']);
      // Exactly the renderer's times, word for word.
      const rendered = await sungOf(track.id);
      expect(words.map((w) => [w.startS, w.endS])).toEqual(rendered.words.map((w) => [w.startS, w.endS]));
      expect(words.map((w) => w.word.replace(/^\[[^\]]*\]\n|^\n/, ''))).toEqual(rendered.words.map((w) => w.word));
      // The words are the track's lyrics (its prompt), sections tagged as KIE does: "[Verse]\nWord".
      expect(words.map((w) => w.word.replace(/^\[[^\]]*\]\n|^\n/, ''))).toEqual(
        parseLyrics(track.prompt).flatMap((section) => section.lines.flatMap((line) => line.words.map((word) => word.text))),
      );
      expect(words[0].word).toMatch(/^\[(Verse|Chorus|Bridge)\]\n/);
      let previousEnd = 0;
      for (const word of words) {
        expect(word).toMatchObject({ success: true, palign: 1 });
        expect(word.startS).toBeGreaterThanOrEqual(previousEnd - 1e-9);
        expect(word.endS).toBeGreaterThan(word.startS);
        expect(word.endS).toBeLessThanOrEqual(track.duration + 0.01);
        previousEnd = word.endS;
      }
      // The waveform is the master's: where the master is loud the waveform is high, and its peak is 1.
      const wave = data.waveformData as number[];
      expect(wave).toHaveLength(1000);
      expect(Math.max(...wave)).toBe(1);
      const master = await decodeAudio(masterOf(sung.taskId, 0));
      const frames = master.channels[0]!.length;
      const peakAt = (b: number) => {
        let peak = 0;
        for (let i = Math.floor((b * frames) / 1000); i < Math.floor(((b + 1) * frames) / 1000); i++)
          for (const channel of master.channels) peak = Math.max(peak, Math.abs(channel[i]!));
        return peak;
      };
      const loudest = Math.max(...Array.from({ length: 1000 }, (_, b) => peakAt(b)));
      for (const b of [0, 137, 500, 999]) expect(wave[b]).toBeCloseTo(peakAt(b) / loudest, 3);
    });

    it('of an instrumental: no words, as KIE answers; the same answer through the Market form, as a task with a signed callback', async () => {
      instrumental = await song({ customMode: true, instrumental: true, style: 'ambient piano', title: 'Still' });
      const answer = await post('/api/v1/generate/get-timestamped-lyrics', { taskId: instrumental.taskId, audioId: instrumental.tracks[0].id });
      expect(answer).toMatchObject({ code: 200, msg: 'success', data: { alignedWords: [], hootCer: 0, isStreamed: false } });
      expect(answer.data.waveformData).toHaveLength(1000);

      const sync = await post('/api/v1/generate/get-timestamped-lyrics', { taskId: sung.taskId, audioId: sung.tracks[1].id });
      const created = await post('/api/v1/jobs/createTask', {
        model: 'ai-music-api/timeStamped-lyrics',
        callBackUrl: receiverUrl,
        input: { task_id: sung.taskId, audio_id: sung.tracks[1].id },
      });
      expect(created).toMatchObject({ code: 200, msg: 'success' });
      const taskId = created.data.taskId as string;
      const record = await details('/api/v1/jobs/recordInfo', taskId, (d) => d.state === 'success' || d.state === 'fail');
      expect(record).toMatchObject({ taskId, model: 'ai-music-api/timeStamped-lyrics', state: 'success', failCode: null, failMsg: null });
      expect(JSON.parse(record.resultJson)).toEqual({ resultObject: sync.data });
      const [callback] = await callbacksFor(taskId, 1);
      expect(verified(callback!, taskId)).toEqual({
        code: 200,
        msg: 'success',
        data: { taskId, state: 'success', resultJson: JSON.stringify({ resultObject: sync.data }), failCode: null, failMsg: null },
      });
    });

    it('refuses unknown, foreign-looking and unfinished tracks before charging', async () => {
      const before = await credit();
      expect(await post('/api/v1/generate/get-timestamped-lyrics', { taskId: '0'.repeat(32), audioId: 'x' })).toEqual({
        code: 422,
        msg: 'Record does not exist',
        data: null,
      });
      expect(await post('/api/v1/generate/get-timestamped-lyrics', { taskId: sung.taskId, audioId: instrumental.tracks[0].id })).toEqual({
        code: 422,
        msg: `audioId: is not a track of task ${sung.taskId}`,
        data: null,
      });
      expect(await post('/api/v1/generate/get-timestamped-lyrics', { taskId: sung.taskId })).toEqual({ code: 422, msg: 'audioId: is required', data: null });
      expect(await credit()).toBe(before);
    });
  });

  describe('WAV', () => {
    /** A WAV URL downloads whole and by range, as audio/wav, and decodes. */
    async function download(wavUrl: string): Promise<Buffer> {
      const whole = await fetch(wavUrl);
      expect(whole.status).toBe(200);
      expect(whole.headers.get('content-type')).toBe('audio/wav');
      expect(whole.headers.get('accept-ranges')).toBe('bytes');
      const bytes = Buffer.from(await whole.arrayBuffer());
      const head = await fetch(wavUrl, { headers: { range: 'bytes=0-11' } });
      expect(head.status).toBe(206);
      expect(head.headers.get('content-range')).toBe(`bytes 0-11/${bytes.length}`);
      expect(Buffer.from(await head.arrayBuffer()).toString('latin1')).toBe(bytes.subarray(0, 12).toString('latin1'));
      return bytes;
    }

    it('POST /api/v1/wav/generate: the master of a rendered track, sample for sample; signed callback; record-info; one per track', async () => {
      const track = sung.tracks[0];
      const before = await credit();
      const taskId = await submit('/api/v1/wav/generate', { taskId: sung.taskId, audioId: track.id, callBackUrl: receiverUrl });
      expect(await credit()).toBe(before - 3);
      const data = await details('/api/v1/wav/record-info', taskId, (d) => d.successFlag !== 'PENDING');
      expect(Object.keys(data)).toEqual(TRACK_TOOL_RECORD_KEYS);
      expect(data).toMatchObject({
        taskId,
        musicId: track.id,
        callbackUrl: receiverUrl,
        musicIndex: 0,
        successFlag: 'SUCCESS',
        errorCode: null,
        errorMessage: null,
      });
      expect(data.createTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      expect(data.completeTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      const wavUrl = data.response.audioWavUrl as string;
      expect(wavUrl).toMatch(new RegExp(`^${base}/files/[A-Za-z0-9_-]{32}\\.wav$`));

      // The one callback, key by key as kie-catalogue §18.1 shows it.
      const [callback, ...more] = await callbacksFor(taskId, 1);
      expect(more).toEqual([]);
      const body = verified(callback!, taskId);
      expect(body).toEqual({ code: 200, msg: 'success', data: { audioWavUrl: wavUrl, task_id: taskId } });
      expect(Object.keys(body.data)).toEqual(['audioWavUrl', 'task_id']);
      expect(await sdkEvent(callback!)).toMatchObject({ family: 'wav', taskId, stage: 'complete', audioWavUrl: wavUrl, error: null });

      // The file: 32-bit float, the master's samples bit for bit.
      const wav = await download(wavUrl);
      const master = masterOf(sung.taskId, 0);
      expect(readWavLayout(wav)).toMatchObject({ float: true, bitsPerSample: 32 });
      const [fromWav, fromMaster] = [await decodeAudio(wav), await decodeAudio(master)];
      expect(fromWav.sampleRate).toBe(fromMaster.sampleRate);
      expect(fromWav.channels).toHaveLength(fromMaster.channels.length);
      for (const [c, channel] of fromMaster.channels.entries()) expect(Buffer.from(fromWav.channels[c]!.buffer).equals(Buffer.from(channel.buffer))).toBe(true);
      expect(fromWav.channels[0]!.length / fromWav.sampleRate).toBeCloseTo(track.duration, 2);

      // The Market view; the music details route does not know it; a second WAV of the track names this task.
      const market = (await get(`/api/v1/jobs/recordInfo?taskId=${taskId}`)).data;
      expect(market).toMatchObject({ taskId, model: 'ai-music-api/convert-to-wav-format', state: 'success' });
      expect(JSON.parse(market.resultJson)).toEqual({ resultUrls: [wavUrl] });
      expect((await get(`/api/v1/generate/record-info?taskId=${taskId}`)).data).toBeNull();
      expect(await post('/api/v1/wav/generate', { taskId: sung.taskId, audioId: track.id, callBackUrl: receiverUrl })).toEqual({
        code: 409,
        msg: 'WAV record already exists',
        data: { taskId },
      });
      expect(await credit()).toBe(before - 3);
    });

    it('the Market form ai-music-api/convert-to-wav-format, readable through both details routes', async () => {
      const track = instrumental.tracks[1];
      const created = await post('/api/v1/jobs/createTask', {
        model: 'ai-music-api/convert-to-wav-format',
        callBackUrl: receiverUrl,
        input: { task_id: instrumental.taskId, audio_id: track.id },
      });
      expect(created).toMatchObject({ code: 200, msg: 'success' });
      const taskId = created.data.taskId as string;
      const data = await details('/api/v1/wav/record-info', taskId, (d) => d.successFlag !== 'PENDING');
      expect(data).toMatchObject({ successFlag: 'SUCCESS', musicId: track.id, musicIndex: 1 });
      const [callback] = await callbacksFor(taskId, 1);
      expect(verified(callback!, taskId)).toEqual({ code: 200, msg: 'success', data: { audioWavUrl: data.response.audioWavUrl, task_id: taskId } });
      const market = (await get(`/api/v1/jobs/recordInfo?taskId=${taskId}`)).data;
      expect(JSON.parse(market.param)).toEqual({
        input: JSON.stringify({ task_id: instrumental.taskId, audio_id: track.id }),
        model: 'ai-music-api/convert-to-wav-format',
      });
      expect(JSON.parse(market.resultJson)).toEqual({ resultUrls: [data.response.audioWavUrl] });
      const wav = await download(data.response.audioWavUrl);
      const fromMaster = await decodeAudio(masterOf(instrumental.taskId, 1));
      const fromWav = await decodeAudio(wav);
      for (const [c, channel] of fromMaster.channels.entries()) expect(Buffer.from(fromWav.channels[c]!.buffer).equals(Buffer.from(channel.buffer))).toBe(true);
    });

    it('refuses unknown and unfinished tracks, and a missing callback, before anything is stored or charged', async () => {
      const before = await credit();
      expect(
        await post('/api/v1/wav/generate', { taskId: 'apicity-test-bogus-task-id', audioId: 'apicity-test-bogus-audio-id', callBackUrl: receiverUrl }),
      ).toEqual({
        code: 422,
        msg: 'Record does not exist',
        data: null,
      });
      expect(await post('/api/v1/wav/generate', { taskId: sung.taskId, audioId: sung.tracks[1].id })).toEqual({
        code: 422,
        msg: 'Please enter callBackUrl.',
        data: null,
      });
      expect(await credit()).toBe(before);
      expect(await get(`/api/v1/wav/record-info?taskId=${'0'.repeat(32)}`)).toEqual({ code: 200, msg: 'success', data: null });
    });
  });
});
