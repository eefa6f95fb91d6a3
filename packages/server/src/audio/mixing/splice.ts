/**
 * Putting a new section into a song. Equal-power crossfades where the new
 * material is uncorrelated with the old (their powers add, so cos/sin gains
 * keep the level constant); linear ones where it is correlated (the signals
 * add as amplitudes, and equal-power would bulge by up to 3 dB). Outside the
 * crossfades the source is copied untouched, so the rest of the song stays
 * bit-identical.
 */

import type { FrameSpan } from './match.js';

export type FadeShape = 'equal-power' | 'linear';

export interface Seams {
  /** The replaced range [start, end), in frames. */
  start: number;
  end: number;
  /**
   * Frames of crossfade: the fade-in is [from, from + fadeIn), at or before `start`; the
   * fade-out is [to − fadeOut, to), at or after `end`. Between them the new material plays
   * alone (planSeams puts the fades right against the range; placed ones may leave a gap).
   */
  fadeIn: number;
  fadeOut: number;
  /** The frames the new material must cover, and the only ones that change. */
  from: number;
  to: number;
  /** Shape of each crossfade; equal-power when not given. */
  shapeIn?: FadeShape;
  shapeOut?: FadeShape;
}

/**
 * Where the crossfades go. Each fade lies outside the replaced range (the
 * range itself is all new), is at most `fadeFrames` long (one length for
 * both, or one each), no longer than the range itself, and stops at the
 * song's edges.
 */
export function planSeams(
  totalFrames: number,
  start: number,
  end: number,
  fadeFrames: number | { in: number; out: number },
  shapes: { in?: FadeShape; out?: FadeShape } = {},
): Seams {
  if (!(start >= 0 && start < end && end <= totalFrames)) throw new RangeError(`section [${start}, ${end}) is not inside [0, ${totalFrames})`);
  const lengths = typeof fadeFrames === 'number' ? { in: fadeFrames, out: fadeFrames } : fadeFrames;
  const clamp = (frames: number) => Math.max(0, Math.min(Math.round(frames), end - start));
  const fadeIn = Math.min(clamp(lengths.in), start);
  const fadeOut = Math.min(clamp(lengths.out), totalFrames - end);
  const seams: Seams = { start, end, fadeIn, fadeOut, from: start - fadeIn, to: end + fadeOut };
  if (shapes.in) seams.shapeIn = shapes.in;
  if (shapes.out) seams.shapeOut = shapes.out;
  return seams;
}

/**
 * Seams whose crossfades lie where they are given: the fade-in ending at or before `start`,
 * the fade-out beginning at or after `end`, both inside the song. Placed so (see
 * `quietCrossfades` in seams.ts), a fade's ends can keep clear of the attacks of both signals.
 */
export function seamsAt(
  totalFrames: number,
  start: number,
  end: number,
  fades: { in: FrameSpan; out: FrameSpan },
  shapes: { in?: FadeShape; out?: FadeShape } = {},
): Seams {
  const [inFrom, inTo] = fades.in;
  const [outFrom, outTo] = fades.out;
  if (!(start >= 0 && start < end && end <= totalFrames)) throw new RangeError(`section [${start}, ${end}) is not inside [0, ${totalFrames})`);
  if (!(inFrom >= 0 && inFrom <= inTo && inTo <= start)) throw new RangeError(`fade-in [${inFrom}, ${inTo}) does not end by the section's start ${start}`);
  if (!(outFrom >= end && outFrom <= outTo && outTo <= totalFrames))
    throw new RangeError(`fade-out [${outFrom}, ${outTo}) does not begin after the section's end ${end}`);
  const seams: Seams = { start, end, fadeIn: inTo - inFrom, fadeOut: outTo - outFrom, from: inFrom, to: outTo };
  if (shapes.in) seams.shapeIn = shapes.in;
  if (shapes.out) seams.shapeOut = shapes.out;
  return seams;
}

/**
 * Gains of the outgoing and incoming signal at position `x` (0..1) of a fade.
 * Equal-power: cos/sin, constant power for uncorrelated signals. Linear: 1 − x and x,
 * constant amplitude for correlated ones.
 */
function fadeGains(shape: FadeShape, x: number): [outgoing: number, incoming: number] {
  if (shape === 'linear') return [1 - x, x];
  return [Math.cos(x * (Math.PI / 2)), Math.sin(x * (Math.PI / 2))];
}

