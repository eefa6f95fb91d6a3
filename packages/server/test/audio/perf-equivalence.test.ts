import { describe, expect, it } from 'vitest';
import { barFeatures } from '../../src/audio/analysis/chords.js';
import { analyse } from '../../src/audio/analysis/index.js';
import { chromagram } from '../../src/audio/analysis/key.js';
import { kWeightingFilters, measureLoudness } from '../../src/audio/analysis/loudness.js';
import { analysisFront, monoForAnalysis, stft } from '../../src/audio/analysis/spectrum.js';
import { besselI0, resample } from '../../src/audio/mixing/resample.js';
import { fullScores, innerProducts } from '../../src/audio/mixing/stretch.js';
import { planArrangement } from '../../src/audio/synthesis/arrangement.js';
import { barChords } from '../../src/audio/synthesis/melody.js';
import { renderSong } from '../../src/audio/synthesis/synth.js';

/**
 * The analysis was made faster without changing a single bit of what it returns (replace-section
 * keeps every frame outside its section exactly, and its analysis decides where the section
 * goes). Here the faster code is held against the plain versions it replaced, kept verbatim.
 */

/** A noisy, uneven stereo signal: every sample different, so a changed rounding would show. */
function noise(frames: number, seed: number): Float32Array[] {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  return [0, 1].map((c) => Float32Array.from({ length: frames }, (_, i) => next() * 0.8 + 0.3 * Math.sin(i * (0.01 + 0.003 * c))));
}

function oldDecimationFilter(factor: number): Float64Array {
  const half = 4 * factor;
  const taps = new Float64Array(2 * half + 1);
  const cutoff = 0.45 / factor;
  let sum = 0;
  for (let k = -half; k <= half; k++) {
    const x = 2 * cutoff * k;
    const sinc = k === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const window = 0.5 + 0.5 * Math.cos((Math.PI * k) / (half + 1));
    taps[k + half] = sinc * window;
    sum += sinc * window;
  }
  for (let k = 0; k < taps.length; k++) taps[k]! /= sum;
  return taps;
}

/** monoForAnalysis before it worked in blocks and four outputs at a time. */
function oldMonoForAnalysis(channels: readonly Float32Array[], sampleRate: number, from: number, to: number): { samples: Float32Array; sampleRate: number } {
  const factor = Math.max(1, Math.floor(sampleRate / 11_025));
  const length = Math.max(0, to - from);
  const mono = new Float32Array(length);
  const scale = 1 / Math.max(1, channels.length);
  for (const channel of channels) for (let i = 0; i < length; i++) mono[i]! += channel[from + i]! * scale;
  let out: Float32Array;
  if (factor === 1) out = mono;
  else {
    const taps = oldDecimationFilter(factor);
    const half = (taps.length - 1) / 2;
    out = new Float32Array(Math.floor(length / factor));
    for (let j = 0; j < out.length; j++) {
      const centre = j * factor;
      let acc = 0;
      const first = Math.max(0, centre - half);
      const last = Math.min(length - 1, centre + half);
      for (let i = first; i <= last; i++) acc += taps[i - centre + half]! * mono[i]!;
      out[j] = acc;
    }
  }
  let energy = 0;
  for (let i = 0; i < out.length; i++) energy += out[i]! * out[i]!;
  const rms = Math.sqrt(energy / Math.max(1, out.length));
  if (rms > 1e-9) for (let i = 0; i < out.length; i++) out[i]! /= rms;
  return { samples: out, sampleRate: sampleRate / factor };
}

