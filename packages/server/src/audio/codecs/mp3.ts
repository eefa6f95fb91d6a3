import { resample } from '../mixing/resample.js';
import { type ChannelAllocator, type Pcm, silence } from '../pcm.js';
import { AudioFormatError } from './errors.js';
import { encodeWithLame } from './lame.js';
import {
  buildInfoFrame,
  type FrameHeader,
  frameLength,
  LAME_ENCODER_DELAY,
  MPEG1_FRAME_SAMPLES,
  type Mp3Layout,
  readFrameHeader,
  readMp3Layout,
} from './mp3-frames.js';
import { decodeMpeg } from './mpg123.js';

/** MP3 via mpg123 (decode, wasm) and LAME (encode, native or wasm: lame.ts), with gapless trimming done here. */

/** Decoded MP3: the PCM and the stream's average bitrate (so an edit can be re-encoded no worse). */
export interface DecodedMp3 extends Pcm {
  bitrateKbps: number;
}

/** What `streamMp3` found, once it has decoded everything. */
export interface Mp3Stream {
  layout: Mp3Layout;
  /** Samples of the song the stream held (its declared length, or less when it is truncated; with `until`, as far as it was decoded). */
  length: number;
  sampleRate: number;
}

function layoutOf(bytes: Uint8Array): Mp3Layout {
  const layout = readMp3Layout(bytes);
  if (!layout) throw new AudioFormatError('no MPEG Layer III frames found (not an MP3 file)');
  return layout;
}

/**
 * Decodes an MP3 piece by piece, dropping the encoder delay and padding that its LAME tag
 * declares (or the decoder delay without one): `onAudio` gets each piece of the song as it
 * comes, as channel arrays (valid only during the call) and the index of their first sample.
 * Nothing of the song is held beyond the piece being handed over. With `until`, decoding stops
 * once the song's samples before it are out (a few pieces past it may still come).
 */
export async function streamMp3(
  bytes: Uint8Array,
  onAudio: (channels: Float32Array[], at: number) => void,
  layout: Mp3Layout = layoutOf(bytes),
  until = Number.POSITIVE_INFINITY,
): Promise<Mp3Stream> {
  // Stream samples [skip, skip + samples) are the song; we trim ourselves, so probe and decode agree exactly.
  const end = layout.skip + layout.samples;
  const channels = layout.header.channels;
  let decodedSamples = 0;
  let sampleRate = layout.header.sampleRate;
  try {
    // From the first audio frame: the Info frame and ID3 tag are not audio.
    await decodeMpeg(
      bytes.subarray(layout.firstFrame),
      (left, right, rate) => {
        sampleRate = rate;
        const first = Math.max(decodedSamples, layout.skip);
        const last = Math.min(decodedSamples + left.length, end);
        // mpg123 always hands out two channels; a mono file's are copies of each other.
        if (last > first) {
          const span = [first - decodedSamples, last - decodedSamples] as const;
          onAudio(channels === 1 ? [left.subarray(...span)] : [left.subarray(...span), right.subarray(...span)], first - layout.skip);
        }
        decodedSamples += left.length;
      },
      layout.skip + until,
    );
  } catch (error) {
    throw new AudioFormatError(`the MP3 frames could not be decoded (${error instanceof Error ? error.message : String(error)})`);
  }
  const available = decodedSamples - layout.skip;
  if (decodedSamples === 0 || available <= 0) throw new AudioFormatError('the MP3 frames could not be decoded');
  // A tagged file is exactly `samples` long. The decoder may stop a little short of the padding
  // (read as silence); a truncated file is as long as what is there.
  const shortfall = layout.samples - available;
  const length = shortfall > 0 && shortfall >= layout.header.samplesPerFrame ? available : layout.samples;
  return { layout, length, sampleRate };
}

/**
 * Decodes raw MPEG frames (no tag, no trimming) with a fresh decoder, piece by piece: all that
 * the decoder puts out for them, per channel, handed to `onAudio` as it comes (valid only
 * during the call) with the index of its first sample. Returns how many samples there were.
 * For comparing two runs of frames decoded alike without holding either.
 */
export function decodeRawFrames(frames: Uint8Array, channels: number, onAudio: (piece: Float32Array[], at: number) => void): Promise<number> {
  let decodedSamples = 0;
  return decodeMpeg(frames, (left, right) => {
    onAudio(channels === 1 ? [left] : [left, right], decodedSamples);
    decodedSamples += left.length;
  });
}

/** Decodes an MP3 whole (see `streamMp3`) into channels from `allocate`, with the bitrate of its frames. */
export async function decodeMp3(bytes: Uint8Array, allocate: ChannelAllocator = silence): Promise<DecodedMp3> {
  const declared = layoutOf(bytes);
  // The declared length; a truncated file is cut to what it holds below.
  let channels = allocate(declared.header.channels, declared.samples);
  const stream = await streamMp3(
    bytes,
    (piece, at) => {
      for (const [c, data] of piece.entries()) channels[c]!.set(data, at);
    },
    declared,
  );
  const { layout, length, sampleRate } = stream;
  if (length < layout.samples) {
    const held = channels;
    channels = allocate(held.length, length);
    for (const [c, channel] of channels.entries()) channel.set(held[c]!.subarray(0, length));
  }
  return { sampleRate, channels, bitrateKbps: averageBitrate(bytes, layout) };
}

