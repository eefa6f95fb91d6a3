import { concat, decodeRawFrames, encodeMp3Frames, MP3_BITRATES } from './mp3.js';
import { buildInfoFrame, DECODER_DELAY, type Frame, framesOf, LAME_ENCODER_DELAY, type Mp3Layout, reservoirBefore } from './mp3-frames.js';

/**
 * An MP3 whose end is new (extend): the source's own frames up to a junction shortly before
 * the change, then freshly encoded frames to the new end. Everything before the junction
 * decodes to exactly what the source decodes to, and only the new part is encoded.
 *
 * It is the front half of a frame splice (mp3-splice.ts): the encoder's input is offset so that
 * new frame j decodes onto the source's sample grid, and the first new frame's borrowed
 * reservoir bytes are written into the free tail of the last kept frames, which is free exactly
 * when the dropped source frame borrowed at least as much. There is no back junction: the file
 * ends with the new frames, and its LAME tag gives the new length.
 *
 * Only CBR MPEG-1 files of 192 kbps or more with a LAME-style tag (known delay) qualify; for
 * anything else the result is null and the caller encodes the whole song.
 */

export interface FrameContinuationRequest {
  source: Uint8Array;
  layout: Mp3Layout;
  /** The whole new song at the source's rate and channel count: the decoded source before `changedFrom`, any audio of any length after. */
  edited: readonly Float32Array[];
  changedFrom: number;
  /** Samples before the change within which the junction must lie. */
  window: number;
}

export interface FrameContinuation {
  mp3: Uint8Array;
  /** Decoded samples before this one come from kept source frames: equal to the source's. */
  keptBefore: number;
}

/** Frames the new run starts before its first kept frame, so the encoder's analysis and reservoir have settled. */
const WARM_UP_FRAMES = 4;
/** Frames before the latest junction the first, short run is tried on. */
const LATE_FRAMES = 3;
/** Frames decoded before the junction when the result is checked (a decoder remembers about one frame). */
const CHECK_FRAMES = 8;

/** The edited song from `offset` on (zeros before its start), as views where it can be. */
function encoderInput(edited: readonly Float32Array[], offset: number): Float32Array[] {
  return edited.map((channel) => {
    if (offset >= 0) return channel.subarray(offset);
    const out = new Float32Array(channel.length - offset);
    out.set(channel, -offset);
    return out;
  });
}

/**
 * New frames from source frame `base` on, and the latest source frame in [aMin, aMax] where
 * they can take over: one whose own borrowed bytes leave room for the first new frame's.
 */
async function junction(
  request: FrameContinuationRequest,
  frames: readonly Frame[],
  base: number,
  aMin: number,
  aMax: number,
): Promise<{ a: number; base: number; encoded: Uint8Array; fresh: Frame[] } | null> {
  const { layout, edited } = request;
  const { header } = layout;
  const spf = header.samplesPerFrame;
  const bitrate = MP3_BITRATES.find((kbps) => kbps === header.bitrateKbps);
  if (!bitrate) return null;
  // New frame j stands for source frame j + base: the encoder's 576 + 529 samples of delay land on the source's grid.
  const offset = base * spf + LAME_ENCODER_DELAY + DECODER_DELAY - layout.skip;
  const encoded = await encodeMp3Frames(encoderInput(edited, offset), header.sampleRate, bitrate);
  const fresh = framesOf(encoded.audio, 0, encoded.offsets.length, header);
  if (!fresh) return null;
  for (let k = aMax; k >= aMin; k--) {
    const j = k - base;
    if (j >= 1 && j < fresh.length && fresh[j]!.borrows <= frames[k]!.borrows && reservoirBefore(frames, k, fresh[j]!.borrows)) {
      return { a: k, base, encoded: encoded.audio, fresh };
    }
  }
  return null;
}

