import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyse } from '../../src/audio/analysis/index.js';
import { decodeAudio } from '../../src/audio/codecs/decode.js';
import { stretchAndShift, timeStretch } from '../../src/audio/mixing/stretch.js';
import { planArrangement } from '../../src/audio/synthesis/arrangement.js';
import { renderSong } from '../../src/audio/synthesis/synth.js';
import { mashup, mixWeaves, phraseParts, planMashup } from '../../src/engine/procedural/mashup.js';
import { DEFAULT_SCRATCH_DIR } from '../../src/engine/scratch.js';
import { type GenerateProgress, type MashupInput, type RenderedTrack, SourceAudioError } from '../../src/engine/types.js';
import { buildWav } from '../audio/wav-fixtures.js';

const RATE = 44_100;
const SECONDS = 16;
const context = { modelName: 'reprise-procedural-1', fadeS: 0.75, scratchDir: DEFAULT_SCRATCH_DIR };
const live = () => new AbortController().signal;

/** A reprise-rendered song at a known tempo and key (bar 0 at time 0, so beat k is at k × 60 / bpm). */
function song(bpm: number, tonic: string, seed: string): Float32Array[] {
  const plan = planArrangement({ seed, texts: ['pop rock'], form: 'song', durationS: SECONDS, fixed: { bpm, tonic, mode: 'major' } });
  return renderSong(plan, RATE, 2, SECONDS);
}

