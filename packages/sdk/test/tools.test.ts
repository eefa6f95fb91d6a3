import { afterEach, describe, expect, it } from 'vitest';
import {
  type CallbackEvent,
  CallbackPayloadError,
  Client,
  callbackFamilyOf,
  createCallbackHandler,
  type LyricsCallbackEvent,
  type MarketCallbackEvent,
  type MarketTaskRequest,
  type MusicVideoCallbackEvent,
  parseLyricsPayload,
  parseWavPayload,
  RepriseError,
  signKieWebhook,
  type WavCallbackEvent,
} from '../src/index.js';
import { completeBody, errorBody, SECRET, signed } from './helpers/callbacks.js';
import { fakeApi, json, ok } from './helpers/fake-api.js';

type Api = Awaited<ReturnType<typeof fakeApi>>;
let api: Api | null = null;
afterEach(async () => {
  await api?.close();
  api = null;
});

const TASK = 'e5d2b14c95a93b325215f4490867d8c6';
const AUDIO = 'e231c8a0-0000-4000-8000-00008cadc7dc';
const CB = 'https://example.com/cb';
const item = { text: '[Verse]\nMorning coffee', title: 'Coffee', status: 'complete', errorMessage: '' };
const lyricsBody = (taskId: string) =>
  JSON.stringify({
    code: 200,
    msg: 'All generated successfully.',
    data: { callbackType: 'complete', task_id: taskId, data: [{ text: item.text, title: item.title, status: 'complete', error_message: '' }] },
  });
const lyricsFailure = (taskId: string) =>
  JSON.stringify({
    code: 531,
    msg: 'Generation failed, credits refunded',
    data: { callbackType: 'error', task_id: taskId, data: [{ text: '', title: '', status: 'failed', error_message: 'the writer broke' }] },
  });
const wavBody = (taskId: string, url: string | null = 'https://x/a.wav') =>
  JSON.stringify({
    code: url ? 200 : 531,
    msg: url ? 'success' : 'Generation failed, credits refunded: it broke',
    data: { audioWavUrl: url, task_id: taskId },
  });

const videoBody = (taskId: string, url: string | null = 'https://x/v.mp4') =>
  JSON.stringify({
    code: url ? 200 : 531,
    msg: url ? 'MP4 generated successfully.' : 'Generation failed, credits refunded: it broke',
    data: { task_id: taskId, video_url: url },
  });
const alignedResult = { alignedWords: [], waveformData: [0, 1], hootCer: 0, isStreamed: false };
const marketBody = (taskId: string) =>
  JSON.stringify({
    code: 200,
    msg: 'success',
    data: { taskId, state: 'success', resultJson: JSON.stringify({ resultObject: alignedResult }), failCode: null, failMsg: null },
  });
const marketFailure = (taskId: string) =>
  JSON.stringify({ code: 531, msg: 'the track is gone', data: { taskId, state: 'fail', resultJson: '', failCode: '531', failMsg: 'the track is gone' } });

