import fs from 'node:fs';
import { type ChannelAllocator, type Pcm, silence } from '../pcm.js';
import { AudioFormatError } from './errors.js';
import { interleaveStereoInPlace } from './interleave.js';

/**
 * WAV (RIFF/WAVE) reading and writing. Hand-written because the general
 * libraries convert bit depths about 200× slower than a typed-array loop.
 * Reads integer PCM (8/16/24/32-bit) and 32-bit float, plain or
 * WAVE_FORMAT_EXTENSIBLE, mono or stereo; writes 16-bit PCM (for people) or
 * 32-bit float (the lossless master: exactly the engine's Float32 samples).
 */

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** The tail shared by every KSDATAFORMAT_SUBTYPE GUID (after its first two bytes, the format tag). */
const SUBTYPE_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

export interface WavLayout {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  float: boolean;
  /** Byte offset of the first sample. */
  dataOffset: number;
  /** Whole frames present in the file (a truncated or streamed file is read as far as it goes). */
  frames: number;
}

const ascii = (bytes: Uint8Array, at: number, length: number): string => String.fromCharCode(...bytes.subarray(at, at + length));

export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WAVE';
}

function formatName(tag: number): string {
  const known: Record<number, string> = { 2: 'ADPCM', 6: 'A-law', 7: 'µ-law', 17: 'IMA ADPCM', 80: 'MPEG', 85: 'MP3' };
  return known[tag] ?? `format tag 0x${tag.toString(16)}`;
}

/** Reads the header chunks only: enough for probing and for decoding. */
export function readWavLayout(bytes: Uint8Array): WavLayout {
  if (!isWav(bytes)) throw new AudioFormatError('not a RIFF/WAVE file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let format: Omit<WavLayout, 'dataOffset' | 'frames'> | null = null;
  let blockAlign = 0;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = ascii(bytes, offset, 4);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw new AudioFormatError('WAV fmt chunk is truncated');
      let tag = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const sampleRate = view.getUint32(body + 4, true);
      blockAlign = view.getUint16(body + 12, true);
      const bitsPerSample = view.getUint16(body + 14, true);
      if (tag === WAVE_FORMAT_EXTENSIBLE) {
        if (size < 40 || body + 40 > bytes.length) throw new AudioFormatError('WAV extensible fmt chunk is truncated');
        tag = view.getUint16(body + 24, true);
        const tail = bytes.subarray(body + 26, body + 40);
        if (!SUBTYPE_TAIL.every((b, i) => tail[i] === b)) throw new AudioFormatError('WAV extensible sub-format is not PCM or float');
      }
      if (tag !== WAVE_FORMAT_PCM && tag !== WAVE_FORMAT_IEEE_FLOAT)
        throw new AudioFormatError(`WAV encoding ${formatName(tag)} is not supported (only integer PCM and IEEE float)`);
      const float = tag === WAVE_FORMAT_IEEE_FLOAT;
      if (channels !== 1 && channels !== 2) throw new AudioFormatError(`WAV has ${channels} channels; only mono and stereo are supported`);
      if (sampleRate < 8000 || sampleRate > 192_000) throw new AudioFormatError(`WAV sample rate ${sampleRate} Hz is out of range (8–192 kHz)`);
      const supported = float ? bitsPerSample === 32 : [8, 16, 24, 32].includes(bitsPerSample);
      if (!supported) throw new AudioFormatError(`WAV ${float ? 'float' : 'PCM'} at ${bitsPerSample} bits per sample is not supported`);
      if (blockAlign !== (channels * bitsPerSample) / 8) throw new AudioFormatError('WAV block alignment does not match its channels and bit depth');
      format = { sampleRate, channels, bitsPerSample, float };
    } else if (id === 'data') {
      if (!format) throw new AudioFormatError('WAV data chunk comes before its fmt chunk');
      // Streaming writers leave the size at 0 or 0xFFFFFFFF, truncated files are short: read what is there.
      const available = Math.max(0, bytes.length - body);
      const dataBytes = size === 0 || size > available ? available : size;
      return { ...format, dataOffset: body, frames: Math.floor(dataBytes / blockAlign) };
    }
    offset = body + size + (size % 2);
  }
  throw new AudioFormatError(format ? 'WAV file has no data chunk' : 'WAV file has no fmt chunk');
}

