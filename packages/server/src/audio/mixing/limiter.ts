import { interpolationPhases, TRUE_PEAK_HALF } from '../analysis/loudness.js';

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

/** The three in-between phases of the 4× interpolator, as a fixed triple (the inner loops name each). */
type Phases = readonly [Float64Array, Float64Array, Float64Array];
const asPhases = (rows: readonly Float64Array[]): Phases => [rows[0]!, rows[1]!, rows[2]!];
const PHASES = asPhases(interpolationPhases());
const sumOfMagnitudes = (taps: ArrayLike<number>) => Array.from(taps).reduce((sum, tap) => sum + Math.abs(tap), 0);
/** The most any interpolated point can exceed the largest sample in its window by: below ceiling / this, no point between samples can be over. */
const INTERPOLATION_GAIN = Math.max(...PHASES.map(sumOfMagnitudes));
/**
 * A first estimate from the 8 middle taps of each phase; the outer 16 taps can add at most
 * TAIL_GAIN × the window's largest sample. Only where the estimate plus that bound reaches
 * the ceiling is the full interpolator run: in loud music most frames are decided by the estimate.
 */
const SHORT_HALF = 4;
const SHORT_FIRST = TRUE_PEAK_HALF - SHORT_HALF;
const SHORT_PHASES = asPhases(PHASES.map((taps) => taps.slice(SHORT_FIRST, SHORT_FIRST + 2 * SHORT_HALF)));
const TAIL_GAIN = Math.max(...PHASES.map((taps, p) => sumOfMagnitudes(taps) - sumOfMagnitudes(SHORT_PHASES[p]!)));

/**
 * Minimum of `values` over [i − before, i + after] for each i (van Herk / Gil-Werman:
 * block-wise prefix and suffix minima, three passes whatever the window).
 */
export function slidingMin(values: Float32Array, before: number, after: number): Float32Array {
  const n = values.length;
  const width = before + after + 1;
  const prefix = new Float32Array(n);
  const suffix = new Float32Array(n);
  for (let block = 0; block < n; block += width) {
    const end = Math.min(n, block + width);
    prefix[block] = values[block]!;
    for (let i = block + 1; i < end; i++) prefix[i] = Math.min(prefix[i - 1]!, values[i]!);
    suffix[end - 1] = values[end - 1]!;
    for (let i = end - 2; i >= block; i--) suffix[i] = Math.min(suffix[i + 1]!, values[i]!);
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const lo = i - before;
    const hi = i + after;
    // A whole window spans at most two blocks: the suffix of the first and the prefix of the second.
    // Windows cut short by the ends are few and done directly.
    out[i] = lo >= 0 && hi < n ? Math.min(suffix[lo]!, prefix[hi]!) : minOf(values, Math.max(0, lo), Math.min(n - 1, hi));
  }
  return out;
}

function minOf(values: Float32Array, lo: number, hi: number): number {
  let m = values[lo]!;
  for (let i = lo + 1; i <= hi; i++) if (values[i]! < m) m = values[i]!;
  return m;
}

/** The largest magnitude of the three points that `phases` interpolate from the samples at `first` onwards (all inside the channel). */
function phasesPeak(channel: Float32Array, first: number, [t0, t1, t2]: Phases): number {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  for (let k = 0; k < t0.length; k++) {
    const v = channel[first + k]!;
    a0 += t0[k]! * v;
    a1 += t1[k]! * v;
    a2 += t2[k]! * v;
  }
  return Math.max(Math.abs(a0), Math.abs(a1), Math.abs(a2));
}

/** The three interpolated points after frame n: exactly, and estimated from the middle taps. */
const interpolatedPeak = (channel: Float32Array, n: number) => phasesPeak(channel, n - (TRUE_PEAK_HALF - 1), PHASES);
const estimatedPeak = (channel: Float32Array, n: number) => phasesPeak(channel, n - (TRUE_PEAK_HALF - 1) + SHORT_FIRST, SHORT_PHASES);