/** The K-weighted energy per 100 ms step before the channels were filtered in pairs, and the momentary loudness from it. */
function oldMomentaryLufs(channels: readonly Float32Array[], sampleRate: number, from: number, to: number, weights: readonly number[] = []): number[] {
  const steps = Math.floor((to - from) / (0.1 * sampleRate));
  const bounds = Array.from({ length: steps + 1 }, (_, j) => from + Math.round(j * 0.1 * sampleRate));
  const energy = new Float64Array(steps);
  const lengths = Float64Array.from({ length: steps }, (_, j) => bounds[j + 1]! - bounds[j]!);
  const [s, h] = kWeightingFilters(sampleRate);
  const warmFrom = Math.max(0, from - Math.round(0.05 * sampleRate));
  for (const [c, channel] of channels.entries()) {
    const weight = weights[c] ?? 1;
    if (weight === 0) continue;
    let [x1, x2, y1, y2, z1, z2] = [0, 0, 0, 0, 0, 0];
    let start = warmFrom;
    for (let step = -1; step < steps; step++) {
      const end = step < 0 ? from : bounds[step + 1]!;
      let sum = 0;
      for (let i = start; i < end; i++) {
        const x = channel[i]!;
        const y = s.b0 * x + s.b1 * x1 + s.b2 * x2 - s.a1 * y1 - s.a2 * y2;
        x2 = x1;
        x1 = x;
        const z = h.b0 * y + h.b1 * y1 + h.b2 * y2 - h.a1 * z1 - h.a2 * z2;
        y2 = y1;
        y1 = y;
        z2 = z1;
        z1 = z;
        sum += z * z;
      }
      if (step >= 0) energy[step]! += weight * sum;
      start = end;
    }
  }
  const out: number[] = [];
  let e = 0;
  let n = 0;
  for (let j = 0; j < energy.length; j++) {
    e += energy[j]!;
    n += lengths[j]!;
    if (j >= 4) {
      e -= energy[j - 4]!;
      n -= lengths[j - 4]!;
    }
    if (j >= 3) {
      const meanSquare = Math.max(0, e) / n;
      out.push(meanSquare > 0 ? -0.691 + 10 * Math.log10(meanSquare) : Number.NEGATIVE_INFINITY);
    }
  }
  return out;
}

describe('faster analysis, same bits', () => {
  it('decimates to the analysis rate exactly as the plain filter loop did', () => {
    for (const rate of [44_100, 48_000, 22_050, 11_025]) {
      const channels = noise(Math.round(rate * 2.3) + 7, rate);
      const total = channels[0]!.length;
      for (const [from, to] of [
        [0, total],
        [101, total - 57],
        [5, 40],
        [0, 0],
      ] as const) {
        const fast = monoForAnalysis(channels, rate, from, to);
        const plain = oldMonoForAnalysis(channels, rate, from, to);
        expect(fast.sampleRate).toBe(plain.sampleRate);
        expect(fast.samples).toEqual(plain.samples);
      }
      // Mono and three channels take the odd paths.
      expect(monoForAnalysis(channels.slice(0, 1), rate, 3, total)).toEqual(oldMonoForAnalysis(channels.slice(0, 1), rate, 3, total));
      const three = [...channels, channels[0]!.map((v) => -v)];
      expect(monoForAnalysis(three, rate, 0, total)).toEqual(oldMonoForAnalysis(three, rate, 0, total));
    }
  });

  it('measures loudness exactly as one channel at a time did', () => {
    const rate = 44_100;
    const [left, right] = noise(rate * 5 + 123, 9) as [Float32Array, Float32Array];
    const total = left.length;
    const cases: { channels: Float32Array[]; from: number; to: number; weights?: number[] }[] = [
      { channels: [left, right], from: 0, to: total },
      { channels: [left, right], from: 4410, to: total - 999 },
      { channels: [left], from: 0, to: total },
      { channels: [left, right, right.map((v) => v * 0.5)], from: 17, to: total, weights: [1, 1, 1.41] },
      { channels: [left, right], from: 0, to: total, weights: [0, 1] },
    ];
    for (const { channels, from, to, weights } of cases) {
      const fast = measureLoudness(channels, rate, { from, to, weights });
      expect(fast.momentaryLufs).toEqual(oldMomentaryLufs(channels, rate, from, to, weights));
    }
  });

  it('reads tempo, key, bar chroma and bar chords alike with and without a shared front', () => {
    const rate = 22_050;
    const plan = planArrangement({ seed: 'front', texts: ['pop', 'piano'], form: 'song', durationS: 24 });
    const pcm = { sampleRate: rate, channels: renderSong(plan, rate, 2, 24) };
    const front = analysisFront(pcm);
    const shared = analyse(pcm, undefined, { front });
    expect(shared).toEqual(analyse(pcm));
    const grid = { starts: Array.from({ length: 12 }, (_, bar) => bar * 2), endS: 24 };
    expect(barFeatures(pcm, grid, front)).toEqual(barFeatures(pcm, grid));
    const starts = Array.from({ length: 13 }, (_, bar) => bar * 1.9);
    expect(barChords(pcm, starts, 0, 'major', front)).toEqual(barChords(pcm, starts, 0, 'major'));
    // The key's chromagram the front shares is the plain one.
    const mono = oldMonoForAnalysis(pcm.channels, rate, 0, pcm.channels[0]!.length);
    expect(front.mono()).toEqual(mono);
    expect(front.memo('key-chromagram', () => new Float32Array(0))).toEqual(chromagram(stft(mono, 4096, 1024)));
    // A window that is not the whole song is read without the front.
    expect(analyse(pcm, { fromS: 2, toS: 20 }, { front })).toEqual(analyse(pcm, { fromS: 2, toS: 20 }));
  });
});

