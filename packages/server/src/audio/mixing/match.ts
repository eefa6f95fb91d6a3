import { gatedLoudness, measureLoudness } from '../analysis/loudness.js';

/**
 * Making new material sit at the level and with the tone colour of the
 * music around it: integrated loudness (BS.1770) of the context, and its
 * spectral tilt, the balance of energy below and above a split frequency.
 */

/** A range of frames [from, to). */
export type FrameSpan = readonly [from: number, to: number];

/**
 * Integrated loudness of several stretches of a song taken together, in LUFS: the 400 ms
 * blocks of every stretch gated as one programme (BS.1770-4), as if they were played
 * back to back. −Infinity when nothing is above the absolute gate.
 */
export function loudnessOfSpans(channels: readonly Float32Array[], sampleRate: number, spans: readonly FrameSpan[]): number {
  const blocks: number[] = [];
  for (const [from, to] of spans) {
    if (to <= from) continue;
    for (const lufs of measureLoudness(channels, sampleRate, { from, to }).momentaryLufs) {
      blocks.push(Number.isFinite(lufs) ? 10 ** ((lufs + 0.691) / 10) : 0);
    }
  }
  return gatedLoudness(blocks).lufs;
}

/** The split between "low" and "high" energy of the tilt: near the middle of the spectrum's weight in most music. */
const TILT_SPLIT_HZ = 1000;

/** Coefficient of the one-pole low-pass that splits the bands. */
const splitCoefficient = (sampleRate: number) => 1 - Math.exp((-2 * Math.PI * TILT_SPLIT_HZ) / sampleRate);

/**
 * Energy below and above the split frequency over the spans: a first-order low-pass
 * and its complement (the signal minus the low-pass), summed over channels.
 */
export function bandEnergies(channels: readonly Float32Array[], sampleRate: number, spans: readonly FrameSpan[]): { low: number; high: number } {
  const a = splitCoefficient(sampleRate);
  let low = 0;
  let high = 0;
  for (const channel of channels) {
    for (const [from, to] of spans) {
      let state = 0;
      for (let i = Math.max(0, from); i < Math.min(to, channel.length); i++) {
        state += a * (channel[i]! - state);
        const rest = channel[i]! - state;
        low += state * state;
        high += rest * rest;
      }
    }
  }
  return { low, high };
}

/**
 * The high-band gain that gives `material` the context's tilt: the high/low energy ratio
 * scales with the square of that gain. Clamped (default ±6 dB): a shelf is a nudge of tone
 * colour, not a repair of a different instrument. 1 when either has no energy to compare.
 */
export function tiltMatchGain(context: { low: number; high: number }, material: { low: number; high: number }, maxDb = 6): number {
  if (!(context.low > 0 && context.high > 0 && material.low > 0 && material.high > 0)) return 1;
  const gain = Math.sqrt(context.high / context.low / (material.high / material.low));
  const limit = 10 ** (maxDb / 20);
  return Math.min(limit, Math.max(1 / limit, gain));
}

/**
 * A first-order shelf, in place: the band above the split frequency scaled by `highGain`,
 * the band below left alone (the same split `bandEnergies` measures with).
 */
export function applyTilt(channels: Float32Array[], sampleRate: number, highGain: number): void {
  if (highGain === 1) return;
  const a = splitCoefficient(sampleRate);
  for (const channel of channels) {
    let state = 0;
    for (let i = 0; i < channel.length; i++) {
      state += a * (channel[i]! - state);
      channel[i] = state + highGain * (channel[i]! - state);
    }
  }
}

/** Close enough to the context's tilt, in dB of high/low energy ratio. */
const TILT_TOLERANCE_DB = 0.5;
const tiltDb = (e: { low: number; high: number }) => 10 * Math.log10(e.high / e.low);

/**
 * Gives `material` the tilt of `context` (band energies measured with `bandEnergies`) in
 * place, judged over `span` of the material. The two bands of a first-order split overlap,
 * so one shelf set from the energies undershoots; a second or third, set from the energies
 * measured after the first, closes the gap. Returns the change of the high band in dB.
 */
export function matchTilt(material: Float32Array[], sampleRate: number, context: { low: number; high: number }, span: FrameSpan, maxDb = 6): number {
  let totalDb = 0;
  for (let step = 0; step < 3; step++) {
    const own = bandEnergies(material, sampleRate, [span]);
    const gain = tiltMatchGain(context, own, maxDb - Math.abs(totalDb));
    if (gain === 1 || Math.abs(tiltDb(context) - tiltDb(own)) <= TILT_TOLERANCE_DB) break;
    applyTilt(material, sampleRate, gain);
    totalDb += 20 * Math.log10(gain);
  }
  return totalDb;
}
