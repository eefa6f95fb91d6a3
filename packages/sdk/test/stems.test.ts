import { afterEach, describe, expect, it } from 'vitest';
import {
  CallbackPayloadError,
  Client,
  callbackFamilyOf,
  createCallbackHandler,
  type GenerateMidiRequest,
  type MidiCallbackEvent,
  parseMidiPayload,
  parseVocalSeparationPayload,
  RepriseError,
  type SeparateVocalsRequest,
  signKieWebhook,
  type VocalSeparationCallbackEvent,
} from '../src/index.js';
import { completeBody, errorBody, SECRET, signed } from './helpers/callbacks.js';
import { fakeApi, json, ok } from './helpers/fake-api.js';

type Api = Awaited<ReturnType<typeof fakeApi>>;
let api: Api | null = null;
afterEach(async () => {
  await api?.close();
  api = null;
});

const MUSIC = 'e5d2b14c95a93b325215f4490867d8c6';
const SEPARATION = '3e63b4cc8c2a4d1fb0a1e6f3d2c4b9a7';
const MIDI = '5c79be8e0c2a4d1fb0a1e6f3d2c4b9a7';
const AUDIO = 'e231c8a0-0000-4000-8000-00008cadc7dc';
const STEM = 'f1a2b3c4-0000-4000-8000-000000000001';
const CB = 'https://example.com/cb';

type InfoName = 'vocal_separation_info' | 'vocal_removal_info';

/** `separate_vocal`, as KIE's English page shows it (note `origin_url: ""`). */
const vocalBody = (taskId: string, name: InfoName = 'vocal_separation_info') =>
  JSON.stringify({
    code: 200,
    msg: name === 'vocal_separation_info' ? 'vocal separation generated successfully.' : 'vocal Removal generated successfully.',
    data: { task_id: taskId, [name]: { instrumental_url: 'https://x/s_Instrumental.mp3', origin_url: '', vocal_url: 'https://x/s_Vocals.mp3' } },
  });

/** `split_stem` under the Chinese page's name, with reprise's `other_url` and nulls for stems the track lacks. */
const splitInfo = {
  origin_url: 'https://x/origin.mp3',
  vocal_url: 'https://x/v.mp3',
  backing_vocals_url: null,
  drums_url: 'https://x/d.mp3',
  bass_url: 'https://x/b.mp3',
  guitar_url: null,
  keyboard_url: 'https://x/k.mp3',
  percussion_url: null,
  strings_url: null,
  synth_url: 'https://x/sy.mp3',
  fx_url: null,
  brass_url: null,
  woodwinds_url: null,
  other_url: 'https://x/o.mp3',
};
const splitBody = (taskId: string) =>
  JSON.stringify({ code: 200, msg: 'vocal Removal generated successfully.', data: { task_id: taskId, vocal_removal_info: splitInfo } });
const separationFailure = (taskId: string, name: InfoName = 'vocal_separation_info') =>
  JSON.stringify({ code: 500, msg: 'Separation failed: the source is silent', data: { task_id: taskId, [name]: null } });

/** KIE's English page: top-level `task_id`, note times as numeric strings. */
const wireNotes = [
  { pitch: 73, start: '0.036458333333333336', end: '0.18229166666666666', velocity: 1 },
  { pitch: 36, start: 0.5, end: '0.75', velocity: 0.8 },
];
const notes = [
  { pitch: 73, start: 0.036458333333333336, end: 0.18229166666666666, velocity: 1 },
  { pitch: 36, start: 0.5, end: 0.75, velocity: 0.8 },
];
const midiBody = (taskId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ task_id: taskId, code: 200, msg: 'success', data: { state: 'complete', instruments: [{ name: 'Drums', notes: wireNotes }], ...extra } });
/** KIE's Chinese page: the id as `data.taskId`, none at the top. */
const midiBodyCn = (taskId: string) =>
  JSON.stringify({ code: 200, msg: 'success', data: { taskId, state: 'complete', instruments: [{ name: 'Drums', notes: wireNotes }] } });
const midiFailure = (taskId: string) => JSON.stringify({ task_id: taskId, code: 500, msg: 'MIDI generation failed', data: null });
const midiFailedState = (taskId: string) => JSON.stringify({ task_id: taskId, code: 500, msg: 'MIDI generation failed', data: { state: 'failed' } });
const midiFailureCn = (taskId: string) => JSON.stringify({ code: 500, msg: 'MIDI generation failed', data: { taskId, state: 'failed' } });

