import { beforeAll, describe, expect, it } from 'vitest';
import { analyse, measureLoudness } from '../../src/audio/analysis/index.js';
import { decodeAudio } from '../../src/audio/codecs/decode.js';
import { encodeMp3 } from '../../src/audio/codecs/mp3.js';
import { decodeWav, encodeWav } from '../../src/audio/codecs/wav.js';
import { planContinuation } from '../../src/audio/synthesis/continuation.js';
import { smoothBeats } from '../../src/audio/synthesis/fit.js';
import { extend } from '../../src/engine/procedural/extend.js';
import { DEFAULT_SCRATCH_DIR } from '../../src/engine/scratch.js';
import { EngineError, type ExtendInput, type GenerateProgress, type RenderedTrack, SourceAudioError } from '../../src/engine/types.js';
import { renderedSong, sameOrRelative } from '../audio/analysis/songs.js';

const live = () => new AbortController().signal;
const context = { modelName: 'reprise-procedural-1', fadeS: 0.75, scratchDir: DEFAULT_SCRATCH_DIR };
const rate = 44_100;
const SOURCE_BPM = 104;
/** The join's crossfade (extend.ts): the output is the source's samples before join − this. */
const FADE_S = 0.12;
const ADD_S = 10;
const CONTINUE_AT_S = 12.3;

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Largest sample-to-sample step over [from, to) of any channel. */
function largestStep(channels: readonly Float32Array[], from: number, to: number): number {
  let max = 0;
  for (const channel of channels) for (let i = Math.max(1, from); i < to; i++) max = Math.max(max, Math.abs(channel[i]! - channel[i - 1]!));
  return max;
}

/** Index of the first sample where two signals differ (any channel), or `length` where none does. */
function firstDifference(a: readonly Float32Array[], b: readonly Float32Array[], length: number): number {
  for (let i = 0; i < length; i++) if (a.some((channel, c) => channel[i] !== b[c]![i])) return i;
  return length;
}

function rmsOf(channels: readonly Float32Array[], from: number, to: number): number {
  let sum = 0;
  for (const channel of channels) for (let i = from; i < to; i++) sum += channel[i]! ** 2;
  return Math.sqrt(sum / (channels.length * (to - from)));
}

function differenceRms(a: readonly Float32Array[], b: readonly Float32Array[], from: number, to: number): number {
  let sum = 0;
  for (const [c, channel] of a.entries()) for (let i = from; i < to; i++) sum += (channel[i]! - b[c]![i]!) ** 2;
  return Math.sqrt(sum / (a.length * (to - from)));
}

const slice = (channels: readonly Float32Array[], from: number, to: number) => ({ sampleRate: rate, channels: channels.map((c) => c.slice(from, to)) });