describe('Client: the audio tools', () => {
  it('posts lyrics, WAV and timestamped-lyrics requests as they are, and reads their answers', async () => {
    const aligned = {
      alignedWords: [{ word: '[Verse]\nWaggin’', success: true, startS: 1.36, endS: 1.79, palign: 0 }],
      waveformData: [0, 1, 0.5],
      hootCer: 0.38,
      isStreamed: false,
    };
    api = await fakeApi({
      'POST /api/v1/lyrics': (_r, res) => json(res, 200, ok({ taskId: TASK })),
      'POST /api/v1/wav/generate': (_r, res) => json(res, 200, ok({ taskId: TASK })),
      'POST /api/v1/generate/get-timestamped-lyrics': (_r, res) => json(res, 200, ok(aligned)),
    });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    expect(await client.generateLyrics({ prompt: 'coffee', callBackUrl: CB })).toEqual({ taskId: TASK });
    expect(await client.convertToWav({ taskId: TASK, audioId: AUDIO, callBackUrl: CB })).toEqual({ taskId: TASK });
    expect(await client.getTimestampedLyrics({ taskId: TASK, audioId: AUDIO })).toEqual(aligned);
    expect(api.seen.map((s) => [s.method, s.path, JSON.parse(s.body.toString())])).toEqual([
      ['POST', '/api/v1/lyrics', { prompt: 'coffee', callBackUrl: CB }],
      ['POST', '/api/v1/wav/generate', { taskId: TASK, audioId: AUDIO, callBackUrl: CB }],
      ['POST', '/api/v1/generate/get-timestamped-lyrics', { taskId: TASK, audioId: AUDIO }],
    ]);
  });

  it('a refusal (e.g. the second WAV of a track) rejects with the code, msg and data, sent once', async () => {
    let calls = 0;
    api = await fakeApi({
      'POST /api/v1/wav/generate': (_r, res) => {
        calls++;
        json(res, 200, { code: 409, msg: 'WAV record already exists', data: { taskId: TASK } });
      },
    });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    const error = await client.convertToWav({ taskId: TASK, audioId: AUDIO, callBackUrl: CB }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RepriseError);
    expect(error).toMatchObject({ code: 409, msg: 'WAV record already exists', data: { taskId: TASK } });
    expect(calls).toBe(1);
  });

  it('getLyricsTask reads the variations under `data` or `lyricsData`, and a running task’s null response as none', async () => {
    const base = { taskId: TASK, param: '{"prompt":"coffee"}', status: 'SUCCESS', type: 'LYRICS', errorCode: null, errorMessage: null };
    const answers = [
      { ...base, response: { taskId: TASK, data: [item] } },
      { ...base, response: { taskId: TASK, lyricsData: [item] } },
      { ...base, status: 'PENDING', response: null },
    ];
    let next = 0;
    api = await fakeApi({ 'GET /api/v1/lyrics/record-info': (_r, res) => json(res, 200, ok(answers[next++] ?? null)) });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    expect((await client.getLyricsTask(TASK)).response).toEqual({ taskId: TASK, data: [item] });
    expect((await client.getLyricsTask(TASK)).response).toEqual({ taskId: TASK, data: [item] });
    expect(await client.getLyricsTask(TASK)).toMatchObject({ status: 'PENDING', response: { taskId: TASK, data: [] } });
    await expect(client.getLyricsTask(TASK)).rejects.toMatchObject({ code: 404 });
    expect(api.seen[0]?.path).toBe(`/api/v1/lyrics/record-info?taskId=${TASK}`);
  });

  it('getWavTask reads KIE’s string musicIndex as a number and a missing URL as null; an unknown flag is refused', async () => {
    const base = { taskId: TASK, musicId: AUDIO, callbackUrl: CB, completeTime: null, createTime: '2025-01-01 00:00:00', errorCode: null, errorMessage: null };
    const answers = [
      { ...base, musicIndex: '0', successFlag: 'PENDING', response: null },
      { ...base, musicIndex: 1, successFlag: 'SUCCESS', completeTime: '2025-01-01 00:10:00', response: { audioWavUrl: 'https://x/a.wav' } },
      { ...base, musicIndex: 0, successFlag: 'DONE', response: null },
    ];
    let next = 0;
    api = await fakeApi({ 'GET /api/v1/wav/record-info': (_r, res) => json(res, 200, ok(answers[next++])) });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    expect(await client.getWavTask(TASK)).toMatchObject({ musicIndex: 0, successFlag: 'PENDING', response: { audioWavUrl: null } });
    expect(await client.getWavTask(TASK)).toMatchObject({ musicIndex: 1, successFlag: 'SUCCESS', response: { audioWavUrl: 'https://x/a.wav' } });
    await expect(client.getWavTask(TASK)).rejects.toMatchObject({ code: 502 });
  });

  it('the Market form takes the tools’ model ids with their snake_case inputs', async () => {
    api = await fakeApi({ 'POST /api/v1/jobs/createTask': (_r, res) => json(res, 200, ok({ taskId: TASK, recordId: TASK })) });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    const requests: MarketTaskRequest[] = [
      { model: 'ai-music-api/generate-lyrics', callBackUrl: CB, input: { prompt: 'coffee' } },
      { model: 'ai-music-api/convert-to-wav-format', callBackUrl: CB, input: { task_id: TASK, audio_id: AUDIO } },
      { model: 'ai-music-api/timeStamped-lyrics', input: { task_id: TASK, audio_id: AUDIO } },
    ];
    for (const request of requests) expect(await client.createMarketTask(request)).toEqual({ taskId: TASK, recordId: TASK });
    expect(api.seen.map((s) => JSON.parse(s.body.toString()))).toEqual(requests);
  });
});

