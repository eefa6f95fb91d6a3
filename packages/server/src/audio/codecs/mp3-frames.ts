/**
 * MPEG audio frame headers and the Xing/Info + LAME tag, read and written
 * without decoding. Layer III only (what "MP3" means in practice).
 *
 * The LAME tag carries the encoder delay and padding. Decoders that honour it
 * (ours, ffmpeg, browsers, mpg123) return exactly the samples that were
 * encoded, so an edit → encode → decode cycle does not shift the song.
 */

export interface FrameHeader {
  /** 1 = MPEG-1, 2 = MPEG-2, 2.5 = MPEG-2.5. */
  version: 1 | 2 | 2.5;
  bitrateKbps: number;
  sampleRate: number;
  channels: 1 | 2;
  padding: boolean;
  /** Bytes in this frame, header included. */
  length: number;
  /** PCM samples per channel that one frame decodes to. */
  samplesPerFrame: number;
  /** Bytes between the frame's start and the end of its side information (where a Xing tag starts): header, optional CRC, side info. */
  sideInfoEnd: number;
}

const BITRATES_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BITRATES_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const RATES_V1 = [44100, 48000, 32000];

/** mpg123's synthesis delay: decoded audio lags the encoder's input by this much on top of the encoder delay. */
export const DECODER_DELAY = 529;

/** LAME's encoder delay in samples (measured: an impulse comes back 576 + 529 samples late without trimming). */
export const LAME_ENCODER_DELAY = 576;

/** Samples per channel in an MPEG-1 Layer III frame (MPEG-2 and 2.5 hold half as many). */
export const MPEG1_FRAME_SAMPLES = 1152;

/** Bytes of a Layer III frame (header included), with or without its padding byte. */
export function frameLength(samplesPerFrame: number, bitrateKbps: number, sampleRate: number, padding: boolean): number {
  return Math.floor((samplesPerFrame / 8) * ((bitrateKbps * 1000) / sampleRate)) + (padding ? 1 : 0);
}

/** Parses the 4-byte header at `at`, or null if it is not a valid Layer III header (free format is refused too). */
export function readFrameHeader(bytes: Uint8Array, at: number): FrameHeader | null {
  if (at + 4 > bytes.length || bytes[at] !== 0xff) return null;
  const b1 = bytes[at + 1]!;
  const b2 = bytes[at + 2]!;
  const b3 = bytes[at + 3]!;
  if ((b1 & 0xe0) !== 0xe0) return null;
  const versionBits = (b1 >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5, 1 = reserved
  if (versionBits === 1 || ((b1 >> 1) & 3) !== 1) return null; // layer bits 01 = Layer III
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3 || (b3 & 3) === 2) return null;
  const version = versionBits === 3 ? 1 : versionBits === 2 ? 2 : 2.5;
  const divisor = version === 1 ? 1 : version === 2 ? 2 : 4;
  const sampleRate = RATES_V1[rateIndex]! / divisor;
  const bitrateKbps = (version === 1 ? BITRATES_V1 : BITRATES_V2)[bitrateIndex]!;
  const samplesPerFrame = version === 1 ? MPEG1_FRAME_SAMPLES : MPEG1_FRAME_SAMPLES / 2;
  const padding = ((b2 >> 1) & 1) === 1;
  const channels = b3 >> 6 === 3 ? 1 : 2;
  const length = frameLength(samplesPerFrame, bitrateKbps, sampleRate, padding);
  const sideInfo = sideInfoBytes(version, channels);
  const crc = (b1 & 1) === 0 ? 2 : 0; // protection bit clear: a 16-bit CRC follows the header
  return { version, bitrateKbps, sampleRate, channels, padding, length, samplesPerFrame, sideInfoEnd: 4 + crc + sideInfo };
}

const sideInfoBytes = (version: FrameHeader['version'], channels: 1 | 2) => (version === 1 ? (channels === 1 ? 17 : 32) : channels === 1 ? 9 : 17);

/**
 * main_data_begin: how many bytes before this frame's payload (the bytes after its side
 * information) its main data starts. Layer III lets a frame borrow the unused tail of earlier
 * frames (the bit reservoir), so a frame cannot be moved next to other frames without this.
 */