/** The same near the channel's ends, where taps beyond them read silence. */
function interpolatedPeakAtEdge(channel: Float32Array, n: number): number {
  const first = n - (TRUE_PEAK_HALF - 1);
  let peak = 0;
  for (const taps of PHASES) {
    let acc = 0;
    for (let k = 0; k < taps.length; k++) {
      const i = first + k;
      if (i >= 0 && i < channel.length) acc += taps[k]! * channel[i]!;
    }
    peak = Math.max(peak, Math.abs(acc));
  }
  return peak;
}

/** Frames per block of the quick test in `framePeaks`. */
const BLOCK = 32;

/**
 * True peak per frame of [from, to): the sample or the highest interpolated point after it,
 * over all channels. Block by block, the largest sample the block's interpolators can see
 * decides first whether any point between samples could reach the ceiling at all; in
 * most of a song none can, and the samples are the peaks.
 */
function framePeaks(channels: readonly Float32Array[], from: number, to: number, ceilingOf: (frame: number) => number): Float32Array {
  const peaks = new Float32Array(to - from);
  const ceilings = new Float32Array(to - from);
  for (let n = from; n < to; n++) ceilings[n - from] = ceilingOf(n);
  for (const channel of channels) {
    const length = channel.length;
    for (let block = from; block < to; block += BLOCK) {
      const end = Math.min(to, block + BLOCK);
      let largest = 0;
      for (let i = Math.max(0, block - (TRUE_PEAK_HALF - 1)); i < Math.min(length, end + TRUE_PEAK_HALF); i++)
        largest = Math.max(largest, Math.abs(channel[i]!));
      let ceiling = Number.POSITIVE_INFINITY;
      for (let n = block; n < end; n++) ceiling = Math.min(ceiling, ceilings[n - from]!);
      const quick = largest * INTERPOLATION_GAIN <= ceiling;
      for (let n = block; n < end; n++) {
        let peak = Math.abs(channel[n]!);
        if (!quick) {
          if (n < TRUE_PEAK_HALF - 1 || n + TRUE_PEAK_HALF >= length) peak = Math.max(peak, interpolatedPeakAtEdge(channel, n));
          else {
            // Under the ceiling for certain: the estimate is then as good as the exact value (neither needs gain).
            const estimate = Math.max(peak, estimatedPeak(channel, n));
            peak = estimate + TAIL_GAIN * largest > ceilings[n - from]! ? Math.max(peak, interpolatedPeak(channel, n)) : estimate;
          }
        }
        if (peak > peaks[n - from]!) peaks[n - from] = peak;
      }
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
    const gains = held;
    for (let i = 0; i < n; i++) {
      const lo = Math.max(0, i - lookahead);
      const hi = Math.min(n, i + lookahead + 1);
      gains[i] = Math.min(1, (sums[hi]! - sums[lo]!) / (hi - lo));
      if (gains[i]! < deepest) deepest = gains[i]!;
    }
    for (const channel of channels) for (let i = 0; i < n; i++) channel[from + i]! *= gains[i]!;
  }
  // The passes converge on all but rare, heavily over signals: the gain changes within the
  // interpolator's span can leave a new peak between samples a hundredth of a dB over. What is
  // left then goes with one uniform gain over the range, which scales exactly the peaks whose
  // interpolator reads only samples of the range (near its ends, samples outside count too, and
  // no gain inside can bring those under).
  if (passes === MAX_PASSES) {
    const peaks = framePeaks(channels, from, to, ceilingOf);
    let uniform = 1;
    for (let i = TRUE_PEAK_HALF - 1; i < n - TRUE_PEAK_HALF; i++) uniform = Math.min(uniform, ceilingOf(from + i) / peaks[i]!);
    if (uniform < 1) {
      uniform *= 0.9999;
      for (const channel of channels) for (let i = 0; i < n; i++) channel[from + i]! *= uniform;
      deepest *= uniform;
    }
  }
  return { maxReductionDb: deepest < 1 ? -20 * Math.log10(deepest) : 0, passes };
}
