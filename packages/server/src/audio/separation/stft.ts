import FFT from 'fft.js';

/**
 * A short-time Fourier transform of stereo audio for masking: both channels of a frame go
 * through one complex FFT (left as the real part, right as the imaginary) and come back the same
 * way. Periodic Hann windows at a quarter-frame hop, on analysis and synthesis: their squares
 * add up to exactly 1.5 at every sample, so frames masked by masks that sum to one sum back to
 * the input.
 */

/** The complex FFT of fft.js, typed for what is used here. */
interface ComplexFft {
  transform(out: Float64Array, data: Float64Array): void;
  inverseTransform(out: Float64Array, data: Float64Array): void;
}
const createFft = (size: number): ComplexFft => new FFT(size) as ComplexFft;

/** Sum of the squared window over the frames covering any one sample, at a hop of size / 4. */
const WINDOW_POWER_SUM = 1.5;

/** Frame length for a rate: about 93 ms (4,096 samples at 44.1 and 48 kHz), a power of two. */
export function frameSizeFor(sampleRate: number): number {
  return 2 ** Math.max(8, Math.round(Math.log2(sampleRate * 0.093)));
}

export class StereoStft {
  readonly hop: number;
  /** Bins 0 … size / 2 of a real signal's spectrum. */
  readonly bins: number;
  private readonly fft: ComplexFft;
  private readonly window: Float64Array;
  private readonly time: Float64Array;
  private readonly spectrum: Float64Array;

  constructor(readonly size: number) {
    this.hop = size / 4;
    this.bins = size / 2 + 1;
    this.fft = createFft(size);
    this.window = Float64Array.from({ length: size }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size));
    this.time = new Float64Array(2 * size);
    this.spectrum = new Float64Array(2 * size);
  }

  /** Frames needed so that every sample of `frames` is covered by four: the first starts size − hop before 0. */
  frameCount(frames: number): number {
    return Math.ceil((frames + this.size - this.hop) / this.hop);
  }

  /** Where frame `t` starts, in samples (negative for the first frames; outside the audio counts as silence). */
  frameStart(t: number): number {
    return t * this.hop - (this.size - this.hop);
  }

  /** The windowed frame at `start` of two channels, as two half spectra (re, im interleaved, `bins` each). */
  analyse(left: Float32Array, right: Float32Array, start: number, outLeft: Float64Array, outRight: Float64Array): void {
    const { size, window, time, spectrum } = this;
    const frames = left.length;
    for (let n = 0; n < size; n++) {
      const i = start + n;
      const inside = i >= 0 && i < frames;
      time[2 * n] = inside ? left[i]! * window[n]! : 0;
      time[2 * n + 1] = inside ? right[i]! * window[n]! : 0;
    }
    this.fft.transform(spectrum, time);
    // Z = L + iR with L and R spectra of real signals: L[k] = (Z[k] + conj Z[N−k]) / 2, R[k] = (Z[k] − conj Z[N−k]) / 2i.
    for (let k = 0; k < this.bins; k++) {
      const m = (size - k) % size;
      const a = spectrum[2 * k]!;
      const b = spectrum[2 * k + 1]!;
      const c = spectrum[2 * m]!;
      const d = spectrum[2 * m + 1]!;
      outLeft[2 * k] = (a + c) / 2;
      outLeft[2 * k + 1] = (b - d) / 2;
      outRight[2 * k] = (b + d) / 2;
      outRight[2 * k + 1] = (c - a) / 2;
    }
  }

  /** Two half spectra back to time, windowed again and added into the channels at `start` (the parts inside them). */
  synthesise(left: Float64Array, right: Float64Array, outLeft: Float32Array, outRight: Float32Array | null, start: number): void {
    const { size, window, time, spectrum } = this;
    const half = size / 2;
    for (let k = 0; k <= half; k++) {
      // Z[k] = L[k] + i R[k]; above half the spectra are conjugate-symmetric.
      const lr = left[2 * k]!;
      const li = left[2 * k + 1]!;
      const rr = right[2 * k]!;
      const ri = right[2 * k + 1]!;
      spectrum[2 * k] = lr - ri;
      spectrum[2 * k + 1] = li + rr;
      if (k > 0 && k < half) {
        const m = size - k;
        spectrum[2 * m] = lr + ri;
        spectrum[2 * m + 1] = rr - li;
      }
    }
    this.fft.inverseTransform(time, spectrum);
    const frames = outLeft.length;
    const from = Math.max(0, -start);
    const to = Math.min(size, frames - start);
    for (let n = from; n < to; n++) {
      const w = window[n]! / WINDOW_POWER_SUM;
      outLeft[start + n]! += time[2 * n]! * w;
      if (outRight) outRight[start + n]! += time[2 * n + 1]! * w;
    }
  }
}