/** Onsets: peaks of the positive change of log energy (5 ms hops) that stand 6 dB above their neighbourhood. */
function onsets(signal: Float32Array, rate = RATE): number[] {
  const hop = Math.round(0.005 * rate);
  const energy: number[] = [];
  for (let at = 0; at + hop <= signal.length; at += hop) {
    let sum = 0;
    for (let i = at; i < at + hop; i++) sum += signal[i]! ** 2;
    energy.push(10 * Math.log10(sum / hop + 1e-10));
  }
  const rise = energy.map((e, i) => Math.max(0, e - Math.max(...energy.slice(Math.max(0, i - 4), i).concat(-100))));
  const found: number[] = [];
  for (let i = 1; i + 1 < rise.length; i++) {
    if (
      rise[i]! >= 6 &&
      rise[i]! >= rise[i - 1]! &&
      rise[i]! > rise[i + 1]! &&
      (found.length === 0 || i * hop - found[found.length - 1]! * rate > 0.05 * rate)
    ) {
      found.push((i * hop) / rate);
    }
  }
  return found;
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
/** Median distance of onsets in [fromS, toS) to the nearest line of a grid with the given step. */
function gridDistance(times: number[], stepS: number, fromS: number, toS: number): number {
  const inside = times.filter((t) => t >= fromS && t < toS);
  return median(inside.map((t) => Math.abs(t - Math.round(t / stepS) * stepS)));
}

/** Largest normalised correlation of x[from, from + n) with y around `from` (±maxLag samples). */
function bestCorrelation(x: Float32Array, y: Float32Array, from: number, n: number, maxLag: number): number {
  let best = -1;
  for (let lag = -maxLag; lag <= maxLag; lag += 1) {
    let xy = 0;
    let xx = 0;
    let yy = 0;
    for (let i = from; i < from + n; i++) {
      const b = y[i + lag] ?? 0;
      xy += x[i]! * b;
      xx += x[i]! ** 2;
      yy += b * b;
    }
    if (xx > 0 && yy > 0) best = Math.max(best, xy / Math.sqrt(xx * yy));
  }
  return best;
}

describe('procedural mashup', () => {
  // Song A: 100 BPM in C major; song B: 110 BPM in E major. B must come out at 100 BPM in C (−4 semitones).
  const a = song(100, 'C', 'mashup-a');
  const b = song(110, 'E', 'mashup-b');
  const input: MashupInput = {
    sources: [
      { bytes: buildWav({ sampleRate: RATE, channels: a, bits: 16 }), name: 'a.wav' },
      { bytes: buildWav({ sampleRate: RATE, channels: b, bits: 16 }), name: 'b.wav' },
    ],
    prompt: '',
    style: 'mashup',
    title: 'Both',
    negativeTags: '',
    instrumental: true,
    seed: 'mashup-seed',
  };
  let tracks: RenderedTrack[];
  const progress: GenerateProgress[] = [];
  let out: Float32Array[];
  beforeAll(async () => {
    tracks = await mashup(context, input, live(), async (p) => {
      progress.push(p);
    });
    out = (await decodeAudio(tracks[0]!.master!)).channels;
  });

  it('returns two tracks as long as the first song and reports the plan, then the first track', () => {
    expect(tracks).toHaveLength(2);
    for (const track of tracks) expect(track.durationS).toBeCloseTo(SECONDS, 2);
    expect(progress.map((p) => p.stage)).toEqual(['text', 'first']);
    const sheet = progress[0]!.stage === 'text' ? progress[0]!.sheet : '';
    expect(sheet).toMatch(/Song A: 10\d\.\d BPM/);
    expect(sheet).toMatch(/Song B: 1(09|10|11)\.\d BPM/);
    expect(sheet).toContain('C major');
    expect(sheet).toContain('shifted -4 semitones');
    expect(sheet).toMatch(/variant 1: A \| B/);
    expect(sheet).toMatch(/variant 2: B \| A/);
    expect(Buffer.from(tracks[0]!.mp3).equals(Buffer.from(tracks[1]!.mp3))).toBe(false);
  });

  it("lays the second song's onsets on the first song's beat grid", () => {
    // Song B's phrase is 4 bars of 2.4 s from the downbeat at 9.6 s; its onsets on the 8th-note grid of 100 BPM.
    const found = onsets(out[0]!);
    const aligned = gridDistance(found, 0.3, 9.7, 15);
    expect(aligned).toBeLessThanOrEqual(0.02);
    // The same measure on song B as it was (110 BPM) over the same stretch: the grid test can fail.
    expect(gridDistance(onsets(b[0]!), 0.3, 9.7, 15)).toBeGreaterThan(0.04);
    expect(gridDistance(found, 0.3, 0.5, 9.5)).toBeLessThanOrEqual(0.02);
  });

  it('holds both songs: song A in its phrase, song B (stretched and shifted) in its own', () => {
    // Song B as the engine changed it: the plan from the same measurements (ratio ≈ 1.1, −4 semitones).
    const plan = planMashup(analyse({ sampleRate: RATE, channels: a }), analyse({ sampleRate: RATE, channels: b }), [SECONDS, SECONDS]);
    expect(plan.b.ratio).toBeCloseTo(1.1, 2);
    expect(plan.b.semitones).toBe(-4);
    const changed = stretchAndShift(b, RATE, { ratio: plan.b.ratio, semitones: plan.b.semitones });
    const n = RATE;
    // Song A's phrase: A itself, sample for sample (unstretched: the two tempos are too far apart to meet).
    expect(bestCorrelation(out[0]!, a[0]!, 3 * RATE, n, 0)).toBeGreaterThan(0.95);
    // Song B's phrase: B's bar 4 (9.6 s after the stretch) at A's bar 4 (9.6 s).
    const fromB = 11 * RATE;
    expect(bestCorrelation(out[0]!, changed[0]!, fromB, n, Math.round(0.01 * RATE))).toBeGreaterThan(0.9);
    expect(bestCorrelation(out[0]!, a[0]!, fromB, n, Math.round(0.01 * RATE))).toBeLessThan(0.3);
  });

  it("brings song B into song A's key", () => {
    // Song B's phrase alone: B was in E major, and reads C major after the shift.
    const phraseB = analyse({ sampleRate: RATE, channels: out }, { fromS: 9.6, toS: SECONDS }).key!;
    expect(`${phraseB.tonic} ${phraseB.mode}`).toBe('C major');
    // The whole mashup: C major or its relative (the analyser reads A minor for song A's own opening phrase).
    const whole = analyse({ sampleRate: RATE, channels: out }).key!;
    expect(['C major', 'A minor']).toContain(`${whole.tonic} ${whole.mode}`);
  });

  it('keeps two mono songs centred in both tracks (a mono song’s two channels are one array: mixed in a copy, never twice in place)', async () => {
    const mono = (channels: Float32Array[]) => [channels[0]!];
    const monoInput: MashupInput = {
      ...input,
      sources: [
        { bytes: buildWav({ sampleRate: RATE, channels: mono(a), bits: 16 }), name: 'a.wav' },
        { bytes: buildWav({ sampleRate: RATE, channels: mono(b), bits: 16 }), name: 'b.wav' },
      ],
    };
    const made = await mashup(context, monoInput, live(), async () => {});
    for (const track of made) {
      const [left, right] = (await decodeAudio(track.master!)).channels;
      expect(right).toBeDefined();
      expect(left!.every((v, i) => Object.is(v, right![i]))).toBe(true);
    }
  });

  it('stretches both songs where their tempos meet in the middle, the first one channel at a time (a mono first song too)', async () => {
    // Song C: 104 BPM in C major, within 6 % of song A's 100: both move to the tempo between them.
    const c = song(104, 'C', 'mashup-c');
    const plan = planMashup(analyse({ sampleRate: RATE, channels: a }), analyse({ sampleRate: RATE, channels: c }), [SECONDS, SECONDS]);
    expect(plan.tempoRule).toBe('mean');
    expect(plan.a.ratio).not.toBe(1);
    const stretchedA = timeStretch(a, RATE, plan.a.ratio);
    for (const [first, second] of [
      [a, c],
      [[a[0]!], [c[0]!]],
    ]) {
      const near: MashupInput = {
        ...input,
        sources: [
          { bytes: buildWav({ sampleRate: RATE, channels: first!, bits: 16 }), name: 'a.wav' },
          { bytes: buildWav({ sampleRate: RATE, channels: second!, bits: 16 }), name: 'c.wav' },
        ],
      };
      const sheets: string[] = [];
      const made = await mashup(context, near, live(), async (p) => {
        if (p.stage === 'text') sheets.push(p.sheet);
      });
      expect(sheets[0]).toContain('between the two');
      // As long as song A stretched (the engine's own measurement of the ratio may differ in the last digits).
      expect(made[0]!.durationS).toBeCloseTo(SECONDS * plan.a.ratio, 2);
      expect(made[1]!.durationS).toBe(made[0]!.durationS);
      for (const track of made) {
        const [left, right] = (await decodeAudio(track.master!)).channels;
        // Variant 1 opens with song A as the whole-song stretch makes it; two mono songs stay centred.
        if (track === made[0]) expect(bestCorrelation(left!, stretchedA[0]!, RATE, RATE, Math.round(0.01 * RATE))).toBeGreaterThan(0.9);
        if (first !== a) expect(left!.every((v, i) => Object.is(v, right![i]))).toBe(true);
      }
    }
  });

  it('refuses a source that is not audio', async () => {
    const garbage = { ...input, sources: [input.sources[0], { bytes: new Uint8Array(3000).fill(7), name: 'x.bin' }] as MashupInput['sources'] };
    await expect(mashup(context, garbage, live(), async () => {})).rejects.toBeInstanceOf(SourceAudioError);
  });
});

/**
 * One weave mixed into new arrays, frame by frame from the phrase gains: the reference `mixWeaves`
 * must equal (it mixes both weaves at once, in the songs' own memory).
 */
function mixApart(a: Float32Array[], b: Float32Array[], bounds: number[], parts: readonly string[], fade: number): Float32Array[] {
  const gains = (part: string): [number, number] => (part === 'A' ? [1, 0] : part === 'B' ? [0, 1] : [Math.SQRT1_2, Math.SQRT1_2]);
  const out = a.map((channel) => new Float32Array(channel.length));
  for (let k = 0; k < parts.length; k++) {
    const [ga, gb] = gains(parts[k]!);
    const [pa, pb] = k > 0 ? gains(parts[k - 1]!) : [ga, gb];
    // The crossfade into phrase k ends on its first frame and starts at most `fade` before, within phrase k − 1.
    const fadeFrom = k > 0 ? Math.max(bounds[k - 1]!, bounds[k]! - fade) : bounds[k]!;
    for (let c = 0; c < out.length; c++) {
      for (let i = fadeFrom; i < bounds[k + 1]!; i++) {
        if (i < bounds[k]!) {
          const t = ((i - fadeFrom + 0.5) / (bounds[k]! - fadeFrom)) * (Math.PI / 2);
          out[c]![i] = (pa * Math.cos(t) + ga * Math.sin(t)) * a[c]![i]! + (pb * Math.cos(t) + gb * Math.sin(t)) * b[c]![i]!;
        } else out[c]![i] = ga * a[c]![i]! + gb * b[c]![i]!;
      }
    }
  }
  return out;
}

describe('mixWeaves', () => {
  it('mixes both weaves in the two songs’ own memory exactly as each apart into new arrays (no third song held)', () => {
    const cases = fc.record({
      lengths: fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }),
      fade: fc.integer({ min: 0, max: 120 }),
      seed: fc.integer({ min: 1, max: 1000 }),
    });
    fc.assert(
      fc.property(cases, ({ lengths, fade, seed }) => {
        const bounds = [0];
        for (const n of lengths) bounds.push(bounds.at(-1)! + n);
        const total = bounds.at(-1)!;
        const wave = (k: number) => [0, 1].map((c) => Float32Array.from({ length: total }, (_, i) => Math.sin(i * 0.013 * (k + c) + seed)));
        const [a, b] = [wave(1), wave(2)];
        const weaves = [phraseParts(lengths.length, 0), phraseParts(lengths.length, 1)] as const;
        const apart = weaves.map((parts) => mixApart(a, b, bounds, parts, fade));
        const [inA, inB] = [a.map((c) => Float32Array.from(c)), b.map((c) => Float32Array.from(c))];
        mixWeaves(inA, inB, bounds, weaves, fade);
        return [inA, inB].every((mixed, w) => mixed.every((c, k) => c.every((v, i) => Object.is(v, apart[w]![k]![i]))));
      }),
      { numRuns: 60 },
    );
  });
});