const pathOf = (parse: (value: unknown) => unknown, value: unknown): string | null => {
  try {
    parse(value);
  } catch (error) {
    if (error instanceof CallbackPayloadError) return error.path;
    throw error;
  }
  return null;
};

describe('Client: stem separation and MIDI', () => {
  it('separateVocals and generateMidi post their requests as they are and resolve with the new taskId', async () => {
    api = await fakeApi({
      'POST /api/v1/vocal-removal/generate': (_r, res) => json(res, 200, ok({ taskId: SEPARATION })),
      'POST /api/v1/midi/generate': (_r, res) => json(res, 200, ok({ taskId: MIDI })),
    });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    const split: SeparateVocalsRequest = { taskId: MUSIC, audioId: AUDIO, type: 'split_stem', callBackUrl: CB };
    const plain: SeparateVocalsRequest = { taskId: MUSIC, audioId: AUDIO, callBackUrl: CB };
    const oneStem: GenerateMidiRequest = { taskId: SEPARATION, audioId: STEM, callBackUrl: CB };
    const allStems: GenerateMidiRequest = { taskId: SEPARATION, callBackUrl: CB };
    expect(await client.separateVocals(split)).toEqual({ taskId: SEPARATION });
    expect(await client.separateVocals(plain)).toEqual({ taskId: SEPARATION });
    expect(await client.generateMidi(oneStem)).toEqual({ taskId: MIDI });
    expect(await client.generateMidi(allStems)).toEqual({ taskId: MIDI });
    expect(api.seen.map((s) => [s.method, s.path, JSON.parse(s.body.toString())])).toEqual([
      ['POST', '/api/v1/vocal-removal/generate', split],
      ['POST', '/api/v1/vocal-removal/generate', plain],
      ['POST', '/api/v1/midi/generate', oneStem],
      ['POST', '/api/v1/midi/generate', allStems],
    ]);
    expect(api.seen.every((s) => s.headers['content-type'] === 'application/json' && s.headers.authorization === 'Bearer k')).toBe(true);
  });

  it('the separation type is one of the two modes (checked by the type checker)', () => {
    // @ts-expect-error `type` is separate_vocal or split_stem
    const wrong: SeparateVocalsRequest = { taskId: MUSIC, audioId: AUDIO, type: 'split_everything', callBackUrl: CB };
    expect(wrong.taskId).toBe(MUSIC);
  });

  it('a refused submission rejects with the code and msg, sent once', async () => {
    api = await fakeApi({
      'POST /api/v1/midi/generate': (_r, res) => json(res, 200, { code: 422, msg: 'taskId: not a finished separation task', data: null }),
    });
    const client = new Client({ apiKey: 'k', baseUrl: api.url });
    const error = await client.generateMidi({ taskId: MUSIC, callBackUrl: CB }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RepriseError);
    expect(error).toMatchObject({ code: 422, msg: 'taskId: not a finished separation task' });
    expect(api.seen).toHaveLength(1);
  });

  it('getVocalSeparationTask: null response while running, epoch-ms or text times, reprise’s extensions, unknown flags and tasks refused', async () => {
    const base = { taskId: SEPARATION, musicId: AUDIO, callbackUrl: CB, musicIndex: 0, errorCode: null, errorMessage: null };
    const stems = {
      id: null,
      originUrl: 'https://x/origin.mp3',
      originData: [
        { duration: 181.2, audio_url: 'https://x/v.mp3', stem_type_group_name: 'Vocals', id: STEM },
        { duration: 181.2, audio_url: 'https://x/i.mp3', stem_type_group_name: 'Instrumental', id: 'f1a2b3c4-0000-4000-8000-000000000002' },
        { stem_type_group_name: 'Broken' },
      ],
      instrumentalUrl: 'https://x/i.mp3',
      vocalUrl: 'https://x/v.mp3',
      backingVocalsUrl: null,
      drumsUrl: null,
      bassUrl: null,
      guitarUrl: null,
      pianoUrl: null,
      keyboardUrl: null,
      percussionUrl: null,
      stringsUrl: null,
      synthUrl: null,
      fxUrl: null,
      brassUrl: null,
      woodwindsUrl: null,
    };
    const answers = [
      { ...base, successFlag: 'PENDING', createTime: 1736400000000, completeTime: null, response: null },
      {
        ...base,
        musicIndex: '1',
        successFlag: 'SUCCESS',
        createTime: 1736400000000,
        completeTime: 1736400060000,
        response: { ...stems, otherUrl: '' },
        separation: { exact: true, method: 'stems' },
      },
      { ...base, successFlag: 'SUCCESS', createTime: '2025-01-09 05:20:00', completeTime: '2025-01-09 05:21:00', response: stems },
      { ...base, successFlag: 'GENERATE_WAV_FAILED', createTime: 1736400000000, completeTime: null, response: null },
      null,
    ];
    let next = 0;
    api = await fakeApi({ 'GET /api/v1/vocal-removal/record-info': (_r, res) => json(res, 200, ok(answers[next++])) });
    const client = new Client({ apiKey: 'k', baseUrl: api.url, retries: 0 });
    const running = await client.getVocalSeparationTask(SEPARATION);
    expect(running).toMatchObject({ successFlag: 'PENDING', createTime: 1736400000000, completeTime: null });
    expect(running.response).toEqual({ ...stems, originUrl: null, instrumentalUrl: null, vocalUrl: null, originData: [] });
    const done = await client.getVocalSeparationTask(SEPARATION);
    expect(done).toMatchObject({ musicIndex: 1, successFlag: 'SUCCESS', completeTime: 1736400060000, separation: { exact: true, method: 'stems' } });
    expect(done.response).toEqual({ ...stems, originData: stems.originData.slice(0, 2), otherUrl: null });
    const asText = await client.getVocalSeparationTask(SEPARATION);
    expect(asText).toMatchObject({ createTime: '2025-01-09 05:20:00', completeTime: '2025-01-09 05:21:00' });
    expect('otherUrl' in asText.response).toBe(false);
    expect(asText.separation).toBeUndefined();
    await expect(client.getVocalSeparationTask(SEPARATION)).rejects.toMatchObject({ code: 502 });
    await expect(client.getVocalSeparationTask(SEPARATION)).rejects.toMatchObject({ code: 404 });
    expect(api.seen[0]?.path).toBe(`/api/v1/vocal-removal/record-info?taskId=${SEPARATION}`);
  });

  it('getMidiTask: integer flags, note times read as numbers, reprise’s midiUrl; bad flags, bad notes and unknown tasks refused', async () => {
    const base = { taskId: MIDI, recordTaskId: -1, audioId: STEM, callbackUrl: CB, createTime: 1736400000000, errorCode: null, errorMessage: null };
    const answers = [
      { ...base, successFlag: 0, completeTime: null, midiData: null },
      { ...base, successFlag: 1, completeTime: 1736400030000, midiData: { state: 'complete', instruments: [{ name: 'Drums', notes: wireNotes }] } },
      {
        ...base,
        audioId: '',
        successFlag: '1',
        completeTime: 1736400030000,
        midiData: { state: 'complete', instruments: [] },
        midiUrl: 'https://x/notes.mid',
      },
      { ...base, successFlag: 3, completeTime: 1736400030000, midiData: null, errorCode: 500, errorMessage: 'MIDI generation failed' },
      { ...base, successFlag: 'SUCCESS', completeTime: null, midiData: null },
      {
        ...base,
        successFlag: 1,
        completeTime: 1736400030000,
        midiData: { state: 'complete', instruments: [{ name: 'Bass', notes: [{ pitch: 40, start: 'soon' }] }] },
      },
      null,
    ];
    let next = 0;
    api = await fakeApi({ 'GET /api/v1/midi/record-info': (_r, res) => json(res, 200, ok(answers[next++])) });
    const client = new Client({ apiKey: 'k', baseUrl: api.url, retries: 0 });
    expect(await client.getMidiTask(MIDI)).toEqual({ ...base, successFlag: 0, completeTime: null, midiData: null });
    expect(await client.getMidiTask(MIDI)).toEqual({
      ...base,
      successFlag: 1,
      completeTime: 1736400030000,
      midiData: { state: 'complete', instruments: [{ name: 'Drums', notes }] },
    });
    expect(await client.getMidiTask(MIDI)).toMatchObject({ audioId: null, successFlag: 1, midiUrl: 'https://x/notes.mid' });
    expect(await client.getMidiTask(MIDI)).toMatchObject({ successFlag: 3, errorCode: '500', errorMessage: 'MIDI generation failed' });
    await expect(client.getMidiTask(MIDI)).rejects.toMatchObject({ code: 502 });
    const badNote = await client.getMidiTask(MIDI).catch((e: unknown) => e);
    expect(badNote).toBeInstanceOf(RepriseError);
    expect(badNote).toMatchObject({ code: 502, msg: expect.stringContaining('data.midiData.instruments[0].notes[0].start') });
    await expect(client.getMidiTask(MIDI)).rejects.toMatchObject({ code: 404 });
    expect(api.seen[0]?.path).toBe(`/api/v1/midi/record-info?taskId=${MIDI}`);
  });
});

