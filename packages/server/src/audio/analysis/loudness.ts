import { besselI0 } from '../mixing/resample.js';

/**
 * Loudness after ITU-R BS.1770-4 (and EBU R 128 / Tech 3341 for the block
 * lengths): K-weighting, mean square per channel, channel weights, and the
 * two-stage gate for the integrated value. True peak by 4× oversampling.
 *
 * The K-weighting filters are given in the standard for 48 kHz only; here
 * they are derived for any rate from their analogue prototypes (a high shelf
 * and a high-pass, by the bilinear transform), which reproduces the published
 * 48 kHz coefficients.
 */

export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/** Prototype parameters that reproduce the BS.1770 48 kHz coefficients. */
const SHELF = { hz: 1681.974450955533, gainDb: 3.999843853973347, q: 0.7071752369554196 };
const HIGH_PASS = { hz: 38.13547087602444, q: 0.5003270373238773 };

/** Stage 1 (head-related high shelf) and stage 2 (RLB high-pass) for `sampleRate`. */
export function kWeightingFilters(sampleRate: number): readonly [Biquad, Biquad] {
  let k = Math.tan((Math.PI * SHELF.hz) / sampleRate);
  const vh = 10 ** (SHELF.gainDb / 20);
  const vb = vh ** 0.4996667741545416;
  let a0 = 1 + k / SHELF.q + k * k;
  const shelf: Biquad = {
    b0: (vh + (vb * k) / SHELF.q + k * k) / a0,
    b1: (2 * (k * k - vh)) / a0,
    b2: (vh - (vb * k) / SHELF.q + k * k) / a0,
    a1: (2 * (k * k - 1)) / a0,
    a2: (1 - k / SHELF.q + k * k) / a0,
  };
  k = Math.tan((Math.PI * HIGH_PASS.hz) / sampleRate);
  a0 = 1 + k / HIGH_PASS.q + k * k;
  // The standard's high-pass numerator is (1, −2, 1) unnormalised: its gain at Nyquist is not exactly 1, by design.
  const highPass: Biquad = { b0: 1, b1: -2, b2: 1, a1: (2 * (k * k - 1)) / a0, a2: (1 - k / HIGH_PASS.q + k * k) / a0 };
  return [shelf, highPass];
}

/** 100 ms: the hop of momentary and short-term loudness, and the unit blocks are built from. */
const STEP_S = 0.1;
const MOMENTARY_STEPS = 4; // 400 ms
const SHORT_TERM_STEPS = 30; // 3 s
const ABSOLUTE_GATE_LUFS = -70;
const RELATIVE_GATE_LU = -10;
/** Samples of signal before the window run through the filters first, so their state has settled. */
const WARM_UP_S = 0.05;

const lufsOf = (meanSquare: number) => (meanSquare > 0 ? -0.691 + 10 * Math.log10(meanSquare) : Number.NEGATIVE_INFINITY);

export interface LoudnessOptions {
  /** First and last frame (exclusive) of the measured window; default the whole signal. */
  from?: number;
  to?: number;
  /** Weight per channel (BS.1770: 1 for L, R, C; 1.41 for surrounds; 0 for LFE). Default 1 each. */
  weights?: readonly number[];
  /** Also compute the true peak (costs more than the rest together). */
  truePeak?: boolean;
}

export interface Loudness {
  /** Gated integrated loudness, LUFS; −Infinity when every block is below the absolute gate. */
  integratedLufs: number;
  /** Momentary (400 ms) loudness every 100 ms, LUFS; value j covers [j, j + 4) × 100 ms from the window's start. */
  momentaryLufs: number[];
  /** Short-term (3 s) loudness every 100 ms; value j covers [j, j + 30) × 100 ms. Empty if the window is under 3 s. */
  shortTermLufs: number[];
  maxMomentaryLufs: number;
  maxShortTermLufs: number;
  /** dBTP, when asked for. */
  truePeakDbtp: number | null;
  /** 0..1: how much gated signal the integrated value rests on (full confidence from 10 s). */
  confidence: number;
}

