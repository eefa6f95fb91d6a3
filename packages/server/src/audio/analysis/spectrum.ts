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

/**
 * The channels of [from, to) averaged to mono, low-passed and decimated to
 * about ANALYSIS_RATE, then scaled to unit RMS so that every later threshold
 * is independent of the recording's level.
 */
export function monoForAnalysis(channels: readonly Float32Array[], sampleRate: number, from: number, to: number): MonoSignal {
  const factor = Math.max(1, Math.floor(sampleRate / ANALYSIS_RATE));
  const length = Math.max(0, to - from);
  const mono = new Float32Array(length);
  const scale = 1 / Math.max(1, channels.length);
  for (const channel of channels) for (let i = 0; i < length; i++) mono[i]! += channel[from + i]! * scale;
  let out: Float32Array;
  if (factor === 1) out = mono;
  else {
    const taps = decimationFilter(factor);
    const half = (taps.length - 1) / 2;
    out = new Float32Array(Math.floor(length / factor));
    for (let j = 0; j < out.length; j++) {
      const centre = j * factor;
      let acc = 0;
      const first = Math.max(0, centre - half);
      const last = Math.min(length - 1, centre + half);
      for (let i = first; i <= last; i++) acc += taps[i - centre + half]! * mono[i]!;
      out[j] = acc;
    }
  }
  let energy = 0;
  for (let i = 0; i < out.length; i++) energy += out[i]! * out[i]!;
  const rms = Math.sqrt(energy / Math.max(1, out.length));
  if (rms > 1e-9) for (let i = 0; i < out.length; i++) out[i]! /= rms;
  return { samples: out, sampleRate: sampleRate / factor };
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

/** Hann-windowed magnitude STFT; frame i covers samples [i·hop, i·hop + size). */
export function stft(signal: MonoSignal, size: number, hop: number): Spectrogram {
  const { samples, sampleRate } = signal;
  const frames = samples.length >= size ? 1 + Math.floor((samples.length - size) / hop) : 0;
  const bins = size / 2;
  const magnitudes = new Float32Array(frames * bins);
  const fft = new FFT(size);
  const input = new Float64Array(size);
  const output = fft.createComplexArray() as number[];
  const window = Float64Array.from({ length: size }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size));
  for (let f = 0; f < frames; f++) {
    const start = f * hop;
    for (let i = 0; i < size; i++) input[i] = samples[start + i]! * window[i]!;
    fft.realTransform(output, input);
    const row = f * bins;
    for (let k = 0; k < bins; k++) {
      const re = output[2 * k]!;
      const im = output[2 * k + 1]!;
      magnitudes[row + k] = Math.sqrt(re * re + im * im);
    }
  }
  return { magnitudes, frames, bins, size, hop, sampleRate };
}
