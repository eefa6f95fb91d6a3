import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeWav } from '../../src/audio/codecs/wav.js';
import { checkAcestep, fitCaption, fitLyrics, modelFor, seedPair, vocalLanguage } from '../../src/engine/acestep.js';
import { AcestepError, audioUrl, exceptionLine, NO_REASON } from '../../src/engine/acestep-client.js';
import {
  type AcestepOptions,
  createAcestepEngine,
  EngineError,
  type GenerateInput,
  type ReplaceSectionInput,
  runOperation,
  UnsupportedOperation,
} from '../../src/engine/index.js';
import { tones } from '../audio/wav-fixtures.js';
import { type FakeAcestep, fakeEngineOptions, startFakeAcestep } from './fake-acestep.js';

/**
 * The adapter against the ACE-Step 1.5 API server as its source behaves (issue 14, item 4),
 * one `describe` per difference an earlier reading found; docs/engines.md names the commit.
 */

const live = () => new AbortController().signal;
const KEY = 'ace-key-2';
const source = encodeWav({ sampleRate: 44_100, channels: tones(20, 44_100, 1, 0.3) });
const BASE = {
  name: 'acestep-v15-base',
  is_default: false,
  is_loaded: true,
  supported_task_types: ['text2music', 'repaint', 'cover', 'extract', 'lego', 'complete'],
};

const repaint = (overrides: Partial<ReplaceSectionInput> = {}): ReplaceSectionInput => ({
  source: { bytes: source, name: 'song.wav' },
  startS: 4,
  endS: 8,
  prompt: 'new words',
  tags: 'jazz',
  negativeTags: '',
  title: 'T',
  seed: 'up-1',
  ...overrides,
});
const song = (overrides: Partial<GenerateInput> = {}): GenerateInput => ({
  prompt: 'a rainy night in the city',
  style: '',
  title: 'Rain',
  negativeTags: '',
  instrumental: false,
  durationS: 45,
  seed: 'up-gen',
  ...overrides,
});

