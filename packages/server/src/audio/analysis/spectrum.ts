import FFT from 'fft.js';

/**
 * The shared front end of tempo and key analysis: one mono, decimated copy of
 * the window and short-time magnitude spectra of it. Rhythm and harmony live
 * below ~5 kHz, so working at about 11 kHz makes every later step 4× cheaper
 * at 44.1/48 kHz without losing what they measure.
 */

/** The rate the analysis works at, roughly: the decimation factor is the largest integer keeping the rate at or above it. */
export const ANALYSIS_RATE = 11_025;

export interface MonoSignal {
  samples: Float32Array;
  sampleRate: number;
}

/** Low-pass FIR (Hann-windowed sinc) for decimation by `factor`; cut-off a little below the new Nyquist. */
function decimationFilter(factor: number): Float64Array {
  const half = 4 * factor;
  const taps = new Float64Array(2 * half + 1);
  const cutoff = 0.45 / factor; // cycles per input sample
  let sum = 0;
  for (let k = -half; k <= half; k++) {
    const x = 2 * cutoff * k;
    const sinc = k === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    const window = 0.5 + 0.5 * Math.cos((Math.PI * k) / (half + 1));
    taps[k + half] = sinc * window;
    sum += sinc * window;
  }
  for (let k = 0; k < taps.length; k++) taps[k]! /= sum;
  return taps;
}

/** Outputs of the decimator computed per block: the mono mix it reads is made a block at a time, never for the whole window. */
const DECIMATE_BLOCK = 8192;

/**
 * mono[i − lo] for i in [lo, hi) of the window starting at `from`: the channels summed, each
 * scaled, in float32 and in channel order (the same rounding as a whole-window mix).
 */
function mixDown(channels: readonly Float32Array[], start: number, n: number, scale: number, into: Float32Array): void {
  into.fill(0, 0, n);
  for (const channel of channels) for (let i = 0; i < n; i++) into[i]! += channel[start + i]! * scale;
}

/**
 * Outputs [j0, j1) of the decimating FIR, from `mono` holding input samples from `lo` on.
 * Each output sums its taps in ascending order in double precision, as a plain loop would;
 * where a tap would fall outside the window the term is left out. Interior outputs are made
 * four at a time: four independent sums in one pass over the taps keep the CPU's adders busy
 * (one sum alone waits on each addition), and change no rounding.
 */
function decimateBlock(mono: Float32Array, lo: number, length: number, taps: Float64Array, factor: number, j0: number, j1: number, out: Float32Array): void {
  const half = (taps.length - 1) / 2;
  const width = taps.length;
  let j = j0;
  while (j < j1) {
    const centre = j * factor;
    const interior4 = centre - half >= 0 && (j + 3) * factor + half <= length - 1 && j + 3 < j1;
    if (interior4) {
      const base = centre - half - lo;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let k = 0; k < width; k++) {
        const t = taps[k]!;
        const i = base + k;
        a0 += t * mono[i]!;
        a1 += t * mono[i + factor]!;
        a2 += t * mono[i + 2 * factor]!;
        a3 += t * mono[i + 3 * factor]!;
      }
      out[j] = a0;
      out[j + 1] = a1;
      out[j + 2] = a2;
      out[j + 3] = a3;
      j += 4;
      continue;
    }
    let acc = 0;
    const first = Math.max(0, centre - half);
    const last = Math.min(length - 1, centre + half);
    for (let i = first; i <= last; i++) acc += taps[i - centre + half]! * mono[i - lo]!;
    out[j] = acc;
    j++;
  }
}

/**
 * The channels of [from, to) averaged to mono, low-passed and decimated to
 * about ANALYSIS_RATE, then scaled to unit RMS so that every later threshold
 * is independent of the recording's level.
 */