export function decodeWav(bytes: Uint8Array, allocate: ChannelAllocator = silence): Pcm {
  const layout = readWavLayout(bytes);
  const channels = allocate(layout.channels, layout.frames);
  readWavFrames(bytes, layout, 0, layout.frames, channels);
  return { sampleRate: layout.sampleRate, channels };
}

/** Frames [from, to) of a WAV (within its `frames`) as floats into `out`, from index 0. */
export function readWavFrames(bytes: Uint8Array, layout: WavLayout, from: number, to: number, out: readonly Float32Array[]): void {
  const { channels: count, bitsPerSample, dataOffset } = layout;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const step = bitsPerSample / 8;
  const stride = count * step;
  const frames = to - from;
  for (let c = 0; c < count; c++) {
    const channel = out[c]!;
    let at = dataOffset + from * stride + c * step;
    if (layout.float) {
      for (let i = 0; i < frames; i++, at += stride) channel[i] = view.getFloat32(at, true);
    } else if (bitsPerSample === 16) {
      for (let i = 0; i < frames; i++, at += stride) channel[i] = view.getInt16(at, true) / 32768;
    } else if (bitsPerSample === 24) {
      for (let i = 0; i < frames; i++, at += stride) {
        const v = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16);
        channel[i] = ((v << 8) >> 8) / 8388608; // sign-extend 24 → 32 bits
      }
    } else if (bitsPerSample === 32) {
      for (let i = 0; i < frames; i++, at += stride) channel[i] = view.getInt32(at, true) / 2147483648;
    } else {
      for (let i = 0; i < frames; i++, at += stride) channel[i] = (bytes[at]! - 128) / 128; // 8-bit is unsigned
    }
  }
}

export type WavEncoding = 'pcm16' | 'float32';

export interface WavOptions {
  /**
   * `pcm16` (default): clamped and rounded, no dither (output must be a pure function of the input).
   * `float32`: the samples as they are, unclipped, so decoding gives back the very same Float32 values.
   */
  encoding?: WavEncoding;
}

/** Frames interleaved at a time when writing float WAV. */
const FLOAT_BLOCK_FRAMES = 65_536;

/** Bytes before the samples: RIFF, fmt (with cbSize for float), fact (float only) and data headers. */
const headerBytes = (float: boolean) => 12 + 8 + (float ? 18 : 16) + (float ? 12 : 0) + 8;

/**
 * Frames [first, min(to, first + FLOAT_BLOCK_FRAMES)) of planar channels interleaved into `block`
 * (FLOAT_BLOCK_FRAMES frames of every channel); how many frames that was.
 */
function interleaveFloatBlock(channels: readonly Float32Array[], first: number, to: number, block: Float32Array): number {
  const count = channels.length;
  const n = Math.min(FLOAT_BLOCK_FRAMES, to - first);
  for (let c = 0; c < count; c++) {
    const input = channels[c]!;
    for (let i = 0, j = c; i < n; i++, j += count) block[j] = input[first + i]!;
  }
  return n;
}