describe('acestep engine against ACE-Step as its source behaves', () => {
  let fake: FakeAcestep;
  const options = (overrides: Partial<AcestepOptions> = {}): AcestepOptions => fakeEngineOptions(fake, KEY, overrides);
  const quiet = async () => {};

  beforeAll(async () => {
    fake = await startFakeAcestep(KEY);
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => fake.reset());

  describe('1. non-custom songs with vocals', () => {
    it('send lyrics reprise wrote from the prompt, since empty lyrics are an instrumental to ACE-Step', async () => {
      await createAcestepEngine(options()).generate(song(), live(), quiet);
      const lyrics = fake.tasks[0]!.fields.lyrics!.replace(/\r\n/g, '\n');
      // 45 s: three sections of verse, chorus, verse.
      expect(lyrics.match(/^\[(Verse|Chorus)\]$/gm)).toEqual(['[Verse]', '[Chorus]', '[Verse]']);
      expect(lyrics.trim()).not.toBe('');
      expect(fake.tasks[0]!.fields.prompt).toBe('a rainy night in the city');
      // The same task writes the same words; instrumental songs still say so.
      await createAcestepEngine(options()).generate(song(), live(), quiet);
      expect(fake.tasks[1]!.fields.lyrics).toBe(fake.tasks[0]!.fields.lyrics);
      await createAcestepEngine(options()).generate(song({ instrumental: true }), live(), quiet);
      expect(fake.tasks[2]!.fields.lyrics).toBe('[Instrumental]');
    });
  });

  describe('2. and 3. batches the VRAM guard lowers, and one seed per song', () => {
    it('asks for the missing song with its own seed, so a lowered batch gives the same two songs', async () => {
      const whole = await createAcestepEngine(options()).generate(song({ style: 'ambient', instrumental: true }), live(), quiet);
      fake.reset();
      fake.behaviour.maxBatch = 1;
      const lowered = await createAcestepEngine(options()).generate(song({ style: 'ambient', instrumental: true }), live(), quiet);
      const [a, b] = seedPair('up-gen');
      expect(fake.tasks.map((task) => [task.fields.batch_size, task.fields.seed])).toEqual([
        ['2', `${a},${b}`],
        ['1', String(b)],
      ]);
      // Both songs are seeded by reprise, so a lowered batch changes nothing the user hears.
      expect(lowered.map((track) => Buffer.from(track.mp3).toString('base64'))).toEqual(whole.map((track) => Buffer.from(track.mp3).toString('base64')));
    });

    it('never sends a single seed for two songs (ACE-Step seeds only the first of them)', async () => {
      const engine = createAcestepEngine(options());
      await engine.generate(song(), live(), quiet);
      await engine.cover!({ ...song(), source: { bytes: source } }, live(), quiet);
      for (const task of fake.tasks) expect(task.fields.seed!.split(',')).toHaveLength(Number(task.fields.batch_size));
    });
  });

  describe('4. failure reasons', () => {
    it('reports the exception line of a traceback, the message alone as it is, and says when there is none', async () => {
      const engine = createAcestepEngine(options());
      fake.behaviour.outcome = 'fail';
      fake.behaviour.failureException = 'RuntimeError: Music generation failed: Insufficient free VRAM: need ~9.6 GB, only 3.1 GB available.';
      const failed = engine.replaceSection(repaint(), live());
      await expect(failed).rejects.toBeInstanceOf(EngineError);
      await expect(failed).rejects.toThrow(
        /^ACE-Step failed task [0-9a-f-]+: RuntimeError: Music generation failed: Insufficient free VRAM: need ~9\.6 GB, only 3\.1 GB available\.$/,
      );
      fake.behaviour.failureReport = 'message';
      await expect(engine.replaceSection(repaint(), live())).rejects.toThrow(/: RuntimeError: Music generation failed: Insufficient free VRAM/);
      fake.behaviour.failureReport = 'none';
      await expect(engine.replaceSection(repaint(), live())).rejects.toThrow(`: ${NO_REASON}`);
    });

    it('takes the last exception of a chained traceback, with the lines of its message', () => {
      const chained = [
        'Traceback (most recent call last):',
        '  File "a.py", line 1, in f',
        'ValueError: inner',
        '',
        'During handling of the above exception, another exception occurred:',
        '',
        'Traceback (most recent call last):',
        '  File "b.py", line 2, in g',
        'RuntimeError: Generation produced NaN or Inf latents (shape=[2, 250, 64]).',
        'Common causes and fixes:',
        '  1. LoRA/adapter trained on an older model version.',
      ].join('\n');
      expect(exceptionLine(chained)).toBe(
        'RuntimeError: Generation produced NaN or Inf latents (shape=[2, 250, 64]). Common causes and fixes: 1. LoRA/adapter trained on an older model version.',
      );
      expect(exceptionLine('5Hz LM init failed')).toBe('5Hz LM init failed');
      expect(exceptionLine(`Traceback (most recent call last):\n  File "x.py"\nKeyboardInterrupt\n`)).toBe('KeyboardInterrupt');
      expect(exceptionLine(`Traceback (most recent call last):\nRuntimeError: ${'x'.repeat(400)}`)).toHaveLength(301);
    });
  });

  describe('5. HTTP 403', () => {
    it('is a path outside ACE-Step’s audio folder (or a proxy), not a bad API key', async () => {
      fake.behaviour.fileOutside = true;
      const refused = createAcestepEngine(options()).replaceSection(repaint(), live());
      await expect(refused).rejects.toBeInstanceOf(EngineError);
      await expect(refused).rejects.toMatchObject({ failure: 'forbidden' });
      await expect(refused).rejects.toThrow(
        /forbade GET \/v1\/audio \(403: Access denied: path outside allowed directory\): it serves only files inside its own audio folder/,
      );
      await expect(createAcestepEngine(options()).replaceSection(repaint(), live())).rejects.not.toThrow(/ACESTEP_API_KEY/);
    });
  });

  describe('6. a base URL with a path prefix', () => {
    it('keeps the prefix on every route and on the result files ACE-Step names from its own root', async () => {
      const proxied = await startFakeAcestep(KEY, { prefix: '/acestep' });
      try {
        expect(proxied.url).toMatch(/\/acestep$/);
        const track = await createAcestepEngine(options({ url: `${proxied.url}/` })).replaceSection(repaint(), live());
        expect(track.durationS).toBe(20);
        expect(proxied.requests.map((r) => r.path)).toEqual(['/v1/models', '/release_task', '/query_result', '/query_result', '/v1/audio']);
        await expect(checkAcestep(options({ url: proxied.url }))).resolves.toMatchObject({ level: 'info' });
      } finally {
        await proxied.close();
      }
    });

    it('resolves each form of result file under the base URL, and refuses another origin', () => {
      const connection = { url: 'http://gpu:8001/acestep', apiKey: 'k', requestTimeoutMs: 1000 };
      expect(audioUrl(connection, '/v1/audio?path=a%2Fb.wav')).toBe('http://gpu:8001/acestep/v1/audio?path=a%2Fb.wav');
      expect(audioUrl(connection, 'v1/audio?path=x')).toBe('http://gpu:8001/acestep/v1/audio?path=x');
      expect(audioUrl(connection, 'http://gpu:8001/acestep/v1/audio?path=x')).toBe('http://gpu:8001/acestep/v1/audio?path=x');
      expect(() => audioUrl(connection, 'http://elsewhere:8001/v1/audio?path=x')).toThrow(AcestepError);
      expect(() => audioUrl(connection, '//elsewhere/v1/audio')).toThrow(/another origin/);
    });
  });

  describe('8. defaults that change results, sent explicitly', () => {
    it('keeps the language model out, names the model and its steps, and guesses the language only from the script', async () => {
      await createAcestepEngine(options()).replaceSection(repaint({ prompt: 'いつまでも' }), live());
      expect(fake.tasks[0]!.fields).toMatchObject({
        model: 'acestep-v15-turbo',
        inference_steps: '8',
        thinking: 'false',
        use_cot_caption: 'false',
        use_cot_language: 'false',
        vocal_language: 'unknown',
      });
      expect(vocalLanguage('hold on to the night')).toBe('en');
      expect(vocalLanguage('[Instrumental]')).toBe('en');
      expect(vocalLanguage('mañana')).toBe('unknown');
      // A base model as the server's default runs at its own 50 steps, not the turbo's 8.
      fake.behaviour.models = [{ ...BASE, is_default: true }];
      await createAcestepEngine(options()).replaceSection(repaint(), live());
      expect(fake.tasks[1]!.fields).toMatchObject({ model: 'acestep-v15-base', inference_steps: '50' });
    });

    it('cuts a caption to 512 characters at a comma and lyrics to 4096 at a line end', async () => {
      const style = Array.from({ length: 60 }, (_, i) => `style word ${i}`).join(', ');
      await createAcestepEngine(options()).generate(song({ style, prompt: 'la la\n'.repeat(1000), durationS: 10 }), live(), quiet);
      const { prompt, caption, lyrics } = fake.tasks[0]!.fields;
      expect(prompt).toBe(caption);
      expect(prompt!.length).toBeLessThanOrEqual(512);
      expect(style.startsWith(prompt!)).toBe(true);
      expect(prompt).toMatch(/style word \d+$/);
      expect(lyrics!.replace(/\r\n/g, '\n').length).toBeLessThanOrEqual(4096);
      expect(fitCaption('short, words')).toBe('short, words');
      expect(fitLyrics('a\nb')).toBe('a\nb');
    });
  });

  describe('9. models: at start-up and before each task', () => {
    it('warns at start-up while no DiT model is loaded, and names the loaded ones when there are', async () => {
      fake.behaviour.modelsInitialized = false;
      await expect(checkAcestep(options())).resolves.toMatchObject({ level: 'warn', message: expect.stringMatching(/has no DiT model loaded yet/) });
      fake.reset();
      fake.behaviour.models = [{ name: 'acestep-v15-turbo', is_default: true, is_loaded: false }];
      await expect(checkAcestep(options())).resolves.toMatchObject({ level: 'warn' });
      fake.reset();
      fake.behaviour.models = [...fake.behaviour.models, BASE];
      await expect(checkAcestep(options())).resolves.toEqual({
        level: 'info',
        message: `ACE-Step at ${fake.url} is reachable; DiT models loaded: acestep-v15-turbo (default), acestep-v15-base`,
      });
      // /health asks for no key; the key is still checked.
      await expect(checkAcestep(options({ apiKey: 'wrong' }))).rejects.toThrow(/check ACESTEP_API_KEY/);
    });

    it('fails a task when no model is loaded, or when the server ran it on another model than the one named', async () => {
      fake.behaviour.models = [{ name: 'acestep-v15-turbo', is_default: true, is_loaded: false }];
      const none = createAcestepEngine(options()).replaceSection(repaint(), live());
      await expect(none).rejects.toBeInstanceOf(EngineError);
      await expect(none).rejects.toThrow(`ACE-Step at ${fake.url} has no DiT model loaded (still starting?), so it cannot run repaint`);
      expect(fake.tasks).toHaveLength(0);
      fake.reset();
      fake.behaviour.models = [...fake.behaviour.models, BASE];
      fake.behaviour.ranOn = 'acestep-v15-turbo';
      const vocals = { source: { bytes: source }, prompt: 'sing', style: 'soul', title: 'T', negativeTags: '', seed: 'v' };
      const swapped = createAcestepEngine(options()).addVocals!(vocals, live(), quiet);
      await expect(swapped).rejects.toThrow(/ran task [0-9a-f-]+ on acestep-v15-turbo instead of acestep-v15-base, which it no longer has loaded/);
    });

    it('chooses the default model for the turbo tasks and a base model for lego, as older servers list them too', () => {
      const models = [
        { name: 'acestep-v15-turbo', isDefault: true, loaded: true, taskTypes: null },
        { name: 'acestep-v15-base', isDefault: false, loaded: true, taskTypes: null },
        { name: 'acestep-v15-sft', isDefault: false, loaded: true, taskTypes: null },
      ];
      expect(modelFor('text2music', models)).toBe('acestep-v15-turbo');
      expect(modelFor('lego', models)).toBe('acestep-v15-base');
      expect(modelFor('lego', [models[0]!, models[2]!])).toBeNull();
      expect(modelFor('repaint', [{ ...models[0]!, loaded: false }, models[2]!])).toBe('acestep-v15-sft');
    });
  });

  describe('10. add-instrumental', () => {
    it('stays refused: the source does not say whether `complete` returns the vocal with its accompaniment', async () => {
      const engine = createAcestepEngine(options());
      expect(engine.addInstrumental).toBeUndefined();
      const input = { source: { bytes: source }, prompt: '', style: 'rock', title: 'T', negativeTags: '', seed: 's' };
      const refused = runOperation(engine, { op: 'addInstrumental', input }, live(), quiet);
      await expect(refused).rejects.toBeInstanceOf(UnsupportedOperation);
      expect(fake.requests).toHaveLength(0);
    });
  });
});