export function mainDataBegin(bytes: Uint8Array, at: number, header: FrameHeader): number {
  const p = at + header.sideInfoEnd - sideInfoBytes(header.version, header.channels);
  return header.version === 1 ? (bytes[p]! << 1) | (bytes[p + 1]! >> 7) : bytes[p]!;
}

const sameStream = (a: FrameHeader, b: FrameHeader) => a.version === b.version && a.sampleRate === b.sampleRate;

/** Size of a leading ID3v2 tag (0 if none). */
export function id3v2Length(bytes: Uint8Array): number {
  if (bytes.length < 10 || bytes[0] !== 0x49 || bytes[1] !== 0x44 || bytes[2] !== 0x33) return 0; // "ID3"
  const size = ((bytes[6]! & 0x7f) << 21) | ((bytes[7]! & 0x7f) << 14) | ((bytes[8]! & 0x7f) << 7) | (bytes[9]! & 0x7f);
  return 10 + size + (bytes[5]! & 0x10 ? 10 : 0);
}

/** Back-to-back frames required before a sync word counts, so that random 0xFFE bits are not taken for audio. */
const CONFIRMING_FRAMES = 3;

/**
 * True if a frame at `at` is followed by consistent frames (or by the end of
 * the file, for very short files).
 */
function confirmed(bytes: Uint8Array, at: number, first: FrameHeader): boolean {
  let position = at + first.length;
  for (let n = 1; n < CONFIRMING_FRAMES; n++) {
    if (position === bytes.length) return true;
    const next = readFrameHeader(bytes, position);
    if (!next || !sameStream(first, next)) return false;
    position += next.length;
  }
  return true;
}

/** First confirmed frame at or after `from`, searching at most `window` bytes. */
export function findFrame(bytes: Uint8Array, from: number, window: number, like?: FrameHeader): { at: number; header: FrameHeader } | null {
  const end = Math.min(bytes.length - 4, from + window);
  for (let at = from; at <= end; at++) {
    if (bytes[at] !== 0xff) continue;
    const header = readFrameHeader(bytes, at);
    if (header && (!like || sameStream(like, header)) && confirmed(bytes, at, header)) return { at, header };
  }
  return null;
}

export interface XingTag {
  /** Audio frames, not counting the tag's own frame (null if the tag does not say). */
  frames: number | null;
  /** Encoder delay and padding in samples, from a LAME-style extension (null without one). */
  delay: number | null;
  padding: number | null;
}

/** Reads a Xing/Info (or Fraunhofer VBRI) tag from the frame at `at`. */
export function readXingTag(bytes: Uint8Array, at: number, header: FrameHeader): XingTag | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (p: number) => (p + 4 <= bytes.length ? String.fromCharCode(bytes[p]!, bytes[p + 1]!, bytes[p + 2]!, bytes[p + 3]!) : '');
  const xing = at + header.sideInfoEnd;
  const id = text(xing);
  if (id === 'Xing' || id === 'Info') {
    if (xing + 8 > bytes.length) return null;
    const flags = view.getUint32(xing + 4, false);
    let p = xing + 8;
    let frames: number | null = null;
    if (flags & 1) {
      if (p + 4 > bytes.length) return null;
      // A count of 0 in a file that has frames is damage, not a count: read as "the tag does not say".
      frames = view.getUint32(p, false) || null;
      p += 4;
    }
    if (flags & 2) p += 4;
    if (flags & 4) p += 100;
    if (flags & 8) p += 4;
    // LAME extension: 9-byte encoder string, ..., delay/padding as two 12-bit numbers at +21.
    const encoder = text(p);
    if ((encoder === 'LAME' || encoder === 'Lavf' || encoder === 'Lavc' || encoder === 'GOGO') && p + 24 <= bytes.length) {
      const d = p + 21;
      const delay = (bytes[d]! << 4) | (bytes[d + 1]! >> 4);
      const padding = ((bytes[d + 1]! & 0x0f) << 8) | bytes[d + 2]!;
      return { frames, delay, padding };
    }
    return { frames, delay: null, padding: null };
  }
  const vbri = at + 4 + 32; // VBRI sits at a fixed offset whatever the channel mode
  if (text(vbri) === 'VBRI' && vbri + 18 <= bytes.length) return { frames: view.getUint32(vbri + 14, false) || null, delay: null, padding: null };
  return null;
}

