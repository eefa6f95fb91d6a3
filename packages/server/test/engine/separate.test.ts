import { beforeAll, describe, expect, it } from 'vitest';
import { decodeAudio } from '../../src/audio/codecs/decode.js';
import { encodeMp3 } from '../../src/audio/codecs/mp3.js';
import { decodeWav, encodeWav } from '../../src/audio/codecs/wav.js';
import { energy, sdr, sumOf } from '../../src/audio/separation/quality.js';
import { planSongs } from '../../src/audio/synthesis/arrangement.js';
import { mixParts, renderSong } from '../../src/audio/synthesis/synth.js';
import { createAcestepEngine } from '../../src/engine/acestep.js';
import { createProceduralEngine } from '../../src/engine/procedural/index.js';
import {
  EngineError,
  type GenerateInput,
  type Operation,
  type RenderedStem,
  type RenderedTrack,
  runOperation,
  type SeparatedStems,
  type SeparateInput,
  SourceAudioError,
  SPLIT_STEM_NAMES,
  UnsupportedOperation,
} from '../../src/engine/types.js';

const live = () => new AbortController().signal;
const engine = createProceduralEngine();
const RATE = 44_100;
const SECONDS = 20;

const sung: GenerateInput = {
  prompt: 'lanterns over the harbour',
  style: 'latin pop',
  title: 'Harbour',
  negativeTags: '',
  instrumental: false,
  durationS: SECONDS,
  seed: 'stems-sung',
};
const instrumental: GenerateInput = { ...sung, style: 'rock', instrumental: true, seed: 'stems-instrumental' };

const samplesOf = (wav: Uint8Array) => decodeWav(wav).channels;
/** A decoded stem MP3 as stereo (a centred stem is encoded mono). */
async function mp3Samples(mp3: Uint8Array): Promise<Float32Array[]> {
  const { channels } = await decodeAudio(mp3);
  return channels.length === 1 ? [channels[0]!, channels[0]!] : channels;
}

function correlation(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (const [c, x] of a.entries()) {
    const y = b[c]!;
    for (let i = 0; i < x.length; i++) {
      ab += x[i]! * y[i]!;
      aa += x[i]! * x[i]!;
      bb += y[i]! * y[i]!;
    }
  }
  return ab / Math.sqrt(aa * bb);
}

async function separate(input: SeparateInput): Promise<{ result: SeparatedStems; handed: RenderedStem[] }> {
  const handed: RenderedStem[] = [];
  const result = await engine.separate!(input, live(), async (stem, index) => {
    handed[index] = stem;
  });
  return { result, handed };
}

const stemsOf = (result: SeparatedStems) => result.stems.filter((stem): stem is RenderedStem => stem !== null);
const names = (result: SeparatedStems) => stemsOf(result).map((stem) => stem.name);
const origin = (operation: Operation, trackIndex = 0) => ({ operation, trackIndex });

