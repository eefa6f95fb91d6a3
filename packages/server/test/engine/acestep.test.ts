import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { probeAudio } from '../../src/audio/codecs/probe.js';
import { decodeWav, encodeWav } from '../../src/audio/codecs/wav.js';
import { rms } from '../../src/audio/mixing/splice.js';
import { acestepSeed, modelFor, seedPair, writtenLyrics } from '../../src/engine/acestep.js';
import {
  type AcestepOptions,
  type AddVocalsInput,
  type CoverInput,
  checkAcestep,
  checkEngine,
  createAcestepEngine,
  createEngine,
  EngineError,
  type ExtendInput,
  type GenerateInput,
  type GenerateProgress,
  type ReplaceSectionInput,
  runOperation,
  SourceAudioError,
  UnsupportedOperation,
} from '../../src/engine/index.js';
import { tones } from '../audio/wav-fixtures.js';
import { freePort } from '../helpers/process.js';
import { type FakeAcestep, fakeEngineOptions, startFakeAcestep } from './fake-acestep.js';

const live = () => new AbortController().signal;
const KEY = 'ace-key-1';

describe('acestep engine against a fake ACE-Step server', () => {
  let fake: FakeAcestep;
  // A 20 s mono source at 44.1 kHz: ACE-Step answers in 48 kHz stereo, a little longer.
  const source = encodeWav({ sampleRate: 44_100, channels: tones(20, 44_100, 1, 0.3) });
  const options = (overrides: Partial<AcestepOptions> = {}): AcestepOptions => fakeEngineOptions(fake, KEY, overrides);
  const request = (overrides: Partial<ReplaceSectionInput> = {}): ReplaceSectionInput => ({
    source: { bytes: source, name: 'song.wav' },
    startS: 6.5,
    endS: 14.25,
    prompt: 'la la la, a new bridge',
    tags: 'jazz, piano',
    negativeTags: 'metal',
    title: 'Jazzed',
    seed: 'task-seed-1',
    ...overrides,
  });

  beforeAll(async () => {
    fake = await startFakeAcestep(KEY);
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset());

  it('submits a repaint with the KIE fields mapped: prompt → lyrics, tags → caption, range → repainting start/end', async () => {
    await createAcestepEngine(options()).replaceSection(request(), live());
    expect(fake.tasks).toHaveLength(1);
    const [task] = fake.tasks;
    expect(task!.fields).toMatchObject({
      task_type: 'repaint',
      lyrics: 'la la la, a new bridge',
      prompt: 'jazz, piano',
      caption: 'jazz, piano',
      repainting_start: '6.5',
      repainting_end: '14.25',
      audio_duration: '20',
      batch_size: '1',
      audio_format: 'wav',
      use_random_seed: 'false',
    });
    expect(Number(task!.fields.seed)).toBeGreaterThanOrEqual(0);
    // The source travels as the multipart file ACE-Step reads, byte for byte.
    expect(task!.file).toMatchObject({ name: 'source.wav', type: 'audio/wav' });
    expect(Buffer.from(task!.file!.bytes).equals(Buffer.from(source))).toBe(true);
    expect(task!.polls).toBe(2); // one "running" answer, then the result
  });

  it('sends the whole song’s lyrics when given, and the same seed for the same task', async () => {
    const engine = createAcestepEngine(options());
    await engine.replaceSection(request({ fullLyrics: 'verse one\nnew bridge\nverse two' }), live());
    await engine.replaceSection(request(), live());
    await engine.replaceSection(request({ seed: 'another-task' }), live());
    const [a, b, c] = fake.tasks;
    // Multipart text fields carry line breaks as CRLF (as a browser's form would).
    expect(a!.fields.lyrics!.replace(/\r\n/g, '\n')).toBe('verse one\nnew bridge\nverse two');
    expect(a!.fields.seed).toBe(b!.fields.seed);
    expect(c!.fields.seed).not.toBe(a!.fields.seed);
  });

  it('authenticates every route with the API key as a bearer token', async () => {
    await createAcestepEngine(options()).replaceSection(request(), live());
    const routes = new Set(fake.requests.map((r) => r.path));
    // `/v1/models` first: the task names a model the server has loaded.
    expect([...routes].sort()).toEqual(['/query_result', '/release_task', '/v1/audio', '/v1/models']);
    expect(fake.requests[0]!.path).toBe('/v1/models');
    for (const recorded of fake.requests) expect(recorded.authorization).toBe(`Bearer ${KEY}`);
    expect(fake.requests.find((r) => r.path === '/release_task')!.contentType).toMatch(/^multipart\/form-data; boundary=/);
    // Each exchange has its own connection: a kept-alive socket the server closed while we
    // were encoding would reset the next POST (seen here under load before this rule).
    expect(new Set(fake.requests.map((r) => r.connection)).size).toBe(fake.requests.length);
  });

  it('returns a track exactly as long as the source: MP3, cover and the model ACE-Step names', async () => {
    const track = await createAcestepEngine(options()).replaceSection(request(), live());
    expect(track.durationS).toBe(20);
    expect(probeAudio(track.mp3)).toMatchObject({ format: 'mp3', durationS: 20, sampleRate: 48_000, channels: 2 });
    expect(Array.from(track.cover.subarray(0, 3))).toEqual([0xff, 0xd8, 0xff]);
    expect(track.modelName).toBe('acestep-v15-turbo');
    // A result a few frames short is filled up, not refused.
    fake.behaviour.extraSeconds = -0.01;
    const short = await createAcestepEngine(options({ modelName: 'mine' })).replaceSection(request(), live());
    expect(short.durationS).toBe(20);
    expect(short.modelName).toBe('mine');
  });

  it('refuses a result of another length than the source', async () => {
    fake.behaviour.resultSeconds = 10;
    await expect(createAcestepEngine(options()).replaceSection(request(), live())).rejects.toThrow(
      /ACE-Step returned 10\.00 s of audio where 20\.00 s were asked/,
    );
  });

  it('maps a wrong key to an EngineError that names ACESTEP_API_KEY', async () => {
    const failure = createAcestepEngine(options({ apiKey: 'wrong' })).replaceSection(request(), live());
    await expect(failure).rejects.toBeInstanceOf(EngineError);
    await expect(failure).rejects.toThrow(/refused GET \/v1\/models \(401: Invalid API key\); check ACESTEP_API_KEY/);
    await expect(createAcestepEngine(options({ apiKey: null })).replaceSection(request(), live())).rejects.toThrow(/401: Missing Authorization header/);
  });

  it('maps a failed task, a 500, an unreadable result and an unreachable server to EngineError', async () => {
    const engine = createAcestepEngine(options());
    fake.behaviour.outcome = 'fail';
    // The exception line of ACE-Step's traceback, not the stack above it.
    await expect(engine.replaceSection(request(), live())).rejects.toThrow(
      /ACE-Step failed task [0-9a-f-]+: torch\.OutOfMemoryError: CUDA out of memory\. Tried to allocate 2\.00 GiB$/,
    );
    fake.reset();
    fake.behaviour.failRoute = { route: '/release_task', status: 500 };
    await expect(engine.replaceSection(request(), live())).rejects.toThrow(/ACE-Step answered POST \/release_task with HTTP 500: injected failure/);
    fake.reset();
    fake.behaviour.failRoute = { route: '/v1/audio', status: 404 };
    await expect(engine.replaceSection(request(), live())).rejects.toThrow(/GET \/v1\/audio with HTTP 404/);
    fake.reset();
    fake.behaviour.resultBytes = new TextEncoder().encode('this is not audio at all');
    const unreadable = engine.replaceSection(request(), live());
    await expect(unreadable).rejects.toBeInstanceOf(EngineError);
    await expect(unreadable).rejects.toThrow(/ACE-Step returned audio reprise cannot read/);
    fake.reset();
    fake.behaviour.fileUrl = 'http://elsewhere.example/song.wav';
    await expect(engine.replaceSection(request(), live())).rejects.toThrow(/on another origin \(http:\/\/elsewhere\.example\)/);
    const closed = `http://127.0.0.1:${await freePort()}`;
    const nowhere = createAcestepEngine(options({ url: closed })).replaceSection(request(), live());
    await expect(nowhere).rejects.toBeInstanceOf(EngineError);
    // The render thread sends errors across by name: it must read as an EngineError (code 531).
    await expect(nowhere).rejects.toMatchObject({ name: 'EngineError' });
    await expect(nowhere).rejects.toThrow(`ACE-Step at ${closed} is not reachable (GET /v1/models: ECONNREFUSED)`);
  });

  it('maps an unreadable source or a section past its end to SourceAudioError, before calling ACE-Step', async () => {
    const engine = createAcestepEngine(options());
    const bad = engine.replaceSection(request({ source: { bytes: new TextEncoder().encode('not a song, just words'), name: 'x.mp3' } }), live());
    await expect(bad).rejects.toBeInstanceOf(SourceAudioError);
    await expect(bad).rejects.toThrow(/the source audio "x.mp3" is not readable MP3 or WAV/);
    await expect(engine.replaceSection(request({ startS: 21, endS: 30 }), live())).rejects.toThrow(SourceAudioError);
    expect(fake.tasks).toHaveLength(0);
  });

  it('gives up on a task that never finishes after ACESTEP_TIMEOUT_S, and on a request that never answers', async () => {
    fake.behaviour.outcome = 'never';
    const forever = createAcestepEngine(options({ timeoutMs: 600 })).replaceSection(request(), live());
    await expect(forever).rejects.toBeInstanceOf(EngineError);
    await expect(forever).rejects.toThrow(/ACE-Step did not finish task [0-9a-f-]+ within 0.6 s \(ACESTEP_TIMEOUT_S\)/);
    expect(fake.tasks[0]!.polls).toBeGreaterThanOrEqual(2);
    fake.reset();
    fake.behaviour.hangRoute = '/release_task';
    await expect(createAcestepEngine(options({ requestTimeoutMs: 200 })).replaceSection(request(), live())).rejects.toThrow(
      /did not answer POST \/release_task within 0.2 s/,
    );
    // The overall deadline also cuts a hanging request short, and says so.
    await expect(createAcestepEngine(options({ timeoutMs: 200 })).replaceSection(request(), live())).rejects.toThrow(/did not finish the task within 0.2 s/);
  });

  it('stops polling when aborted, with the caller’s own reason', async () => {
    fake.behaviour.outcome = 'never';
    const controller = new AbortController();
    const reason = new Error('deadline of the task');
    const running = createAcestepEngine(options({ pollMs: 50 })).replaceSection(request(), controller.signal);
    const waitForPolls = async () => {
      while ((fake.tasks[0]?.polls ?? 0) < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    await waitForPolls();
    controller.abort(reason);
    await expect(running).rejects.toBe(reason);
    const pollsAtAbort = fake.tasks[0]!.polls;
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(fake.tasks[0]!.polls).toBe(pollsAtAbort);
    const before = new AbortController();
    before.abort(reason);
    await expect(createAcestepEngine(options()).replaceSection(request(), before.signal)).rejects.toBe(reason);
  });

  it('generates two songs with text2music: the text stage on acceptance, then the first song', async () => {
    const input: GenerateInput = {
      prompt: 'neon lights',
      style: 'synthwave',
      title: 'Neon',
      negativeTags: '',
      instrumental: true,
      durationS: 12,
      seed: 'gen-1',
    };
    const events: GenerateProgress[] = [];
    const tracks = await createAcestepEngine(options()).generate(input, live(), async (progress) => {
      events.push(progress);
    });
    expect(fake.tasks[0]!.fields).toMatchObject({
      task_type: 'text2music',
      prompt: 'synthwave',
      lyrics: '[Instrumental]',
      audio_duration: '12',
      batch_size: '2',
      audio_format: 'wav',
    });
    // One seed per song: ACE-Step gives a single seed to the first song only.
    const [a, b] = seedPair('gen-1');
    expect(a).toBe(acestepSeed('gen-1'));
    expect(b).not.toBe(a);
    expect(fake.tasks[0]!.fields.seed).toBe(`${a},${b}`);
    expect(fake.tasks[0]!.file).toBeNull();
    expect(events.map((e) => e.stage)).toEqual(['text', 'first']);
    expect(events[0]!.stage === 'text' && events[0]!.sheet).toMatch(
      /^ACE-Step text2music task [0-9a-f-]+: 2 songs of 12 s\.\nCaption: synthwave\nLyrics: \[Instrumental\]$/,
    );
    expect(events[1]).toMatchObject({ stage: 'first', index: 0 });
    // The very track, not a copy (a deep comparison of megabytes of audio would crawl).
    expect(events[1]!.stage === 'first' && events[1]!.track).toBe(tracks[0]);
    expect(tracks).toHaveLength(2);
    for (const track of tracks) expect(track.durationS).toBe(12);
    expect(Buffer.from(tracks[0]!.mp3).equals(Buffer.from(tracks[1]!.mp3))).toBe(false);
    // Non-custom mode: the prompt is the caption, and reprise writes the lyrics (empty ones would be an instrumental).
    await createAcestepEngine(options()).generate({ ...input, style: '', instrumental: false }, live(), async () => {});
    expect(fake.tasks[1]!.fields).toMatchObject({ prompt: 'neon lights' });
    expect(fake.tasks[1]!.fields.lyrics!.replace(/\r\n/g, '\n')).toBe(writtenLyrics('neon lights', { seed: 'gen-1', durationS: 12 }));
    expect(fake.tasks[1]!.fields.lyrics).toMatch(/^\[Verse\]/);
    await expect(createAcestepEngine(options()).generate({ ...input, durationS: 5 }, live(), async () => {})).rejects.toThrow(/10 to 600 s/);
  });

  describe('the operations beyond replace-section and generate', () => {
    const SOURCE_RATE = 44_100;
    const sourcePcm = () => decodeWav(source);
    const collect = () => {
      const events: GenerateProgress[] = [];
      return { events, onProgress: async (progress: GenerateProgress) => void events.push(progress) };
    };
    const extendInput = (overrides: Partial<ExtendInput> = {}): ExtendInput => ({
      source: { bytes: source, name: 'song.wav' },
      continueAtS: 12.5,
      addS: 15,
      prompt: 'la la la',
      style: 'synthwave',
      title: 'Longer',
      negativeTags: 'metal',
      instrumental: false,
      lyrics: 'more words here',
      vocalGender: 'f',
      seed: 'ext-1',
      ...overrides,
    });

    it('extends with a repaint past the end of the source cut at continueAt: the exact fields, and two songs', async () => {
      const { events, onProgress } = collect();
      const tracks = await createAcestepEngine(options()).extend!(extendInput(), live(), onProgress);
      expect(fake.tasks).toHaveLength(1);
      const [task] = fake.tasks;
      const [a, b] = seedPair('ext-1');
      expect(task!.fields).toEqual({
        task_type: 'repaint',
        prompt: 'synthwave, female vocals',
        caption: 'synthwave, female vocals',
        lyrics: 'more words here',
        repainting_start: '12.5',
        repainting_end: '27.5',
        audio_duration: '27.5',
        model: 'acestep-v15-turbo',
        inference_steps: '8',
        thinking: 'false',
        use_cot_caption: 'false',
        use_cot_language: 'false',
        vocal_language: 'en',
        batch_size: '2',
        audio_format: 'wav',
        use_random_seed: 'false',
        seed: `${a},${b}`,
      });
      // The upload is the source up to the join, sample for sample, so nothing after it conditions the continuation.
      expect(task!.file).toMatchObject({ name: 'source.wav', type: 'audio/wav' });
      const uploaded = decodeWav(task!.file!.bytes);
      const join = Math.round(12.5 * SOURCE_RATE);
      expect(uploaded.sampleRate).toBe(SOURCE_RATE);
      expect(uploaded.channels[0]!.length).toBe(join);
      expect(Array.from(uploaded.channels[0]!.subarray(0, 2000))).toEqual(Array.from(sourcePcm().channels[0]!.subarray(0, 2000)));
      expect(uploaded.channels[0]![join - 1]).toBe(sourcePcm().channels[0]![join - 1]);

      expect(events.map((e) => e.stage)).toEqual(['text', 'first']);
      expect(events[0]!.stage === 'text' && events[0]!.sheet).toMatch(
        /^ACE-Step repaint task [0-9a-f-]+: 2 continuations of 15 s from 12\.5 s of the source\.\nCaption: synthwave, female vocals\nLyrics: more words here$/,
      );
      expect(events[1]).toMatchObject({ stage: 'first', index: 0 });
      // The very track, not a copy (a deep comparison of megabytes of audio would crawl).
      expect(events[1]!.stage === 'first' && events[1]!.track).toBe(tracks[0]);
      expect(tracks).toHaveLength(2);
      for (const track of tracks) {
        expect(track).toMatchObject({ durationS: 27.5, continuedAtS: 12.5, modelName: 'acestep-v15-turbo' });
        expect(probeAudio(track.mp3)).toMatchObject({ format: 'mp3', sampleRate: SOURCE_RATE, channels: 2 });
        // Before the join's crossfade the song is the source's own samples, not ACE-Step's rendering of them.
        const master = decodeWav(track.master!);
        expect(master.sampleRate).toBe(SOURCE_RATE);
        expect(master.channels[0]!.length).toBe(Math.round(27.5 * SOURCE_RATE));
        const kept = join - Math.round(0.1 * SOURCE_RATE);
        const original = sourcePcm().channels[0]!.subarray(0, kept);
        for (const channel of master.channels) expect(Buffer.from(channel.slice(0, kept).buffer).equals(Buffer.from(original.slice().buffer))).toBe(true);
        // After the join it is ACE-Step's continuation (the fake's tone), not silence and not the source.
        const after = master.channels[0]!.subarray(join + SOURCE_RATE, join + 2 * SOURCE_RATE);
        expect(rms([after])).toBeGreaterThan(0.05);
      }
      const secondOf = (i: number) => decodeWav(tracks[i]!.master!).channels[0]!.subarray(join + SOURCE_RATE, join + 2 * SOURCE_RATE);
      expect(Buffer.from(secondOf(0).slice().buffer).equals(Buffer.from(secondOf(1).slice().buffer))).toBe(false);
    });

    it('asks again for the second song when ACE-Step’s VRAM guard returns one, with that song’s own seed', async () => {
      fake.behaviour.maxBatch = 1;
      const tracks = await createAcestepEngine(options()).extend!(extendInput(), live(), async () => {});
      const [a, b] = seedPair('ext-1');
      expect(fake.tasks.map((task) => [task.fields.batch_size, task.fields.seed])).toEqual([
        ['2', `${a},${b}`],
        ['1', String(b)],
      ]);
      expect(Buffer.from(fake.tasks[1]!.file!.bytes).equals(Buffer.from(fake.tasks[0]!.file!.bytes))).toBe(true);
      expect(tracks).toHaveLength(2);
      expect(Buffer.from(tracks[0]!.mp3).equals(Buffer.from(tracks[1]!.mp3))).toBe(false);
      // generate does the same.
      fake.reset();
      fake.behaviour.maxBatch = 1;
      const songs = await createAcestepEngine(options()).generate(
        { prompt: 'p', style: 'ambient', title: 'T', negativeTags: '', instrumental: true, durationS: 10, seed: 'g' },
        live(),
        async () => {},
      );
      expect(songs).toHaveLength(2);
      expect(fake.tasks.map((task) => task.fields.batch_size)).toEqual(['2', '1']);
    });

    it('refuses an extend past the source’s end (400) or beyond ACE-Step’s 600 s (531) before sending anything', async () => {
      const engine = createAcestepEngine(options());
      await expect(engine.extend!(extendInput({ continueAtS: 21 }), live(), async () => {})).rejects.toThrow(SourceAudioError);
      await expect(engine.extend!(extendInput({ addS: 590 }), live(), async () => {})).rejects.toThrow(/up to 600 s; 602\.50 s were asked/);
      const bad = engine.extend!(extendInput({ source: { bytes: new TextEncoder().encode('no audio'), name: 'x.mp3' } }), live(), async () => {});
      await expect(bad).rejects.toBeInstanceOf(SourceAudioError);
      expect(fake.tasks).toHaveLength(0);
      // Instrumental, non-custom: the prompt is the caption and there is nothing to sing.
      await engine.extend!(extendInput({ style: '', instrumental: true, lyrics: undefined, vocalGender: undefined }), live(), async () => {});
      expect(fake.tasks[0]!.fields).toMatchObject({ prompt: 'la la la', lyrics: '[Instrumental]' });
    });

    it('brings the continuation to the source’s level (ACE-Step peak-normalises what it returns)', async () => {
      const quiet = encodeWav({ sampleRate: SOURCE_RATE, channels: tones(20, SOURCE_RATE, 1, 0.1) });
      const [track] = await createAcestepEngine(options()).extend!(extendInput({ source: { bytes: quiet } }), live(), async () => {});
      const master = decodeWav(track!.master!).channels[0]!;
      const join = Math.round(12.5 * SOURCE_RATE);
      const before = rms([master.subarray(join - 5 * SOURCE_RATE, join - SOURCE_RATE)]);
      const after = rms([master.subarray(join + SOURCE_RATE, join + 5 * SOURCE_RATE)]);
      // The fake's continuation is three times louder than this source; unmatched, the ratio would be ~3.
      expect(after / before).toBeCloseTo(1, 1);
    });

    it('covers with ACE-Step’s cover task, the whole source uploaded and its length kept', async () => {
      const input: CoverInput = {
        source: { bytes: source, name: 'song.wav' },
        prompt: 'sing it softly',
        // The kind has added the persona's words to the style by the time an engine sees it.
        style: 'bossa nova, nylon guitar',
        title: 'Covered',
        negativeTags: '',
        instrumental: false,
        persona: { tempoBpm: [118, 122], key: 'D minor', styleWords: ['nylon guitar'], voice: { gender: 'm', lowMidi: 48, highMidi: 67 } },
        seed: 'cov-1',
      };
      const { events, onProgress } = collect();
      const tracks = await createAcestepEngine(options()).cover!(input, live(), onProgress);
      const [a, b] = seedPair('cov-1');
      expect(fake.tasks).toHaveLength(1);
      // The style (with the persona's words) and the persona's voice reach the caption; tempo and key are the source's already.
      expect(fake.tasks[0]!.fields).toEqual({
        task_type: 'cover',
        prompt: 'bossa nova, nylon guitar, male vocals',
        caption: 'bossa nova, nylon guitar, male vocals',
        lyrics: 'sing it softly',
        audio_cover_strength: '1',
        cover_noise_strength: '0',
        audio_duration: '20',
        model: 'acestep-v15-turbo',
        inference_steps: '8',
        thinking: 'false',
        use_cot_caption: 'false',
        use_cot_language: 'false',
        vocal_language: 'en',
        batch_size: '2',
        audio_format: 'wav',
        use_random_seed: 'false',
        seed: `${a},${b}`,
      });
      expect(Buffer.from(fake.tasks[0]!.file!.bytes).equals(Buffer.from(source))).toBe(true);
      expect(events.map((e) => e.stage)).toEqual(['text', 'first']);
      expect(tracks).toHaveLength(2);
      for (const track of tracks) {
        expect(track.durationS).toBe(20);
        expect(probeAudio(track.mp3)).toMatchObject({ format: 'mp3', durationS: 20, sampleRate: 48_000 });
      }
    });

    const vocalsInput = (overrides: Partial<AddVocalsInput> = {}): AddVocalsInput => ({
      source: { bytes: source, name: 'backing.wav' },
      prompt: 'hold on to the night',
      style: 'soul',
      title: 'With a voice',
      negativeTags: '',
      vocalGender: 'f',
      seed: 'voc-1',
      ...overrides,
    });
    const BASE = { name: 'acestep-v15-base', is_default: false, is_loaded: true, supported_task_types: ['text2music', 'lego', 'extract', 'complete'] };

    it('refuses add-vocals when the server has no base model loaded: lego would run on turbo and make noise', async () => {
      const engine = createAcestepEngine(options());
      const refused = engine.addVocals!(vocalsInput(), live(), async () => {});
      await expect(refused).rejects.toBeInstanceOf(UnsupportedOperation);
      await expect(refused).rejects.toThrow(
        `add-vocals needs ACE-Step's lego task, which only a base DiT model runs (e.g. acestep-v15-base); the server at ${fake.url} has none loaded`,
      );
      // On disk but not loaded: naming it would fall back to the default model.
      fake.behaviour.models = [...fake.behaviour.models, { ...BASE, is_loaded: false }];
      await expect(engine.addVocals!(vocalsInput(), live(), async () => {})).rejects.toBeInstanceOf(UnsupportedOperation);
      expect(fake.tasks).toHaveLength(0);
      // Older servers list loaded models without task types: the name tells.
      expect(modelFor('lego', [{ name: 'acestep-v15-turbo', isDefault: true, loaded: true, taskTypes: null }])).toBeNull();
      expect(
        modelFor('lego', [
          { name: 'acestep-v15-turbo', isDefault: true, loaded: true, taskTypes: null },
          { name: 'acestep-v15-base', isDefault: false, loaded: true, taskTypes: null },
        ]),
      ).toBe('acestep-v15-base');
    });

    it('adds vocals with lego on the base model and mixes the vocal stem over the instrumental', async () => {
      fake.behaviour.models = [...fake.behaviour.models, BASE];
      const { events, onProgress } = collect();
      // Quieter than the fake's stem, so that the level matching shows.
      const backing = encodeWav({ sampleRate: SOURCE_RATE, channels: tones(20, SOURCE_RATE, 1, 0.1) });
      const tracks = await createAcestepEngine(options()).addVocals!(vocalsInput({ source: { bytes: backing } }), live(), onProgress);
      const [a, b] = seedPair('voc-1');
      expect(fake.requests.filter((r) => r.path === '/v1/models')).toHaveLength(1);
      expect(fake.tasks).toHaveLength(1);
      expect(fake.tasks[0]!.fields).toEqual({
        task_type: 'lego',
        track_name: 'vocals',
        prompt: 'soul, female vocals',
        caption: 'soul, female vocals',
        lyrics: 'hold on to the night',
        global_caption: 'soul',
        repainting_start: '0',
        repainting_end: '-1',
        audio_duration: '20',
        model: 'acestep-v15-base',
        inference_steps: '50',
        thinking: 'false',
        use_cot_caption: 'false',
        use_cot_language: 'false',
        vocal_language: 'en',
        batch_size: '2',
        audio_format: 'wav',
        use_random_seed: 'false',
        seed: `${a},${b}`,
      });
      expect(Buffer.from(fake.tasks[0]!.file!.bytes).equals(Buffer.from(backing))).toBe(true);
      expect(events.map((e) => e.stage)).toEqual(['text', 'first']);
      expect(tracks).toHaveLength(2);
      const original = decodeWav(backing).channels[0]!;
      for (const track of tracks) {
        expect(track.durationS).toBe(20);
        const master = decodeWav(track.master!);
        expect(master.sampleRate).toBe(SOURCE_RATE);
        // The instrumental is all there, with the stem added at its level (RMS-matched).
        const added = master.channels[0]!.map((value, i) => value - original[i]!);
        expect(rms([added]) / rms([original])).toBeCloseTo(1, 1);
      }
    });

    it('leaves add-instrumental and mashup out, and runOperation refuses them by name', async () => {
      const engine = createAcestepEngine(options());
      expect(engine.addInstrumental).toBeUndefined();
      expect(engine.mashup).toBeUndefined();
      const words = { prompt: '', style: 'rock', title: 'T', negativeTags: '' };
      const mashup = runOperation(
        engine,
        { op: 'mashup', input: { ...words, instrumental: true, sources: [{ bytes: source }, { bytes: source }], seed: 's' } },
        live(),
        async () => {},
      );
      await expect(mashup).rejects.toBeInstanceOf(UnsupportedOperation);
      await expect(mashup).rejects.toThrow('mashup is not supported by the acestep engine');
      await expect(
        runOperation(engine, { op: 'addInstrumental', input: { ...words, source: { bytes: source }, seed: 's' } }, live(), async () => {}),
      ).rejects.toThrow('addInstrumental is not supported by the acestep engine');
      expect(fake.requests).toHaveLength(0);
    });
  });

  it('checks the server at start-up: fine, a warning when unreachable, an error for a wrong key or a server that is not ACE-Step', async () => {
    await expect(checkAcestep(options())).resolves.toEqual({
      level: 'info',
      message: `ACE-Step at ${fake.url} is reachable; DiT models loaded: acestep-v15-turbo (default)`,
    });
    const closed = `http://127.0.0.1:${await freePort()}`;
    const unreachable = await checkAcestep(options({ url: closed }));
    expect(unreachable.level).toBe('warn');
    expect(unreachable.message).toMatch(/is not reachable .*; tasks will fail \(and be refunded\) until it answers/);
    fake.behaviour.failRoute = { route: '/query_result', status: 503 };
    await expect(checkAcestep(options())).resolves.toMatchObject({ level: 'warn' });
    fake.reset();
    await expect(checkAcestep(options({ apiKey: 'wrong' }))).rejects.toThrow(/check ACESTEP_API_KEY/);
    await expect(checkAcestep(options({ url: `${fake.url}/not-here` }))).rejects.toThrow(/HTTP 404/);
    await expect(checkEngine({ name: 'procedural' })).resolves.toBeNull();
    await expect(checkEngine({ name: 'acestep', acestepUrl: fake.url, acestepApiKey: KEY })).resolves.toMatchObject({ level: 'info' });
  });

  it('is built by createEngine from the configuration’s spec', async () => {
    const engine = createEngine({
      name: 'acestep',
      acestepUrl: fake.url,
      acestepApiKey: KEY,
      acestepPollMs: 10,
      acestepTimeoutMs: 10_000,
      acestepRequestTimeoutMs: 5000,
    });
    expect(engine.name).toBe('acestep');
    await expect(engine.replaceSection(request(), live())).resolves.toMatchObject({ durationS: 20 });
    expect(() => createEngine('acestep', {})).toThrow(/ACESTEP_URL/);
  });
});
