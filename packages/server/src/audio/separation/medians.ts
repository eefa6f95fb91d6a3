/**
 * Running medians for harmonic/percussive separation: along time per frequency bin (a sustained
 * note is a horizontal line in a spectrogram) and along frequency per frame (a drum hit is a
 * vertical one). Each window is kept sorted and updated by one removal and one insertion as it
 * slides, so a median costs a few dozen steps rather than a sort.
 */

/** Removes `leaving` from the sorted `window[from, from + width)` and inserts `entering`, keeping it sorted. */
function slide(window: Float32Array, from: number, width: number, leaving: number, entering: number): void {
  const end = from + width;
  // Where the leaving value is (it is there: every value entered once); searching for it as stored rounds it the same way.
  let at = lowerBound(window, from, end, Math.fround(leaving));
  // Close the gap, then open one where the entering value belongs.
  for (; at < end - 1; at++) window[at] = window[at + 1]!;
  const value = Math.fround(entering);
  let i = end - 1;
  while (i > from && window[i - 1]! > value) {
    window[i] = window[i - 1]!;
    i--;
  }
  window[i] = value;
}

function lowerBound(window: Float32Array, from: number, end: number, value: number): number {
  let lo = from;
  let hi = end - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (window[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Medians along time of `bins` rows at once, over the last `width` frames (odd). Starts as if
 * every earlier frame were silent.
 */
export class TimeMedians {
  private readonly sorted: Float32Array;
  private readonly history: Float32Array;
  private next = 0;

  constructor(
    readonly bins: number,
    readonly width: number,
  ) {
    this.sorted = new Float32Array(bins * width);
    this.history = new Float32Array(bins * width);
  }

  /** Adds a frame of magnitudes (the oldest leaves) and writes each bin's median into `out`. */
  push(frame: Float32Array, out: Float32Array): void {
    const { bins, width, sorted, history } = this;
    const slot = this.next * bins;
    const middle = width >>> 1;
    for (let k = 0; k < bins; k++) {
      const from = k * width;
      slide(sorted, from, width, history[slot + k]!, frame[k]!);
      history[slot + k] = frame[k]!;
      out[k] = sorted[from + middle]!;
    }
    this.next = (this.next + 1) % width;
  }
}

/** The median of each bin's neighbourhood `width` (odd) wide across frequency; bins past the edges count as silent. */
export function frequencyMedians(frame: Float32Array, width: number, out: Float32Array, scratch: Float32Array): void {
  const bins = frame.length;
  const half = width >>> 1;
  const window = scratch.subarray(0, width);
  window.fill(0);
  // The window for bin k covers bins k − half … k + half: fill it for bin −1, then slide.
  for (let j = 0; j < half; j++) slide(window, 0, width, 0, j < bins ? frame[j]! : 0);
  for (let k = 0; k < bins; k++) {
    const entering = k + half < bins ? frame[k + half]! : 0;
    const leaving = k - half - 1 >= 0 ? frame[k - half - 1]! : 0;
    slide(window, 0, width, leaving, entering);
    out[k] = window[half]!;
  }
}