describe('separate: a generated song, rendered again part by part', () => {
  let tracks: RenderedTrack[];
  beforeAll(async () => {
    tracks = await engine.generate(sung, live(), async () => {});
  });

  it('splits a sung song into exact stems that sum to its master, lossless and as MP3', async () => {
    const { result, handed } = await separate({ type: 'split_stem', audio: { bytes: tracks[0]!.master! }, origin: origin({ op: 'generate', input: sung }) });
    const stems = stemsOf(result);
    expect(handed.length).toBe(stems.length);
    expect(handed.every((stem, i) => stem === stems[i])).toBe(true);
    expect(stems.every((stem) => stem.exact && stem.durationS === SECONDS)).toBe(true);
    expect(result.method).toMatch(/^Exact/);
    // Latin pop here: plucked guitar and brass comping, a flute lead, a round bass, drums with the rim click, and the voice.
    expect(names(result)).toEqual(['vocal', 'drums', 'bass', 'guitar', 'percussion', 'brass', 'woodwinds']);
    expect(result.absent).toEqual(['backing_vocals', 'keyboard', 'strings', 'synth', 'fx']);
    expect([...names(result), ...result.absent].sort()).toEqual([...SPLIT_STEM_NAMES].sort());
    const master = samplesOf(tracks[0]!.master!);
    const lossless = sdr(master, sumOf(stems.map((stem) => samplesOf(stem.master))));
    const mp3 = sdr(master, sumOf(await Promise.all(stems.map((stem) => mp3Samples(stem.mp3)))));
    console.log(`split_stem of a sung generate: the stems sum to the master at ${lossless.toFixed(1)} dB SNR lossless, ${mp3.toFixed(1)} dB as MP3`);
    expect(lossless).toBeGreaterThan(40);
    expect(mp3).toBeGreaterThan(15);
  });

  it('gives each stem its own instruments only: the drum stem is the drums of the plan, the vocal the voice', async () => {
    const { result } = await separate({ type: 'split_stem', audio: { bytes: tracks[0]!.master! }, origin: origin({ op: 'generate', input: sung }) });
    const plan = planSongs({ seed: sung.seed, texts: [sung.style, sung.prompt, sung.title], negative: '', durationS: SECONDS })[0];
    const window = { sampleRate: RATE, startFrame: 0, frames: SECONDS * RATE };
    const drumsOnly = mixParts(plan, window, (part) => part === 'drums:kick' || part === 'drums:snare' || part === 'drums:hat');
    const bassOnly = mixParts(plan, window, (part) => part.startsWith('bass:'));
    const stem = (name: string) => samplesOf(stemsOf(result).find((s) => s.name === name)!.master);
    // The stems went through the track's gains (normalisation, limiter, fades), which move slowly: the shape is the part's.
    expect(correlation(stem('drums'), drumsOnly)).toBeGreaterThan(0.95);
    expect(Math.abs(correlation(stem('drums'), bassOnly))).toBeLessThan(0.1);
    expect(correlation(stem('bass'), bassOnly)).toBeGreaterThan(0.95);
    // The voice is the same in both channels, and nowhere else.
    const vocal = stem('vocal');
    expect(sdr([vocal[0]!], [vocal[1]!])).toBeGreaterThan(100);
    expect(Math.abs(correlation(vocal, drumsOnly))).toBeLessThan(0.1);
  });

  it('splits into vocal and instrumental, summing to the master', async () => {
    const { result } = await separate({ type: 'separate_vocal', audio: { bytes: tracks[1]!.master! }, origin: origin({ op: 'generate', input: sung }, 1) });
    expect(names(result)).toEqual(['vocal', 'instrumental']);
    expect(result.absent).toEqual([]);
    const stems = stemsOf(result);
    expect(sdr(samplesOf(tracks[1]!.master!), sumOf(stems.map((stem) => samplesOf(stem.master))))).toBeGreaterThan(100);
  });

  it('finds the same song from its MP3, and makes the same stems', async () => {
    const { result: fromMaster } = await separate({
      type: 'separate_vocal',
      audio: { bytes: tracks[0]!.master! },
      origin: origin({ op: 'generate', input: sung }),
    });
    const { result: fromMp3 } = await separate({ type: 'separate_vocal', audio: { bytes: tracks[0]!.mp3 }, origin: origin({ op: 'generate', input: sung }) });
    expect(stemsOf(fromMp3).every((stem) => stem.exact)).toBe(true);
    // Deterministic: the same stems, byte for byte.
    const bytes = (result: SeparatedStems) => stemsOf(result).flatMap((stem) => [Buffer.from(stem.mp3), Buffer.from(stem.master)]);
    const expected = bytes(fromMaster);
    const got = bytes(fromMp3);
    expect(got).toHaveLength(4);
    expect(got.every((buffer, i) => buffer.equals(expected[i]!))).toBe(true);
  });

  it('gives an instrumental song its master as the instrumental and no vocal', async () => {
    const [track] = await engine.generate(instrumental, live(), async () => {});
    const { result } = await separate({ type: 'separate_vocal', audio: { bytes: track!.master! }, origin: origin({ op: 'generate', input: instrumental }) });
    expect(names(result)).toEqual(['instrumental']);
    expect(result.absent).toEqual(['vocal']);
    expect(Buffer.from(stemsOf(result)[0]!.master).equals(Buffer.from(track!.master!))).toBe(true);
  });

  it('estimates the stems instead, and says why, when the recipe does not render the audio given', async () => {
    const other = { ...sung, seed: 'another-seed' };
    const { result } = await separate({ type: 'separate_vocal', audio: { bytes: tracks[0]!.master! }, origin: origin({ op: 'generate', input: other }) });
    expect(stemsOf(result).every((stem) => !stem.exact)).toBe(true);
    expect(result.method).toMatch(/^Estimated by signal processing, because the track's audio is not what its recipe renders now/);
    expect(names(result)).toEqual(['vocal', 'instrumental']);
    // Still a partition of the track.
    expect(sdr(samplesOf(tracks[0]!.master!), sumOf(stemsOf(result).map((stem) => samplesOf(stem.master))))).toBeGreaterThan(60);
  });

  it('refuses a track index the operation never made', async () => {
    await expect(separate({ type: 'split_stem', audio: { bytes: tracks[0]!.mp3 }, origin: origin({ op: 'generate', input: sung }, 2) })).rejects.toThrow(
      EngineError,
    );
  });
});

describe('separate: a cover, whose takes are whole synthesised songs', () => {
  it('splits a take into exact stems that sum to its master', async () => {
    const plan = planSongs({ seed: 'cover-source', texts: ['pop'], durationS: 20 })[0];
    const source = { bytes: await encodeMp3({ sampleRate: RATE, channels: renderSong(plan, RATE, 2, 20) }), name: 'song.mp3' };
    const input = { source, prompt: '', style: 'jazz', title: 'Cover', negativeTags: '', instrumental: true, seed: 'cover-stems' };
    const takes = await engine.cover!(input, live(), async () => {});
    const { result } = await separate({ type: 'split_stem', audio: { bytes: takes[1]!.master! }, origin: origin({ op: 'cover', input }, 1) });
    expect(result.method).toMatch(/^Exact/);
    expect(names(result)).toContain('drums');
    expect(names(result)).not.toContain('vocal');
    const stems = stemsOf(result);
    expect(stems.every((stem) => stem.exact && energy(samplesOf(stem.master)) > 0)).toBe(true);
    expect(sdr(samplesOf(takes[1]!.master!), sumOf(stems.map((stem) => samplesOf(stem.master))))).toBeGreaterThan(40);
  });
});

describe('separate: an add-vocals track, whose voice is synthesised over an upload', () => {
  it("gives the voice exactly and the upload as it sounds under it; split, estimates the upload's own instruments", async () => {
    const plan = planSongs({ seed: 'instrumental-upload', texts: ['funk'], durationS: 16 })[0];
    const upload = renderSong(plan, RATE, 2, 16);
    const source = { bytes: encodeWav({ sampleRate: RATE, channels: upload }, { encoding: 'float32' }), name: 'band.wav' };
    const input = {
      source,
      prompt: '[Verse]\nLights along the water\nCalling me back home',
      style: 'soul',
      title: 'Water',
      negativeTags: '',
      seed: 'add-vocals-stems',
    };
    const [track] = await engine.addVocals!(input, live(), async () => {});
    const master = samplesOf(track!.master!);
    const operation: Operation = { op: 'addVocals', input };
    const vocal = await separate({ type: 'separate_vocal', audio: { bytes: track!.mp3 }, origin: origin(operation) });
    expect(names(vocal.result)).toEqual(['vocal', 'instrumental']);
    expect(stemsOf(vocal.result).every((stem) => stem.exact)).toBe(true);
    const [voice, instrumental] = stemsOf(vocal.result).map((stem) => samplesOf(stem.master));
    expect(sdr(master, sumOf([voice!, instrumental!]))).toBeGreaterThan(100);
    // The instrumental stem is the upload, scaled only where the limiter held the sum down (how
    // often depends on where the phrases land: 0.9988–0.9995 for this song).
    expect(correlation(instrumental!, upload)).toBeGreaterThan(0.998);
    expect(Math.abs(correlation(voice!, upload))).toBeLessThan(0.1);
    const split = await separate({ type: 'split_stem', audio: { bytes: track!.master! }, origin: origin(operation) });
    expect(split.result.method).toMatch(/^Exact vocal/);
    expect(stemsOf(split.result).map((stem) => [stem.name, stem.exact])).toEqual([
      ['vocal', true],
      ['drums', false],
      ['bass', false],
      ['other', false],
    ]);
    expect(sdr(master, sumOf(stemsOf(split.result).map((stem) => samplesOf(stem.master))))).toBeGreaterThan(60);
  });
});

describe('separate: audio reprise did not make whole', () => {
  // A stereo mix of known parts: the song's band and a centred tone standing in for a voice.
  const plan = planSongs({ seed: 'outside', texts: ['pop'], durationS: 12 })[0];
  const band = renderSong(plan, RATE, 2, 12);
  const voice = Float32Array.from({ length: band[0]!.length }, (_, i) => 0.1 * Math.sin((2 * Math.PI * 440 * i) / RATE) * (1 + 0.3 * Math.sin(i / 4000)));
  const mix = band.map((channel) => Float32Array.from(channel, (x, i) => x + voice[i]!));
  const wav = encodeWav({ sampleRate: RATE, channels: mix }, { encoding: 'float32' });

  it('estimates drums, bass, vocal and other from a track without a recipe, summing to it', async () => {
    const { result } = await separate({ type: 'split_stem', audio: { bytes: wav } });
    expect(result.method).toMatch(/^Estimated by signal processing, because nothing says how the track was made/);
    expect(names(result)).toEqual(['vocal', 'drums', 'bass', 'other']);
    expect(result.absent).toEqual(SPLIT_STEM_NAMES.filter((name) => !['vocal', 'drums', 'bass'].includes(name)));
    expect(sdr(mix, sumOf(stemsOf(result).map((stem) => samplesOf(stem.master))))).toBeGreaterThan(60);
  });

  it('estimates the stems of an extended track: it holds the uploaded song', async () => {
    const extend: Operation = {
      op: 'extend',
      input: { source: { bytes: wav }, continueAtS: 10, addS: 10, prompt: '', style: 'pop', title: '', negativeTags: '', instrumental: true, seed: 'x' },
    };
    const { result } = await separate({ type: 'separate_vocal', audio: { bytes: wav }, origin: origin(extend) });
    expect(result.method).toMatch(/because it was made by extend, whose tracks hold uploaded audio/);
    expect(stemsOf(result).every((stem) => !stem.exact)).toBe(true);
  });

  it('refuses to find a vocal in mono audio, and unreadable audio as the source', async () => {
    const mono = encodeWav({ sampleRate: RATE, channels: [mix[0]!] });
    await expect(separate({ type: 'separate_vocal', audio: { bytes: mono } })).rejects.toThrow(EngineError);
    await expect(separate({ type: 'separate_vocal', audio: { bytes: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]) } })).rejects.toThrow(
      SourceAudioError,
    );
  });
});

describe('separate on other engines', () => {
  it('is refused by the acestep engine before anything is sent', async () => {
    const acestep = createAcestepEngine({ url: 'http://127.0.0.1:9' });
    const operation = { op: 'separate', input: { type: 'separate_vocal', audio: { bytes: new Uint8Array(16) } } } as const;
    await expect(runOperation(acestep, operation, live(), async () => {})).rejects.toThrow(UnsupportedOperation);
  });
});
