import FFT from 'fft.js';
import { type FoundNote, pickPeaks, quantile, type StemSignal } from './frames.js';

/**
 * Notes of a stem that plays one note at a time (a voice, a bass line, a solo wind): the pitch of
 * every frame by YIN (de Cheveigné and Kawahara's cumulative-mean-normalised difference function,
 * computed through the FFT), median-smoothed and rounded to semitones; a note is a run of one
 * pitch, cut again where the level rises sharply (a repeated note), and kept when it lasts 60 ms.
 */

/** Analysis frame (about 93 ms at 11 kHz: two periods of the lowest bass note) and hop (11.6 ms). */
const SIZE = 1024;
const HOP = 128;
/** YIN's threshold on the normalised difference: below it the first dip is the period. */
const YIN_THRESHOLD = 0.15;
/** A frame whose best dip is above this is not periodic (noise, a consonant, a chord). */
const UNVOICED_ABOVE = 0.35;
/** Pitches looked for: 30 Hz to 1.6 kHz. */
const LOWEST_HZ = 30;
const HIGHEST_HZ = 1600;
/** A frame this far under the stem's loud frames (its 95th percentile of RMS) is silence. */
const QUIET_DB = -30;
/** Frames of the median that smooths the pitch (±2: 58 ms). */
const MEDIAN_RADIUS = 2;
const MIN_NOTE_S = 0.06;
/** A rise of the level this sharp (dB over the lowest of the 5 frames before) inside a note starts a new one. */
const RISE_DB = 6;

/** Per frame: its pitch in fractional MIDI (NaN where unvoiced or quiet), and its RMS. */
function pitchTrack(signal: StemSignal): { midi: Float32Array; rms: Float32Array; frameS: number } {
  const { samples, sampleRate } = signal;
  const count = Math.ceil(samples.length / HOP);
  const half = SIZE / 2;
  const fft = new FFT(2 * SIZE);
  const a = new Float64Array(2 * SIZE);
  const b = new Float64Array(2 * SIZE);
  const spectrumA = fft.createComplexArray() as number[];
  const spectrumB = fft.createComplexArray() as number[];
  const product = fft.createComplexArray() as number[];
  const correlation = fft.createComplexArray() as number[];
  const frame = new Float64Array(SIZE);
  const squares = new Float64Array(SIZE + 1);
  const cmnd = new Float64Array(half);
  const midi = new Float32Array(count).fill(Number.NaN);
  const rms = new Float32Array(count);
  const minLag = Math.max(2, Math.floor(sampleRate / HIGHEST_HZ));
  const maxLag = Math.min(half - 1, Math.ceil(sampleRate / LOWEST_HZ));
  for (let t = 0; t < count; t++) {
    // The frame's first half (what YIN compares with the lags after it) is centred on the frame's time.
    const start = t * HOP - half / 2;
    let energy = 0;
    for (let i = 0; i < SIZE; i++) {
      const j = start + i;
      frame[i] = j >= 0 && j < samples.length ? samples[j]! : 0;
      squares[i + 1] = squares[i]! + frame[i]! * frame[i]!;
      // The level around the frame's centre only (a quarter of it), so that it moves with the notes.
      if (i >= SIZE / 8 && i < (3 * SIZE) / 8) energy += frame[i]! * frame[i]!;
    }
    rms[t] = Math.sqrt(energy / (SIZE / 4));
    if (energy === 0) continue;
    // r(τ) = Σ_{j<half} x[j]·x[j+τ]: the first half against the whole frame, as one product of spectra.
    a.fill(0);
    b.fill(0);
    for (let i = 0; i < half; i++) a[i] = frame[i]!;
    for (let i = 0; i < SIZE; i++) b[i] = frame[i]!;
    fft.realTransform(spectrumA, a);
    fft.completeSpectrum(spectrumA);
    fft.realTransform(spectrumB, b);
    fft.completeSpectrum(spectrumB);
    for (let k = 0; k < 2 * SIZE; k++) {
      const ar = spectrumA[2 * k]!;
      const ai = spectrumA[2 * k + 1]!;
      const br = spectrumB[2 * k]!;
      const bi = spectrumB[2 * k + 1]!;
      // conj(A)·B
      product[2 * k] = ar * br + ai * bi;
      product[2 * k + 1] = ar * bi - ai * br;
    }
    fft.inverseTransform(correlation, product);
    const e0 = squares[half]!;
    let running = 0;
    cmnd[0] = 1;
    let lag = -1;
    for (let tau = 1; tau < half; tau++) {
      const d = e0 + (squares[tau + half]! - squares[tau]!) - 2 * correlation[2 * tau]!;
      running += d;
      cmnd[tau] = running > 0 ? (d * tau) / running : 1;
    }
    let best = minLag;
    for (let tau = minLag; tau <= maxLag; tau++) {
      if (cmnd[tau]! < cmnd[best]!) best = tau;
      if (lag < 0 && cmnd[tau]! < YIN_THRESHOLD) {
        // The bottom of the first dip under the threshold.
        while (tau + 1 <= maxLag && cmnd[tau + 1]! < cmnd[tau]!) tau++;
        lag = tau;
        break;
      }
    }
    if (lag < 0) {
      if (cmnd[best]! > UNVOICED_ABOVE) continue;
      lag = best;
    }
    // A parabola through the dip and its neighbours places the period between samples.
    const left = cmnd[lag - 1] ?? cmnd[lag]!;
    const right = cmnd[lag + 1] ?? cmnd[lag]!;
    const curve = left - 2 * cmnd[lag]! + right;
    const period = curve > 0 ? lag + (0.5 * (left - right)) / curve : lag;
    midi[t] = 69 + 12 * Math.log2(sampleRate / period / 440);
  }
  return { midi, rms, frameS: HOP / sampleRate };
}