describe('the tools’ callback bodies', () => {
  it('parseLyricsPayload reads success, KIE’s failure (a failed item) and the other services’ failure (data: null)', () => {
    expect(parseLyricsPayload(JSON.parse(lyricsBody(TASK)))).toEqual(JSON.parse(lyricsBody(TASK)));
    expect(parseLyricsPayload(JSON.parse(lyricsFailure(TASK)))).toEqual(JSON.parse(lyricsFailure(TASK)));
    expect(parseLyricsPayload({ code: 400, msg: 'artist name', data: { callbackType: 'error', task_id: TASK, data: null } })).toEqual({
      code: 400,
      msg: 'artist name',
      data: { callbackType: 'error', task_id: TASK, data: [] },
    });
    const pathOf = (value: unknown) => {
      try {
        parseLyricsPayload(value);
      } catch (error) {
        if (error instanceof CallbackPayloadError) return error.path;
        throw error;
      }
      return null;
    };
    expect(pathOf({ code: 200, data: { callbackType: 'complete', data: [] } })).toBe('data.task_id');
    expect(pathOf({ code: 200, data: { task_id: TASK, callbackType: 'first', data: [] } })).toBe('data.callbackType');
    expect(pathOf({ code: 200, data: { task_id: TASK, data: [{ text: 1 }] } })).toBe('data.data[0].text');
    expect(pathOf({ code: 200, data: { task_id: TASK, data: [{ text: 'x', status: 'done' }] } })).toBe('data.data[0].status');
  });

  it('parseWavPayload reads success, failure (null URL) and the snake_case spelling one of KIE’s pages shows', () => {
    expect(parseWavPayload(JSON.parse(wavBody(TASK)))).toEqual(JSON.parse(wavBody(TASK)));
    expect(parseWavPayload(JSON.parse(wavBody(TASK, null))).data).toEqual({ audioWavUrl: null, task_id: TASK });
    expect(parseWavPayload({ code: 200, msg: 'success', data: { audio_wav_url: 'https://x/b.wav', task_id: TASK } }).data).toEqual({
      audioWavUrl: 'https://x/b.wav',
      task_id: TASK,
    });
    expect(() => parseWavPayload({ code: 200, data: { audioWavUrl: 3, task_id: TASK } })).toThrow(CallbackPayloadError);
  });

  it('callbackFamilyOf tells the tools’ bodies from the music family’s by what their items and data hold', () => {
    expect(callbackFamilyOf(JSON.parse(lyricsBody(TASK)))).toBe('lyrics');
    expect(callbackFamilyOf(JSON.parse(lyricsFailure(TASK)))).toBe('lyrics');
    expect(callbackFamilyOf(JSON.parse(wavBody(TASK)))).toBe('wav');
    expect(callbackFamilyOf(JSON.parse(wavBody(TASK, null)))).toBe('wav');
    expect(callbackFamilyOf(JSON.parse(marketBody(TASK)))).toBe('market');
    expect(callbackFamilyOf(JSON.parse(videoBody(TASK)))).toBe('music_video');
    expect(callbackFamilyOf(JSON.parse(videoBody(TASK, null)))).toBe('music_video');
    expect(callbackFamilyOf(JSON.parse(marketFailure(TASK)))).toBe('market');
    expect(callbackFamilyOf(JSON.parse(completeBody(TASK)))).toBe('music');
    expect(callbackFamilyOf(JSON.parse(errorBody(TASK)))).toBe('music');
  });
});

