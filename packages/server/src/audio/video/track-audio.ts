import { decodeAudio } from '../codecs/decode.js';
import { AudioFormatError } from '../codecs/errors.js';
import { isWav, readWavLayout } from '../codecs/wav.js';
import { resample } from '../mixing/resample.js';
import type { Pcm } from '../pcm.js';
import { MusicVideoError } from './errors.js';

/**
 * The track's audio as the video needs it: read a piece at a time, interleaved for the AAC
 * encoder and mixed to mono for the picture. A 32-bit float WAV master (the service's lossless
 * copy of a track) is read where it lies, without a decoded copy: a 3-minute stereo song is
 * 63 MB either way, and holding it twice would be a quarter of the memory budget.
 */
export interface TrackAudio {
  readonly sampleRate: number;
  readonly channelCount: number;
  readonly frames: number;
  /** Frames [from, from + count) interleaved into `out[0 … count × channelCount)`; frames outside the track read as silence. */
  interleaved(from: number, count: number, out: Float32Array): void;
  /** The mean of the channels over frames [from, from + count) into `out[0 … count)`; frames outside the track read as silence. */
  mono(from: number, count: number, out: Float32Array): void;
  /**
   * Where the audio is interleaved 32-bit floats already (a float WAV): the bytes of frames
   * [from, from + count), which must lie inside the track, as a view (nothing copied).
   */
  interleavedBytes?(from: number, count: number): Uint8Array;
}

/** The rates AAC (ISO/IEC 14496-3) has a code for; anything else is resampled to 48 kHz. */
export const AAC_SAMPLE_RATES: readonly number[] = [96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000, 7_350];

/** The part of [from, from + count) inside [0, frames), as offsets into the request. */
function overlap(from: number, count: number, frames: number): [start: number, end: number] {
  const start = Math.min(count, Math.max(0, -from));
  const end = Math.max(start, Math.min(count, frames - from));
  return [start, end];
}

function planarAudio(pcm: Pcm): TrackAudio {
  const { channels, sampleRate } = pcm;
  const frames = channels[0]?.length ?? 0;
  const count = channels.length;
  return {
    sampleRate,
    channelCount: count,
    frames,
    interleaved(from, length, out) {
      out.fill(0, 0, length * count);
      const [start, end] = overlap(from, length, frames);
      for (let c = 0; c < count; c++) {
        const channel = channels[c]!;
        for (let i = start; i < end; i++) out[i * count + c] = channel[from + i]!;
      }
    },
    mono(from, length, out) {
      out.fill(0, 0, length);
      const [start, end] = overlap(from, length, frames);
      const scale = 1 / count;
      for (const channel of channels) for (let i = start; i < end; i++) out[i]! += channel[from + i]! * scale;
    },
  };
}

/**
 * The data chunk of a 32-bit float WAV, read where it lies. Its samples need not be 4-byte
 * aligned (a float WAV's header is 58 bytes, and a file read from storage starts its own
 * buffer), so they are copied out as bytes, a piece at a time, never as a whole-track copy.
 */
function floatWavAudio(bytes: Uint8Array, dataOffset: number, frames: number, sampleRate: number, count: number): TrackAudio {
  const data = bytes.subarray(dataOffset, dataOffset + frames * count * 4);
  let scratch = new Float32Array(0);
  /** Frames [start, end) of the request into `out`, as bytes. */
  const copy = (from: number, start: number, end: number, out: Float32Array) => {
    new Uint8Array(out.buffer, out.byteOffset + start * count * 4, (end - start) * count * 4).set(
      data.subarray((from + start) * count * 4, (from + end) * count * 4),
    );
  };
  return {
    sampleRate,
    channelCount: count,
    frames,
    interleaved(from, length, out) {
      out.fill(0, 0, length * count);
      const [start, end] = overlap(from, length, frames);
      if (end > start) copy(from, start, end, out);
    },
    interleavedBytes(from, length) {
      if (from < 0 || from + length > frames) throw new RangeError(`frames ${from}–${from + length} are outside the track (${frames})`);
      return data.subarray(from * count * 4, (from + length) * count * 4);
    },
    mono(from, length, out) {
      out.fill(0, 0, length);
      const [start, end] = overlap(from, length, frames);
      if (end <= start) return;
      if (scratch.length < length * count) scratch = new Float32Array(length * count);
      copy(from, start, end, scratch);
      const scale = 1 / count;
      for (let i = start; i < end; i++) {
        let sum = 0;
        for (let c = 0; c < count; c++) sum += scratch[i * count + c]!;
        out[i] = sum * scale;
      }
    },
  };
}

function checked(pcm: Pcm): Pcm {
  const count = pcm.channels.length;
  if (count < 1 || count > 2) throw new MusicVideoError('input', `the audio has ${count} channels; only mono and stereo are supported`);
  if (!(pcm.sampleRate >= 8000 && pcm.sampleRate <= 192_000))
    throw new MusicVideoError('input', `sample rate ${pcm.sampleRate} Hz is out of range (8–192 kHz)`);
  const frames = pcm.channels[0]!.length;
  if (pcm.channels.some((channel) => channel.length !== frames)) throw new MusicVideoError('input', 'the channels differ in length');
  if (AAC_SAMPLE_RATES.includes(pcm.sampleRate)) return pcm;
  return { sampleRate: 48_000, channels: resample(pcm.channels, pcm.sampleRate, 48_000) };
}

/**
 * The track's audio from decoded PCM or from the bytes of a file: a 32-bit float WAV is read in
 * place (nothing is copied), any other WAV or an MP3 is decoded. Unreadable audio, more than two
 * channels or no samples at all is a MusicVideoError of stage 'input'.
 */
export async function trackAudio(audio: Pcm | Uint8Array): Promise<TrackAudio> {
  let track: TrackAudio;
  if (audio instanceof Uint8Array) {
    try {
      const wav = isWav(audio) ? readWavLayout(audio) : null;
      track =
        wav?.float && wav.bitsPerSample === 32 && AAC_SAMPLE_RATES.includes(wav.sampleRate)
          ? floatWavAudio(audio, wav.dataOffset, wav.frames, wav.sampleRate, wav.channels)
          : planarAudio(checked(await decodeAudio(audio)));
    } catch (error) {
      if (error instanceof AudioFormatError) throw new MusicVideoError('input', `the audio cannot be read: ${error.message}`, { cause: error });
      throw error;
    }
  } else {
    track = planarAudio(checked(audio));
  }
  if (track.frames === 0) throw new MusicVideoError('input', 'the audio has no samples');
  return track;
}