export function monoForAnalysis(channels: readonly Float32Array[], sampleRate: number, from: number, to: number): MonoSignal {
  const factor = Math.max(1, Math.floor(sampleRate / ANALYSIS_RATE));
  const length = Math.max(0, to - from);
  const scale = 1 / Math.max(1, channels.length);
  let out: Float32Array;
  if (factor === 1) {
    out = new Float32Array(length);
    mixDown(channels, from, length, scale, out);
  } else {
    const taps = decimationFilter(factor);
    const half = (taps.length - 1) / 2;
    out = new Float32Array(Math.floor(length / factor));
    // The mix of one block of outputs and the filter's reach around it.
    const mono = new Float32Array(DECIMATE_BLOCK * factor + 2 * half + 1);
    for (let j0 = 0; j0 < out.length; j0 += DECIMATE_BLOCK) {
      const j1 = Math.min(out.length, j0 + DECIMATE_BLOCK);
      const lo = Math.max(0, j0 * factor - half);
      const hi = Math.min(length, (j1 - 1) * factor + half + 1);
      mixDown(channels, from + lo, hi - lo, scale, mono);
      decimateBlock(mono, lo, length, taps, factor, j0, j1, out);
    }
  }
  let energy = 0;
  for (let i = 0; i < out.length; i++) energy += out[i]! * out[i]!;
  const rms = Math.sqrt(energy / Math.max(1, out.length));
  if (rms > 1e-9) for (let i = 0; i < out.length; i++) out[i]! /= rms;
  return { samples: out, sampleRate: sampleRate / factor };
}

/**
 * A whole song's analysis signal, and what is read from it by more than one analysis (tempo,
 * key, chords, a recording's bar chords), each made once: the song is decimated once, and a
 * chromagram that two readings take alike is computed once. Valid while the song's samples
 * are not changed; made by whoever runs the analyses and dropped with them.
 */
export interface AnalysisFront {
  readonly pcm: { readonly sampleRate: number; readonly channels: readonly Float32Array[] };
  /** monoForAnalysis of the whole song. */
  mono(): MonoSignal;
  /** `make()`'s value the first time `key` is asked for, the same value after. */
  memo<T>(key: string, make: () => T): T;
}

export function analysisFront(pcm: { readonly sampleRate: number; readonly channels: readonly Float32Array[] }): AnalysisFront {
  const values = new Map<string, unknown>();
  const memo = <T>(key: string, make: () => T): T => {
    if (!values.has(key)) values.set(key, make());
    return values.get(key) as T;
  };
  return {
    pcm,
    memo,
    mono: () => memo('mono', () => monoForAnalysis(pcm.channels, pcm.sampleRate, 0, pcm.channels[0]?.length ?? 0)),
  };
}

export interface Spectrogram {
  /** Magnitudes, frame after frame, `bins` values each (DC … Nyquist − 1 bin). */
  magnitudes: Float32Array;
  frames: number;
  bins: number;
  size: number;
  hop: number;
  sampleRate: number;
}

/** Frames of a `size`/`hop` STFT of `length` samples: frame i covers samples [i·hop, i·hop + size). */
export const stftFrameCount = (length: number, size: number, hop: number): number => (length >= size ? 1 + Math.floor((length - size) / hop) : 0);

/**
 * The Hann-windowed magnitude STFT frame by frame: `onFrame` gets each frame's magnitudes (bins
 * DC … Nyquist − 1, as float32 like `stft` stores them), valid only during the call. For readings
 * that reduce each frame at once (chroma, onset flux): the whole spectrogram of a song is
 * several times the song's analysis signal, and is never held.
 */
export function forEachSpectrum(signal: MonoSignal, size: number, hop: number, onFrame: (frame: number, magnitudes: Float32Array) => void): number {
  const { samples } = signal;
  const frames = stftFrameCount(samples.length, size, hop);
  const bins = size / 2;
  const row = new Float32Array(bins);
  const fft = new FFT(size);
  const input = new Float64Array(size);
  const output = fft.createComplexArray() as number[];
  const window = Float64Array.from({ length: size }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size));
  for (let f = 0; f < frames; f++) {
    const start = f * hop;
    for (let i = 0; i < size; i++) input[i] = samples[start + i]! * window[i]!;
    fft.realTransform(output, input);
    for (let k = 0; k < bins; k++) {
      const re = output[2 * k]!;
      const im = output[2 * k + 1]!;
      row[k] = Math.sqrt(re * re + im * im);
    }
    onFrame(f, row);
  }
  return frames;
}

/** Hann-windowed magnitude STFT; frame i covers samples [i·hop, i·hop + size). */
export function stft(signal: MonoSignal, size: number, hop: number): Spectrogram {
  const bins = size / 2;
  const magnitudes = new Float32Array(stftFrameCount(signal.samples.length, size, hop) * bins);
  const frames = forEachSpectrum(signal, size, hop, (f, row) => magnitudes.set(row, f * bins));
  return { magnitudes, frames, bins, size, hop, sampleRate: signal.sampleRate };
}
