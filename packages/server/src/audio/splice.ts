/**
 * Putting a new section into a song. Equal-power crossfades because the new
 * material is uncorrelated with the old (for correlated material a linear
 * fade would be right instead). Outside the crossfades the source is copied
 * untouched, so the rest of the song stays bit-identical.
 */

export interface Seams {
  /** The replaced range [start, end), in frames. */
  start: number;
  end: number;
  /** Frames of crossfade before `start` and after `end` (shorter near the song's edges). */
  fadeIn: number;
  fadeOut: number;
  /** The frames the new material must cover: [start − fadeIn, end + fadeOut). */
  from: number;
  to: number;
}

/**
 * Where the crossfades go. Each fade lies outside the replaced range (the
 * range itself is all new), is at most `fadeFrames` long, no longer than the
 * range itself, and stops at the song's edges.
 */
export function planSeams(totalFrames: number, start: number, end: number, fadeFrames: number): Seams {
  if (!(start >= 0 && start < end && end <= totalFrames)) throw new RangeError(`section [${start}, ${end}) is not inside [0, ${totalFrames})`);
  const fade = Math.max(0, Math.min(Math.round(fadeFrames), end - start));
  const fadeIn = Math.min(fade, start);
  const fadeOut = Math.min(fade, totalFrames - end);
  return { start, end, fadeIn, fadeOut, from: start - fadeIn, to: end + fadeOut };
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
  const { start, end, fadeIn, fadeOut, from, to } = seams;
  if (section.length !== source.length) throw new RangeError(`section has ${section.length} channels, the source ${source.length}`);
  return source.map((original, c) => {
    const added = section[c]!;
    if (added.length !== to - from) throw new RangeError(`section is ${added.length} frames long, the seams need ${to - from}`);
    const out = Float32Array.from(original);
    for (let i = from; i < to; i++) {
      const fresh = added[i - from]!;
      if (i < start) {
        // Sample-centred positions: neither signal is ever at exactly 0 or 1 gain inside the fade.
        const x = ((i - from + 0.5) / fadeIn) * (Math.PI / 2);
        out[i] = original[i]! * Math.cos(x) + fresh * Math.sin(x);
      } else if (i >= end) {
        const x = ((i - end + 0.5) / fadeOut) * (Math.PI / 2);
        out[i] = original[i]! * Math.sin(x) + fresh * Math.cos(x);
      } else {
        out[i] = fresh;
      }
    }
    return out;
  });
}