export async function continueMp3Frames(request: FrameContinuationRequest): Promise<FrameContinuation | null> {
  const { source, layout, edited, changedFrom, window } = request;
  const { header } = layout;
  const spf = header.samplesPerFrame;
  const samples = edited[0]?.length ?? 0;
  const bitrate = MP3_BITRATES.find((kbps) => kbps === header.bitrateKbps);
  if (!bitrate || !layout.gapless || header.version !== 1 || edited.length !== header.channels) return null;
  if (!(changedFrom > 0 && changedFrom <= Math.min(samples, layout.samples))) return null;
  const frames = framesOf(source, layout.firstFrame, layout.frames, header);
  if (!frames) return null;

  // Source frame k decodes to samples [k·spf − skip, (k+1)·spf − skip) of the trimmed song; the
  // new frames start two frames clear of the change, so the frames either side of the junction
  // both code unchanged audio and their overlap blends only coding noise.
  const frameAt = (sample: number) => (sample + layout.skip) / spf;
  const aMin = Math.max(1, Math.ceil(frameAt(changedFrom - window)));
  const aMax = Math.min(frames.length - 1, Math.floor(frameAt(changedFrom)) - 2);
  if (aMin > aMax) return null;

  // A new run's reservoir starts empty and fills as it goes, so its frames borrow least right
  // after its warm-up: a run started just before the latest junction is the likeliest to fit
  // there. Only where none of its frames fits is the whole window tried.
  let cut: { a: number; base: number; encoded: Uint8Array; fresh: Frame[] } | null = null;
  for (const first of aMax - LATE_FRAMES > aMin ? [aMax - LATE_FRAMES, aMin] : [aMin]) {
    cut = await junction(request, frames, first - WARM_UP_FRAMES, Math.max(aMin, first), aMax);
    if (cut) break;
  }
  if (!cut) return null;
  const { a, base, encoded, fresh } = cut;
  const ja = a - base;

  // Only as many frames as the new length needs: the decoder's own delay of samples past the last one.
  const delay = layout.skip - DECODER_DELAY;
  const needed = Math.ceil((samples + delay + DECODER_DELAY) / spf);
  const count = needed - a;
  if (count < 1 || ja + count > fresh.length) return null;
  const last = fresh[ja + count - 1]!;
  const audio = concat([source.subarray(frames[0]!.at, frames[a]!.at), encoded.subarray(fresh[ja]!.at, last.at + last.header.length)]);
  const out = framesOf(audio, 0, needed, header);
  if (!out) return null;

  // The first new frame's borrowed bytes go into the free tail of the kept frames before it.
  const lent = reservoirBefore(fresh, ja, fresh[ja]!.borrows);
  const into = reservoirBefore(out, a, fresh[ja]!.borrows);
  if (!lent || !into) return null;
  lent.forEach((from, i) => {
    audio[into[i]!] = encoded[from]!;
  });

  const padding = needed * spf - delay - samples;
  if (padding < DECODER_DELAY || padding > 4095 || delay < 0 || delay > 4095) return null;
  const info = buildInfoFrame(audio, out[0]!.header, needed, delay, padding);
  const result = { mp3: concat([info, audio]), keptBefore: a * spf - layout.skip };
  // Checked, not trusted: the kept frames must decode to the source's very samples, and the whole file must decode.
  return (await decodesAsPromised(source, frames, audio, out, a)) ? result : null;
}

/**
 * Decodes the frames before the junction in the result and in the source, each from the same
 * frame with a fresh decoder, and compares them; and decodes the result from there to its end,
 * which must give every frame's samples (a new frame that does not decode would be short).
 */
async function decodesAsPromised(source: Uint8Array, frames: readonly Frame[], result: Uint8Array, out: readonly Frame[], junction: number): Promise<boolean> {
  const spf = frames[0]!.header.samplesPerFrame;
  const channels = frames[0]!.header.channels;
  const first = Math.max(0, junction - CHECK_FRAMES);
  const kept = (junction - first) * spf;
  const head = async (bytes: Uint8Array, list: readonly Frame[], to: number) => {
    const samples = Array.from({ length: channels }, () => new Float32Array(kept));
    const length = await decodeRawFrames(bytes.subarray(list[first]!.at, list[to - 1]!.at + list[to - 1]!.header.length), channels, (piece, at) => {
      for (const [c, data] of piece.entries()) if (at < kept) samples[c]!.set(data.subarray(0, kept - at), at);
    });
    return { samples, length };
  };
  const expected = await head(source, frames, junction);
  const decoded = await head(result, out, out.length);
  if (expected.length !== kept || decoded.length !== (out.length - first) * spf) return false;
  return decoded.samples.every((channel, c) => channel.every((v, i) => v === expected.samples[c]![i]));
}
