import { afterEach, describe, expect, it } from 'vitest';
import {
  type AddInstrumentalRequest,
  type AddVocalsRequest,
  Client,
  type CoverImageRequest,
  type ExtendRequest,
  type GenerateRequest,
  type MarketTaskRequest,
  type MashupRequest,
  marketTracksOf,
  RepriseError,
  type UploadCoverRequest,
  type UploadExtendRequest,
} from '../src/index.js';
import { fakeApi, json, ok, record } from './helpers/fake-api.js';

type Api = Awaited<ReturnType<typeof fakeApi>>;
let api: Api | null = null;
afterEach(async () => {
  await api?.close();
  api = null;
});

const TASK = 'aeab85c2d6795b05a339be206b22605f';
const CB = 'https://example.com/cb';
const bodyOf = (a: Api, index: number): unknown => JSON.parse(a.seen[index]?.body.toString() ?? 'null');

describe('Client: the Suno music family on the dedicated routes', () => {
  it('each submit method posts its request as is to its route and resolves with the new taskId', async () => {
    const routes = [
      '/api/v1/generate',
      '/api/v1/generate/extend',
      '/api/v1/generate/upload-extend',
      '/api/v1/generate/upload-cover',
      '/api/v1/generate/add-instrumental',
      '/api/v1/generate/add-vocals',
      '/api/v1/generate/mashup',
      '/api/v1/suno/cover/generate',
    ];
    api = await fakeApi(Object.fromEntries(routes.map((path) => [`POST ${path}`, (_r, res) => json(res, 200, ok({ taskId: TASK }))])));
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    const steering = { negativeTags: 'Metal', vocalGender: 'f' as const, styleWeight: 0.65, weirdnessConstraint: 0.2, audioWeight: 0.5 };
    const persona = { personaId: 'a1b2c3d4', personaModel: 'style_persona' as const };
    const generate: GenerateRequest = {
      customMode: true,
      instrumental: false,
      model: 'V5_5',
      prompt: 'la la',
      style: 'Pop',
      title: 'T',
      callBackUrl: CB,
      ...steering,
      ...persona,
    };
    const extend: ExtendRequest = {
      defaultParamFlag: true,
      audioId: 'e231',
      prompt: 'extend with a bridge',
      style: 'Synthwave',
      title: 'Side B',
      continueAt: 30,
      model: 'V5',
      callBackUrl: CB,
      ...steering,
      ...persona,
    };
    const uploadExtend: UploadExtendRequest = {
      uploadUrl: 'https://x/song.mp3',
      defaultParamFlag: true,
      instrumental: false,
      continueAt: 60,
      model: 'V4_5ALL',
      prompt: 'resolve',
      callBackUrl: CB,
    };
    const uploadCover: UploadCoverRequest = {
      uploadUrl: 'https://x/song.mp3',
      customMode: true,
      instrumental: false,
      model: 'V3_5',
      prompt: 'p',
      style: 'Synthwave',
      title: 'Cover',
      callBackUrl: CB,
    };
    const addInstrumental: AddInstrumentalRequest = {
      uploadUrl: 'https://x/vocal.mp3',
      title: 'T',
      tags: 'Jazz, piano',
      negativeTags: 'Metal',
      model: 'V5_5',
      callBackUrl: CB,
    };
    const addVocals: AddVocalsRequest = {
      uploadUrl: 'https://x/band.mp3',
      prompt: 'la',
      title: 'T',
      style: 'Soul',
      negativeTags: 'Rap',
      model: 'V4_5PLUS',
      callBackUrl: CB,
    };
    const mashup: MashupRequest = { uploadUrlList: ['https://x/a.mp3', 'https://x/b.mp3'], customMode: false, model: 'V5', prompt: 'blend', callBackUrl: CB };
    const cover: CoverImageRequest = { taskId: TASK, callBackUrl: CB };
    const requests = [generate, extend, uploadExtend, uploadCover, addInstrumental, addVocals, mashup, cover];
    const results = [
      await client.generate(generate),
      await client.extend(extend),
      await client.uploadExtend(uploadExtend),
      await client.uploadCover(uploadCover),
      await client.addInstrumental(addInstrumental),
      await client.addVocals(addVocals),
      await client.mashup(mashup),
      await client.generateCoverImage(cover),
    ];
    expect(results).toEqual(routes.map(() => ({ taskId: TASK })));
    expect(api.seen.map((s) => `${s.method} ${s.path}`)).toEqual(routes.map((path) => `POST ${path}`));
    expect(requests.map((_request, index) => bodyOf(api as Api, index))).toEqual(requests);
    expect(api.seen.every((s) => s.headers['content-type'] === 'application/json' && s.headers.authorization === 'Bearer k')).toBe(true);
  });

  it('the request types hold the rules that differ per route (checked by the type checker)', () => {
    const pair: MashupRequest['uploadUrlList'] = ['https://x/a.mp3', 'https://x/b.mp3'];
    // @ts-expect-error mashup takes exactly two songs
    const three: MashupRequest['uploadUrlList'] = ['a', 'b', 'c'];
    // @ts-expect-error add-instrumental names its styles `tags`, not `style`
    const wrongKey: AddInstrumentalRequest = { uploadUrl: 'u', title: 't', style: 'Jazz', negativeTags: 'n', callBackUrl: CB };
    // @ts-expect-error the Market input matches its model: boost-music-style takes `content`
    const wrongInput: MarketTaskRequest = { model: 'ai-music-api/boost-music-style', input: { task_id: 'x' } };
    expect([pair, three, wrongKey, wrongInput]).toHaveLength(4);
  });

  it('HTTP 200 with code 422 in the body (how api.kie.ai answers) is a RepriseError, sent once', async () => {
    api = await fakeApi({
      'POST /api/v1/generate': (_r, res) => json(res, 200, { code: 422, msg: 'Please enter callBackUrl.', data: null }),
      'POST /api/v1/generate/extend': (_r, res) => json(res, 200, { code: 402, msg: 'Insufficient credits', data: null }),
    });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    const error = await client.generate({ customMode: false, instrumental: true, model: 'V5', prompt: 'ambient' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RepriseError);
    expect(error).toMatchObject({ code: 422, msg: 'Please enter callBackUrl.', httpStatus: 200, data: null });
    await expect(client.extend({ defaultParamFlag: false, audioId: 'a', model: 'V5', callBackUrl: CB })).rejects.toMatchObject({ code: 402, httpStatus: 200 });
    expect(api.seen).toHaveLength(2);
  });

  it('a second cover-image request is refused with the existing taskId in the error data', async () => {
    api = await fakeApi({
      'POST /api/v1/suno/cover/generate': (_r, res) => json(res, 200, { code: 400, msg: 'Cover record already exists', data: { taskId: TASK } }),
    });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    await expect(client.generateCoverImage({ taskId: 'music', callBackUrl: CB })).rejects.toMatchObject({ code: 400, data: { taskId: TASK } });
  });

  it('record-info answering data: null (api.kie.ai, unknown task) is a RepriseError with code 404, and ends waitForTask at once', async () => {
    const unknown = { code: 200, msg: 'success', data: null };
    api = await fakeApi({
      'GET /api/v1/generate/record-info': (_r, res) => json(res, 200, unknown),
      'GET /api/v1/suno/cover/record-info': (_r, res) => json(res, 200, unknown),
      'GET /api/v1/jobs/recordInfo': (_r, res) => json(res, 200, unknown),
    });
    const client = new Client({ apiKey: 'k', baseUrl: api.url, retries: 0 });
    for (const read of [() => client.getTask('nope'), () => client.getCoverImageTask('nope'), () => client.getMarketTask('nope')]) {
      const error = await read().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RepriseError);
      expect(error).toMatchObject({ code: 404, httpStatus: 200 });
      expect((error as RepriseError).msg).toContain('nope');
    }
    const started = Date.now();
    await expect(client.waitForTask('nope', { events: false, pollIntervalMs: 50, timeoutMs: 5000 })).rejects.toMatchObject({ code: 404 });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('record-info of the new operations keeps its type, operationType and source URLs', async () => {
    const track = {
      id: 'e231',
      audioUrl: 'https://x/a.mp3',
      streamAudioUrl: 'https://x/a',
      imageUrl: 'https://x/a.jpeg',
      prompt: 'p',
      modelName: 'chirp-v5',
      title: 'T',
      tags: 'Pop',
      createTime: '2026-01-01 00:00:00',
      duration: 120,
      sourceAudioUrl: 'https://x/src.mp3',
    };
    api = await fakeApi({
      'GET /api/v1/generate/record-info': (_r, res) =>
        json(res, 200, ok({ ...record(TASK, 'SUCCESS', [track]), type: 'UPLOAD_COVER', operationType: 'upload_cover' })),
    });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    const task = await client.getTask(TASK);
    expect(task).toMatchObject({ type: 'UPLOAD_COVER', operationType: 'upload_cover', response: { sunoData: [track] } });
  });
});

describe('Client: synchronous helpers', () => {
  it('generatePersona answers {personaId, name, description}', async () => {
    const persona = { personaId: 'a1b2c3d4', name: 'Late-night crooner', description: 'warm baritone' };
    api = await fakeApi({ 'POST /api/v1/generate/generate-persona': (_r, res) => json(res, 200, ok(persona)) });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    const request = { taskId: TASK, audioId: 'e231', name: persona.name, description: persona.description, vocalStart: 10, vocalEnd: 35 };
    expect(await client.generatePersona(request)).toEqual(persona);
    expect(bodyOf(api, 0)).toEqual(request);
  });

  it("boostStyle reads api.kie.ai's real answer (successFlag text, epoch-ms createTime, errorMsg)", async () => {
    const boosted = {
      taskId: '98df596956d0513544e2085da763c46c',
      param: 'Pop, Mysterious',
      result: 'Mysterious pop built around a hushed intro.',
      creditsConsumed: 0.4,
      creditsRemaining: 29212.53,
      successFlag: '成功',
      errorCode: null,
      errorMsg: null,
      createTime: 1777379281542,
    };
    api = await fakeApi({ 'POST /api/v1/style/generate': (_r, res) => json(res, 200, ok(boosted)) });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    expect(await client.boostStyle({ content: 'Pop, Mysterious' })).toEqual(boosted);
    expect(bodyOf(api, 0)).toEqual({ content: 'Pop, Mysterious' });
  });

  it('a synchronous answer without its result field is a RepriseError (502), not a half-typed object', async () => {
    api = await fakeApi({ 'POST /api/v1/style/generate': (_r, res) => json(res, 200, ok({ taskId: 't' })) });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    await expect(client.boostStyle({ content: 'x' })).rejects.toMatchObject({ code: 502 });
  });
});

describe('Client: cover-image record-info', () => {
  it('reads the record; images null while running become []; the flag names KIE also uses map to the integers', async () => {
    const base = {
      taskId: 'c1',
      parentTaskId: TASK,
      callbackUrl: CB,
      completeTime: null,
      createTime: '2025-01-15T10:33:01.000Z',
      errorCode: null,
      errorMessage: null,
    };
    const answers = [
      { ...base, successFlag: 2, response: null },
      { ...base, successFlag: 'SUCCESS', completeTime: '2025-01-15T10:35:27.000Z', response: { images: ['https://x/1.png', 'https://x/2.png'] } },
      { ...base, successFlag: 9, response: null },
    ];
    let call = 0;
    api = await fakeApi({ 'GET /api/v1/suno/cover/record-info': (_r, res) => json(res, 200, ok(answers[call++])) });
    const client = new Client({ apiKey: 'k', baseUrl: api.url, retries: 0 });
    expect(await client.getCoverImageTask('c1')).toEqual({ ...base, successFlag: 2, response: { images: [] } });
    expect(await client.getCoverImageTask('c1')).toMatchObject({ successFlag: 1, response: { images: ['https://x/1.png', 'https://x/2.png'] } });
    await expect(client.getCoverImageTask('c1')).rejects.toMatchObject({ code: 502 });
    expect(api.seen[0]?.path).toBe('/api/v1/suno/cover/record-info?taskId=c1');
  });
});

describe('Client: the Market form', () => {
  it('createTask sends {model, callBackUrl, input} and answers {taskId, recordId}', async () => {
    let answer: unknown = ok({ taskId: TASK, recordId: TASK });
    api = await fakeApi({ 'POST /api/v1/jobs/createTask': (_r, res) => json(res, 200, answer) });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    const requests: MarketTaskRequest[] = [
      {
        model: 'ai-music-api/generate',
        callBackUrl: CB,
        input: { custom_mode: false, instrumental: true, model: 'V6', prompt: 'lo-fi loop', persona_id: 'p1' },
      },
      { model: 'ai-music-api/extend', callBackUrl: CB, input: { audio_id: 'e231', model: 'V5', default_param_flag: true, continue_at: 30 } },
      { model: 'ai-music-api/upload-and-cover-audio', input: { upload_url: 'https://x/a.mp3', instrumental: false, model: 'V5' } },
      { model: 'ai-music-api/upload-and-extend-audio', input: { upload_url: 'https://x/a.mp3', model: 'V5', continue_at: 60 } },
      { model: 'ai-music-api/add-instrumental', input: { upload_url: 'https://x/v.mp3', title: 'T', tags: 'Jazz', negative_tags: 'Metal' } },
      { model: 'ai-music-api/add-vocals', input: { upload_url: 'https://x/i.mp3', title: 'T', style: 'Soul', negative_tags: 'Rap' } },
      { model: 'ai-music-api/mashup', input: { upload_url_list: ['https://x/a.mp3', 'https://x/b.mp3'], model: 'V5', style: 'Pop', title: 'T' } },
      {
        model: 'ai-music-api/replace-section',
        input: { task_id: TASK, audio_id: 'e231', prompt: 'p', tags: 'Jazz', title: 'T', infill_start_s: 10, infill_end_s: 20, full_lyrics: 'la' },
      },
      { model: 'ai-music-api/boost-music-style', input: { content: 'Pop, Mysterious' } },
      { model: 'ai-music-api/cover-generate', callBackUrl: CB, input: { task_id: TASK } },
      { model: 'ai-music-api/generate-persona', input: { task_id: TASK, audio_id: 'e231', name: 'N', description: 'D' } },
    ];
    for (const request of requests) expect(await client.createMarketTask(request)).toEqual({ taskId: TASK, recordId: TASK });
    expect(requests.map((_request, index) => bodyOf(api as Api, index))).toEqual(requests);
    // Older answers carry taskId only.
    answer = ok({ taskId: TASK });
    expect(await client.createMarketTask({ model: 'ai-music-api/cover-generate', input: { task_id: TASK } })).toEqual({ taskId: TASK, recordId: TASK });
  });

  it('recordInfo: the state, the JSON-string result with the tracks in both casings, and a failure', async () => {
    const camel = {
      id: 'e231',
      audioUrl: 'https://x/a.mp3',
      streamAudioUrl: 'https://x/a',
      imageUrl: 'https://x/a.jpeg',
      prompt: 'p',
      modelName: 'chirp-v5',
      title: 'T',
      tags: 'Pop',
      createTime: '2026-01-01 00:00:00',
      duration: 120,
    };
    const snake = {
      id: 'e231',
      audio_url: 'https://x/a.mp3',
      stream_audio_url: 'https://x/a',
      image_url: 'https://x/a.jpeg',
      prompt: 'p',
      model_name: 'chirp-v5',
      title: 'T',
      tags: 'Pop',
      createTime: '2026-01-01 00:00:00',
      duration: 120,
    };
    const base = {
      taskId: TASK,
      model: 'ai-music-api/generate',
      param: '{"model":"ai-music-api/generate"}',
      createTime: 1776484279847,
      updateTime: 1776484279847,
    };
    const answers = [
      { ...base, state: 'generating', resultJson: null, failCode: null, failMsg: null, costTime: null, completeTime: null },
      {
        ...base,
        state: 'success',
        resultJson: JSON.stringify({ sunoData: [camel], data: [snake] }),
        failCode: null,
        failMsg: '',
        costTime: 45000,
        completeTime: 1776484325909,
      },
      { ...base, state: 'fail', resultJson: '', failCode: '501', failMsg: 'Audio generation failed', costTime: 1000, completeTime: 1776484280847 },
      { ...base, state: 'done', resultJson: '' },
    ];
    let call = 0;
    api = await fakeApi({ 'GET /api/v1/jobs/recordInfo': (_r, res) => json(res, 200, ok(answers[call++])) });
    const client = new Client({ apiKey: 'k', baseUrl: api.url, retries: 0 });
    const running = await client.getMarketTask(TASK);
    expect(running).toMatchObject({ state: 'generating', resultJson: '' });
    expect(marketTracksOf(running)).toEqual([]);
    const done = await client.getMarketTask(TASK);
    expect(done).toMatchObject({ state: 'success', costTime: 45000 });
    expect(marketTracksOf(done)).toEqual([camel]);
    expect(await client.getMarketTask(TASK)).toMatchObject({ state: 'fail', failCode: '501', failMsg: 'Audio generation failed' });
    await expect(client.getMarketTask(TASK)).rejects.toMatchObject({ code: 502 });
    expect(api.seen[0]?.path).toBe(`/api/v1/jobs/recordInfo?taskId=${TASK}`);
  });

  it('KIE\'s own answer for an unknown Market task, code 422 "recordInfo is null", stays a RepriseError 422', async () => {
    api = await fakeApi({ 'GET /api/v1/jobs/recordInfo': (_r, res) => json(res, 200, { code: 422, msg: 'recordInfo is null', data: null }) });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    await expect(client.getMarketTask('x')).rejects.toMatchObject({ code: 422, msg: 'recordInfo is null' });
  });
});
