import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAudio, readMidiFile } from '../../src/audio/index.js';
import { SPLIT_STEM_NAMES } from '../../src/engine/types.js';
import { kill } from '../helpers/process.js';
import { apiSession, type Json, type Receiver, type SessionConfig, serveWithAccount, startReceiver, TRACK_TOOL_RECORD_KEYS } from '../helpers/serve.js';
import { snrDb } from '../helpers/signal.js';
import { storeTargets, tempDir } from '../helpers/stores.js';

/** record-info `data` keys of a separation: those of KIE's other track tools, then reprise's extension. */
const DETAILS_KEYS = [...TRACK_TOOL_RECORD_KEYS, 'separation'];
/** The details' `response` keys: KIE's (its `pianoUrl` included), then reprise's `otherUrl`. */
const RESPONSE_KEYS = [
  'id',
  'originUrl',
  'originData',
  'instrumentalUrl',
  'vocalUrl',
  'backingVocalsUrl',
  'drumsUrl',
  'bassUrl',
  'guitarUrl',
  'pianoUrl',
  'keyboardUrl',
  'percussionUrl',
  'stringsUrl',
  'synthUrl',
  'fxUrl',
  'brassUrl',
  'woodwindsUrl',
  'otherUrl',
];
const STEM_URL = /\/files\/[A-Za-z0-9_-]{32}\/[0-9a-f-]{36}_[A-Za-z%0-9]+\.mp3$/;

const MIDI_DETAILS_KEYS = [
  'taskId',
  'recordTaskId',
  'audioId',
  'callbackUrl',
  'completeTime',
  'createTime',
  'midiData',
  'successFlag',
  'errorCode',
  'errorMessage',
  'midiUrl',
  'transcription',
];

/**
 * KIE's "Vocal & Instrument Stem Separation" and "Generate MIDI from Audio" (issue 13 items 4, 5) against a real `reprise serve`, on
 * every store: a rendered track → `POST /api/v1/vocal-removal/generate` → the signed callback key
 * by key (kie-catalogue §19.1) → the details route and the Market one → stems that download,
 * decode, and add up to the track.
 */