describe('the separation and MIDI callback bodies', () => {
  it('parseVocalSeparationPayload reads either object name, gives it as vocal_separation_info, and reads "" as null', () => {
    const expected = {
      code: 200,
      msg: 'vocal separation generated successfully.',
      data: {
        task_id: SEPARATION,
        vocal_separation_info: { instrumental_url: 'https://x/s_Instrumental.mp3', origin_url: null, vocal_url: 'https://x/s_Vocals.mp3' },
      },
    };
    expect(parseVocalSeparationPayload(JSON.parse(vocalBody(SEPARATION)))).toEqual(expected);
    expect(parseVocalSeparationPayload(JSON.parse(vocalBody(SEPARATION, 'vocal_removal_info')))).toEqual({
      ...expected,
      msg: 'vocal Removal generated successfully.',
    });
    expect(parseVocalSeparationPayload(JSON.parse(splitBody(SEPARATION))).data).toEqual({ task_id: SEPARATION, vocal_separation_info: splitInfo });
  });

  it('parseVocalSeparationPayload reads failures (a null object under either name) and names the field it refuses', () => {
    for (const name of ['vocal_separation_info', 'vocal_removal_info'] as const) {
      expect(parseVocalSeparationPayload(JSON.parse(separationFailure(SEPARATION, name)))).toEqual({
        code: 500,
        msg: 'Separation failed: the source is silent',
        data: { task_id: SEPARATION, vocal_separation_info: null },
      });
    }
    expect(pathOf(parseVocalSeparationPayload, { code: 200, data: { vocal_separation_info: {} } })).toBe('data.task_id');
    expect(pathOf(parseVocalSeparationPayload, { code: 200, data: { task_id: SEPARATION } })).toBe('data.vocal_separation_info');
    expect(pathOf(parseVocalSeparationPayload, { code: 200, data: { task_id: SEPARATION, vocal_removal_info: 'x' } })).toBe('data.vocal_removal_info');
    expect(pathOf(parseVocalSeparationPayload, { code: 200, data: { task_id: SEPARATION, vocal_separation_info: { drums_url: 3 } } })).toBe(
      'data.vocal_separation_info.drums_url',
    );
  });

  it('parseMidiPayload reads the task id at the top or in data, the note times as numbers, and reprise’s midi_url', () => {
    const expected = { code: 200, msg: 'success', task_id: MIDI, data: { state: 'complete', instruments: [{ name: 'Drums', notes }] } };
    expect(parseMidiPayload(JSON.parse(midiBody(MIDI)))).toEqual(expected);
    expect(parseMidiPayload(JSON.parse(midiBodyCn(MIDI)))).toEqual(expected);
    expect(parseMidiPayload(JSON.parse(midiBody(MIDI, { midi_url: 'https://x/n.mid' }))).data).toEqual({ ...expected.data, midi_url: 'https://x/n.mid' });
  });

  it('parseMidiPayload reads failures (data: null, a failed state, the Chinese page’s form) and names the field it refuses', () => {
    expect(parseMidiPayload(JSON.parse(midiFailure(MIDI)))).toEqual({ code: 500, msg: 'MIDI generation failed', task_id: MIDI, data: null });
    expect(parseMidiPayload(JSON.parse(midiFailedState(MIDI))).data).toEqual({ state: 'failed', instruments: [] });
    expect(parseMidiPayload(JSON.parse(midiFailureCn(MIDI)))).toMatchObject({ task_id: MIDI, data: { state: 'failed', instruments: [] } });
    expect(pathOf(parseMidiPayload, { code: 200, data: { state: 'complete', instruments: [] } })).toBe('task_id');
    expect(pathOf(parseMidiPayload, { task_id: MIDI, code: 200, data: { taskId: 'other', state: 'complete' } })).toBe('task_id');
    expect(pathOf(parseMidiPayload, { task_id: MIDI, code: '200', data: null })).toBe('code');
    expect(pathOf(parseMidiPayload, { task_id: MIDI, code: 200, data: 'complete' })).toBe('data');
    expect(pathOf(parseMidiPayload, { task_id: MIDI, code: 200, data: { instruments: {} } })).toBe('data.instruments');
    const badNote = {
      task_id: MIDI,
      code: 200,
      data: { state: 'complete', instruments: [{ name: 'Drums', notes: [{ pitch: 1, start: 'x', end: 1, velocity: 1 }] }] },
    };
    expect(pathOf(parseMidiPayload, badNote)).toBe('data.instruments[0].notes[0].start');
    expect(pathOf(parseMidiPayload, { task_id: MIDI, code: 200, data: { state: 'complete', midi_url: 5 } })).toBe('data.midi_url');
  });

  it('callbackFamilyOf tells separation and MIDI bodies from every other family’s', () => {
    for (const body of [vocalBody(SEPARATION), vocalBody(SEPARATION, 'vocal_removal_info'), splitBody(SEPARATION), separationFailure(SEPARATION)]) {
      expect(callbackFamilyOf(JSON.parse(body))).toBe('vocal_separation');
    }
    for (const body of [midiBody(MIDI), midiBodyCn(MIDI), midiFailure(MIDI), midiFailedState(MIDI), midiFailureCn(MIDI)]) {
      expect(callbackFamilyOf(JSON.parse(body))).toBe('midi');
    }
    // The neighbours keep their families: cover images and Market records also use data.taskId.
    expect(callbackFamilyOf({ code: 501, msg: 'failed', data: { taskId: MIDI, images: null } })).toBe('cover_image');
    expect(callbackFamilyOf({ code: 200, msg: 'ok', data: { taskId: MIDI, state: 'success', resultJson: '{}' } })).toBe('market');
    expect(callbackFamilyOf(JSON.parse(completeBody(MUSIC)))).toBe('music');
    expect(callbackFamilyOf(JSON.parse(errorBody(MUSIC)))).toBe('music');
    // Recovery also keeps its id at the top but sends a list: not MIDI.
    expect(callbackFamilyOf({ code: 200, msg: 'ok', task_id: MUSIC, data: [{ id: 'a', audio_url: 'https://x/a.mp3' }] })).toBe('music');
  });
});