/** The median of each frame's voiced neighbours (±MEDIAN_RADIUS), NaN where the frame itself is unvoiced. */
function smoothed(midi: Float32Array): Float32Array {
  const out = new Float32Array(midi.length).fill(Number.NaN);
  const window: number[] = [];
  for (let t = 0; t < midi.length; t++) {
    if (Number.isNaN(midi[t]!)) continue;
    window.length = 0;
    for (let u = Math.max(0, t - MEDIAN_RADIUS); u <= Math.min(midi.length - 1, t + MEDIAN_RADIUS); u++) if (!Number.isNaN(midi[u]!)) window.push(midi[u]!);
    window.sort((x, y) => x - y);
    out[t] = window[Math.floor(window.length / 2)]!;
  }
  return out;
}

/** Frames where the level rises sharply: the attacks of notes, repeated ones included. */
function rises(rms: Float32Array): Set<number> {
  const db = Float32Array.from(rms, (v) => 20 * Math.log10(v + 1e-6));
  const rise = new Float32Array(rms.length);
  for (let t = 1; t < rms.length; t++) {
    let lowest = db[t]!;
    for (let u = Math.max(0, t - 5); u < t; u++) lowest = Math.min(lowest, db[u]!);
    rise[t] = Math.max(0, db[t]! - lowest);
  }
  return new Set(pickPeaks(rise, { radius: 3, around: 10, delta: RISE_DB, gap: 5 }));
}

/**
 * Notes of a monophonic stem, levels in RMS of the unit-RMS signal. `leadS`: how long before its
 * pitch is heard a note starts (a sung syllable's consonants come before its vowel, which is
 * where the pitch is; measured on reprise's voice), taken back from each start that follows silence or another pitch.
 */
export function transcribeMonophonic(signal: StemSignal, leadS = 0): FoundNote[] {
  const { midi: raw, rms, frameS } = pitchTrack(signal);
  const loud = quantile(rms, 0.95);
  const floor = loud * 10 ** (QUIET_DB / 20);
  for (let t = 0; t < raw.length; t++) if (rms[t]! < floor) raw[t] = Number.NaN;
  const midi = smoothed(raw);
  const attacks = rises(rms);
  const notes: FoundNote[] = [];
  const minFrames = Math.ceil(MIN_NOTE_S / frameS);
  let from = -1;
  let pitch = Number.NaN;
  const close = (to: number) => {
    if (from >= 0 && to - from >= minFrames) {
      let sum = 0;
      for (let u = from; u < to; u++) sum += rms[u]! * rms[u]!;
      const previousEnd = notes[notes.length - 1]?.end ?? 0;
      notes.push({ pitch, start: Math.max(previousEnd, from * frameS - leadS), end: to * frameS, level: Math.sqrt(sum / (to - from)) });
    }
    from = -1;
  };
  for (let t = 0; t <= midi.length; t++) {
    const here = t < midi.length && !Number.isNaN(midi[t]!) ? Math.round(midi[t]!) : Number.NaN;
    if (Number.isNaN(here)) {
      close(t);
      continue;
    }
    if (from < 0) {
      from = t;
      pitch = here;
    } else if (here !== pitch || attacks.has(t)) {
      close(t);
      from = t;
      pitch = here;
    }
  }
  return notes.filter((note) => note.pitch >= 0 && note.pitch <= 127);
}
