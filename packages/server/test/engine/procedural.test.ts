import { beforeAll, describe, expect, it } from 'vitest';
import { decodeAudio } from '../../src/audio/codecs/decode.js';
import { encodeMp3 } from '../../src/audio/codecs/mp3.js';
import { probeAudio } from '../../src/audio/codecs/probe.js';
import { createEngine, createProceduralEngine, type GenerateProgress, type ReplaceSectionInput, SourceAudioError } from '../../src/engine/index.js';
import { buildWav, tones } from '../audio/wav-fixtures.js';

const live = () => new AbortController().signal;
const text = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));

/** RMS of the difference between two signals over [from, to), with `b` shifted by `lag` samples. */
function differenceRms(a: Float32Array, b: Float32Array, from: number, to: number, lag = 0): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += (a[i]! - b[i + lag]!) ** 2;
  return Math.sqrt(sum / (to - from));
}

/** The shift in −3…3 samples at which `a` matches `b` best. */
function bestLag(a: Float32Array, b: Float32Array, from: number, to: number): number {
  let best = 0;
  for (let lag = -3; lag <= 3; lag++) if (differenceRms(a, b, from, to, lag) < differenceRms(a, b, from, to, best)) best = lag;
  return best;
}

describe('procedural engine: replaceSection', () => {
  const engine = createProceduralEngine();
  const rate = 44_100;
  const source = tones(30, rate, 2, 0.4);
  const wav = buildWav({ sampleRate: rate, channels: source, bits: 16 });
  let mp3: Uint8Array;
  beforeAll(async () => {
    mp3 = await encodeMp3({ sampleRate: rate, channels: source });
  });
  const request = (bytes: Uint8Array, overrides: Partial<ReplaceSectionInput> = {}): ReplaceSectionInput => ({
    source: { bytes, name: 'song' },
    startS: 10,
    endS: 18.5,
    prompt: 'a new bridge',
    tags: 'jazz piano',
    negativeTags: '',
    title: 'Jazzed',
    seed: 'task-1',
    ...overrides,
  });

  for (const format of ['wav', 'mp3'] as const) {
    it(`replaces a section of a 30 s ${format.toUpperCase()}, keeping the duration and the rest of the song in place`, async () => {
      const track = await engine.replaceSection(request(format === 'wav' ? wav : mp3), live());
      expect(track.durationS).toBe(30);
      expect(track.modelName).toBe('reprise-procedural-1');
      expect(Array.from(track.cover.subarray(0, 2))).toEqual([0xff, 0xd8]);
      expect(probeAudio(track.mp3)).toEqual({ format: 'mp3', durationS: 30, sampleRate: rate, channels: 2 });
      const out = await decodeAudio(track.mp3);
      expect(out.channels[0]!.length).toBe(30 * rate);
      const left = out.channels[0]!;
      const original = source[0]!;
      // Outside the crossfades the song is the source, up to MP3 coding noise (one or two
      // generations of it) and not shifted by a single sample (e.g. an untrimmed encoder delay).
      const fade = 0.75 * rate;
      const before = [rate, 10 * rate - fade - 10] as const;
      const after = [18.5 * rate + fade + 10, 29 * rate] as const;
      expect(bestLag(left, original, ...before)).toBe(0);
      expect(bestLag(left, original, ...after)).toBe(0);
      expect(differenceRms(left, original, ...before)).toBeLessThan(0.02);
      expect(differenceRms(left, original, ...after)).toBeLessThan(0.02);
      // Inside, it is new material.
      expect(differenceRms(left, original, 11 * rate, 17 * rate)).toBeGreaterThan(0.1);
    });
  }

  it('is deterministic: same inputs, same bytes; another seed, other bytes', async () => {
    const short = buildWav({ sampleRate: 22_050, channels: tones(8, 22_050, 1), bits: 16 });
    const input = request(short, { startS: 2, endS: 5 });
    const a = await engine.replaceSection(input, live());
    const b = await engine.replaceSection(input, live());
    expect(Buffer.from(a.mp3).equals(Buffer.from(b.mp3))).toBe(true);
    expect(Buffer.from(a.cover).equals(Buffer.from(b.cover))).toBe(true);
    const c = await engine.replaceSection({ ...input, seed: 'task-2' }, live());
    expect(Buffer.from(a.mp3).equals(Buffer.from(c.mp3))).toBe(false);
    expect(a.durationS).toBe(8);
  });

  it('copes with a section at the very start and the very end', async () => {
    const short = buildWav({ sampleRate: 8000, channels: tones(6, 8000, 2), bits: 16 });
    const whole = await engine.replaceSection(request(short, { startS: 0, endS: 6 }), live());
    expect(whole.durationS).toBe(6);
    const tail = await engine.replaceSection(request(short, { startS: 5.5, endS: 6.2 }), live());
    expect(tail.durationS).toBe(6);
    expect(probeAudio(tail.mp3).durationS).toBeCloseTo(6, 4);
  });

  it('fails with SourceAudioError on anything but MP3 or WAV, and on a range beyond the end', async () => {
    await expect(engine.replaceSection(request(text('fLaC\0\0\0\x22 not really flac at all')), live())).rejects.toThrow(SourceAudioError);
    await expect(engine.replaceSection(request(text('fLaC\0\0\0\x22 not really flac at all')), live())).rejects.toThrow(
      /"song" is not readable MP3 or WAV: a FLAC file/,
    );
    await expect(engine.replaceSection(request(new Uint8Array(10_000).fill(7)), live())).rejects.toThrow(SourceAudioError);
    const empty = buildWav({ channels: [new Float32Array(0)], bits: 16 });
    await expect(engine.replaceSection(request(empty), live())).rejects.toThrow(SourceAudioError);
    await expect(engine.replaceSection(request(wav, { startS: 31, endS: 40 }), live())).rejects.toThrow(/lies outside the 30.00 s of source audio/);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(engine.replaceSection(request(wav), controller.signal)).rejects.toThrow(/abort/i);
  });
});