describe.each(storeTargets())('stem separation on $name', (target) => {
  let server: ChildProcess;
  let served: SessionConfig;
  let receiver: Receiver;
  let dataDir: string;
  let sung: { taskId: string; id: string; second: string };
  const api = apiSession(() => served);
  /** The separations made by the tests, for MIDI: the exact split_stem of the sung song, the estimated one of the extend. */
  const separations: { exact?: string; estimated?: string } = {};

  beforeAll(async () => {
    receiver = await startReceiver('ok');
    dataDir = tempDir('stems');
    const started = await serveWithAccount(
      {
        REPRISE_DATA_DIR: dataDir,
        DATABASE_URL: await target.fresh(),
        REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8',
        REPRISE_GENERATE_DURATION_S: '10',
        REPRISE_CALLBACK_SCHEDULE: '0,0.2',
        REPRISE_RATE_LIMIT: '1000/10s',
        REPRISE_PRICE_SEPARATE_VOCAL: '4',
        REPRISE_PRICE_SPLIT_STEM: '7',
        LOG_LEVEL: 'error',
      },
      1000,
    );
    server = started.server;
    served = { ...started, received: receiver.received };
    const taskId = await api.submit('/api/v1/generate', {
      model: 'V5',
      customMode: true,
      instrumental: false,
      style: 'pop',
      title: 'Stems',
      prompt: '[Verse]\nmorning light on the water\nwe sing along the shore',
      callBackUrl: receiver.url,
    });
    const data = await api.details('/api/v1/generate/record-info', taskId, (d) => d.status === 'SUCCESS' || d.status === 'GENERATE_AUDIO_FAILED');
    expect(data.status).toBe('SUCCESS');
    sung = { taskId, id: data.response.sunoData[0].id, second: data.response.sunoData[1].id };
  }, 120_000);
  afterAll(async () => {
    await kill(server, 'SIGTERM');
    await receiver.close();
  });

  /** The task's first callback, its signatures checked; its body. */
  const signedCallback = async (taskId: string): Promise<Json> => api.verified(await api.callbackOf(taskId), taskId);

  async function decoded(url: string): Promise<Float32Array[]> {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('audio/mpeg');
    return (await decodeAudio(new Uint8Array(await response.arrayBuffer()))).channels;
  }

  /** The sum of the stems against the track's lossless master, in dB SNR. */
  async function sumAgainstMaster(urls: string[], trackTaskId: string, index: number): Promise<number> {
    const master = (await decodeAudio(fs.readFileSync(path.join(dataDir, 'blobs', 'tasks', trackTaskId, `${index}.master.wav`)))).channels;
    const sum = master.map((channel) => new Float32Array(channel.length));
    for (const url of urls) {
      const stem = await decoded(url);
      expect(stem[0]!.length).toBe(master[0]!.length);
      for (const [c, channel] of sum.entries()) {
        const source = stem[Math.min(c, stem.length - 1)]!;
        for (let i = 0; i < channel.length; i++) channel[i]! += source[i]!;
      }
    }
    return snrDb(master, sum, [[0, master[0]!.length]]);
  }

  it('separate_vocal of a sung song: exact vocal and instrumental, signed callback in KIE’s keys, details, Market view, charged', async () => {
    const before = await api.credit();
    const taskId = await api.submit('/api/v1/vocal-removal/generate', { taskId: sung.taskId, audioId: sung.id, callBackUrl: receiver.url });
    expect(await api.credit()).toBe(before - 4);

    const body = await signedCallback(taskId);
    expect(Object.keys(body)).toEqual(['code', 'msg', 'data']);
    expect(body).toMatchObject({ code: 200, msg: 'vocal separation generated successfully.', data: { task_id: taskId } });
    const info = body.data.vocal_separation_info;
    expect(Object.keys(info)).toEqual(['instrumental_url', 'origin_url', 'vocal_url']);
    expect(info).toEqual({ instrumental_url: expect.stringMatching(STEM_URL), origin_url: '', vocal_url: expect.stringMatching(STEM_URL) });
    expect(info.vocal_url).toMatch(/_Vocals\.mp3$/);
    expect(info.instrumental_url).toMatch(/_Instrumental\.mp3$/);

    const data = await api.details('/api/v1/vocal-removal/record-info', taskId, (d) => d.successFlag !== 'PENDING');
    expect(Object.keys(data)).toEqual(DETAILS_KEYS);
    expect(Object.keys(data.response)).toEqual(RESPONSE_KEYS);
    expect(data).toMatchObject({
      taskId,
      musicId: sung.id,
      callbackUrl: receiver.url,
      musicIndex: 0,
      successFlag: 'SUCCESS',
      errorCode: null,
      errorMessage: null,
      separation: { exact: true, method: expect.stringMatching(/^Exact/) },
    });
    expect(typeof data.createTime).toBe('number');
    expect(data.completeTime).toBeGreaterThanOrEqual(data.createTime);
    expect(data.response).toMatchObject({
      id: null,
      originUrl: null,
      instrumentalUrl: info.instrumental_url,
      vocalUrl: info.vocal_url,
      drumsUrl: null,
      pianoUrl: null,
    });
    expect(data.response.originData.map((d: Json) => d.stem_type_group_name)).toEqual(['Vocals', 'Instrumental']);
    for (const stem of data.response.originData) {
      expect(Object.keys(stem)).toEqual(['duration', 'audio_url', 'stem_type_group_name', 'id']);
      expect(stem.audio_url).toContain(stem.id);
      expect(stem.duration).toBe(10);
    }

    const market = (await api.get(`/api/v1/jobs/recordInfo?taskId=${taskId}`)).data;
    expect(market).toMatchObject({ taskId, model: 'ai-music-api/separate-vocals', state: 'success' });
    expect(JSON.parse(market.resultJson)).toEqual({ resultUrls: data.response.originData.map((d: Json) => d.audio_url), vocal_separation_info: info });

    // Exact stems: MP3s of parts that add up to the master, each coded once (reprise's MP3s measure 16–30 dB against their master).
    expect(await sumAgainstMaster([info.vocal_url, info.instrumental_url], sung.taskId, 0)).toBeGreaterThan(15);
    const range = await fetch(info.vocal_url, { headers: { range: 'bytes=0-99' } });
    expect(range.status).toBe(206);
  }, 180_000);

  it('split_stem through the Market form: every KIE key, exact instrument stems that add up to the track', async () => {
    const before = await api.credit();
    const created = await api.post('/api/v1/jobs/createTask', {
      model: 'ai-music-api/separate-vocals',
      callBackUrl: receiver.url,
      input: { task_id: sung.taskId, audio_id: sung.id, type: 'split_stem' },
    });
    expect(created).toMatchObject({ code: 200, msg: 'success' });
    const taskId = created.data.taskId as string;
    separations.exact = taskId;
    expect(await api.credit()).toBe(before - 7);
    const body = await signedCallback(taskId);
    const info = body.data.vocal_separation_info;
    expect(Object.keys(info)).toEqual(['origin_url', ...SPLIT_STEM_NAMES.map((name) => `${name}_url`)]);
    const made = Object.entries(info).filter(([key, value]) => key !== 'origin_url' && value !== null);
    expect(made.map(([key]) => key)).toEqual(expect.arrayContaining(['vocal_url', 'drums_url', 'bass_url']));
    // Nothing of reprise's is a backing vocal or an effect.
    expect(info).toMatchObject({ backing_vocals_url: null, fx_url: null });
    expect(
      await sumAgainstMaster(
        made.map(([, value]) => value as string),
        sung.taskId,
        0,
      ),
    ).toBeGreaterThan(15);
    const data = await api.details('/api/v1/vocal-removal/record-info', taskId, (d) => d.successFlag !== 'PENDING');
    expect(data.response).toMatchObject({ instrumentalUrl: null, vocalUrl: info.vocal_url, drumsUrl: info.drums_url });
    expect(data.response.originData).toHaveLength(made.length);
    expect(data.separation.exact).toBe(true);
  }, 180_000);

  it('estimates the stems of a track holding other audio, and says so (an extend continues uploaded or earlier audio)', async () => {
    const extended = await api.submit('/api/v1/generate/extend', {
      defaultParamFlag: false,
      audioId: sung.id,
      model: 'V5',
      callBackUrl: receiver.url,
    });
    const song = await api.details('/api/v1/generate/record-info', extended, (d) => d.status === 'SUCCESS' || d.status === 'GENERATE_AUDIO_FAILED');
    expect(song.status).toBe('SUCCESS');
    const taskId = await api.submit('/api/v1/vocal-removal/generate', {
      taskId: extended,
      audioId: song.response.sunoData[0].id,
      type: 'split_stem',
      callBackUrl: receiver.url,
    });
    separations.estimated = taskId;
    const body = await signedCallback(taskId);
    const info = body.data.vocal_separation_info;
    // An estimate tells drums, bass and the voice apart; the rest is reprise's `other`, after KIE's keys.
    expect(Object.keys(info).at(-1)).toBe('other_url');
    expect(info).toMatchObject({ drums_url: expect.stringMatching(STEM_URL), other_url: expect.stringMatching(/_Other\.mp3$/), keyboard_url: null });
    const data = await api.details('/api/v1/vocal-removal/record-info', taskId, (d) => d.successFlag !== 'PENDING');
    expect(data.separation).toEqual({ exact: false, method: expect.stringMatching(/^Estimated by signal processing, because it was made by extend/) });
    expect(data.response.otherUrl).toBe(info.other_url);
  }, 180_000);

  it('MIDI of an exact separation: the recipe’s notes per instrument, KIE’s keys, a .mid that reads back the same, free', async () => {
    expect(separations.exact).toBeDefined();
    const before = await api.credit();
    const taskId = await api.submit('/api/v1/midi/generate', { taskId: separations.exact, callBackUrl: receiver.url });
    const body = await signedCallback(taskId);
    expect(Object.keys(body)).toEqual(['task_id', 'code', 'msg', 'data']);
    expect(body).toMatchObject({ task_id: taskId, code: 200, msg: 'success', data: { state: 'complete' } });
    expect(Object.keys(body.data)).toEqual(['state', 'instruments', 'midi_url']);
    const { instruments } = body.data;
    const names = instruments.map((instrument: Json) => instrument.name);
    expect(names).toContain('Drums');
    for (const instrument of instruments) {
      expect(Object.keys(instrument)).toEqual(['name', 'notes']);
      expect(instrument.notes.length).toBeGreaterThan(0);
      for (const note of instrument.notes) {
        expect(Object.keys(note)).toEqual(['pitch', 'start', 'end', 'velocity']);
        // KIE's examples write the times as strings of seconds.
        expect(typeof note.start).toBe('string');
        expect(Number(note.start)).toBeGreaterThanOrEqual(0);
        expect(Number(note.end)).toBeGreaterThan(Number(note.start));
        expect(Number(note.end)).toBeLessThanOrEqual(10 + 1e-6);
        expect(Number.isInteger(note.pitch) && note.pitch >= 0 && note.pitch <= 127).toBe(true);
        expect(note.velocity).toBeGreaterThan(0);
        expect(note.velocity).toBeLessThanOrEqual(1);
      }
    }
    expect(await api.credit()).toBe(before);

    const data = await api.details('/api/v1/midi/record-info', taskId, (d) => d.successFlag !== 0);
    expect(Object.keys(data)).toEqual(MIDI_DETAILS_KEYS);
    expect(data).toMatchObject({
      taskId,
      recordTaskId: -1,
      audioId: null,
      callbackUrl: receiver.url,
      successFlag: 1,
      errorCode: null,
      errorMessage: null,
      midiUrl: body.data.midi_url,
      transcription: { exact: true },
    });
    expect(data.midiData).toEqual({ state: 'complete', instruments });
    expect(typeof data.createTime).toBe('number');

    const response = await fetch(body.data.midi_url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('audio/midi');
    const file = readMidiFile(new Uint8Array(await response.arrayBuffer()));
    const tracks = file.tracks.filter((track) => track.notes.length > 0);
    expect(tracks.map((track) => track.name)).toEqual(names);
    for (const [i, track] of tracks.entries()) {
      expect(track.notes.length).toBe(instruments[i].notes.length);
      for (const [n, note] of track.notes.entries()) {
        expect(note.pitch).toBe(instruments[i].notes[n].pitch);
        expect(Math.abs(note.start - Number(instruments[i].notes[n].start))).toBeLessThan(0.001);
      }
    }
    expect(tracks.find((track) => track.name === 'Drums')?.channel).toBe(9);

    const market = (await api.get(`/api/v1/jobs/recordInfo?taskId=${taskId}`)).data;
    expect(market).toMatchObject({ taskId, model: 'ai-music-api/generate-midi-from-audio', state: 'success' });
    expect(JSON.parse(market.resultJson)).toEqual({ resultUrls: [body.data.midi_url], resultObject: data.midiData });
  }, 180_000);

  it('MIDI of one estimated stem, through the Market form: notes heard in the stem’s audio, said to be estimated', async () => {
    expect(separations.estimated).toBeDefined();
    const separation = await api.details('/api/v1/vocal-removal/record-info', separations.estimated!, (d) => d.successFlag !== 'PENDING');
    const bass = separation.response.originData.find((stem: Json) => stem.stem_type_group_name === 'Bass');
    expect(bass).toBeDefined();
    const created = await api.post('/api/v1/jobs/createTask', {
      model: 'ai-music-api/generate-midi-from-audio',
      callBackUrl: receiver.url,
      input: { task_id: separations.estimated, audio_id: bass.id },
    });
    expect(created).toMatchObject({ code: 200, msg: 'success' });
    const taskId = created.data.taskId as string;
    const body = await signedCallback(taskId);
    expect(body).toMatchObject({ code: 200, data: { state: 'complete' } });
    const data = await api.details('/api/v1/midi/record-info', taskId, (d) => d.successFlag !== 0);
    expect(data).toMatchObject({ successFlag: 1, audioId: bass.id, transcription: { exact: false } });
    // A bass line has notes, low ones.
    const notes = data.midiData.instruments.flatMap((instrument: Json) => instrument.notes);
    expect(notes.length).toBeGreaterThan(0);
    expect(Math.max(...notes.map((note: Json) => note.pitch))).toBeLessThan(72);
  }, 180_000);

  it('fails MIDI whose stem’s audio is gone with a signed error callback (top-level task_id, data null), leaving no file', async () => {
    const separation = await api.details('/api/v1/vocal-removal/record-info', separations.estimated!, (d) => d.successFlag !== 'PENDING');
    const drums = separation.response.originData.find((stem: Json) => stem.stem_type_group_name === 'Drums');
    // The stem's file removed behind the service's back, as a full disk or an operator might.
    fs.rmSync(path.join(dataDir, 'blobs', 'tasks', separations.estimated!, 'Drums.mp3'));
    const taskId = await api.submit('/api/v1/midi/generate', { taskId: separations.estimated, audioId: drums.id, callBackUrl: receiver.url });
    const body = await signedCallback(taskId);
    expect(body).toEqual({ task_id: taskId, code: 400, msg: expect.stringContaining('the drums stem’s audio is no longer available'), data: null });
    const data = await api.details('/api/v1/midi/record-info', taskId, (d) => d.successFlag !== 0);
    expect(data).toMatchObject({ successFlag: 3, errorCode: '400', midiData: null, midiUrl: null, transcription: null });
    expect(fs.existsSync(path.join(dataDir, 'blobs', 'tasks', taskId))).toBe(false);
  }, 120_000);

  it('refuses MIDI of what is not a finished separation of the caller’s, charging and storing nothing', async () => {
    const refused = (body: Record<string, unknown>) => api.post('/api/v1/midi/generate', { taskId: separations.exact, callBackUrl: receiver.url, ...body });
    // KIE's recorded answer for an id that is no separation; a music task is none either.
    expect(await refused({ taskId: 'apicity-test-bogus-vocal-removal-task-id' })).toEqual({ code: 422, msg: 'Record does not exist', data: null });
    expect(await refused({ taskId: sung.taskId })).toEqual({ code: 422, msg: 'Record does not exist', data: null });
    expect(await refused({ audioId: 'nope' })).toMatchObject({
      code: 422,
      msg: `audioId: is not a stem of separation ${separations.exact} (its originData ids)`,
    });
    expect(await refused({ callBackUrl: undefined })).toMatchObject({ code: 422, msg: 'Please enter callBackUrl.' });
  });

  it('fails a task whose track’s audio is gone with a signed error callback, refunded, leaving no file', async () => {
    for (const name of ['1.mp3', '1.master.wav']) fs.rmSync(path.join(dataDir, 'blobs', 'tasks', sung.taskId, name));
    const before = await api.credit();
    const taskId = await api.submit('/api/v1/vocal-removal/generate', { taskId: sung.taskId, audioId: sung.second, callBackUrl: receiver.url });
    const body = await signedCallback(taskId);
    expect(body).toEqual({
      code: 400,
      msg: expect.stringContaining('the track’s audio is no longer available'),
      data: { task_id: taskId, vocal_separation_info: null },
    });
    const data = await api.details('/api/v1/vocal-removal/record-info', taskId, (d) => d.successFlag !== 'PENDING');
    expect(data).toMatchObject({ successFlag: 'GENERATE_AUDIO_FAILED', errorCode: 400, separation: null, response: { originData: [], vocalUrl: null } });
    expect(await api.credit()).toBe(before);
    expect(fs.existsSync(path.join(dataDir, 'blobs', 'tasks', taskId))).toBe(false);
  }, 120_000);

  it('refuses unknown tracks, an unknown type and a named stem before anything is stored or charged', async () => {
    const before = await api.credit();
    const refused = (body: Record<string, unknown>) =>
      api.post('/api/v1/vocal-removal/generate', { taskId: sung.taskId, audioId: sung.id, callBackUrl: receiver.url, ...body });
    expect(await refused({ taskId: '0'.repeat(32) })).toEqual({ code: 422, msg: 'Record does not exist', data: null });
    expect(await refused({ audioId: 'nope' })).toMatchObject({ code: 422, msg: `audioId: is not a track of task ${sung.taskId}` });
    expect(await refused({ type: 'split_stem_advanced' })).toMatchObject({ code: 422, msg: 'type: must be one of separate_vocal, split_stem' });
    expect(await refused({ callBackUrl: undefined })).toMatchObject({ code: 422, msg: 'Please enter callBackUrl.' });
    const market = await api.post('/api/v1/jobs/createTask', {
      model: 'ai-music-api/separate-vocals',
      callBackUrl: receiver.url,
      input: { task_id: sung.taskId, audio_id: sung.id, stem_name: 'drums' },
    });
    expect(market).toMatchObject({
      code: 422,
      msg: expect.stringMatching(/^input\.stem_name: extracting one named stem \(split_stem_advanced\) is not offered/),
    });
    expect(await api.credit()).toBe(before);
  });
});
