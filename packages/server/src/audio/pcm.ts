/**
 * Planar float PCM, the one shape every audio function here speaks: one
 * Float32Array per channel, all the same length, nominally in [-1, 1].
 */
export interface Pcm {
  sampleRate: number;
  channels: Float32Array[];
}

export function frameCount(pcm: Pcm): number {
  return pcm.channels[0]?.length ?? 0;
}

export function durationOf(pcm: Pcm): number {
  return frameCount(pcm) / pcm.sampleRate;
}

/** `count` silent channels of `frames` samples. */
export function silence(count: number, frames: number): Float32Array[] {
  return Array.from({ length: count }, () => new Float32Array(frames));
}

/**
 * Where a decoder puts a song: `count` zeroed channels of `frames` samples. The default is
 * `silence`; a caller that will write the song out again can lay the channels out for that
 * (see `floatWavChannels`).
 */
export type ChannelAllocator = (count: number, frames: number) => Float32Array[];