describe('the receiver: separation and MIDI callbacks reach their own handlers', () => {
  const now = () => Math.floor(Date.now() / 1000);

  function receiver(scheme: 'standard' | 'kie') {
    const separations: VocalSeparationCallbackEvent[] = [];
    const midis: MidiCallbackEvent[] = [];
    /** The family of any event that reached another family's handler. */
    const others: string[] = [];
    const elsewhere = (event: { family: string }) => void others.push(event.family);
    const handler = createCallbackHandler({
      secret: SECRET,
      scheme,
      onVocalSeparation: (event) => void separations.push(event),
      onMidi: (event) => void midis.push(event),
      onComplete: elsewhere,
      onProgress: elsewhere,
      onError: elsewhere,
      onCoverImage: elsewhere,
      onLyrics: elsewhere,
      onWav: elsewhere,
      onMarket: elsewhere,
      onMusicVideo: elsewhere,
    });
    const deliver = async (taskId: string, body: string) => {
      const headers = scheme === 'kie' ? signKieWebhook({ secret: SECRET, taskId, timestamp: now() }) : signed(body, { taskId });
      const response = await handler.handle({ headers, body });
      expect(response.outcome, response.error?.message).toBe('accepted');
      await response.process();
    };
    return { handler, separations, midis, others, deliver };
  }

  it.each(['standard', 'kie'] as const)('under the %s scheme, separation bodies reach onVocalSeparation with their stems in camelCase', async (scheme) => {
    const { separations, others, deliver } = receiver(scheme);
    await deliver(`s1${scheme}`, vocalBody(`s1${scheme}`));
    await deliver(`s2${scheme}`, splitBody(`s2${scheme}`));
    await deliver(`s3${scheme}`, separationFailure(`s3${scheme}`, 'vocal_removal_info'));
    expect(others).toEqual([]);
    expect(separations).toMatchObject([
      { family: 'vocal_separation', taskId: `s1${scheme}`, stage: 'complete', code: 200, originUrl: null, error: null, scheme },
      { family: 'vocal_separation', taskId: `s2${scheme}`, stage: 'complete', originUrl: 'https://x/origin.mp3', error: null, scheme },
      {
        family: 'vocal_separation',
        taskId: `s3${scheme}`,
        stage: 'error',
        code: 500,
        originUrl: null,
        stems: {},
        error: 'Separation failed: the source is silent',
      },
    ]);
    expect(separations[0]?.stems).toEqual({ vocal: 'https://x/s_Vocals.mp3', instrumental: 'https://x/s_Instrumental.mp3' });
    expect(separations[1]?.stems).toEqual({
      vocal: 'https://x/v.mp3',
      backingVocals: null,
      drums: 'https://x/d.mp3',
      bass: 'https://x/b.mp3',
      guitar: null,
      keyboard: 'https://x/k.mp3',
      percussion: null,
      strings: null,
      synth: 'https://x/sy.mp3',
      fx: null,
      brass: null,
      woodwinds: null,
      other: 'https://x/o.mp3',
    });
  });

  it.each(['standard', 'kie'] as const)('under the %s scheme, MIDI bodies (either id placement) reach onMidi, success and failure', async (scheme) => {
    const { midis, others, deliver } = receiver(scheme);
    await deliver(`m1${scheme}`, midiBody(`m1${scheme}`, { midi_url: 'https://x/n.mid' }));
    await deliver(`m2${scheme}`, midiBodyCn(`m2${scheme}`));
    await deliver(`m3${scheme}`, midiFailure(`m3${scheme}`));
    await deliver(`m4${scheme}`, midiFailureCn(`m4${scheme}`));
    expect(others).toEqual([]);
    expect(midis).toMatchObject([
      {
        family: 'midi',
        taskId: `m1${scheme}`,
        stage: 'complete',
        code: 200,
        instruments: [{ name: 'Drums', notes }],
        midiUrl: 'https://x/n.mid',
        error: null,
        scheme,
      },
      { family: 'midi', taskId: `m2${scheme}`, stage: 'complete', instruments: [{ name: 'Drums', notes }], midiUrl: null, error: null },
      { family: 'midi', taskId: `m3${scheme}`, stage: 'error', code: 500, instruments: [], midiUrl: null, error: 'MIDI generation failed' },
      { family: 'midi', taskId: `m4${scheme}`, stage: 'error', code: 500, instruments: [], error: 'MIDI generation failed' },
    ]);
  });

  it('a redelivered separation or MIDI callback is acknowledged as a duplicate and not run again', async () => {
    const { handler, separations, midis, deliver } = receiver('standard');
    await deliver('d1', vocalBody('d1'));
    await deliver('d2', midiBody('d2'));
    for (const [taskId, body] of [
      ['d1', vocalBody('d1')],
      ['d2', midiBody('d2')],
    ] as const) {
      const again = await handler.handle({ headers: signed(body, { taskId }), body });
      expect(again.outcome).toBe('duplicate');
    }
    expect([separations.length, midis.length]).toEqual([1, 1]);
  });

  it('KIE scheme: a separation or MIDI body signed over another task id is refused', async () => {
    const handler = createCallbackHandler({ secret: SECRET, scheme: 'kie', onVocalSeparation: () => undefined, onMidi: () => undefined });
    const other = signKieWebhook({ secret: SECRET, taskId: 'other', timestamp: now() });
    for (const body of [vocalBody('x1'), midiBody('x2'), midiBodyCn('x3')]) {
      expect(await handler.handle({ headers: other, body })).toMatchObject({ status: 401, outcome: 'rejected' });
    }
  });

  it('a verified MIDI body with a note that is not a number is refused with 400', async () => {
    const { handler } = receiver('standard');
    const body = JSON.stringify({
      task_id: 'b1',
      code: 200,
      msg: 'success',
      data: { state: 'complete', instruments: [{ name: 'D', notes: [{ pitch: 'high' }] }] },
    });
    expect(await handler.handle({ headers: signed(body, { taskId: 'b1' }), body })).toMatchObject({ status: 400, body: '{"error":"invalid_payload"}' });
  });
});
