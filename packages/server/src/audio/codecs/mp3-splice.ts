import { concat, concatSamples, decodeRawFrames, encodeMp3Frames, MP3_BITRATES } from './mp3.js';
import { buildInfoFrame, DECODER_DELAY, type Frame, framesOf, LAME_ENCODER_DELAY, type Mp3Layout, reservoirBefore } from './mp3-frames.js';

/**
 * Replacing part of an MP3 without re-encoding the rest: the source's own frames are kept
 * before and after the change, and only the frames in between are encoded anew. Outside two
 * junction zones of about two frames each, the result then decodes to exactly what the source
 * decodes to, and only a few seconds are encoded.
 *
 * Two things make frames hard to move in Layer III, and both are handled here:
 * - The bit reservoir: a frame's main data may start up to 511 bytes before it, in the unused
 *   tail of earlier frames (main_data_begin). At the first new frame, its borrowed bytes are
 *   written into the tail of the last kept source frames, which is free exactly when the
 *   dropped source frame borrowed at least as much. At the first kept frame after the change,
 *   its borrowed bytes are written into the free tail of the last new frame, likewise. Junctions
 *   are searched within a window until both fit.
 * - Alignment: the encoder's input is offset so that new frame j decodes to the same samples as
 *   the source frame it replaces (the encoder's delay of 576 plus the decoder's 529 against the
 *   source's own delay). The MDCT overlap and the synthesis filter then blend the neighbours at
 *   each junction, where both encode the same, unchanged audio: the difference is coding noise,
 *   and it is gone one frame later.
 *
 * Only CBR MPEG-1 files of 192 kbps or more with a LAME-style tag (known delay) and frames back
 * to back qualify; for anything else `spliceMp3Frames` returns null and the caller re-encodes the
 * whole song.
 */

export interface FrameSpliceRequest {
  source: Uint8Array;
  layout: Mp3Layout;
  /** The whole edited song at the source's rate and channel count: the decoded source, changed in [changedFrom, changedTo). */
  edited: readonly Float32Array[];
  changedFrom: number;
  changedTo: number;
  /** Samples beyond the change on either side within which the junctions must lie. */
  window: number;
}

export interface FrameSplice {
  mp3: Uint8Array;
  /** Decoded samples before this one come from kept source frames only: equal to the source's. */
  keptBefore: number;
  /** Decoded samples from this one on are again equal to the source's. */
  keptFrom: number;
}

/** Frames a new run starts before its first kept frame, so the encoder's analysis and reservoir have settled. */
const WARM_UP_FRAMES = 4;

/** The source frames [0, a), new frames [ja, jb), source frames [b, n): where they cut, with what they exchange. */
interface Cut {
  a: number;
  b: number;
  ja: number;
  jb: number;
}

function findCut(
  source: readonly Frame[],
  fresh: readonly Frame[],
  base: number,
  range: { aMin: number; aMax: number; bMin: number; bMax: number },
): Cut | null {
  let a = -1;
  for (let k = range.aMax; k >= range.aMin; k--) {
    const j = k - base;
    const need = fresh[j]!.borrows;
    if (j >= 1 && need <= source[k]!.borrows && reservoirBefore(source, k, need)) {
      a = k;
      break;
    }
  }
  if (a < 0) return null;
  for (let k = range.bMin; k <= range.bMax; k++) {
    const j = k - base;
    if (j < fresh.length && source[k]!.borrows <= fresh[j]!.borrows) return { a, b: k, ja: a - base, jb: j };
  }
  return null;
}

/** Whether an MP3 of this layout can have frames spliced at all (the rest depends on its frames' reservoirs). */
export function canSpliceFrames(layout: Mp3Layout): boolean {
  return MP3_BITRATES.some((kbps) => kbps === layout.header.bitrateKbps) && layout.gapless && layout.header.version === 1;
}