describe('procedural engine: extend', () => {
  // A 20 s song of our own in E minor at 104 BPM, as a float WAV (exact samples) and as an MP3.
  const source = renderedSong('pop', SOURCE_BPM, 'E', 'minor', 20, rate);
  const wav = encodeWav(source, { encoding: 'float32' });
  let mp3: Uint8Array;
  let mp3Source: Float32Array[];
  let tracks: RenderedTrack[];
  let progress: GenerateProgress[];

  const request = (bytes: Uint8Array, overrides: Partial<ExtendInput> = {}): ExtendInput => ({
    source: { bytes, name: 'song' },
    continueAtS: CONTINUE_AT_S,
    addS: ADD_S,
    prompt: 'carry on, gently',
    style: 'folk',
    title: 'Further',
    negativeTags: '',
    instrumental: true,
    seed: 'extend-task',
    ...overrides,
  });

  beforeAll(async () => {
    mp3 = await encodeMp3(source, { bitrate: 192 });
    mp3Source = (await decodeAudio(mp3)).channels;
    progress = [];
    tracks = await extend(context, request(wav), live(), async (p) => {
      progress.push(p);
    });
  });

  const joinOf = (track: RenderedTrack) => Math.round(track.continuedAtS! * rate);

  it('reports the lead sheet once, then the first track, and returns two tracks', () => {
    expect(tracks).toHaveLength(2);
    expect(progress.map((p) => p.stage)).toEqual(['text', 'first']);
    const first = progress[0];
    const sheet = first?.stage === 'text' ? first.sheet : '';
    expect(sheet).toMatch(/E minor/);
    expect(sheet).toMatch(/10[34](\.\d)? BPM/);
    expect(sheet).toMatch(/bars/);
    expect(sheet).toMatch(/\[[A-G]/);
    expect(progress[1]).toMatchObject({ stage: 'first', index: 0 });
    for (const track of tracks) expect(track.sung).toBeUndefined();
  });

  it('joins on a beat at or at most 0.5 s before the asked point, and lasts join + addS', async () => {
    const beats = smoothBeats(analyse(source, { fromS: 0, toS: 14 }).tempo!.beats);
    for (const track of tracks) {
      expect(track.continuedAtS).toBeLessThanOrEqual(CONTINUE_AT_S);
      expect(track.continuedAtS).toBeGreaterThanOrEqual(CONTINUE_AT_S - 0.5);
      expect(Math.min(...beats.map((b) => Math.abs(b - track.continuedAtS!)))).toBeLessThan(0.01);
      const frames = joinOf(track) + ADD_S * rate;
      expect(track.durationS).toBe(frames / rate);
      expect((await decodeAudio(track.master!)).channels[0]!.length).toBe(frames);
      expect((await decodeAudio(track.mp3)).channels[0]!.length).toBe(frames);
    }
  });

  it('keeps every sample of a WAV source before the crossfade', async () => {
    for (const track of tracks) {
      const master = (await decodeAudio(track.master!)).channels;
      const kept = joinOf(track) - Math.round(FADE_S * rate);
      expect(firstDifference(master, source.channels, kept)).toBe(kept);
      // The crossfade does change the song (the check above is not vacuous).
      expect(firstDifference(master, source.channels, joinOf(track))).toBeLessThan(joinOf(track));
    }
  });

  it('continues in the source tempo, on its beat grid, in its key, at its loudness', () => {
    const measured = analyse(source, { fromS: 0, toS: CONTINUE_AT_S });
    for (const track of tracks) {
      const channels = decodeMasterSync(track);
      const join = joinOf(track);
      const end = channels[0]!.length;
      const added = analyse(slice(channels, join, end - Math.round(2.5 * rate)));
      const tempo = added.tempo!;
      expect(Math.abs(tempo.bpm / measured.tempo!.bpm - 1)).toBeLessThan(0.02);
      // The new beats continue the source's grid: their phase against it stays within a few tens of ms.
      const period = 60 / measured.tempo!.bpm;
      const grid = smoothBeats(measured.tempo!.beats);
      const anchor = grid[grid.length - 1]!;
      const phaseErrors = tempo.beats.map((t) => {
        const beats = (t + join / rate - anchor) / period;
        return Math.abs(beats - Math.round(beats)) * period;
      });
      expect(median(phaseErrors)).toBeLessThan(0.03);
      expect(sameOrRelative(added.key!, 'E', 'minor')).toBe(true);
      const before = measureLoudness(channels, rate, { from: join - 6 * rate, to: join }).integratedLufs;
      const after = measureLoudness(channels, rate, { from: join, to: join + 6 * rate }).integratedLufs;
      expect(Math.abs(after - before)).toBeLessThan(1.5);
    }
  });

  it('joins without a click and ends in a fade-out', () => {
    for (const track of tracks) {
      const channels = decodeMasterSync(track);
      const join = joinOf(track);
      const seam = largestStep(channels, join - Math.round((FADE_S + 0.01) * rate), join + Math.round(0.02 * rate));
      const nearby = largestStep(source.channels, join - 4 * rate, join - Math.round(FADE_S * rate));
      expect(seam).toBeLessThanOrEqual(nearby);
      const end = channels[0]!.length;
      expect(rmsOf(channels, end - Math.round(0.05 * rate), end)).toBeLessThan(0.01 * rmsOf(channels, join, join + 4 * rate));
    }
  });

  it('makes two variants that differ, and the same bytes again for the same seed', async () => {
    const [a, b] = tracks.map(decodeMasterSync);
    const join = joinOf(tracks[0]!);
    expect(joinOf(tracks[1]!)).toBe(join);
    const to = join + 6 * rate;
    expect(differenceRms(a!, b!, join, to)).toBeGreaterThan(0.3 * rmsOf(a!, join, to));
    const again = await extend(context, request(wav), live(), async () => {});
    for (const [k, track] of again.entries()) {
      expect(Buffer.from(track.mp3).equals(Buffer.from(tracks[k]!.mp3))).toBe(true);
      expect(Buffer.from(track.master!).equals(Buffer.from(tracks[k]!.master!))).toBe(true);
    }
  });

  it("keeps an MP3 source's own frames before the join", async () => {
    const [track] = await extend(context, request(mp3, { addS: 8 }), live(), async () => {});
    const join = joinOf(track!);
    const changedFrom = join - Math.round(FADE_S * rate);
    const decoded = (await decodeAudio(track!.mp3)).channels;
    expect(decoded[0]!.length).toBe(join + 8 * rate);
    // Bit-exact up to the junction of frames (a few frames before the crossfade at most)...
    const exact = firstDifference(decoded, mp3Source, changedFrom);
    expect(exact).toBeGreaterThanOrEqual(changedFrom - Math.round(0.7 * rate) - 1152);
    // ...then, until the crossfade, the same audio up to coding noise (of a second generation), not shifted.
    const noise = differenceRms(decoded, mp3Source, exact, changedFrom);
    expect(noise).toBeLessThan(0.06 * rmsOf(mp3Source, exact, changedFrom));
    const shifted = mp3Source.map((channel) => channel.subarray(1));
    expect(differenceRms(decoded, shifted, exact, changedFrom)).toBeGreaterThan(2 * noise);
    // ...and the lossless master is the decoded source exactly, right up to the crossfade.
    const master = (await decodeAudio(track!.master!)).channels;
    expect(firstDifference(master, mp3Source, changedFrom)).toBe(changedFrom);
  });

  it("keeps the source's tempo and key over words (or a persona) naming others", () => {
    const analysis = analyse(source, { fromS: 0, toS: 14 });
    const plan = planContinuation({ seed: 's', texts: ['folk, in A major, 160 bpm'], variant: 0, analysis, joinS: 12, endS: 20 });
    expect(plan.followed).toEqual({ tempo: true, key: true });
    expect(plan.arrangement.bpm).toBeCloseTo(analysis.tempo!.bpm, 6);
    expect([plan.arrangement.tonic, plan.arrangement.mode]).toEqual(['E', 'minor']);
    // No intro in a continuation; the pickup bar turns around into the first chord.
    expect(plan.arrangement.sections[0]!.name).not.toBe('intro');
    expect(plan.rendered.sections).toHaveLength(plan.arrangement.sections.length + 1);
  });

  it('refuses a continueAt outside the song, and unreadable bytes', async () => {
    await expect(extend(context, request(wav, { continueAtS: 25 }), live(), async () => {})).rejects.toBeInstanceOf(EngineError);
    await expect(extend(context, request(wav, { continueAtS: 0 }), live(), async () => {})).rejects.toBeInstanceOf(EngineError);
    const garbage = Uint8Array.from({ length: 4000 }, (_, i) => (i * 7919) & 0xff);
    await expect(extend(context, request(garbage), live(), async () => {})).rejects.toBeInstanceOf(SourceAudioError);
  });
});

/** The master's samples (a float WAV of exactly them). */
const decodeMasterSync = (track: RenderedTrack): Float32Array[] => decodeWav(track.master!).channels;