/** The K-weighting's two biquads as plain numbers, so the per-sample loops below hold them in registers. */
interface KCoefficients {
  sb0: number;
  sb1: number;
  sb2: number;
  sa1: number;
  sa2: number;
  hb0: number;
  hb1: number;
  hb2: number;
  ha1: number;
  ha2: number;
}

function kCoefficients(sampleRate: number): KCoefficients {
  const [s, h] = kWeightingFilters(sampleRate);
  return { sb0: s.b0, sb1: s.b1, sb2: s.b2, sa1: s.a1, sa2: s.a2, hb0: h.b0, hb1: h.b1, hb2: h.b2, ha1: h.a1, ha2: h.a2 };
}

/** Where each 100 ms step of [from, to) ends (the last partial step dropped), and where the warm-up starts. */
interface StepPlan {
  from: number;
  warmFrom: number;
  /** bounds[j] is the first frame of step j; bounds[steps] the end of the last. */
  bounds: Int32Array;
  steps: number;
}

function stepPlan(sampleRate: number, from: number, to: number): StepPlan {
  const steps = Math.floor((to - from) / (STEP_S * sampleRate));
  const bounds = Int32Array.from({ length: steps + 1 }, (_, j) => from + Math.round(j * STEP_S * sampleRate));
  return { from, warmFrom: Math.max(0, from - Math.round(WARM_UP_S * sampleRate)), bounds, steps };
}