export async function spliceMp3Frames(request: FrameSpliceRequest): Promise<FrameSplice | null> {
  const { source, layout, edited, changedFrom, changedTo, window } = request;
  const { header } = layout;
  const spf = header.samplesPerFrame;
  const delay = layout.skip - DECODER_DELAY;
  const bitrate = MP3_BITRATES.find((kbps) => kbps === header.bitrateKbps);
  if (!bitrate || !canSpliceFrames(layout) || edited.length !== header.channels || edited[0]!.length !== layout.samples) return null;
  const frames = framesOf(source, layout.firstFrame, layout.frames, header);
  if (!frames) return null;

  // Source frame k decodes to samples [k·spf − skip, (k+1)·spf − skip) of the trimmed song.
  // New frames must start a frame clear of the change and end a frame after it.
  const frameAt = (sample: number) => (sample + layout.skip) / spf;
  const range = {
    aMin: Math.max(1, Math.ceil(frameAt(changedFrom - window))),
    aMax: Math.floor(frameAt(changedFrom)) - 2,
    bMin: Math.ceil(frameAt(changedTo)) + 2,
    bMax: Math.min(frames.length - 1, Math.floor(frameAt(changedTo + window)) - 1),
  };
  if (range.aMin > range.aMax || range.bMin > range.bMax) return null;

  // New frame j stands for source frame j + base: the encoder's input is the edited song from
  // `offset`, so that its 576 + 529 samples of delay land on the source's grid.
  const base = range.aMin - WARM_UP_FRAMES;
  const offset = base * spf + LAME_ENCODER_DELAY + DECODER_DELAY - layout.skip;
  const length = (range.bMax + 2 - base) * spf;
  const input = edited.map((channel) => {
    // A view where the song covers the whole input (the usual case: no copy of a section's length).
    if (offset >= 0 && offset + length <= channel.length) return channel.subarray(offset, offset + length);
    const out = new Float32Array(length);
    const from = Math.max(0, offset);
    const to = Math.min(channel.length, offset + length);
    if (to > from) out.set(channel.subarray(from, to), from - offset);
    return out;
  });
  const encoded = await encodeMp3Frames(input, header.sampleRate, bitrate);
  const fresh = framesOf(encoded.audio, 0, encoded.offsets.length, header);
  if (!fresh) return null;
  const cut = findCut(frames, fresh, base, range);
  if (!cut) return null;

  const slice = (bytes: Uint8Array, list: readonly Frame[], from: number, to: number) =>
    bytes.subarray(list[from]!.at, to < list.length ? list[to]!.at : list[to - 1]!.at + list[to - 1]!.header.length);
  const audio = concat([slice(source, frames, 0, cut.a), slice(encoded.audio, fresh, cut.ja, cut.jb), slice(source, frames, cut.b, frames.length)]);
  const out = framesOf(audio, 0, frames.length, header);
  if (!out) return null;

  // The first new frame's borrowed bytes go into the free tail of the kept frames before it...
  const lent = reservoirBefore(fresh, cut.ja, fresh[cut.ja]!.borrows);
  const into = reservoirBefore(out, cut.a, fresh[cut.ja]!.borrows);
  // ...and the first kept frame after the change gets its borrowed bytes back in the new frames' free tail.
  const back = reservoirBefore(frames, cut.b, frames[cut.b]!.borrows);
  const resumed = cut.a + (cut.jb - cut.ja);
  const backInto = reservoirBefore(out, resumed, frames[cut.b]!.borrows);
  // (A run of new frames shorter than the borrowed bytes would hand them into kept frames: refused.)
  if (!lent || !into || !back || !backInto || backInto[0]! < out[cut.a]!.at) return null;
  lent.forEach((from, i) => {
    audio[into[i]!] = encoded.audio[from]!;
  });
  back.forEach((from, i) => {
    audio[backInto[i]!] = source[from]!;
  });

  const padding = frames.length * spf - delay - layout.samples;
  if (padding < 0 || padding > 4095 || delay < 0 || delay > 4095) return null;
  const info = buildInfoFrame(audio, out[0]!.header, frames.length, delay, padding);
  const result = { mp3: concat([info, audio]), keptBefore: cut.a * spf - layout.skip, keptFrom: (resumed + 1) * spf - layout.skip };
  // Checked, not trusted: the splice must decode to the source's very samples outside the junctions.
  return (await decodesAsPromised(source, frames, audio, out, cut.a, resumed, header.channels)) ? result : null;
}

/**
 * Frames decoded on each side of the new run when the splice is checked. A Layer III decoder
 * remembers only the last frame or so (the bit reservoir reaches back at most 511 bytes, the
 * MDCT overlap and the synthesis filter one granule), so once this many frames are the same
 * bytes again, everything after decodes the same too; and a decoder started this many frames
 * before the first junction has settled by then.
 */
const CHECK_FRAMES = 8;

/**
 * Decodes the frames around the new run in the splice and in the source, each from the same
 * frame with a fresh decoder, and compares them outside the junctions: kept frames before the
 * first new frame, and from the frame after the new run on, must give the same samples, and
 * both must give as many samples in all. Beyond the compared frames both files are the same
 * bytes decoded from the same state. The whole run is decoded, not only the frames compared:
 * a new frame that decodes wrongly leaves a trace in the decoder that outlasts the run. Only
 * the compared samples are kept, though: the run is a whole section long.
 */
async function decodesAsPromised(
  source: Uint8Array,
  frames: readonly Frame[],
  spliced: Uint8Array,
  out: readonly Frame[],
  firstNew: number,
  resumed: number,
  channels: number,
): Promise<boolean> {
  const spf = frames[0]!.header.samplesPerFrame;
  const first = Math.max(0, firstNew - CHECK_FRAMES);
  const last = Math.min(frames.length, resumed + 1 + CHECK_FRAMES);
  const run = (bytes: Uint8Array, list: readonly Frame[]) => bytes.subarray(list[first]!.at, list[last - 1]!.at + list[last - 1]!.header.length);
  const keptBefore = (firstNew - first) * spf;
  const keptFrom = (resumed + 1 - first) * spf;
  const expected = await decodedEnds(run(source, frames), channels, keptBefore, keptFrom);
  const decoded = await decodedEnds(run(spliced, out), channels, keptBefore, keptFrom);
  if (decoded.length !== expected.length || decoded.length < keptFrom) return false;
  const same = (a: readonly Float32Array[], b: readonly Float32Array[]) => a.every((channel, c) => channel.every((v, i) => v === b[c]![i]));
  return same(decoded.head, expected.head) && same(decoded.tail, expected.tail);
}

/** The decoded samples of a run of frames before `headEnd` and from `tailFrom` on, per channel, and how many it decodes to in all. */
async function decodedEnds(
  frames: Uint8Array,
  channels: number,
  headEnd: number,
  tailFrom: number,
): Promise<{ length: number; head: Float32Array[]; tail: Float32Array[] }> {
  const head = Array.from({ length: channels }, () => new Float32Array(headEnd));
  const tailParts: Float32Array[][] = Array.from({ length: channels }, () => []);
  const length = await decodeRawFrames(frames, channels, (piece, at) => {
    for (const [c, data] of piece.entries()) {
      if (at < headEnd) head[c]!.set(data.subarray(0, headEnd - at), at);
      if (at + data.length > tailFrom) tailParts[c]!.push(data.slice(Math.max(0, tailFrom - at)));
    }
  });
  return { length, head, tail: tailParts.map(concatSamples) };
}
