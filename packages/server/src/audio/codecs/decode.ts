import type { ChannelAllocator, Pcm } from '../pcm.js';
import { AudioFormatError } from './errors.js';
import { averageBitrate, decodeMp3, streamMp3 } from './mp3.js';
import { readMp3Layout } from './mp3-frames.js';
import { type AudioFormat, probeAudio } from './probe.js';
import { decodeWav, readWavFrames, readWavLayout } from './wav.js';

/** What a source is, as far as an edit needs to know before (or instead of) decoding all of it. */
export interface AudioSource {
  format: AudioFormat;
  sampleRate: number;
  channels: number;
  /** Frames the file declares (a truncated file may hold fewer: see `decodeAudioRange`). */
  frames: number;
  /** An MP3's average bitrate in kbps (null for WAV), so an edit can be re-encoded at no lower a rate. */
  bitrateKbps: number | null;
}

export interface DecodedAudio extends Pcm {
  format: AudioFormat;
  /** An MP3's average bitrate in kbps (null for WAV), so an edit can be re-encoded at no lower a rate. */
  bitrateKbps: number | null;
}

/**
 * Decodes MP3 or WAV bytes, the format told by the content, into channels from `allocate`
 * (plain arrays by default). Anything else is an AudioFormatError saying why.
 */
export async function decodeAudio(bytes: Uint8Array, allocate?: ChannelAllocator): Promise<DecodedAudio> {
  const { format } = probeAudio(bytes);
  const decoded = format === 'wav' ? { ...decodeWav(bytes, allocate), bitrateKbps: null } : await decodeMp3(bytes, allocate);
  if (decoded.channels.length === 0) throw new AudioFormatError('the audio has no channels');
  return { sampleRate: decoded.sampleRate, channels: decoded.channels, format, bitrateKbps: decoded.bitrateKbps };
}

/** The format, rate, channels, length and bitrate of MP3 or WAV bytes, read from their headers without decoding. */
export function describeAudio(bytes: Uint8Array): AudioSource {
  const probe = probeAudio(bytes);
  if (probe.channels === 0) throw new AudioFormatError('the audio has no channels');
  if (probe.format === 'wav') return { ...probe, frames: readWavLayout(bytes).frames, bitrateKbps: null };
  const layout = readMp3Layout(bytes)!;
  return { ...probe, frames: layout.samples, bitrateKbps: averageBitrate(bytes, layout) };
}

/**
 * Frames [from, to) of MP3 or WAV bytes decoded into `into` (one array per channel, each at
 * least `to − from` long) from index 0, exactly as `decodeAudio` would give them there; an MP3
 * is decoded only as far as `to`, so an edit near a song's start reads little of it. Returns
 * how many frames of the range the file really holds (fewer where a truncated file ends early;
 * the rest of `into` is left as it was).
 */
export async function decodeAudioRange(bytes: Uint8Array, from: number, to: number, into: readonly Float32Array[]): Promise<number> {
  if (to <= from) return 0;
  const { format } = probeAudio(bytes);
  if (format === 'wav') {
    const layout = readWavLayout(bytes);
    const end = Math.min(to, layout.frames);
    if (end <= from) return 0;
    readWavFrames(bytes, layout, from, end, into);
    return end - from;
  }
  let filled = 0;
  await streamMp3(
    bytes,
    (piece, at) => {
      const first = Math.max(from, at);
      const last = Math.min(to, at + piece[0]!.length);
      if (last <= first) return;
      for (const [c, data] of piece.entries()) into[c]!.set(data.subarray(first - at, last - at), first - from);
      filled = Math.max(filled, last - from);
    },
    undefined,
    to,
  );
  return filled;
}
