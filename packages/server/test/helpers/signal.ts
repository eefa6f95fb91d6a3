/** Measurements for the section-replacement quality tests: where signals are equal, how far apart, how shifted. */

/** A range of frames [from, to). */
export type Span = readonly [from: number, to: number];

/**
 * The parts of [0, total) farther than `margin` frames from every edited span: where an
 * edit must leave the song alone. Spans are [startFrame, endFrame) of each section.
 */
export function outside(total: number, edits: readonly Span[], margin: number): Span[] {
  const cuts = edits.map(([from, to]) => [Math.max(0, from - margin), Math.min(total, to + margin)] as const).sort((a, b) => a[0] - b[0]);
  const spans: Span[] = [];
  let at = 0;
  for (const [from, to] of cuts) {
    if (from > at) spans.push([at, from]);
    at = Math.max(at, to);
  }
  if (at < total) spans.push([at, total]);
  return spans;
}

/** Frames in `spans` where `a` and `b` differ in any channel (0 = sample-for-sample equal). */
export function differingFrames(a: readonly Float32Array[], b: readonly Float32Array[], spans: readonly Span[]): number {
  let differing = 0;
  for (const [from, to] of spans) {
    for (let i = from; i < to; i++) if (a.some((channel, c) => channel[i] !== b[c]![i])) differing++;
  }
  return differing;
}

/** Signal-to-noise ratio of `test` against `reference` over `spans`, in dB (Infinity when equal). */
export function snrDb(reference: readonly Float32Array[], test: readonly Float32Array[], spans: readonly Span[]): number {
  let signal = 0;
  let noise = 0;
  for (const [c, ref] of reference.entries()) {
    const other = test[c]!;
    for (const [from, to] of spans) {
      for (let i = from; i < to; i++) {
        signal += ref[i]! * ref[i]!;
        noise += (ref[i]! - other[i]!) ** 2;
      }
    }
  }
  return noise === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
}

/**
 * How many frames `test` lags `reference` over `span` (positive: `test` is late), found as the
 * peak of their cross-correlation within ±`maxLag` frames and refined to a fraction of a frame
 * by a parabola through the peak and its neighbours.
 */
export function lagByCrossCorrelation(reference: Float32Array, test: Float32Array, span: Span, maxLag: number): number {
  const [from, to] = span;
  if (from - maxLag < 0 || to + maxLag > test.length) throw new RangeError('the span and lag window must lie inside the signal');
  const correlation = new Float64Array(2 * maxLag + 1);
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let sum = 0;
    for (let i = from; i < to; i++) sum += reference[i]! * test[i + lag]!;
    correlation[lag + maxLag] = sum;
  }
  let best = 0;
  for (let k = 1; k < correlation.length; k++) if (correlation[k]! > correlation[best]!) best = k;
  if (best === 0 || best === correlation.length - 1) return best - maxLag;
  const [left, centre, right] = [correlation[best - 1]!, correlation[best]!, correlation[best + 1]!];
  const curvature = left - 2 * centre + right;
  return best - maxLag + (curvature < 0 ? (0.5 * (left - right)) / curvature : 0);
}

/** The lowest SNR of any `block`-frame stretch of `span` (a click or a broken frame shows here, where a long average hides it). */
export function worstBlockSnrDb(reference: readonly Float32Array[], test: readonly Float32Array[], span: Span, block: number): number {
  let worst = Number.POSITIVE_INFINITY;
  for (let at = span[0]; at < span[1]; at += block) worst = Math.min(worst, snrDb(reference, test, [[at, Math.min(span[1], at + block)]]));
  return worst;
}
