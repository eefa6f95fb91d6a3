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
 *
 * A pass streams: it measures a block of peaks a little ahead of where it
 * applies gain, so it holds a few hundred frames of state whatever the song's
 * length, and the samples it measures are never ones it has already changed.
 * A later pass measures only where the one before changed something (the
 * changed frames and the interpolator's reach around them): everywhere else the
 * peaks were under the ceiling and their samples are as they were.
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

/** The largest magnitude of the three points that `phases` interpolate from the samples at `first` onwards (all inside the channel). */
function phasesPeak(channel: Float32Array, first: number, t0: Float64Array, t1: Float64Array, t2: Float64Array): number {
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

const [P0, P1, P2] = PHASES;
const [S0, S1, S2] = SHORT_PHASES;

/** The three interpolated points after frame n: exactly, and estimated from the middle taps. */
const interpolatedPeak = (channel: Float32Array, n: number) => phasesPeak(channel, n - (TRUE_PEAK_HALF - 1), P0, P1, P2);
const estimatedPeak = (channel: Float32Array, n: number) => phasesPeak(channel, n - (TRUE_PEAK_HALF - 1) + SHORT_FIRST, S0, S1, S2);

/** The same near the channel's ends, where taps beyond them read silence. */
function interpolatedPeakAtEdge(channel: Float32Array, n: number): number {
  const first = n - (TRUE_PEAK_HALF - 1);
  let peak = 0;
  for (const taps of [P0, P1, P2]) {
    let acc = 0;
    for (let k = 0; k < taps.length; k++) {
      const i = first + k;
      if (i >= 0 && i < channel.length) acc += taps[k]! * channel[i]!;
    }
    peak = Math.max(peak, Math.abs(acc));
  }
  return peak;
}

/** Frames per block of the quick test in `measureBlock`. */
const BLOCK = 32;
/** A gain this close to 1 is 1: the release tail stops here instead of crawling on for seconds. */
const NEGLIGIBLE = 1e-7;

/** A stretch of frames [start, end). */
type Span = readonly [number, number];

/** What every pass of one limiting shares. */
interface Setting {
  from: number;
  to: number;
  ceilingOf: (frame: number) => number;
  /** Frames each way over which a peak's gain is held and smoothed. */
  lookahead: number;
  /** How much of the gain reduction is left after one frame of release. */
  decay: number;
}

/**
 * True peak per frame of [x0, x1) into `peaks` (from index 0): the sample or the highest
 * interpolated point after it, over all channels. The largest sample the block's
 * interpolators can see decides first whether any point between samples could reach the
 * ceiling at all; in most of a song none can, and then no frame is measured (false: no
 * peak of the block is over, and `peaks` is left as it was).
 */
function measureBlock(channels: readonly Float32Array[], x0: number, x1: number, ceilings: Float32Array, peaks: Float32Array): boolean {
  let ceiling = Number.POSITIVE_INFINITY;
  for (let n = x0; n < x1; n++) ceiling = Math.min(ceiling, ceilings[n - x0]!);
  if (near.length < channels.length) near = new Float64Array(channels.length);
  for (let c = 0; c < channels.length; c++) near[c] = largestNear(channels[c]!, x0, x1);
  let anyNear = false;
  // Written so that a NaN counts as near.
  for (let c = 0; c < channels.length; c++) anyNear ||= !(near[c]! * INTERPOLATION_GAIN <= ceiling);
  if (!anyNear) return false;
  peaks.fill(0, 0, x1 - x0);
  for (let c = 0; c < channels.length; c++) {
    const channel = channels[c]!;
    const length = channel.length;
    const quick = near[c]! * INTERPOLATION_GAIN <= ceiling;
    const tail = TAIL_GAIN * near[c]!;
    for (let n = x0; n < x1; n++) {
      let peak = Math.abs(channel[n]!);
      if (!quick) {
        if (n < TRUE_PEAK_HALF - 1 || n + TRUE_PEAK_HALF >= length) peak = Math.max(peak, interpolatedPeakAtEdge(channel, n));
        else {
          // Under the ceiling for certain: the estimate is then as good as the exact value (neither needs gain).
          const estimate = Math.max(peak, estimatedPeak(channel, n));
          peak = estimate + tail > ceilings[n - x0]! ? Math.max(peak, interpolatedPeak(channel, n)) : estimate;
        }
      }
      if (peak > peaks[n - x0]!) peaks[n - x0] = peak;
    }
  }
  return true;
}

/** Per channel, the largest sample the current block's interpolators read (scratch: blocks are measured one at a time). */
let near = new Float64Array(2);

/** The largest sample magnitude the interpolators of frames [x0, x1) read. */
function largestNear(channel: Float32Array, x0: number, x1: number): number {
  let value = 0;
  const end = Math.min(channel.length, x1 + TRUE_PEAK_HALF);
  for (let i = Math.max(0, x0 - (TRUE_PEAK_HALF - 1)); i < end; i++) value = Math.max(value, Math.abs(channel[i]!));
  return value;
}

/** Frames a pass handles at once: its state is a few chunks long whatever the song's length. */
const CHUNK = 4096;

/**
 * Reductions (1 − the gain a frame's peak needs; 0 where it is under) of [x0, x1) into
 * `out` from index `at`: measured inside the span, 0 outside it.
 */
function measureReductions(
  channels: readonly Float32Array[],
  x0: number,
  x1: number,
  [m0, m1]: Span,
  ceilingOf: (frame: number) => number,
  out: Float32Array,
  at: number,
): boolean {
  out.fill(0, at, at + (x1 - x0));
  const peaks = new Float32Array(BLOCK);
  const ceilings = new Float32Array(BLOCK);
  let over = false;
  for (let b0 = Math.max(x0, m0); b0 < Math.min(x1, m1); b0 += BLOCK) {
    const b1 = Math.min(x1, m1, b0 + BLOCK);
    for (let x = b0; x < b1; x++) ceilings[x - b0] = ceilingOf(x);
    if (!measureBlock(channels, b0, b1, ceilings, peaks)) continue;
    for (let x = b0; x < b1; x++) {
      const peak = peaks[x - b0]!;
      const limit = ceilings[x - b0]!;
      // A hair under the ceiling, so a pass that lands exactly on it is not followed by another.
      if (peak > limit) {
        out[at + x - x0] = 1 - (limit / peak) * 0.9999;
        over = true;
      }
    }
  }
  return over;
}

/**
 * One pass over the peaks of `span`: the gain each over-ceiling peak needs (as a reduction,
 * 1 − gain), held over ±L frames by a running maximum, released at `decay` per frame, and
 * smoothed by a moving average over ±L, applied in place. Chunk by chunk: the reductions
 * are measured 2L frames ahead of the chunk whose gain is applied (so the samples measured
 * are never ones this pass changed), the released reductions L frames ahead. Adds each run
 * of changed frames to `changed`.
 */
function limitSpan(channels: readonly Float32Array[], span: Span, setting: Setting, changed: Span[]): { over: boolean; deepest: number } {
  const { from, to, ceilingOf, lookahead: L, decay } = setting;
  const start = Math.max(from, span[0] - 2 * L);
  // reductions[i] is frame eBase + i, for [g0 − L, g1 + 2L); released[i] is frame g0 − L + i, for [g0 − L, g1 + L).
  let reductions = new Float32Array(CHUNK + 3 * L);
  let nextReductions = new Float32Array(CHUNK + 3 * L);
  let released = new Float32Array(CHUNK + 2 * L);
  let nextReleased = new Float32Array(CHUNK + 2 * L);
  // The running maximum's frames, their reductions decreasing from the front.
  const queue = new Int32Array(CHUNK + 4 * L + 2);
  let head = 0;
  let tail = 0;
  let over = measureReductions(channels, start, Math.min(to, start + 2 * L), span, ceilingOf, reductions, L);
  let eBase = start - L;
  let previous = 0;
  let deepest = 1;
  let run: [number, number] | null = null;

  /** Held and released reductions of [p, q) into `released` (frame g0 − L at index 0). */
  const release = (p: number, q: number, g0: number): void => {
    for (let b = p; b < q; b++) {
      let d = 0;
      const entering = b + L;
      if (entering < to) {
        const value = reductions[entering - eBase]!;
        if (value > 0) {
          while (tail > head && reductions[queue[tail - 1]! - eBase]! <= value) tail--;
          queue[tail++] = entering;
        }
      }
      // Before `start` the reductions only enter the running maximum (nothing is held there).
      if (b >= start && b < to) {
        while (tail > head && queue[head]! < b - L) head++;
        const held = tail > head ? reductions[queue[head]! - eBase]! : 0;
        d = previous * decay;
        if (held > d) d = held;
        if (d < NEGLIGIBLE) d = 0;
      }
      previous = d;
      released[b - (g0 - L)] = d;
    }
  };
  release(start - L, Math.min(to, start + L), start);

  for (let g0 = start; g0 < to; g0 += CHUNK) {
    const g1 = Math.min(to, g0 + CHUNK);
    const fresh = measureReductions(
      channels,
      Math.min(to, g0 + 2 * L),
      Math.min(to, g1 + 2 * L),
      span,
      ceilingOf,
      reductions,
      Math.min(to, g0 + 2 * L) - eBase,
    );
    over ||= fresh;
    // With nothing held, nothing released and nothing new over, the chunk releases nothing.
    if (fresh || tail > head || previous > 0) release(Math.min(to, g0 + L), Math.min(to, g1 + L), g0);
    else released.fill(0, 2 * L);
    // Frames past the range release nothing.
    released.fill(0, Math.max(0, Math.min(to, g1 + L) - (g0 - L)));
    // Gain over the chunk: one minus the mean released reduction over ±L (the window cut at the range's ends).
    let sum = 0;
    for (let b = Math.max(from, g0 - L); b < Math.min(to, g0 + L); b++) sum += released[b - (g0 - L)]!;
    let any = false;
    for (let b = 0; b < g1 - g0 + 2 * L && !any; b++) any = released[b]! > 0;
    if (any) {
      for (let t = g0; t < g1; t++) {
        if (t + L < to) sum += released[t + L - (g0 - L)]!;
        const lo = Math.max(from, t - L);
        const hi = Math.min(to, t + L + 1);
        if (sum > 0) {
          const gain = 1 - sum / (hi - lo);
          for (let c = 0; c < channels.length; c++) channels[c]![t]! *= gain;
          if (gain < deepest) deepest = gain;
          if (run && run[1] === t) run[1] = t + 1;
          else {
            if (run) changed.push(run);
            run = [t, t + 1];
          }
        }
        if (t - L >= lo) sum -= released[t - L - (g0 - L)]!;
        // Rounding must not leave a gain where nothing is released.
        if (sum < NEGLIGIBLE / 2) sum = 0;
      }
    }
    // Past the span, with nothing held and nothing released ahead, every gain from here on is 1.
    let pending = tail > head || previous > 0;
    for (let b = g1 - g0; b < g1 - g0 + 2 * L && !pending; b++) pending = released[b]! > 0;
    if (g1 + 2 * L >= span[1] && !pending) break;
    // The next chunk's state: the last 3L reductions and 2L released reductions move to the front.
    nextReductions.set(reductions.subarray(g1 - L - eBase, g1 + 2 * L - eBase));
    [reductions, nextReductions] = [nextReductions, reductions];
    // The queue's frames stay valid (they are absolute); only the base moves.
    eBase = g1 - L;
    queue.copyWithin(0, head, tail);
    tail -= head;
    head = 0;
    nextReleased.set(released.subarray(g1 - g0, g1 - g0 + 2 * L));
    [released, nextReleased] = [nextReleased, released];
  }
  if (run) changed.push(run);
  return { over, deepest };
}

/** Spans grown by `margin` each way within [from, to), overlapping ones merged. */
function widened(spans: readonly Span[], margin: number, from: number, to: number): Span[] {
  const merged: [number, number][] = [];
  for (const [s, e] of [...spans].sort((x, y) => x[0] - y[0])) {
    const span: [number, number] = [Math.max(from, s - margin), Math.min(to, e + margin)];
    const last = merged.at(-1);
    if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
    else merged.push(span);
  }
  return merged;
}

/** Limits [from, to) of `channels` in place so that no true peak there exceeds the ceiling. */
export function limitTruePeak(channels: Float32Array[], options: LimiterOptions): LimiterResult {
  const total = channels[0]?.length ?? 0;
  const from = Math.max(0, options.from ?? 0);
  const to = Math.min(total, options.to ?? total);
  const ceiling = options.ceiling ?? DEFAULT_CEILING;
  const ceilingOf = typeof ceiling === 'number' ? () => ceiling : ceiling;
  // At least half the interpolator's reach: a pass must measure past the frames it changes.
  const lookahead = Math.max(TRUE_PEAK_HALF / 2, Math.round((options.lookaheadS ?? 0.002) * options.sampleRate));
  const decay = Math.exp(-1 / ((options.releaseS ?? 0.06) * options.sampleRate));
  const setting: Setting = { from, to, ceilingOf, lookahead, decay };
  let spans: Span[] = to > from ? [[from, to]] : [];
  let deepest = 1;
  let passes = 0;
  while (spans.length > 0 && passes < MAX_PASSES) {
    const changed: Span[] = [];
    let over = false;
    for (const span of spans) {
      const pass = limitSpan(channels, span, setting, changed);
      over ||= pass.over;
      deepest = Math.min(deepest, pass.deepest);
    }
    if (!over) break;
    passes++;
    // Only where samples changed, or an interpolator reads changed samples, can a peak be new.
    spans = widened(changed, TRUE_PEAK_HALF, from, to);
  }
  // The passes converge on all but rare, heavily over signals: the gain changes within the
  // interpolator's span can leave a new peak between samples a hundredth of a dB over. What is
  // left then goes with one uniform gain over the range, which scales exactly the peaks whose
  // interpolator reads only samples of the range (near its ends, samples outside count too, and
  // no gain inside can bring those under).
  if (passes === MAX_PASSES) {
    let uniform = 1;
    const peaks = new Float32Array(BLOCK);
    const ceilings = new Float32Array(BLOCK);
    const inner0 = from + TRUE_PEAK_HALF - 1;
    const inner1 = to - TRUE_PEAK_HALF;
    for (const [s, e] of spans) {
      for (let x0 = Math.max(s, inner0); x0 < Math.min(e, inner1); x0 += BLOCK) {
        const x1 = Math.min(e, inner1, x0 + BLOCK);
        for (let x = x0; x < x1; x++) ceilings[x - x0] = ceilingOf(x);
        if (!measureBlock(channels, x0, x1, ceilings, peaks)) continue;
        for (let x = x0; x < x1; x++) uniform = Math.min(uniform, ceilings[x - x0]! / peaks[x - x0]!);
      }
    }
    if (uniform < 1) {
      uniform *= 0.9999;
      for (const channel of channels) for (let i = from; i < to; i++) channel[i]! *= uniform;
      deepest *= uniform;
    }
  }
  return { maxReductionDb: deepest < 1 ? -20 * Math.log10(deepest) : 0, passes };
}