/** Writes the header of a WAV of `frames` frames into `bytes` (which starts where the file starts). */
function writeHeader(bytes: Uint8Array, pcm: { sampleRate: number; count: number; frames: number }, float: boolean): void {
  const { sampleRate, count, frames } = pcm;
  const bytesPerSample = float ? 4 : 2;
  const dataBytes = frames * count * bytesPerSample;
  // Non-PCM formats carry a cbSize field in fmt and a fact chunk (frame count), as the RIFF spec asks.
  const fmtSize = float ? 18 : 16;
  const header = headerBytes(float);
  const view = new DataView(bytes.buffer, bytes.byteOffset, header);
  const text = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) bytes[at + i] = s.charCodeAt(i);
  };
  text(0, 'RIFF');
  view.setUint32(4, header - 8 + dataBytes, true);
  text(8, 'WAVE');
  text(12, 'fmt ');
  view.setUint32(16, fmtSize, true);
  view.setUint16(20, float ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM, true);
  view.setUint16(22, count, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * count * bytesPerSample, true);
  view.setUint16(32, count * bytesPerSample, true);
  view.setUint16(34, bytesPerSample * 8, true);
  let at = 20 + fmtSize;
  if (float) {
    view.setUint16(at - 2, 0, true); // cbSize
    text(at, 'fact');
    view.setUint32(at + 4, 4, true);
    view.setUint32(at + 8, frames, true);
    at += 12;
  }
  text(at, 'data');
  view.setUint32(at + 4, dataBytes, true);
}

const checkChannelCount = (count: number) => {
  if (count < 1 || count > 2) throw new AudioFormatError(`cannot write ${count} channels as WAV (mono or stereo only)`);
};

export function encodeWav(pcm: Pcm, options: WavOptions = {}): Uint8Array {
  const count = pcm.channels.length;
  checkChannelCount(count);
  const float = options.encoding === 'float32';
  const frames = pcm.channels[0]!.length;
  const header = headerBytes(float);
  const bytes = new Uint8Array(header + frames * count * (float ? 4 : 2));
  writeHeader(bytes, { sampleRate: pcm.sampleRate, count, frames }, float);
  if (float) {
    // Interleaved in an aligned array, then copied after the 58-byte header (a Float32Array view
    // cannot start there), a block at a time so that a long song is not held twice. Every
    // platform Node ships on is little-endian, like WAV.
    const block = new Float32Array(FLOAT_BLOCK_FRAMES * count);
    const blockBytes = new Uint8Array(block.buffer);
    for (let first = 0; first < frames; first += FLOAT_BLOCK_FRAMES) {
      const n = interleaveFloatBlock(pcm.channels, first, frames, block);
      bytes.set(blockBytes.subarray(0, n * count * 4), header + first * count * 4);
    }
    return bytes;
  }
  // A typed-array view is ~10× faster than DataView here.
  const samples = new Int16Array(bytes.buffer, header, frames * count);
  for (let c = 0; c < count; c++) {
    const input = pcm.channels[c]!;
    for (let i = 0, j = c; i < frames; i++, j += count) {
      // ×32768 mirrors the decoder's ÷32768, so 16-bit PCM survives a round trip bit-exactly.
      const v = Math.round(input[i]! * 32768);
      samples[j] = Math.min(32767, Math.max(-32768, v));
    }
  }
  return bytes;
}

/**
 * A float WAV written to a file piece by piece, in order, for a song that is never held whole
 * (replace-section on a long MP3): byte for byte what `encodeWav(…, { encoding: 'float32' })`
 * would write for the same samples. The length is declared up front, as the header needs it;
 * `finish` checks it was kept. `discard` removes the file (a task that failed leaves none).
 */
