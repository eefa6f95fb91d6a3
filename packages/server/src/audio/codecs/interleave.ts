/**
 * Planar stereo to interleaved, in the same memory: `data` holds the left channel's `frames`
 * samples followed by the right's, and afterwards holds L0 R0 L1 R1 ... For a long song this
 * saves the second copy that writing an interleaved file from planar channels would need.
 *
 * Divide and conquer with block moves: [L0 L1 | R0 R1] becomes [L0 R0 | L1 R1] by exchanging
 * the equal halves L1 and R0, then each half is the same problem at half the size, until a
 * segment fits in `scratch` and is interleaved by a plain copy. Every step is a contiguous
 * copy (memmove speed), about log2(frames / scratch) passes over the data in all.
 */

/** Frames interleaved through the scratch buffer at once; also the size of a block exchange step. */
const SCRATCH_FRAMES = 1 << 16;

export function interleaveStereoInPlace(data: Float32Array, frames: number): void {
  if (data.length !== 2 * frames) throw new RangeError(`expected ${2 * frames} samples for ${frames} stereo frames, got ${data.length}`);
  const scratch = new Float32Array(2 * SCRATCH_FRAMES);
  interleaveSegment(data, 0, frames, scratch);
}

/** data[at, at + n) is a left run and data[at + n, at + 2n) the right run of the same frames. */
function interleaveSegment(data: Float32Array, at: number, n: number, scratch: Float32Array): void {
  if (n <= SCRATCH_FRAMES) {
    scratch.set(data.subarray(at, at + 2 * n));
    for (let i = 0, j = at; i < n; i++, j += 2) {
      data[j] = scratch[i]!;
      data[j + 1] = scratch[n + i]!;
    }
    return;
  }
  if (n % 2 === 1) {
    // The last frame first: its right sample is already in place, its left sample goes just
    // before it, and the right run moves down by one. What is left has an even length.
    const left = data[at + n - 1]!;
    data.copyWithin(at + n - 1, at + n, at + 2 * n - 1);
    data[at + 2 * n - 2] = left;
    n -= 1;
  }
  const half = n / 2;
  exchangeBlocks(data, at + half, at + n, half, scratch);
  interleaveSegment(data, at, half, scratch);
  interleaveSegment(data, at + n, half, scratch);
}

/** Swaps data[a, a + length) with data[b, b + length) (not overlapping), a scratch-full at a time. */
function exchangeBlocks(data: Float32Array, a: number, b: number, length: number, scratch: Float32Array): void {
  for (let done = 0; done < length; done += scratch.length) {
    const n = Math.min(scratch.length, length - done);
    const held = scratch.subarray(0, n);
    held.set(data.subarray(a + done, a + done + n));
    data.copyWithin(a + done, b + done, b + done + n);
    data.set(held, b + done);
  }
}