/** One channel's K-weighted energy per step, times `weight`, added to `energy`. Direct form I, two stages, in double precision; the warm-up's output is not counted. */
function addChannelEnergies(channel: Float32Array, weight: number, k: KCoefficients, plan: StepPlan, energy: Float64Array): void {
  const { sb0, sb1, sb2, sa1, sa2, hb0, hb1, hb2, ha1, ha2 } = k;
  const { bounds, steps } = plan;
  let x1 = 0;
  let x2 = 0;
  let y1 = 0;
  let y2 = 0;
  let z1 = 0;
  let z2 = 0;
  let start = plan.warmFrom;
  for (let step = -1; step < steps; step++) {
    const end = step < 0 ? plan.from : bounds[step + 1]!;
    let sum = 0;
    for (let i = start; i < end; i++) {
      const x = channel[i]!;
      const y = sb0 * x + sb1 * x1 + sb2 * x2 - sa1 * y1 - sa2 * y2;
      x2 = x1;
      x1 = x;
      const z = hb0 * y + hb1 * y1 + hb2 * y2 - ha1 * z1 - ha2 * z2;
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

/**
 * The same for a pair of channels at once, with exactly the arithmetic of two calls of
 * `addChannelEnergies` (each step's energy gets the first channel's sum, then the second's):
 * the filters' recursions are chains of dependent operations, and two independent chains in
 * one loop run in about the time of one.
 */
function addPairEnergies(
  left: Float32Array,
  right: Float32Array,
  weights: readonly [number, number],
  k: KCoefficients,
  plan: StepPlan,
  energy: Float64Array,
): void {
  const { sb0, sb1, sb2, sa1, sa2, hb0, hb1, hb2, ha1, ha2 } = k;
  const { bounds, steps } = plan;
  const [wl, wr] = weights;
  let [lx1, lx2, ly1, ly2, lz1, lz2] = [0, 0, 0, 0, 0, 0];
  let [rx1, rx2, ry1, ry2, rz1, rz2] = [0, 0, 0, 0, 0, 0];
  let start = plan.warmFrom;
  for (let step = -1; step < steps; step++) {
    const end = step < 0 ? plan.from : bounds[step + 1]!;
    let sumL = 0;
    let sumR = 0;
    for (let i = start; i < end; i++) {
      const xl = left[i]!;
      const xr = right[i]!;
      const yl = sb0 * xl + sb1 * lx1 + sb2 * lx2 - sa1 * ly1 - sa2 * ly2;
      const yr = sb0 * xr + sb1 * rx1 + sb2 * rx2 - sa1 * ry1 - sa2 * ry2;
      lx2 = lx1;
      lx1 = xl;
      rx2 = rx1;
      rx1 = xr;
      const zl = hb0 * yl + hb1 * ly1 + hb2 * ly2 - ha1 * lz1 - ha2 * lz2;
      const zr = hb0 * yr + hb1 * ry1 + hb2 * ry2 - ha1 * rz1 - ha2 * rz2;
      ly2 = ly1;
      ly1 = yl;
      ry2 = ry1;
      ry1 = yr;
      lz2 = lz1;
      lz1 = zl;
      rz2 = rz1;
      rz1 = zr;
      sumL += zl * zl;
      sumR += zr * zr;
    }
    if (step >= 0) {
      energy[step]! += wl * sumL;
      energy[step]! += wr * sumR;
    }
    start = end;
  }
}

/**
 * Weighted sum over channels of the K-weighted signal's energy in each 100 ms
 * step of [from, to); the last partial step is dropped.
 */
function stepEnergies(
  channels: readonly Float32Array[],
  sampleRate: number,
  from: number,
  to: number,
  weights: readonly number[],
): { energy: Float64Array; lengths: Float64Array } {
  const plan = stepPlan(sampleRate, from, to);
  const { bounds, steps } = plan;
  const energy = new Float64Array(steps);
  const lengths = Float64Array.from({ length: steps }, (_, j) => bounds[j + 1]! - bounds[j]!);
  const k = kCoefficients(sampleRate);
  const weighted = channels.map((channel, c) => ({ channel, weight: weights[c] ?? 1 })).filter(({ weight }) => weight !== 0);
  let c = 0;
  // Same-length pairs run together; a channel left over (mono, or an odd one) runs alone.
  for (; c + 1 < weighted.length && weighted[c]!.channel.length === weighted[c + 1]!.channel.length; c += 2) {
    addPairEnergies(weighted[c]!.channel, weighted[c + 1]!.channel, [weighted[c]!.weight, weighted[c + 1]!.weight], k, plan, energy);
  }
  for (; c < weighted.length; c++) addChannelEnergies(weighted[c]!.channel, weighted[c]!.weight, k, plan, energy);
  return { energy, lengths };
}

/** Mean square of blocks of `span` steps, one block per step. */
function blocks(energy: Float64Array, lengths: Float64Array, span: number): Float64Array {
  const count = Math.max(0, energy.length - span + 1);
  const out = new Float64Array(count);
  let e = 0;
  let n = 0;
  for (let j = 0; j < energy.length; j++) {
    e += energy[j]!;
    n += lengths[j]!;
    if (j >= span) {
      e -= energy[j - span]!;
      n -= lengths[j - span]!;
    }
    if (j >= span - 1) out[j - span + 1] = Math.max(0, e) / n;
  }
  return out;
}

/** BS.1770 gating over 400 ms blocks: drop blocks under −70 LUFS, then those 10 LU under the mean of the rest. */
export function gatedLoudness(blockMeanSquares: ArrayLike<number>): { lufs: number; blocksKept: number } {
  const absoluteGate = 10 ** ((ABSOLUTE_GATE_LUFS + 0.691) / 10);
  let sum = 0;
  let count = 0;
  for (let j = 0; j < blockMeanSquares.length; j++) {
    const z = blockMeanSquares[j]!;
    if (z > absoluteGate) {
      sum += z;
      count++;
    }
  }
  if (count === 0) return { lufs: Number.NEGATIVE_INFINITY, blocksKept: 0 };
  const relativeGate = (sum / count) * 10 ** (RELATIVE_GATE_LU / 10);
  let kept = 0;
  let keptCount = 0;
  for (let j = 0; j < blockMeanSquares.length; j++) {
    const z = blockMeanSquares[j]!;
    if (z > absoluteGate && z > relativeGate) {
      kept += z;
      keptCount++;
    }
  }
  return { lufs: lufsOf(kept / keptCount), blocksKept: keptCount };
}

const maxOf = (values: readonly number[]) => values.reduce((m, v) => Math.max(m, v), Number.NEGATIVE_INFINITY);

export function measureLoudness(channels: readonly Float32Array[], sampleRate: number, options: LoudnessOptions = {}): Loudness {
  const length = channels[0]?.length ?? 0;
  const from = Math.max(0, Math.min(length, options.from ?? 0));
  const to = Math.max(from, Math.min(length, options.to ?? length));
  const { energy, lengths } = stepEnergies(channels, sampleRate, from, to, options.weights ?? []);
  const momentary = blocks(energy, lengths, MOMENTARY_STEPS);
  const shortTerm = blocks(energy, lengths, SHORT_TERM_STEPS);
  const { lufs, blocksKept } = gatedLoudness(momentary);
  const momentaryLufs = Array.from(momentary, lufsOf);
  const shortTermLufs = Array.from(shortTerm, lufsOf);
  return {
    integratedLufs: lufs,
    momentaryLufs,
    shortTermLufs,
    maxMomentaryLufs: maxOf(momentaryLufs),
    maxShortTermLufs: maxOf(shortTermLufs),
    truePeakDbtp: options.truePeak ? truePeakDbtp(channels, sampleRate, from, to) : null,
    // Blocks overlap by 75 %: 100 kept blocks span about 10 s.
    confidence: Math.min(1, blocksKept / 100),
  };
}

/** Integrated loudness of [from, to) in LUFS. */
export const integratedLoudness = (channels: readonly Float32Array[], sampleRate: number, from?: number, to?: number): number =>
  measureLoudness(channels, sampleRate, { from, to }).integratedLufs;

/** Taps per phase of the 4× interpolator: ±12 input samples around the output point. */
export const TRUE_PEAK_HALF = 12;
const OVERSAMPLING = 4;

/**
 * Kaiser-windowed sinc interpolator rows for the three in-between phases (phase 0 is the sample itself).
 * Row p, tap k weighs input sample n + k − (TRUE_PEAK_HALF − 1) for the point (p + 1)/4 after sample n.
 */
export function interpolationPhases(): Float64Array[] {
  const beta = 7;
  const norm = besselI0(beta);
  return Array.from({ length: OVERSAMPLING - 1 }, (_, p) => {
    const frac = (p + 1) / OVERSAMPLING;
    const taps = new Float64Array(2 * TRUE_PEAK_HALF);
    let sum = 0;
    for (let k = 0; k < taps.length; k++) {
      const t = k - (TRUE_PEAK_HALF - 1) - frac; // position of input sample n + k − (half − 1) relative to the output point
      const sinc = Math.sin(Math.PI * t) / (Math.PI * t);
      const w = t / (TRUE_PEAK_HALF + 0.5);
      const window = Math.abs(w) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - w * w)) / norm;
      taps[k] = sinc * window;
      sum += sinc * window;
    }
    for (let k = 0; k < taps.length; k++) taps[k]! /= sum;
    return taps;
  });
}

/**
 * True peak in dBTP: the largest magnitude of the signal oversampled 4× (BS.1770-4 Annex 2).
 * Rates of 176.4 kHz and more are already fine enough and are read as they are.
 */
export function truePeakDbtp(channels: readonly Float32Array[], sampleRate: number, from = 0, to = channels[0]?.length ?? 0): number {
  const phases = sampleRate >= 176_400 ? [] : interpolationPhases();
  let max = 0;
  for (const channel of channels) {
    const end = Math.min(to, channel.length);
    for (let n = Math.max(0, from); n < end; n++) {
      const v = Math.abs(channel[n]!);
      if (v > max) max = v;
      const first = n - (TRUE_PEAK_HALF - 1);
      for (const taps of phases) {
        let acc = 0;
        for (let k = 0; k < taps.length; k++) {
          const i = first + k;
          if (i >= 0 && i < channel.length) acc += taps[k]! * channel[i]!;
        }
        const a = Math.abs(acc);
        if (a > max) max = a;
      }
    }
  }
  return max > 0 ? 20 * Math.log10(max) : Number.NEGATIVE_INFINITY;
}
