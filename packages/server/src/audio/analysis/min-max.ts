import { AudioFormatError } from '../codecs/errors.js';
import { streamMp3 } from '../codecs/mp3.js';
import { readMp3Layout } from '../codecs/mp3-frames.js';
import { isWav, readWavLayout, type WavLayout } from '../codecs/wav.js';

/**
 * A waveform an editor draws: for each of `points` equal stretches of the song, the lowest and
 * highest sample of its mono mix (the channels' mean), in [-1, 1]. Computed as the audio is
 * decoded, piece by piece, so a long song is never held decoded: what is kept is two arrays of
 * `points` numbers.
 */
export interface MinMaxPeaks {
  duration: number;
  sampleRate: number;
  points: number;
  min: number[];
  max: number[];
}

/** Four decimals: finer than any screen draws, and a third of the JSON of full doubles. */
const round4 = (value: number): number => Math.round(value * 10_000) / 10_000;

/**
 * Accumulates min/max per point over a song of `length` samples fed in order. Point `p` covers
 * samples [floor(p·length/points), floor((p+1)·length/points)); a point with no sample (a song
 * shorter than `points` samples, or cut short) reads 0.
 */
export function minMaxAccumulator(length: number, points: number) {
  const min = new Float64Array(points).fill(Number.POSITIVE_INFINITY);
  const max = new Float64Array(points).fill(Number.NEGATIVE_INFINITY);
  let point = 0;
  let pointEnd = Math.floor(length / points);
  return {
    /** `channels` hold samples [at, at + their length) of the song; they must come in order. */
    add(channels: readonly Float32Array[], at: number): void {
      const count = channels.length;
      const frames = channels[0]?.length ?? 0;
      for (let i = 0; i < frames; i++) {
        const index = at + i;
        if (index >= length) return;
        while (index >= pointEnd && point < points - 1) {
          point++;
          pointEnd = Math.floor(((point + 1) * length) / points);
        }
        let sum = 0;
        for (let c = 0; c < count; c++) sum += channels[c]![i]!;
        const value = sum / count;
        if (value < min[point]!) min[point] = value;
        if (value > max[point]!) max[point] = value;
      }
    },
    result(): { min: number[]; max: number[] } {
      const clamp = (value: number) => (Number.isFinite(value) ? round4(Math.max(-1, Math.min(1, value))) : 0);
      return { min: Array.from(min, clamp), max: Array.from(max, clamp) };
    },
  };
}

/** Frames of PCM converted per step: a few hundred kilobytes of floats, whatever the song's length. */
const WAV_FRAMES_PER_STEP = 1 << 15;

function wavPieces(bytes: Uint8Array, layout: WavLayout, onPiece: (channels: Float32Array[], at: number) => void): void {
  const { channels: count, bitsPerSample, dataOffset, frames } = layout;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const step = bitsPerSample / 8;
  const stride = count * step;
  const piece = Array.from({ length: count }, () => new Float32Array(WAV_FRAMES_PER_STEP));
  for (let first = 0; first < frames; first += WAV_FRAMES_PER_STEP) {
    const n = Math.min(WAV_FRAMES_PER_STEP, frames - first);
    for (let c = 0; c < count; c++) {
      const out = piece[c]!;
      let at = dataOffset + first * stride + c * step;
      for (let i = 0; i < n; i++, at += stride) out[i] = sampleAt(view, bytes, at, layout.float, bitsPerSample);
    }
    onPiece(
      piece.map((channel) => channel.subarray(0, n)),
      first,
    );
  }
}

/** One sample as `decodeWav` reads it. */
function sampleAt(view: DataView, bytes: Uint8Array, at: number, float: boolean, bits: number): number {
  if (float) return view.getFloat32(at, true);
  if (bits === 16) return view.getInt16(at, true) / 32768;
  if (bits === 24) return (((bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)) << 8) >> 8) / 8388608;
  if (bits === 32) return view.getInt32(at, true) / 2147483648;
  return (bytes[at]! - 128) / 128;
}

/** The min/max waveform of an MP3 or WAV file (format told by content); AudioFormatError for anything else. */
export async function minMaxPeaks(bytes: Uint8Array, points: number): Promise<MinMaxPeaks> {
  if (isWav(bytes)) {
    const layout = readWavLayout(bytes);
    const peaks = minMaxAccumulator(layout.frames, points);
    wavPieces(bytes, layout, peaks.add);
    return { duration: layout.frames / layout.sampleRate, sampleRate: layout.sampleRate, points, ...peaks.result() };
  }
  const layout = readMp3Layout(bytes);
  if (!layout || layout.samples === 0) throw new AudioFormatError('neither MP3 nor WAV audio');
  const peaks = minMaxAccumulator(layout.samples, points);
  const stream = await streamMp3(bytes, peaks.add, layout);
  return { duration: stream.length / stream.sampleRate, sampleRate: stream.sampleRate, points, ...peaks.result() };
}