/** Counts frames by hopping from header to header, resynchronising over junk (but not over a trailing ID3v1/APE tag). */
export function countFrames(bytes: Uint8Array, first: number, like: FrameHeader): number {
  let frames = 0;
  let at = first;
  while (at + 4 <= bytes.length) {
    const header = readFrameHeader(bytes, at);
    if (header && sameStream(like, header)) {
      frames++;
      at += header.length;
      continue;
    }
    const next = findFrame(bytes, at + 1, 16 * 1024, like);
    if (!next) break;
    at = next.at;
  }
  return frames;
}

export interface Mp3Layout {
  /** Offset of the first audio frame (after any ID3v2 and the Xing frame). */
  firstFrame: number;
  header: FrameHeader;
  /** Audio frames: the tag's count, unless fewer are present (a truncated file), else as counted. */
  frames: number;
  /** Samples to drop at the start of the decoded stream: encoder delay (from the LAME tag) plus the decoder's delay. */
  skip: number;
  /** Samples per channel the file really holds (frames × samples per frame minus delay and padding). */
  samples: number;
  /** True if delay and padding came from a LAME-style tag (a gapless file); false if `skip` is the fallback. */
  gapless: boolean;
}

/** Locates the audio frames and the gapless information without decoding. Null if the bytes are not MP3. */
export function readMp3Layout(bytes: Uint8Array): Mp3Layout | null {
  const id3 = id3v2Length(bytes);
  // Encoders put the first frame right after the ID3 tag; allow some padding or junk, not a whole file's scan.
  const found = findFrame(bytes, id3, 64 * 1024) ?? (id3 > 0 ? findFrame(bytes, 0, 64 * 1024) : null);
  if (!found) return null;
  const { header } = found;
  const tag = readXingTag(bytes, found.at, header);
  const firstFrame = tag ? found.at + header.length : found.at;
  // Counting is a hop per frame (well under a millisecond for a song); it guards against a tag
  // that claims more frames than the file holds (truncated, or simply wrong).
  const counted = countFrames(bytes, firstFrame, header);
  const frames = tag?.frames != null ? Math.min(tag.frames, counted) : counted;
  const total = frames * header.samplesPerFrame;
  if (tag?.delay != null && tag.padding != null) {
    // A truncated file lost its padding with its end, but its start is still `delay` late.
    const truncated = tag.frames != null && tag.frames > counted;
    const samples = total - tag.delay - (truncated ? 0 : tag.padding);
    if (samples > 0) return { firstFrame, header, frames, skip: tag.delay + DECODER_DELAY, samples, gapless: true };
  }
  // Without a tag the encoder's delay is unknown, except that LAME (which signs its first frames'
  // stuffing bytes) always uses the same one. The decoder's own delay is known and dropped anyway
  // (as ffmpeg does). What remains is at most the padding at the end: silence.
  const delay = DECODER_DELAY + (signedByLame(bytes, firstFrame, header) ? LAME_ENCODER_DELAY : 0);
  const skip = Math.min(delay, total);
  return { firstFrame, header, frames, skip, samples: total - skip, gapless: false };
}

/** True if "LAME" appears in the first few frames: LAME writes its version string into their unused bytes. */
function signedByLame(bytes: Uint8Array, firstFrame: number, header: FrameHeader): boolean {
  const end = Math.min(bytes.length - 3, firstFrame + 4 * header.length);
  for (let at = firstFrame; at < end; at++) {
    if (bytes[at] === 0x4c && bytes[at + 1] === 0x41 && bytes[at + 2] === 0x4d && bytes[at + 3] === 0x45) return true;
  }
  return false;
}

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC-16/ARC, the checksum of the LAME tag. */
export function crc16(bytes: Uint8Array, crc = 0): number {
  for (let i = 0; i < bytes.length; i++) crc = (crc >>> 8) ^ CRC16_TABLE[(crc ^ bytes[i]!) & 0xff]!;
  return crc;
}

/**
 * An Info frame (the CBR form of Xing) with a LAME extension, to put in front
 * of `audio` (the encoder's frames). `delay`/`padding` are the samples the
 * encoder added before and after the `samples` of real input.
 */
