import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyse, decodeAudio, decodeWav } from '../../src/audio/index.js';
import { sineWav } from '../helpers/audio.js';
import { kill } from '../helpers/process.js';
import { apiSession, type Json, type Received, type Receiver, serveWithAccount, startReceiver } from '../helpers/serve.js';
import { storeTargets, tempDir } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

/** The music family's item keys, in KIE's order; upload-cover, upload-extend and add-vocals add the source's URLs. */
const ITEM_KEYS = ['id', 'audio_url', 'stream_audio_url', 'image_url', 'prompt', 'model_name', 'title', 'tags', 'createTime', 'duration'];
const SOURCE_ITEM_KEYS = [
  'id',
  'audio_url',
  'source_audio_url',
  'stream_audio_url',
  'source_stream_audio_url',
  'image_url',
  'source_image_url',
  'prompt',
  'model_name',
  'title',
  'tags',
  'createTime',
  'duration',
];

/**
 * Every music-making route of the Suno family against a real `reprise serve`: submit → each
 * stage's callback (body checked key by key, both signatures verified over the key the body
 * carries its task id in) → the family's details route and the Market one → files that
 * download and decode. The same through `POST /api/v1/jobs/createTask`.
 */
describe.each(storeTargets())('the Suno music family on $name', (target) => {
  let server: ChildProcess;
  let base: string;
  let apiKey: string;
  let secret: string;
  let receiver: Receiver;
  let receiverUrl: string;
  let received: Received[];
  const dataDir = tempDir('family');

  beforeAll(async () => {
    receiver = await startReceiver('ok');
    ({ url: receiverUrl, received } = receiver);
    ({ server, base, apiKey, secret } = await serveWithAccount(
      {
        REPRISE_DATA_DIR: dataDir,
        DATABASE_URL: await target.fresh(),
        REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8',
        REPRISE_GENERATE_DURATION_S: '12',
        REPRISE_EXTEND_DURATION_S: '6',
        REPRISE_CALLBACK_SCHEDULE: '0,0.2',
        REPRISE_RATE_LIMIT: '1000/10s',
        LOG_LEVEL: 'error',
      },
      1000,
    ));
  });
  afterAll(async () => {
    await kill(server, 'SIGTERM');
    await receiver.close();
  });

  const { post, get, submit, callbacksFor, verified, details } = apiSession(() => ({ base, apiKey, received, secret }));
  const finished = (taskId: string): Promise<Json> =>
    details('/api/v1/generate/record-info', taskId, (data) => ['SUCCESS', 'GENERATE_AUDIO_FAILED'].includes(data.status));

  /** text → first → complete, each body key by key against the tracks record-info shows. */
  async function checkSongCallbacks(taskId: string, data: Json, withSource: string | null): Promise<Json[]> {
    const callbacks = await callbacksFor(taskId, 3);
    const bodies = callbacks.map((callback) => verified(callback, taskId));
    expect(bodies.map((body) => body.data.callbackType)).toEqual(['text', 'first', 'complete']);
    expect(bodies[0]).toEqual({ code: 200, msg: 'Text generation completed successfully.', data: { callbackType: 'text', task_id: taskId, data: [] } });
    expect(bodies[1]).toMatchObject({ code: 200, msg: 'First track generation completed successfully.' });
    expect(bodies[2]).toMatchObject({ code: 200, msg: 'All generated successfully.' });
    const tracks = data.response.sunoData as Json[];
    const items = bodies[2].data.data as Json[];
    expect(items).toHaveLength(tracks.length);
    for (const [i, item] of items.entries()) {
      const track = tracks[i];
      expect(Object.keys(item)).toEqual(withSource ? SOURCE_ITEM_KEYS : ITEM_KEYS);
      expect(item).toMatchObject({
        id: track.id,
        audio_url: track.audioUrl,
        stream_audio_url: track.streamAudioUrl,
        image_url: track.imageUrl,
        prompt: track.prompt,
        model_name: track.modelName,
        title: track.title,
        tags: track.tags,
        createTime: track.createTime,
        duration: track.duration,
      });
      if (withSource) expect(item.source_audio_url).toBe(withSource);
    }
    // The first stage carries the first track as it was stored.
    expect(bodies[1].data.data[0].id).toBe(items[0].id);
    return items;
  }

  /** A track's MP3 downloads and decodes to its stated duration. */
  async function decodes(track: Json): Promise<Float32Array[]> {
    const bytes = new Uint8Array(await (await fetch(track.audioUrl)).arrayBuffer());
    const pcm = await decodeAudio(bytes);
    expect(pcm.channels[0]!.length / pcm.sampleRate).toBeCloseTo(track.duration, 1);
    const image = await fetch(track.imageUrl);
    expect(image.headers.get('content-type')).toBe('image/jpeg');
    return pcm.channels;
  }

  /** The Market view of a finished music task: success, the request as `param`, its tracks in `resultJson`. */
  async function checkMarketView(taskId: string, model: string, data: Json): Promise<void> {
    const market = (await get(`/api/v1/jobs/recordInfo?taskId=${taskId}`)).data;
    expect(market).toMatchObject({ taskId, model, state: 'success', failCode: null, failMsg: null });
    expect(Object.keys(market)).toEqual(['taskId', 'model', 'state', 'param', 'resultJson', 'failCode', 'failMsg', 'costTime', 'completeTime', 'createTime']);
    expect(typeof JSON.parse(JSON.parse(market.param).input)).toBe('object');
    expect(JSON.parse(market.resultJson).sunoData.map((t: Json) => t.id)).toEqual(data.response.sunoData.map((t: Json) => t.id));
    expect(market.completeTime).toBeGreaterThanOrEqual(market.createTime);
  }

  let song: { taskId: string; data: Json };

  it('generate with vocals: a sung song with lyrics, three signed callbacks, both details views', async () => {
    const taskId = await submit('/api/v1/generate', {
      customMode: false,
      instrumental: false,
      prompt: 'a song about the sea at night',
      model: 'V5',
      callBackUrl: receiverUrl,
    });
    const data = await finished(taskId);
    expect(data).toMatchObject({ status: 'SUCCESS', type: 'GENERATE', operationType: 'generate', errorCode: null });
    expect(data.response.sunoData).toHaveLength(2);
    await checkSongCallbacks(taskId, data, null);
    // Non-custom mode writes its own lyrics, tagged by section; they are the track's prompt.
    expect(data.response.sunoData[0].prompt).toMatch(/\[(Verse|Chorus)/);
    await decodes(data.response.sunoData[0]);
    await checkMarketView(taskId, 'ai-music-api/generate', data);
    song = { taskId, data };
  });

  it('extend: the track up to continueAt, then new bars in its tempo', async () => {
    const source = song.data.response.sunoData[0];
    const taskId = await submit('/api/v1/generate/extend', {
      defaultParamFlag: true,
      audioId: source.id,
      continueAt: 8,
      prompt: 'a bridge',
      style: 'folk',
      title: 'Longer',
      model: 'V5',
      callBackUrl: receiverUrl,
    });
    const data = await finished(taskId);
    expect(data).toMatchObject({ status: 'SUCCESS', type: 'EXTEND', operationType: 'extend', parentMusicId: source.id });
    await checkSongCallbacks(taskId, data, null);
    const channels = await decodes(data.response.sunoData[0]);
    // The join moves back onto a beat by at most half a second; the new part is 6 s.
    expect(channels[0]!.length / 44_100).toBeGreaterThan(13.4);
    expect(channels[0]!.length / 44_100).toBeLessThanOrEqual(14.1);
    await checkMarketView(taskId, 'ai-music-api/extend', data);
  });

  it('upload-cover, add-instrumental, add-vocals: each callback item names its source where KIE says so', async () => {
    const track = song.data.response.sunoData[1];
    const cover = await submit('/api/v1/generate/upload-cover', {
      uploadUrl: track.audioUrl,
      customMode: true,
      instrumental: true,
      style: 'jazz',
      title: 'Jazz cover',
      model: 'V5',
      callBackUrl: receiverUrl,
    });
    const coverData = await finished(cover);
    expect(coverData).toMatchObject({ status: 'SUCCESS', type: 'UPLOAD_COVER', operationType: 'upload_cover' });
    await checkSongCallbacks(cover, coverData, track.audioUrl);
    const covered = await decodes(coverData.response.sunoData[0]);
    // A cover keeps the source's length and tempo.
    expect(covered[0]!.length / 44_100).toBeCloseTo(track.duration, 0);

    const instrumental = await submit('/api/v1/generate/add-instrumental', {
      uploadUrl: track.audioUrl,
      title: 'Backing',
      tags: 'soul, organ',
      negativeTags: '',
      callBackUrl: receiverUrl,
    });
    const instrumentalData = await finished(instrumental);
    expect(instrumentalData).toMatchObject({ status: 'SUCCESS', type: 'ADD_INSTRUMENTAL', operationType: 'add_instrumental' });
    expect(instrumentalData.response.sunoData).toHaveLength(1);
    await checkSongCallbacks(instrumental, instrumentalData, null);
    await decodes(instrumentalData.response.sunoData[0]);

    const vocals = await submit('/api/v1/generate/add-vocals', {
      uploadUrl: coverData.response.sunoData[0].audioUrl,
      prompt: '[Verse]\nLights along the water\nCalling me back home',
      title: 'Sung',
      style: 'soul',
      negativeTags: '',
      vocalGender: 'f',
      callBackUrl: receiverUrl,
    });
    const vocalsData = await finished(vocals);
    expect(vocalsData).toMatchObject({ status: 'SUCCESS', type: 'ADD_VOCALS', operationType: 'add_vocals' });
    await checkSongCallbacks(vocals, vocalsData, coverData.response.sunoData[0].audioUrl);
    expect(vocalsData.response.sunoData[0].prompt).toContain('Lights along the water');
    await decodes(vocalsData.response.sunoData[0]);
  });

  it('replace-section of a track named by its MP3 URL: only the section re-encoded, the master stored from its scratch file', async () => {
    const track = song.data.response.sunoData[0];
    const taskId = await submit('/api/v1/generate/replace-section', {
      uploadUrl: track.audioUrl,
      prompt: 'a quieter bridge',
      tags: 'jazz',
      title: 'Bridge',
      infillStartS: 3,
      infillEndS: 9,
      callBackUrl: receiverUrl,
    });
    const data = await finished(taskId);
    expect(data.status).toBe('SUCCESS');
    const edited = await decodes(data.response.sunoData[0]);
    // The master was written to disk as it was made, then moved into the blob store: nothing stays in scratch.
    expect(fs.readdirSync(path.join(dataDir, 'scratch'))).toEqual([]);
    const master = decodeWav(new Uint8Array(fs.readFileSync(path.join(dataDir, 'blobs', 'tasks', taskId, '0.master.wav'))));
    const source = await decodeAudio(new Uint8Array(await (await fetch(track.audioUrl)).arrayBuffer()));
    expect(master.channels[0]!.length).toBe(source.channels[0]!.length);
    // Outside the section, its crossfades and the junction frames, the master is the decoded source and so is the new MP3.
    const keep = (i: number) => i < 1.5 * 44_100 || i >= 10.5 * 44_100;
    let differing = 0;
    for (const [c, channel] of source.channels.entries()) {
      for (let i = 0; i < channel.length; i++) if (keep(i) && (master.channels[c]![i] !== channel[i] || edited[c]![i] !== channel[i])) differing++;
    }
    expect(differing).toBe(0);
  });

  it('upload-extend from an uploaded song, and mashup of two songs, through the Market form', async () => {
    const form = new FormData();
    form.append('file', new Blob([sineWav(20, 44_100, 2)], { type: 'audio/wav' }), 'tone.wav');
    form.append('uploadPath', 'songs');
    const upload: Json = await (
      await fetch(`${base}/api/file-stream-upload`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` }, body: form })
    ).json();
    const extendId = await submit('/api/v1/generate/upload-extend', {
      uploadUrl: upload.data.downloadUrl,
      defaultParamFlag: true,
      instrumental: true,
      continueAt: 10,
      style: 'ambient',
      title: 'Tone, continued',
      model: 'V4_5',
      callBackUrl: receiverUrl,
    });
    const extendData = await finished(extendId);
    expect(extendData).toMatchObject({ status: 'SUCCESS', type: 'UPLOAD_EXTEND', operationType: 'upload_extend' });
    await checkSongCallbacks(extendId, extendData, upload.data.downloadUrl);

    const [a, b] = song.data.response.sunoData;
    const created = await post('/api/v1/jobs/createTask', {
      model: 'ai-music-api/mashup',
      callBackUrl: receiverUrl,
      input: { upload_url_list: [a.audioUrl, b.audioUrl], custom_mode: true, style: 'electronic', title: 'Both', model: 'V5' },
    });
    expect(created).toMatchObject({ code: 200, msg: 'success' });
    expect(created.data.recordId).toBe(created.data.taskId);
    const mashupId = created.data.taskId as string;
    const mashupData = await finished(mashupId);
    expect(mashupData).toMatchObject({ status: 'SUCCESS', type: 'MASHUP', operationType: 'mashup' });
    await checkSongCallbacks(mashupId, mashupData, null);
    const woven = await decodes(mashupData.response.sunoData[0]);
    expect(analyse({ sampleRate: 44_100, channels: woven }).tempo).not.toBeNull();
    await checkMarketView(mashupId, 'ai-music-api/mashup', mashupData);
    // The Market `param` shows the input as received.
    const market = (await get(`/api/v1/jobs/recordInfo?taskId=${mashupId}`)).data;
    expect(JSON.parse(market.param)).toEqual({
      input: JSON.stringify({ upload_url_list: [a.audioUrl, b.audioUrl], custom_mode: true, style: 'electronic', title: 'Both', model: 'V5' }),
      model: 'ai-music-api/mashup',
    });
  });

  it('cover images: two pictures, a callback signed over data.taskId, integer successFlag', async () => {
    const taskId = await submit('/api/v1/suno/cover/generate', { taskId: song.taskId, callBackUrl: receiverUrl });
    const details = await waitFor(
      async () => {
        const { data } = await get(`/api/v1/suno/cover/record-info?taskId=${taskId}`);
        return data?.successFlag === 1 || data?.successFlag === 3 ? data : undefined;
      },
      60_000,
      'the cover task',
    );
    expect(details).toMatchObject({ taskId, parentTaskId: song.taskId, callbackUrl: receiverUrl, successFlag: 1, errorCode: 200, errorMessage: '' });
    expect(new Date(details.createTime).toISOString()).toBe(details.createTime);
    expect(details.response.images).toHaveLength(2);
    const [callback] = await callbacksFor(taskId, 1);
    const body = verified(callback!, taskId);
    expect(body).toEqual({ code: 200, msg: 'success', data: { taskId, images: details.response.images } });
    const pictures = await Promise.all(details.response.images.map(async (url: string) => Buffer.from(await (await fetch(url)).arrayBuffer())));
    for (const picture of pictures) expect(picture.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(pictures[0]!.equals(pictures[1]!)).toBe(false);
    // A music task's details route does not show a cover task, and the other way round.
    expect((await get(`/api/v1/generate/record-info?taskId=${taskId}`)).data).toBeNull();
    expect((await get(`/api/v1/suno/cover/record-info?taskId=${song.taskId}`)).data).toBeNull();
    // One cover per music task: the second request names the first.
    expect(await post('/api/v1/suno/cover/generate', { taskId: song.taskId, callBackUrl: receiverUrl })).toEqual({
      code: 400,
      msg: 'Cover record already exists',
      data: { taskId },
    });
  });

  it('persona from a track, applied by generate; boost style answers at once', async () => {
    const persona = await post('/api/v1/generate/generate-persona', {
      taskId: song.taskId,
      audioId: song.data.response.sunoData[0].id,
      name: 'Night sea',
      description: 'the voice of the first song',
      vocalStart: 0,
      vocalEnd: 11,
    });
    expect(persona).toMatchObject({ code: 200, msg: 'success', data: { name: 'Night sea', description: 'the voice of the first song' } });
    const taskId = await submit('/api/v1/generate', {
      customMode: true,
      instrumental: true,
      style: 'lo-fi',
      title: 'In persona',
      personaId: persona.data.personaId,
      callBackUrl: receiverUrl,
    });
    const data = await finished(taskId);
    expect(data.status).toBe('SUCCESS');
    // The persona's words join the style the songs were made in.
    expect(data.response.sunoData[0].tags).toMatch(/^lo-fi, .*bpm$/);

    const boost = await post('/api/v1/style/generate', { content: 'Pop, Mysterious' });
    expect(boost).toMatchObject({ code: 200, msg: 'success', data: { param: 'Pop, Mysterious', successFlag: '成功', errorCode: null, errorMsg: null } });
    expect(boost.data.result).toMatch(/pop/i);
    expect(boost.data.taskId).toMatch(/^[0-9a-f]{32}$/);

    // The Market form makes tasks of both, read through jobs/recordInfo.
    const marketState = (taskId: string): Promise<Json> =>
      waitFor(
        async () => {
          const { data } = await get(`/api/v1/jobs/recordInfo?taskId=${taskId}`);
          return data?.state === 'success' || data?.state === 'fail' ? data : undefined;
        },
        30_000,
        `market task ${taskId}`,
      );
    const boosted = await post('/api/v1/jobs/createTask', { model: 'ai-music-api/boost-music-style', input: { content: 'Pop, Mysterious' } });
    const boostRecord = await marketState(boosted.data.taskId);
    expect(boostRecord).toMatchObject({ model: 'ai-music-api/boost-music-style', state: 'success' });
    expect(JSON.parse(boostRecord.resultJson).resultObject).toEqual({ param: 'Pop, Mysterious', result: boost.data.result });

    const other = song.data.response.sunoData[1];
    const made = await post('/api/v1/jobs/createTask', {
      model: 'ai-music-api/generate-persona',
      callBackUrl: receiverUrl,
      input: { task_id: song.taskId, audio_id: other.id, name: 'Second', description: 'the other take', vocal_end: 10 },
    });
    const personaRecord = await marketState(made.data.taskId);
    expect(personaRecord.state).toBe('success');
    expect(JSON.parse(personaRecord.resultJson).resultObject).toMatchObject({ name: 'Second', description: 'the other take' });
    const [callback] = await callbacksFor(made.data.taskId, 1);
    expect(verified(callback!, made.data.taskId)).toMatchObject({ code: 200, msg: 'success', data: { taskId: made.data.taskId, state: 'success' } });
    // A second persona of the same track is refused before any task exists, named as the Market client wrote it.
    expect(
      await post('/api/v1/jobs/createTask', {
        model: 'ai-music-api/generate-persona',
        input: { task_id: song.taskId, audio_id: other.id, name: 'Again', description: 'x', vocal_end: 10 },
      }),
    ).toEqual({ code: 409, msg: 'Persona already exists for this music', data: null });
  });

  it('runs every music kind through jobs/createTask, readable through both details routes', async () => {
    const [a, b] = song.data.response.sunoData;
    const inputs: Record<string, Json> = {
      'ai-music-api/generate': { custom_mode: true, instrumental: true, model: 'V5', style: 'ambient', title: 'Market song' },
      'ai-music-api/replace-section': {
        task_id: song.taskId,
        audio_id: a.id,
        prompt: 'strings',
        tags: 'classical',
        title: 'Edit',
        infill_start_s: 2,
        infill_end_s: 8,
      },
      'ai-music-api/extend': { default_param_flag: true, audio_id: b.id, continue_at: 6, style: 'rock', title: 'Further', model: 'V5' },
      'ai-music-api/upload-and-extend-audio': {
        upload_url: a.audioUrl,
        default_param_flag: true,
        instrumental: true,
        continue_at: 7,
        style: 'funk',
        title: 'Up',
        model: 'V5',
      },
      'ai-music-api/upload-and-cover-audio': { upload_url: b.audioUrl, custom_mode: true, instrumental: true, style: 'reggae', title: 'Dub', model: 'V5' },
      'ai-music-api/add-instrumental': { upload_url: a.audioUrl, title: 'Under', tags: 'jazz', negative_tags: '' },
      'ai-music-api/add-vocals': { upload_url: b.audioUrl, prompt: 'Over the hill we go', title: 'Over', style: 'pop', negative_tags: '' },
    };
    for (const [model, input] of Object.entries(inputs)) {
      const created = await post('/api/v1/jobs/createTask', { model, callBackUrl: receiverUrl, input });
      expect(created, model).toMatchObject({ code: 200, msg: 'success' });
      const taskId = created.data.taskId as string;
      const data = await finished(taskId);
      expect(data.status, `${model}: ${data.errorMessage}`).toBe('SUCCESS');
      const callbacks = await callbacksFor(taskId, model === 'ai-music-api/replace-section' ? 1 : 3);
      for (const callback of callbacks) verified(callback, taskId);
      expect(JSON.parse(callbacks.at(-1)!.body).data.callbackType).toBe('complete');
      await checkMarketView(taskId, model, data);
    }
  });

  it('answers unknown tasks as api.kie.ai does', async () => {
    const unknown = '0'.repeat(32);
    expect(await get(`/api/v1/generate/record-info?taskId=${unknown}`)).toEqual({ code: 200, msg: 'success', data: null });
    expect(await get(`/api/v1/suno/cover/record-info?taskId=${unknown}`)).toEqual({ code: 200, msg: 'success', data: null });
    expect(await get(`/api/v1/jobs/recordInfo?taskId=${unknown}`)).toEqual({ code: 422, msg: 'recordInfo is null', data: null });
    expect(await post('/api/v1/generate', { prompt: 'x', model: 'V5', instrumental: true, customMode: false })).toEqual({
      code: 422,
      msg: 'Please enter callBackUrl.',
      data: null,
    });
  });
});
