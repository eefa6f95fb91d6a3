import { decodeRawFrames, streamMp3 } from './mp3.js';
import { framesOf, type Mp3Layout } from './mp3-frames.js';

/**
 * Parts of an MP3 song decoded without holding the rest: the song up to a window (what comes
 * before the window handed on as it comes, the window kept), and the song after a point.
 */

/**
 * Decodes an MP3 as far as frame `w1`: frames [w0, w1) into `song` (at their own indices),
 * those before `w0` handed to `onBefore` as they come (piece, its first frame, how many of its
 * frames are before `w0`). Returns how many frames came before `w0` (fewer than `w0` only where
 * the file ends early).
 */
export async function decodeMp3Window(
  bytes: Uint8Array,
  layout: Mp3Layout,
  w0: number,
  w1: number,
  song: readonly Float32Array[],
  onBefore: (piece: Float32Array[], at: number, n: number) => void,
): Promise<number> {
  let before = 0;
  await streamMp3(
    bytes,
    (piece, at) => {
      const n = piece[0]!.length;
      const head = Math.max(0, Math.min(n, w0 - at));
      if (head > 0) {
        onBefore(piece, at, head);
        before += head;
      }
      const from = Math.max(at, w0);
      const to = Math.min(at + n, w1);
      if (to > from) for (const [c, data] of piece.entries()) song[c]!.set(data.subarray(from - at, to - at), from);
    },
    layout,
    w1,
  );
  return before;
}

/**
 * The rest of an MP3 song, from sample `from` on, decoded from a few frames before it instead of
 * from the file's start. A Layer III decoder remembers only the last frame or so (the bit
 * reservoir reaches back at most 511 bytes, the MDCT overlap and the synthesis filter one
 * granule), so a fresh decoder started PRE_ROLL_FRAMES earlier gives, once settled, the very
 * samples a decode of the whole file gives. That is checked, not trusted: the caller hands over
 * samples it already has just before `from` (`known`, song frames [known.from, from)), and
 * where the settled decoder disagrees with any of them the file is decoded from its start.
 *
 * `onAudio` gets the song's samples from `from` to its end, in order, as `streamMp3` hands them
 * (views valid during the call, with the song index of their first sample). Returns how many
 * it handed over, and where the decoder started.
 */

/** Frames decoded before the first one whose samples are wanted. */
const PRE_ROLL_FRAMES = 8;
/** Frames of the pre-roll left to settle the decoder before its samples are compared. */
const SETTLE_FRAMES = 4;

/**
 * Frames after which mpg123's synthesis filter is back at the same place in its 16-slot ring
 * (it moves one slot per 32 samples): a decoder started at a multiple of this many frames adds
 * up its filter in the same order as one started at the file's first frame, and gives the same
 * bits; started elsewhere, it differs in the last bit here and there.
 */
function synthesisCycleFrames(samplesPerFrame: number): number {
  const slotsPerFrame = samplesPerFrame / 32;
  let a = slotsPerFrame;
  let b = 16;
  while (b > 0) [a, b] = [b, a % b];
  return 16 / a;
}

export interface KnownSamples {
  /** Per channel, indexed by song frame: valid for [from, the `from` of the request). */
  channels: readonly Float32Array[];
  from: number;
}

export async function streamMp3Rest(
  bytes: Uint8Array,
  layout: Mp3Layout,
  from: number,
  known: KnownSamples,
  onAudio: (piece: Float32Array[], at: number) => void,
): Promise<{ frames: number; decodedFrom: 'pre-roll' | 'start' }> {
  const end = layout.samples;
  if (from >= end) return { frames: 0, decodedFrom: 'pre-roll' };
  let handed = 0;
  /** The part of a piece (whose first sample is song frame `pieceAt`) in [from, end), to `onAudio`. */
  const handOver = (piece: Float32Array[], pieceAt: number) => {
    const a = Math.max(pieceAt, from);
    const b = Math.min(pieceAt + piece[0]!.length, end);
    if (b <= a) return;
    onAudio(
      piece.map((data) => data.subarray(a - pieceAt, b - pieceAt)),
      a,
    );
    handed += b - a;
  };
  const spf = layout.header.samplesPerFrame;
  const frames = framesOf(bytes, layout.firstFrame, layout.frames, layout.header);
  const cycle = synthesisCycleFrames(spf);
  const first = Math.max(0, Math.floor((Math.floor((from + layout.skip) / spf) - PRE_ROLL_FRAMES) / cycle) * cycle);
  // The song index of the decoder's first sample (negative within the encoder's delay).
  const songAt = first * spf - layout.skip;
  const checkFrom = Math.max(known.from, songAt + SETTLE_FRAMES * spf);
  if (frames && first > 0 && checkFrom < from) {
    const last = frames[frames.length - 1]!;
    let settled = true;
    await decodeRawFrames(bytes.subarray(frames[first]!.at, last.at + last.header.length), layout.header.channels, (piece, at) => {
      if (!settled) return;
      const pieceAt = songAt + at;
      const n = piece[0]!.length;
      for (let i = Math.max(pieceAt, checkFrom); i < Math.min(pieceAt + n, from); i++) {
        if (piece.some((data, c) => data[i - pieceAt] !== known.channels[c]![i])) {
          settled = false;
          return;
        }
      }
      handOver(piece, pieceAt);
    });
    // Unsettled is found before anything from `from` on was handed over (those samples come after the compared ones).
    if (settled) return { frames: handed, decodedFrom: 'pre-roll' };
  }
  await streamMp3(bytes, handOver, layout);
  return { frames: handed, decodedFrom: 'start' };
}