/** The resampler before it summed four outputs at a time (its filter design unchanged, kept here verbatim). */
function oldResample(channels: Float32Array[], from: number, to: number): Float32Array[] {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(from, to);
  const phases = to / g;
  const step = from / g;
  const cutoff = 0.95 * Math.min(1, to / from);
  const half = Math.ceil(16 / cutoff);
  const taps = 2 * half;
  const table = new Float32Array(phases * taps);
  const norm = besselI0(8);
  for (let p = 0; p < phases; p++) {
    const frac = p / phases;
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const t = k - (half - 1) - frac;
      const x = cutoff * t;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const w = t / half;
      const window = Math.abs(w) >= 1 ? 0 : besselI0(8 * Math.sqrt(1 - w * w)) / norm;
      table[p * taps + k] = sinc * window;
      sum += sinc * window;
    }
    for (let k = 0; k < taps; k++) table[p * taps + k]! /= sum;
  }
  const before = half - 1;
  const outLength = Math.round(((channels[0]?.length ?? 0) * to) / from);
  return channels.map((input) => {
    const out = new Float32Array(outLength);
    const n = input.length;
    for (let j = 0; j < outLength; j++) {
      const position = j * step;
      const centre = Math.floor(position / phases);
      const row = (position - centre * phases) * taps;
      const first = centre - before;
      let acc = 0;
      if (first >= 0 && first + taps <= n) {
        for (let k = 0; k < taps; k++) acc += table[row + k]! * input[first + k]!;
      } else {
        for (let k = 0; k < taps; k++) {
          const i = first + k;
          if (i >= 0 && i < n) acc += table[row + k]! * input[i]!;
        }
      }
      out[j] = acc;
    }
    return out;
  });
}

describe('faster resampling, same bits', () => {
  it('resamples exactly as one output at a time did', () => {
    const channels = noise(20_011, 5);
    for (const [from, to] of [
      [44_100, 48_000],
      [48_000, 44_100],
      [89, 84],
      [84, 89],
      [22_050, 44_100],
      [408, 577],
      [577, 408],
    ] as const) {
      expect(resample(channels, from, to)).toEqual(oldResample(channels, from, to));
    }
  });
});

describe('faster stretch search, same bits', () => {
  it('sums every candidate’s inner product exactly as one candidate at a time did', () => {
    // The decimated search signal: single-precision values held as doubles.
    const signal = Float64Array.from(noise(4_000, 11)[0]!);
    for (const [target, first, last, length] of [
      [100, 1_000, 1_222, 507],
      [2_000, 1_800, 1_806, 64],
      [0, 3, 3, 17],
      [500, 700, 702, 1],
    ] as const) {
      const dots = new Float64Array(last - first + 1);
      innerProducts(signal, target, first, last, length, dots);
      const plain = Array.from({ length: last - first + 1 }, (_, k) => {
        let dot = 0;
        for (let n = 0; n < length; n++) dot += signal[target + n]! * signal[first + k + n]!;
        return dot;
      });
      expect(Array.from(dots)).toEqual(plain);
    }
  });

  it('scores every candidate at full rate exactly as one candidate at a time did', () => {
    const [signal] = noise(6_000, 13);
    // The last case: silence, whose score is 0.
    const quiet = new Float32Array(3_000);
    for (const [samples, target, first, last, length] of [
      [signal!, 100, 2_000, 2_008, 2_028],
      [signal!, 3_000, 2_990, 2_994, 400],
      [signal!, 0, 5, 5, 31],
      [quiet, 0, 10, 18, 100],
    ] as const) {
      const scores = new Float64Array(last - first + 1);
      fullScores(samples, target, first, last, length, scores);
      const plain = Array.from({ length: last - first + 1 }, (_, k) => {
        let dot = 0;
        let energy = 0;
        for (let n = 0; n < length; n++) {
          const v = samples[first + k + n]!;
          dot += samples[target + n]! * v;
          energy += v * v;
        }
        return energy > 0 ? dot / Math.sqrt(energy) : 0;
      });
      expect(Array.from(scores)).toEqual(plain);
    }
  });
});