/** An MP3's average bitrate in kbps, from the size of its frames and their duration. */
export function averageBitrate(bytes: Uint8Array, layout: Mp3Layout): number {
  const seconds = (layout.frames * layout.header.samplesPerFrame) / layout.header.sampleRate;
  return seconds > 0 ? Math.round(((bytes.length - layout.firstFrame) * 8) / seconds / 1000) : layout.header.bitrateKbps;
}

/** Bitrates `encodeMp3` writes: 192 kbps is the floor (transparent for most music at 44.1 kHz). */
export const MP3_BITRATES = [192, 224, 256, 320] as const;
export type Mp3Bitrate = (typeof MP3_BITRATES)[number];

/** The lowest bitrate we write that is at least `kbps` (so re-encoding never drops below the source's rate). */
export function mp3BitrateAtLeast(kbps: number): Mp3Bitrate {
  return MP3_BITRATES.find((rate) => rate >= kbps) ?? 320;
}

/** MP3 (MPEG-1 Layer III) has these rates; others are resampled to the nearest family member. */
export function mp3SampleRate(rate: number): 32000 | 44100 | 48000 {
  if (rate === 32000 || rate === 44100 || rate === 48000) return rate;
  if (rate % 11025 === 0) return 44100;
  if (rate < 32000 && 32000 % rate === 0) return 32000;
  return 48000;
}

export interface Mp3Options {
  /** CBR bitrate in kbps (default 192). */
  bitrate?: Mp3Bitrate;
}

/** LAME's output for some PCM: bare frames (no tag), each a whole frame. */
export interface Mp3Frames {
  audio: Uint8Array;
  /** Offset of every frame in `audio`. */
  offsets: number[];
  first: FrameHeader;
}

/**
 * Encodes planar PCM at an MP3 rate into bare CBR frames. Decoded without trimming,
 * frame j holds the input from sample j × samplesPerFrame − (576 + 529) on. `reserve`
 * bytes before `audio` in its buffer are left free (see `encodeWithLame`).
 */
export async function encodeMp3Frames(channels: readonly Float32Array[], sampleRate: number, bitrate: Mp3Bitrate, reserve = 0): Promise<Mp3Frames> {
  const count = channels.length;
  if (count !== 1 && count !== 2) throw new AudioFormatError(`cannot encode ${count} channels as MP3 (mono or stereo only)`);
  const audio = await encodeWithLame(channels, sampleRate, bitrate, { reserve });
  const first = readFrameHeader(audio, 0);
  if (!first) throw new Error('LAME produced no MPEG frames');
  const offsets: number[] = [];
  for (let at = 0; at < audio.length; ) {
    const header = readFrameHeader(audio, at);
    if (!header) throw new Error(`LAME produced a broken frame at byte ${at}`);
    offsets.push(at);
    at += header.length;
  }
  return { audio, offsets, first };
}

/**
 * CBR MP3 with an Info/LAME tag carrying delay and padding, so decoders return
 * exactly `pcm`'s samples. Rates MP3 lacks are resampled (the duration in
 * seconds is kept to within a sample). The tag is written in room left before the
 * frames, so the song's bytes are held once.
 */
export async function encodeMp3(pcm: Pcm, options: Mp3Options = {}): Promise<Uint8Array> {
  const count = pcm.channels.length;
  if (count !== 1 && count !== 2) throw new AudioFormatError(`cannot encode ${count} channels as MP3 (mono or stereo only)`);
  const sampleRate = mp3SampleRate(pcm.sampleRate);
  const channels = resample(pcm.channels, pcm.sampleRate, sampleRate);
  const samples = channels[0]!.length;
  const bitrate = options.bitrate ?? 192;
  // The Info frame is one frame without its padding byte.
  const reserve = frameLength(MPEG1_FRAME_SAMPLES, bitrate, sampleRate, false);
  const { audio, offsets, first } = await encodeMp3Frames(channels, sampleRate, bitrate, reserve);
  const frames = offsets.length;
  const padding = frames * first.samplesPerFrame - LAME_ENCODER_DELAY - samples;
  if (padding < 0 || padding > 4095) return audio; // cannot be described by a LAME tag; never seen
  const info = buildInfoFrame(audio, first, frames, LAME_ENCODER_DELAY, padding);
  const tagged = new Uint8Array(audio.buffer, audio.byteOffset - info.length, info.length + audio.length);
  tagged.set(info);
  return tagged;
}

/** Copies `parts` one after another into `out`, which is exactly as long as they are together. */
function joinInto<T extends Uint8Array | Float32Array>(parts: readonly T[], out: T): T {
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const totalLength = (parts: readonly ArrayLike<number>[]): number => parts.reduce((sum, part) => sum + part.length, 0);

export const concat = (parts: readonly Uint8Array[]): Uint8Array => joinInto(parts, new Uint8Array(totalLength(parts)));
export const concatSamples = (parts: readonly Float32Array[]): Float32Array => joinInto(parts, new Float32Array(totalLength(parts)));
