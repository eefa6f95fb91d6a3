/**
 * What an H.264 stream says about itself, put right before it goes into the MP4.
 *
 * minih264 labels every stream Baseline profile at level 2.2 with no constraint flags. Level 2.2
 * is too low for 640×640 at 24 fps (a decoder is entitled to refuse or drop frames of a stream
 * above its level, and hardware decoders size their buffers by it), so the level is set from the
 * picture size and frame rate. The stream uses none of the three Baseline tools that Main
 * profile lacks (FMO, ASO, redundant slices), which makes it Constrained Baseline: flags 0 and 1
 * are set to say so, the profile every browser and phone plays ("avc1.42C0xx").
 *
 * The fields rewritten (profile_idc, the constraint flags, level_idc) are whole bytes at fixed
 * places at the start of the SPS, before any variable-length field, so no other bit moves.
 */

/** H.264 levels (Table A-1): level_idc, most macroblocks per frame, most macroblocks per second. */
const LEVELS: ReadonlyArray<readonly [idc: number, maxFrameMbs: number, maxMbsPerSecond: number]> = [
  [10, 99, 1485],
  [11, 396, 3000],
  [12, 396, 6000],
  [13, 396, 11_880],
  [20, 396, 11_880],
  [21, 792, 19_800],
  [22, 1620, 20_250],
  [30, 1620, 40_500],
  [31, 3600, 108_000],
  [32, 5120, 216_000],
  [40, 8192, 245_760],
  [42, 8704, 522_240],
  [50, 22_080, 589_824],
  [51, 36_864, 983_040],
  [52, 36_864, 2_073_600],
];

const BASELINE = 66;
/** constraint_set0_flag (Baseline) and constraint_set1_flag (Main): together, Constrained Baseline. */
const CONSTRAINED = 0xc0;

/** The lowest level whose decoders can take `width`×`height` at `fps` frames per second. */
export function avcLevel(width: number, height: number, fps: number): number {
  const mbs = Math.ceil(width / 16) * Math.ceil(height / 16);
  const level = LEVELS.find(([, maxFrame, maxRate]) => mbs <= maxFrame && mbs * fps <= maxRate);
  if (!level) throw new RangeError(`${width}×${height} at ${fps} fps is beyond every H.264 level`);
  return level[0];
}

/** Sets profile compatibility and level in the SPS that starts at `at` (its NAL header byte). */
function retagSps(bytes: Uint8Array, at: number, level: number): void {
  // A zero level_idc could be the start of an emulation-prevention sequence: leave such a stream alone.
  if (bytes[at + 1] !== BASELINE || bytes[at + 3] === 0) return;
  bytes[at + 2] = bytes[at + 2]! | CONSTRAINED;
  bytes[at + 3] = level;
}

/**
 * A copy of an AVCDecoderConfigurationRecord (the MP4's `avcC`) with its profile compatibility
 * and level, and those of each SPS it carries, set as above. Other profiles are left as they are.
 */
export function retagAvcConfig(record: Uint8Array, level: number): Uint8Array {
  const out = Uint8Array.from(record);
  if (out.length < 7 || out[0] !== 1 || out[1] !== BASELINE) return out;
  out[2] = out[2]! | CONSTRAINED;
  out[3] = level;
  const spsCount = out[5]! & 0x1f;
  let at = 6;
  for (let i = 0; i < spsCount && at + 2 <= out.length; i++) {
    const length = (out[at]! << 8) | out[at + 1]!;
    if (at + 2 + 4 <= out.length) retagSps(out, at + 2, level);
    at += 2 + length;
  }
  return out;
}

/** The RFC 6381 codec string of a record, e.g. "avc1.42C01E". */
export function avcCodecString(record: Uint8Array): string {
  const hex = (byte: number) => byte.toString(16).padStart(2, '0').toUpperCase();
  return `avc1.${hex(record[1]!)}${hex(record[2]!)}${hex(record[3]!)}`;
}

/** Bytes in each NAL unit's length prefix, from the record. */
export const nalLengthSize = (record: Uint8Array): number => (record[4]! & 0x03) + 1;

/**
 * Walks the length-prefixed NAL units of one coded frame: retags any SPS in it (as above) and says
 * whether it holds an IDR slice, the only kind of frame a player can start decoding at. The MP4
 * that minih264's muxer writes has no sync-sample table, which marks every frame a key frame:
 * the final file marks only these, so that seeking lands where decoding can start.
 */
export function scanFrame(data: Uint8Array, lengthSize: number, level: number): { idr: boolean } {
  let idr = false;
  let at = 0;
  while (at + lengthSize < data.length) {
    let length = 0;
    for (let i = 0; i < lengthSize; i++) length = length * 256 + data[at + i]!;
    const start = at + lengthSize;
    const type = data[start]! & 0x1f;
    if (type === 5) idr = true;
    else if (type === 7 && start + 4 <= data.length) retagSps(data, start, level);
    at = start + length;
  }
  return { idr };
}