export class FloatWavFileWriter {
  private readonly fd: number;
  private readonly block: Float32Array;
  private written = 0;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly format: { sampleRate: number; count: number; frames: number },
  ) {
    checkChannelCount(format.count);
    const header = new Uint8Array(headerBytes(true));
    writeHeader(header, format, true);
    this.fd = fs.openSync(path, 'wx');
    this.block = new Float32Array(FLOAT_BLOCK_FRAMES * format.count);
    try {
      fs.writeSync(this.fd, header);
    } catch (error) {
      this.discard();
      throw error;
    }
  }

  /** Frames written so far: the next `append` starts at this frame of the song. */
  get frames(): number {
    return this.written;
  }

  /** Appends frames [from, to) of `channels` (the next frames of the song). */
  append(channels: readonly Float32Array[], from = 0, to = channels[0]!.length): void {
    const { count } = this.format;
    if (this.written + (to - from) > this.format.frames) throw new RangeError(`a float WAV of ${this.format.frames} frames was given more`);
    const bytes = new Uint8Array(this.block.buffer);
    for (let first = from; first < to; first += FLOAT_BLOCK_FRAMES) {
      const n = interleaveFloatBlock(channels, first, to, this.block);
      fs.writeSync(this.fd, bytes, 0, n * count * 4);
      this.written += n;
    }
  }

  /** Closes the file, which must hold every frame declared; its path and size. */
  finish(): { path: string; bytes: number } {
    if (this.written !== this.format.frames) {
      this.discard();
      throw new Error(`a float WAV of ${this.format.frames} frames was closed after ${this.written}`);
    }
    this.closed = true;
    fs.closeSync(this.fd);
    return { path: this.path, bytes: headerBytes(true) + this.format.frames * this.format.count * 4 };
  }

  /** Closes and removes the file (nothing half-written stays behind). */
  discard(): void {
    if (!this.closed) {
      this.closed = true;
      fs.closeSync(this.fd);
    }
    fs.rmSync(this.path, { force: true });
  }
}

/**
 * Where the samples start in a buffer from `floatWavChannels`: after the float header, rounded
 * up to a whole float so the channels can be Float32Array views. The file then starts
 * `SAMPLES_AT - 58` bytes into the buffer.
 */
const SAMPLES_AT = Math.ceil(headerBytes(true) / 4) * 4;

/**
 * Silent planar channels of `frames` samples, laid out one after the other in a single buffer
 * with room for a float WAV header in front. `encodeFloatWavInPlace` then writes the lossless
 * master in their own memory: a long song is held once, not once planar and once as a file.
 */
export function floatWavChannels(count: number, frames: number): Float32Array[] {
  checkChannelCount(count);
  const buffer = new ArrayBuffer(SAMPLES_AT + count * frames * 4);
  return Array.from({ length: count }, (_, c) => new Float32Array(buffer, SAMPLES_AT + c * frames * 4, frames));
}

/** True if the channels are exactly as `floatWavChannels` made them: one buffer, back to back, nothing else in it. */
export function inFloatWavLayout(channels: readonly Float32Array[]): boolean {
  const frames = channels[0]!.length;
  const buffer = channels[0]!.buffer;
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength !== SAMPLES_AT + channels.length * frames * 4) return false;
  return channels.every((channel, c) => channel.buffer === buffer && channel.length === frames && channel.byteOffset === SAMPLES_AT + c * frames * 4);
}

/**
 * Byte for byte `encodeWav(pcm, { encoding: 'float32' })`, but where the channels come from
 * `floatWavChannels` the file is written in their memory rather than in a new buffer: the
 * channels are consumed (they then hold the interleaved samples). Callers must not use
 * `pcm.channels` afterwards either way; other channels are copied as `encodeWav` does.
 */
export function encodeFloatWavInPlace(pcm: Pcm): Uint8Array {
  const { channels } = pcm;
  checkChannelCount(channels.length);
  if (!inFloatWavLayout(channels)) return encodeWav(pcm, { encoding: 'float32' });
  const frames = channels[0]!.length;
  const count = channels.length;
  const samples = new Float32Array(channels[0]!.buffer, SAMPLES_AT, count * frames);
  if (count === 2) interleaveStereoInPlace(samples, frames);
  const header = headerBytes(true);
  const bytes = new Uint8Array(samples.buffer, SAMPLES_AT - header, header + count * frames * 4);
  writeHeader(bytes, { sampleRate: pcm.sampleRate, count, frames }, true);
  return bytes;
}
