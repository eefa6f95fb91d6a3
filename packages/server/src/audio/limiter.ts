import { interpolationPhases, TRUE_PEAK_HALF } from './analysis/loudness.js';

/**
 * A look-ahead true-peak limiter for a stretch of a song, applied offline.
 *
 * The peak of each frame is its sample or any of the three points between it
 * and the next (4× oversampled, the BS.1770 interpolator), so what is held
 * under the ceiling is what a DAC or a decoder would reconstruct, not only
 * the samples. The gain a frame needs is spread over ±`lookahead` frames (a
 * minimum filter), released slowly afterwards, and smoothed by a moving
 * average as long as the minimum filter's window: an average of values that
 * are each at most the gain a peak needs is itself at most that gain, so the
 * smoothing never lets a peak through. The gain changes slowly against the
 * interpolator's ±12 samples, which leaves a sliver of overshoot; the peaks
 * are measured again after each pass, and passes repeat until none is left.
 */

export interface LimiterOptions {
  sampleRate: number;
  /** The frames [from, to) that may change; everything else is left as it is (it is still read, as the interpolator's context). */
  from?: number;
  to?: number;
  /** The largest peak allowed, as linear amplitude: one for all, or one per frame (default −1 dBTP). */
  ceiling?: number | ((frame: number) => number);
  /** Default 2 ms. */
  lookaheadS?: number;
  /** Time for the gain to recover by 63 % after a peak; default 60 ms. */
  releaseS?: number;
}

export interface LimiterResult {
  /** The deepest gain reduction applied, in dB (0: nothing was touched). */
  maxReductionDb: number;
  /** Limiting passes made (0 when nothing was over). */
  passes: number;
}

/** −1 dBTP: the usual margin that keeps lossy encoding and resampling from clipping. */
export const DEFAULT_CEILING = 10 ** (-1 / 20);
const MAX_PASSES = 4;

const PHASES = interpolationPhases();
/** The most any interpolated point can exceed the largest sample in its window by: below ceiling / this, no point between samples can be over. */
const INTERPOLATION_GAIN = Math.max(...PHASES.map((taps) => taps.reduce((sum, tap) => sum + Math.abs(tap), 0)));

/**
 * Minimum of `values` over [i − before, i + after] for each i (van Herk / Gil-Werman:
 * block-wise prefix and suffix minima, three passes whatever the window).
 */
export function slidingMin(values: Float32Array, before: number, after: number): Float32Array {
  const n = values.length;
  const width = before + after + 1;
  const prefix = new Float32Array(n);
  const suffix = new Float32Array(n);
  for (let i = 0; i < n; i++) prefix[i] = i % width === 0 ? values[i]! : Math.min(prefix[i - 1]!, values[i]!);
  for (let i = n - 1; i >= 0; i--) suffix[i] = i === n - 1 || (i + 1) % width === 0 ? values[i]! : Math.min(suffix[i + 1]!, values[i]!);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const lo = Math.max(0, i - before);
    const hi = Math.min(n - 1, i + after);
    // [lo, hi] is at most `width` long, so it spans at most two blocks: the suffix of the first, the prefix of the second.
    out[i] = Math.floor(lo / width) === Math.floor(hi / width) && hi - lo + 1 < width ? minOf(values, lo, hi) : Math.min(suffix[lo]!, prefix[hi]!);
  }
  return out;
}

function minOf(values: Float32Array, lo: number, hi: number): number {
  let m = values[lo]!;
  for (let i = lo + 1; i <= hi; i++) if (values[i]! < m) m = values[i]!;
  return m;
}

/** True peak per frame of [from, to): the sample or the highest interpolated point after it, over all channels. */
function framePeaks(channels: readonly Float32Array[], from: number, to: number, ceilingOf: (frame: number) => number): Float32Array {
  const peaks = new Float32Array(to - from);
  const window = 2 * TRUE_PEAK_HALF;
  for (const channel of channels) {
    const length = channel.length;
    // Largest |sample| of each interpolation window, to skip the windows that cannot reach the ceiling.
    const negated = new Float32Array(to - from);
    for (let n = from; n < to; n++) negated[n - from] = -Math.abs(channel[n]!);
    const local = slidingMin(negated, TRUE_PEAK_HALF - 1, TRUE_PEAK_HALF);
    for (let n = from; n < to; n++) {
      let peak = Math.abs(channel[n]!);
      // (The sliding window stops at the range's edges; beyond them the taps read samples that are outside it.)
      const edge = n - from < TRUE_PEAK_HALF || to - n <= TRUE_PEAK_HALF;
      if (edge || -local[n - from]! * INTERPOLATION_GAIN > ceilingOf(n)) {
        const first = n - (TRUE_PEAK_HALF - 1);
        for (const taps of PHASES) {
          let acc = 0;
          for (let k = 0; k < window; k++) {
            const i = first + k;
            if (i >= 0 && i < length) acc += taps[k]! * channel[i]!;
          }
          const a = Math.abs(acc);
          if (a > peak) peak = a;
        }
      }
      if (peak > peaks[n - from]!) peaks[n - from] = peak;
    }
  }
  return peaks;
}

/** Limits [from, to) of `channels` in place so that no true peak there exceeds the ceiling. */
export function limitTruePeak(channels: Float32Array[], options: LimiterOptions): LimiterResult {
  const total = channels[0]?.length ?? 0;
  const from = Math.max(0, options.from ?? 0);
  const to = Math.min(total, options.to ?? total);
  const ceiling = options.ceiling ?? DEFAULT_CEILING;
  const ceilingOf = typeof ceiling === 'number' ? () => ceiling : ceiling;
  const lookahead = Math.max(1, Math.round((options.lookaheadS ?? 0.002) * options.sampleRate));
  const recovery = 1 - Math.exp(-1 / ((options.releaseS ?? 0.06) * options.sampleRate));
  const n = to - from;
  let deepest = 1;
  let passes = 0;
  while (n > 0 && passes < MAX_PASSES) {
    const peaks = framePeaks(channels, from, to, ceilingOf);
    const needed = new Float32Array(n);
    let over = false;
    for (let i = 0; i < n; i++) {
      const limit = ceilingOf(from + i);
      const peak = peaks[i]!;
      // A hair under the ceiling, so a pass that lands exactly on it is not followed by another.
      needed[i] = peak > limit ? (limit / peak) * 0.9999 : 1;
      if (peak > limit) over = true;
    }
    if (!over) break;
    passes++;
    const held = slidingMin(needed, lookahead, lookahead);
    // Release: the gain may rise only slowly after a peak (forward pass; it never rises above what is held).
    for (let i = 1; i < n; i++) held[i] = Math.min(held[i]!, held[i - 1]! + (1 - held[i - 1]!) * recovery);
    // Moving average over the same ±lookahead: each term is at most the gain the frame in the middle needs.
    const sums = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) sums[i + 1] = sums[i]! + held[i]!;
    for (let i = 0; i < n; i++) {
      const lo = Math.max(0, i - lookahead);
      const hi = Math.min(n, i + lookahead + 1);
      const gain = (sums[hi]! - sums[lo]!) / (hi - lo);
      if (gain < 1) for (const channel of channels) channel[from + i]! *= gain;
      if (gain < deepest) deepest = gain;
    }
  }
  return { maxReductionDb: deepest < 1 ? -20 * Math.log10(deepest) : 0, passes };
}