describe('the receiver: lyrics and WAV callbacks reach their own handlers', () => {
  const now = () => Math.floor(Date.now() / 1000);

  it.each(['standard', 'kie'] as const)('under the %s scheme, a music-video body reaches onMusicVideo, success and failure', async (scheme) => {
    const videos: MusicVideoCallbackEvent[] = [];
    const music: CallbackEvent[] = [];
    const handler = createCallbackHandler({
      secret: SECRET,
      scheme,
      onMusicVideo: (event) => void videos.push(event),
      onComplete: (event) => void music.push(event),
    });
    for (const [taskId, body] of [
      [`v1${scheme}`, videoBody(`v1${scheme}`)],
      [`v2${scheme}`, videoBody(`v2${scheme}`, null)],
    ] as const) {
      const headers = scheme === 'kie' ? signKieWebhook({ secret: SECRET, taskId, timestamp: now() }) : signed(body, { taskId });
      const response = await handler.handle({ headers, body });
      expect(response.outcome, response.error?.message).toBe('accepted');
      await response.process();
    }
    expect(music).toEqual([]);
    expect(videos).toMatchObject([
      { family: 'music_video', taskId: `v1${scheme}`, stage: 'complete', code: 200, videoUrl: 'https://x/v.mp4', error: null },
      { family: 'music_video', taskId: `v2${scheme}`, stage: 'error', code: 531, videoUrl: null, error: 'Generation failed, credits refunded: it broke' },
    ]);
  });

  it.each(['standard', 'kie'] as const)('under the %s scheme, a Market-form body (persona, boost, timestamped lyrics) reaches onMarket', async (scheme) => {
    const market: MarketCallbackEvent[] = [];
    const covers: unknown[] = [];
    const handler = createCallbackHandler({
      secret: SECRET,
      scheme,
      onMarket: (event) => void market.push(event),
      onCoverImage: (event) => void covers.push(event),
    });
    for (const [taskId, body] of [
      [`m1${scheme}`, marketBody(`m1${scheme}`)],
      [`m2${scheme}`, marketFailure(`m2${scheme}`)],
    ] as const) {
      const headers = scheme === 'kie' ? signKieWebhook({ secret: SECRET, taskId, timestamp: now() }) : signed(body, { taskId });
      const response = await handler.handle({ headers, body });
      expect(response.outcome, response.error?.message).toBe('accepted');
      await response.process();
    }
    expect(covers).toEqual([]);
    expect(market).toMatchObject([
      { family: 'market', taskId: `m1${scheme}`, stage: 'complete', code: 200, result: { resultObject: alignedResult }, error: null, scheme },
      { family: 'market', taskId: `m2${scheme}`, stage: 'error', code: 531, result: null, error: 'the track is gone' },
    ]);
  });

  it.each(['standard', 'kie'] as const)('under the %s scheme, success and failure', async (scheme) => {
    const lyrics: LyricsCallbackEvent[] = [];
    const wavs: WavCallbackEvent[] = [];
    const music: CallbackEvent[] = [];
    const handler = createCallbackHandler({
      secret: SECRET,
      scheme,
      onLyrics: (event) => void lyrics.push(event),
      onWav: (event) => void wavs.push(event),
      onComplete: (event) => void music.push(event),
      onError: (event) => void music.push(event),
    });
    for (const [taskId, body] of [
      [`l1${scheme}`, lyricsBody(`l1${scheme}`)],
      [`l2${scheme}`, lyricsFailure(`l2${scheme}`)],
      [`w1${scheme}`, wavBody(`w1${scheme}`)],
      [`w2${scheme}`, wavBody(`w2${scheme}`, null)],
    ] as const) {
      const headers = scheme === 'kie' ? signKieWebhook({ secret: SECRET, taskId, timestamp: now() }) : signed(body, { taskId });
      const response = await handler.handle({ headers, body });
      expect(response.outcome, response.error?.message).toBe('accepted');
      await response.process();
    }
    expect(music).toEqual([]);
    expect(lyrics).toMatchObject([
      { family: 'lyrics', taskId: `l1${scheme}`, stage: 'complete', code: 200, error: null, lyrics: [item], scheme },
      { family: 'lyrics', taskId: `l2${scheme}`, stage: 'error', code: 531, error: 'the writer broke', lyrics: [{ status: 'failed' }] },
    ]);
    expect(wavs).toMatchObject([
      { family: 'wav', taskId: `w1${scheme}`, stage: 'complete', audioWavUrl: 'https://x/a.wav', error: null },
      { family: 'wav', taskId: `w2${scheme}`, stage: 'error', audioWavUrl: null, error: 'Generation failed, credits refunded: it broke' },
    ]);
  });

  it('KIE scheme: a WAV body signed over another task id is refused', async () => {
    const handler = createCallbackHandler({ secret: SECRET, scheme: 'kie', onWav: () => undefined });
    const response = await handler.handle({ headers: signKieWebhook({ secret: SECRET, taskId: 'other', timestamp: now() }), body: wavBody('w3') });
    expect(response).toMatchObject({ status: 401, outcome: 'rejected' });
  });
});
