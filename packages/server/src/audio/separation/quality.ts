/**
 * How close an estimate is to what it estimates, in dB: the measures the stem tests, the docs and
 * the benchmark report.
 */

/**
 * Signal-to-distortion ratio: the reference's energy over the energy of the difference, over all
 * channels and samples (the plain "global" SDR of source-separation evaluations; no gain or
 * filter of the estimate is forgiven). 0 dB is what silence scores; +∞ a perfect copy.
 */
export function sdr(reference: readonly Float32Array[], estimate: readonly Float32Array[]): number {
  let signal = 0;
  let error = 0;
  for (const [c, ref] of reference.entries()) {
    const est = estimate[c]!;
    for (let i = 0; i < ref.length; i++) {
      const r = ref[i]!;
      const e = r - (est[i] ?? 0);
      signal += r * r;
      error += e * e;
    }
  }
  if (error === 0) return Number.POSITIVE_INFINITY;
  return 10 * Math.log10((signal + 1e-30) / error);
}

/** Energy of channels (sum of squares over every sample). */
export function energy(channels: readonly Float32Array[]): number {
  let sum = 0;
  for (const channel of channels) for (let i = 0; i < channel.length; i++) sum += channel[i]! * channel[i]!;
  return sum;
}

/** The sum of several sets of channels, as new channels of the first's shape. */
export function sumOf(sets: readonly (readonly Float32Array[])[]): Float32Array[] {
  const first = sets[0] ?? [];
  const out = first.map((channel) => new Float32Array(channel.length));
  for (const set of sets) {
    for (const [c, channel] of set.entries()) {
      const target = out[c]!;
      for (let i = 0; i < target.length; i++) target[i]! += channel[i] ?? 0;
    }
  }
  return out;
}