describe('procedural engine: generate', () => {
  it('reports the sheet, then the first song, and returns two distinct songs of the asked length', async () => {
    const engine = createEngine({ name: 'procedural', acestepUrl: null, acestepApiKey: null });
    const events: GenerateProgress[] = [];
    const tracks = await engine.generate(
      { prompt: 'night drive', style: 'synthwave, electronic', title: 'Neon', negativeTags: '', instrumental: false, durationS: 8, seed: 'gen-1' },
      live(),
      async (progress) => {
        events.push(progress);
      },
    );
    expect(events.map((e) => e.stage)).toEqual(['text', 'first']);
    const [sheet, first] = events;
    expect(sheet).toMatchObject({ stage: 'text' });
    expect(sheet?.stage === 'text' && sheet.sheet).toMatch(/Song 1: "Neon": electronic, \d+ BPM/);
    expect(sheet?.stage === 'text' && sheet.sheet).toMatch(/Song 2: /);
    expect(sheet?.stage === 'text' && sheet.sheet).toMatch(/formant singing synthesiser/);
    // The very track returned, by identity: a deep comparison walks megabytes of samples element by element.
    expect(first).toMatchObject({ stage: 'first', index: 0 });
    expect(first?.stage === 'first' && first.track).toBe(tracks[0]);
    expect(tracks).toHaveLength(2);
    for (const track of tracks) {
      expect(track.durationS).toBe(8);
      expect(probeAudio(track.mp3)).toEqual({ format: 'mp3', durationS: 8, sampleRate: 44_100, channels: 2 });
    }
    expect(Buffer.from(tracks[0]!.mp3).equals(Buffer.from(tracks[1]!.mp3))).toBe(false);
    expect(Buffer.from(tracks[0]!.cover).equals(Buffer.from(tracks[1]!.cover))).toBe(false);
  });

  it('writes the structure of both songs and the lyrics given in custom mode on the sheet', async () => {
    const engine = createProceduralEngine();
    let sheet = '';
    await engine.generate(
      {
        prompt: 'City lights are calling\nI keep on driving',
        style: 'pop',
        title: 'Lights',
        negativeTags: '',
        instrumental: false,
        lyrics: 'City lights are calling\nI keep on driving',
        durationS: 40,
        seed: 'gen-sheet',
      },
      live(),
      async (progress) => {
        if (progress.stage === 'text') sheet = progress.sheet;
      },
    );
    for (const part of ['intro', 'verse', 'chorus', 'bridge', 'outro']) expect(sheet.toLowerCase()).toContain(part);
    expect(sheet).toContain('City lights are calling');
    const [song1, song2] = sheet.split(/Song 2: /);
    expect(song1).toMatch(/Song 1: /);
    expect(song2).toBeDefined();
  });

  it('refuses an impossible length and stops when aborted between songs', async () => {
    const engine = createProceduralEngine({ modelName: 'custom' });
    const input = { prompt: '', style: 'rock', title: '', negativeTags: '', instrumental: true, durationS: 3, seed: 's' };
    await expect(engine.generate({ ...input, durationS: 0 }, live(), async () => {})).rejects.toThrow(/song length/);
    const controller = new AbortController();
    const stages: string[] = [];
    await expect(
      engine.generate(input, controller.signal, async (progress) => {
        stages.push(progress.stage);
        if (progress.stage === 'first') controller.abort();
      }),
    ).rejects.toThrow(/abort/i);
    expect(stages).toEqual(['text', 'first']);
  });
});

describe('createEngine', () => {
  it('builds the procedural engine by name or spec, and the acestep adapter when given its URL', () => {
    expect(createEngine('procedural').name).toBe('procedural');
    expect(createEngine({ name: 'procedural', modelName: 'x' }).name).toBe('procedural');
    expect(createEngine('acestep', { acestepUrl: 'http://127.0.0.1:8001' }).name).toBe('acestep');
  });
});
