/**
 * Band-limited sample-rate conversion by a rational polyphase filter
 * (Kaiser-windowed sinc). Used only when a rate has no MP3 equivalent, so it
 * favours clarity over the last bit of speed; rendering happens at the
 * source's own rate and never needs it.
 */

const ZERO_CROSSINGS = 16;
const KAISER_BETA = 8;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Modified Bessel function of the first kind, order 0 (for Kaiser windows). */
export function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 32; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

interface Polyphase {
  /** phases × taps coefficients; row p filters the output samples at fractional position p / phases. */
  table: Float32Array;
  phases: number;
  taps: number;
  /** Input samples before the centre covered by a row. */
  before: number;
  step: number;
}

function design(from: number, to: number): Polyphase {
  const g = gcd(from, to);
  const phases = to / g;
  const step = from / g;
  // Cut off below the lower Nyquist, with a little room for the transition band.
  const cutoff = 0.95 * Math.min(1, to / from);
  const half = Math.ceil(ZERO_CROSSINGS / cutoff);
  const taps = 2 * half;
  const table = new Float32Array(phases * taps);
  const norm = besselI0(KAISER_BETA);
  for (let p = 0; p < phases; p++) {
    const frac = p / phases;
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const t = k - (half - 1) - frac; // distance from the output position, in input samples
      const x = cutoff * t;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const w = t / half;
      const window = Math.abs(w) >= 1 ? 0 : besselI0(KAISER_BETA * Math.sqrt(1 - w * w)) / norm;
      const value = sinc * window;
      table[p * taps + k] = value;
      sum += value;
    }
    // Unity gain at DC for every phase, so no ripple at the phase rate.
    for (let k = 0; k < taps; k++) table[p * taps + k]! /= sum;
  }
  return { table, phases, taps, before: half - 1, step };
}

/**
 * Resamples one channel into out[0, outLength). Output j sits at input position j × step ÷ phases:
 * its filter row is that position's fraction and its first input is `before` samples ahead of
 * the whole part, both stepped along without a division. Each output sums its taps in order;
 * away from the ends four outputs are summed in one pass (four independent sums keep the CPU's
 * adders busy where one would wait on each addition), with the same rounding.
 */
function resampleChannel(input: Float32Array, filter: Polyphase, out: Float32Array, outLength: number): Float32Array {
  const { table, taps, phases, step, before } = filter;
  const n = input.length;
  const wholeStep = Math.floor(step / phases);
  const phaseStep = step - wholeStep * phases;
  // Output j's filter phase and first input sample.
  let phase = 0;
  let first = -before;
  const advance = () => {
    phase += phaseStep;
    first += wholeStep;
    if (phase >= phases) {
      phase -= phases;
      first++;
    }
  };
  // The last input a group of four reads lies at most this far past the first one's first.
  const groupReach = Math.ceil((3 * step) / phases) + taps;
  let j = 0;
  while (j < outLength) {
    if (j + 3 < outLength && first >= 0 && first + groupReach <= n) {
      const r0 = phase * taps;
      const f0 = first;
      advance();
      const r1 = phase * taps;
      const f1 = first;
      advance();
      const r2 = phase * taps;
      const f2 = first;
      advance();
      const r3 = phase * taps;
      const f3 = first;
      advance();
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let k = 0; k < taps; k++) {
        a0 += table[r0 + k]! * input[f0 + k]!;
        a1 += table[r1 + k]! * input[f1 + k]!;
        a2 += table[r2 + k]! * input[f2 + k]!;
        a3 += table[r3 + k]! * input[f3 + k]!;
      }
      out[j] = a0;
      out[j + 1] = a1;
      out[j + 2] = a2;
      out[j + 3] = a3;
      j += 4;
      continue;
    }
    const row = phase * taps;
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
    advance();
    j++;
  }
  return out;
}

export function resample(channels: Float32Array[], from: number, to: number): Float32Array[] {
  if (from === to) return channels;
  const into = resamplerInto(from, to);
  const length = Math.round(((channels[0]?.length ?? 0) * to) / from);
  return channels.map((channel) => into(channel, new Float32Array(length)));
}

/**
 * A resampler from `from` to `to` (its filter designed once) that writes one channel into `out`
 * (silent): as `resample` makes it, cut to `out`'s length, or followed by silence where `out` is longer.
 */
export function resamplerInto(from: number, to: number): (input: Float32Array, out: Float32Array) => Float32Array {
  const filter = from === to ? null : design(from, to);
  return (input, out) => {
    const length = Math.min(out.length, Math.round((input.length * to) / from));
    if (filter) return resampleChannel(input, filter, out, length);
    out.set(input.subarray(0, length));
    return out;
  };
}