export function buildInfoFrame(audio: Uint8Array, first: FrameHeader, frames: number, delay: number, padding: number): Uint8Array {
  // Same header as the stream, without padding or mode extension: a silent frame decoders skip.
  const length = first.length - (first.padding ? 1 : 0);
  const frame = new Uint8Array(length);
  const view = new DataView(frame.buffer);
  const versionBits = first.version === 1 ? 3 : first.version === 2 ? 2 : 0;
  const bitrates = first.version === 1 ? BITRATES_V1 : BITRATES_V2;
  const rateIndex = RATES_V1.indexOf(first.sampleRate * (first.version === 1 ? 1 : first.version === 2 ? 2 : 4));
  frame[0] = 0xff;
  frame[1] = 0xe0 | (versionBits << 3) | (1 << 1) | 1; // Layer III, no CRC
  frame[2] = (bitrates.indexOf(first.bitrateKbps) << 4) | (rateIndex << 2);
  frame[3] = first.channels === 1 ? 0xc0 : 0x00;
  let p = 4 + sideInfoBytes(first.version, first.channels); // our header has no CRC
  const ascii = (s: string) => {
    for (let i = 0; i < s.length; i++) frame[p++] = s.charCodeAt(i);
  };
  const totalBytes = length + audio.length;
  ascii('Info');
  view.setUint32(p, 0x0f, false); // frames, bytes, TOC and quality present
  view.setUint32(p + 4, frames, false);
  view.setUint32(p + 8, totalBytes, false);
  p += 12;
  // CBR seek table: a straight line from 0 to 255 (percent of duration → 1/256 of the file).
  for (let i = 0; i < 100; i++) frame[p + i] = Math.floor((i * 256) / 100);
  p += 100;
  view.setUint32(p, 0, false); // quality: unknown
  p += 4;
  const lameStart = p;
  ascii('LAME3.100');
  frame[p++] = 0x01; // tag revision 0, CBR
  frame[p++] = 0; // lowpass unknown
  p += 8; // ReplayGain: none
  frame[p++] = 0; // encoding flags, ATH type
  frame[p++] = Math.min(255, first.bitrateKbps);
  frame[p++] = delay >> 4;
  frame[p++] = ((delay & 0x0f) << 4) | (padding >> 8);
  frame[p++] = padding & 0xff;
  p += 4; // misc, MP3 gain, preset/surround
  view.setUint32(p, totalBytes, false);
  view.setUint16(p + 4, crc16(audio), false);
  p += 6;
  if (p - lameStart !== 34) throw new Error('LAME tag layout is off');
  view.setUint16(p, crc16(frame.subarray(0, p)), false);
  return frame;
}

/** A Layer III frame of a stream: where it is, its header, and how far back its main data begins (the bit reservoir). */
export interface Frame {
  at: number;
  header: FrameHeader;
  /** main_data_begin of this frame. */
  borrows: number;
}

/** The `count` frames from `first` on, all of one MPEG-1 layout like `like`; null where the stream is not that. */
export function framesOf(bytes: Uint8Array, first: number, count: number, like: FrameHeader): Frame[] | null {
  const frames: Frame[] = [];
  let at = first;
  for (let k = 0; k < count; k++) {
    const header = readFrameHeader(bytes, at);
    if (header?.version !== 1 || header.bitrateKbps !== like.bitrateKbps || header.sampleRate !== like.sampleRate || at + header.length > bytes.length) {
      return null;
    }
    frames.push({ at, header, borrows: mainDataBegin(bytes, at, header) });
    at += header.length;
  }
  return frames;
}

/** File offsets of the last `count` payload bytes before frame `before`'s payload, in order; null if the stream has fewer. */
export function reservoirBefore(frames: readonly Frame[], before: number, count: number): number[] | null {
  const offsets: number[] = [];
  for (let k = before - 1; k >= 0 && offsets.length < count; k--) {
    const { at, header } = frames[k]!;
    for (let p = at + header.length - 1; p >= at + header.sideInfoEnd && offsets.length < count; p--) offsets.push(p);
  }
  return offsets.length === count ? offsets.reverse() : null;
}