export function rms(channels: readonly Float32Array[], from = 0, to = channels[0]?.length ?? 0): number {
  let sum = 0;
  let count = 0;
  for (const channel of channels) {
    const end = Math.min(to, channel.length);
    for (let i = Math.max(0, from); i < end; i++) sum += channel[i]! * channel[i]!;
    count += Math.max(0, end - Math.max(0, from));
  }
  return count > 0 ? Math.sqrt(sum / count) : 0;
}

export function peak(channels: readonly Float32Array[]): number {
  let max = 0;
  for (const channel of channels) {
    for (let i = 0; i < channel.length; i++) {
      const v = Math.abs(channel[i]!);
      if (v > max) max = v;
    }
  }
  return max;
}

export interface LoudnessMatch {
  /** Largest correction either way, in dB (default 12): a near-silent context must not mute the section, nor a quiet section be blown up. */
  maxDb?: number;
  /** The section's peak may not exceed this after the gain (default 0.98), so matching never clips. */
  ceiling?: number;
}

/** Gain that brings `section` to `contextRms` (the RMS of the source around the seams). */
export function loudnessMatchGain(section: readonly Float32Array[], contextRms: number, options: LoudnessMatch = {}): number {
  const level = rms(section);
  if (level <= 1e-9) return 1;
  const limit = 10 ** ((options.maxDb ?? 12) / 20);
  const gain = Math.min(limit, Math.max(1 / limit, contextRms / level));
  const top = peak(section);
  return top > 0 ? Math.min(gain, (options.ceiling ?? 0.98) / top) : gain;
}

/** Scales channels in place. */
export function applyGain(channels: Float32Array[], gain: number): void {
  if (gain === 1) return;
  for (const channel of channels) for (let i = 0; i < channel.length; i++) channel[i]! *= gain;
}

/**
 * The source with `section` (covering exactly [seams.from, seams.to)) spliced
 * in. Returns new arrays of the source's length; the source is not modified.
 */
export function splice(source: readonly Float32Array[], section: readonly Float32Array[], seams: Seams): Float32Array[] {
  const out = source.map((channel) => Float32Array.from(channel));
  spliceInto(out, section, seams);
  return out;
}

/**
 * A fade-in over the whole of `incoming`, in place: each frame becomes the `outgoing` audio
 * faded out plus its own faded in, with the gains `spliceInto` uses for its fade-in (to the
 * bit). For new music rendered straight into the song it replaces, the old audio of the fade
 * having been kept aside.
 */
export function fadeInOver(incoming: readonly Float32Array[], outgoing: readonly Float32Array[], shape: FadeShape): void {
  for (const [c, into] of incoming.entries()) {
    const out = outgoing[c]!;
    const frames = out.length;
    for (let i = 0; i < frames; i++) {
      const [leaving, entering] = fadeGains(shape, (i + 0.5) / frames);
      into[i] = out[i]! * leaving + into[i]! * entering;
    }
  }
}

/**
 * `splice` in place: only [seams.from, seams.to) of `target` is written. For long songs,
 * where a second copy of the whole song would cost more memory than the work is worth.
 */
export function spliceInto(target: Float32Array[], section: readonly Float32Array[], seams: Seams): void {
  const { fadeIn, fadeOut, from, to } = seams;
  const alone: FrameSpan = [from + fadeIn, to - fadeOut];
  if (section.length !== target.length) throw new RangeError(`section has ${section.length} channels, the source ${target.length}`);
  for (const [c, added] of section.entries()) {
    if (added.length !== to - from) throw new RangeError(`section is ${added.length} frames long, the seams need ${to - from}`);
    const out = target[c]!;
    for (let i = from; i < alone[0]; i++) {
      // Sample-centred positions: neither signal is ever at exactly 0 or 1 gain inside the fade.
      const [outgoing, incoming] = fadeGains(seams.shapeIn ?? 'equal-power', (i - from + 0.5) / fadeIn);
      out[i] = out[i]! * outgoing + added[i - from]! * incoming;
    }
    out.set(added.subarray(alone[0] - from, alone[1] - from), alone[0]);
    for (let i = alone[1]; i < to; i++) {
      // Here the new material is the one going out.
      const [leaving, returning] = fadeGains(seams.shapeOut ?? 'equal-power', (i - alone[1] + 0.5) / fadeOut);
      out[i] = out[i]! * returning + added[i - from]! * leaving;
    }
  }
}
