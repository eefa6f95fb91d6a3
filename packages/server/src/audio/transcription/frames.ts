import FFT from 'fft.js';
import { ANALYSIS_RATE, type MonoSignal } from '../analysis/spectrum.js';
import { decodeAudio } from '../codecs/decode.js';
import { streamMp3 } from '../codecs/mp3.js';
import { readMp3Layout } from '../codecs/mp3-frames.js';
import { probeAudio } from '../codecs/probe.js';
import type { Pcm } from '../pcm.js';

/**
 * The front end every transcriber shares: the stem as one mono signal at about 11 kHz (what is
 * transcribed lives below 5 kHz), its level before it was normalised, magnitude spectra frame by
 * frame (computed as they are read, never held for the whole song), and peak picking.
 */

export interface StemSignal extends MonoSignal {
  /** RMS of the stem as given (all channels), before `samples` were brought to unit RMS. */
  levelRms: number;
}

/** A stem quieter than this (RMS, about −80 dBFS) is silence: no notes are looked for in it. */
export const SILENT_RMS = 1e-4;

/** Low-pass FIR (Hann-windowed sinc) for decimation by `factor`, cut off a little below the new Nyquist. */
function lowPass(factor: number): Float64Array {
  const half = 4 * factor;
  const taps = new Float64Array(2 * half + 1);
  let sum = 0;
  for (let k = -half; k <= half; k++) {
    const x = (2 * 0.45 * k) / factor;
    const value = (k === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x)) * (0.5 + 0.5 * Math.cos((Math.PI * k) / (half + 1)));
    taps[k + half] = value;
    sum += value;
  }
  return taps.map((tap) => tap / sum);
}

/**
 * The stem averaged to mono, low-passed and decimated to about 11 kHz as its samples arrive, piece
 * by piece: only the filter's reach of full-rate samples is held, never the whole stem.
 */
class MonoDecimator {
  private readonly factor: number;
  private readonly taps: Float64Array;
  private readonly half: number;
  /** Full-rate mono samples from absolute index `base`, `filled` of them. */
  private buffer = new Float32Array(1 << 16);
  private base = 0;
  private filled = 0;
  /** The next output sample to make. */
  private next = 0;
  private readonly out: Float32Array[] = [];
  private current = new Float32Array(1 << 16);
  private written = 0;
  private levelSum = 0;
  private levelCount = 0;

  constructor(private readonly sampleRate: number) {
    this.factor = Math.max(1, Math.floor(sampleRate / ANALYSIS_RATE));
    this.taps = lowPass(this.factor);
    this.half = (this.taps.length - 1) / 2;
  }

  push(channels: readonly Float32Array[]): void {
    const length = channels[0]?.length ?? 0;
    if (this.filled + length > this.buffer.length) {
      const grown = new Float32Array(Math.max(2 * this.buffer.length, this.filled + length));
      grown.set(this.buffer.subarray(0, this.filled));
      this.buffer = grown;
    }
    const scale = 1 / Math.max(1, channels.length);
    for (let i = 0; i < length; i++) {
      let x = 0;
      for (const channel of channels) {
        x += channel[i]!;
        this.levelSum += channel[i]! * channel[i]!;
      }
      this.buffer[this.filled + i] = x * scale;
    }
    this.levelCount += length * channels.length;
    this.filled += length;
    // Every output whose whole filter reach has arrived.
    while (this.next * this.factor + this.half < this.base + this.filled) this.emit(this.base + this.filled);
    const keepFrom = Math.max(this.base, this.next * this.factor - this.half);
    this.buffer.copyWithin(0, keepFrom - this.base, this.filled);
    this.filled -= keepFrom - this.base;
    this.base = keepFrom;
  }

  /** The signal, brought to unit RMS so that thresholds do not depend on the stem's level. */
  finish(): StemSignal {
    const total = this.base + this.filled;
    while (this.next < Math.floor(total / this.factor)) this.emit(total);
    const samples = new Float32Array(this.out.reduce((n, piece) => n + piece.length, 0) + this.written);
    let at = 0;
    for (const piece of [...this.out, this.current.subarray(0, this.written)]) {
      samples.set(piece, at);
      at += piece.length;
    }
    let energy = 0;
    for (let j = 0; j < samples.length; j++) energy += samples[j]! * samples[j]!;
    const rms = Math.sqrt(energy / Math.max(1, samples.length));
    if (rms > 1e-9) for (let j = 0; j < samples.length; j++) samples[j]! /= rms;
    const levelRms = Math.sqrt(this.levelSum / Math.max(1, this.levelCount));
    return { samples, sampleRate: this.sampleRate / this.factor, levelRms };
  }

  /** Output `next`, from the samples before `end` (later ones count as silence: the stem's end). */
  private emit(end: number): void {
    const centre = this.next * this.factor;
    let acc = 0;
    for (let i = Math.max(0, centre - this.half); i <= Math.min(end - 1, centre + this.half); i++)
      acc += this.taps[i - centre + this.half]! * this.buffer[i - this.base]!;
    if (this.written === this.current.length) {
      this.out.push(this.current);
      this.current = new Float32Array(this.current.length);
      this.written = 0;
    }
    this.current[this.written++] = acc;
    this.next++;
  }
}

/** A decoded stem as the transcribers take it (see MonoDecimator). */
export function stemSignal(pcm: Pcm): StemSignal {
  const decimator = new MonoDecimator(pcm.sampleRate);
  decimator.push(pcm.channels);
  return decimator.finish();
}

/**
 * A stem's file (MP3 or WAV, told by its content) as the transcribers take it. An MP3 is decoded
 * piece by piece into the decimator, so a 3-minute stem costs about 8 MB rather than the 64 MB of
 * its decoded stereo; a WAV is read whole. Unreadable audio is an AudioFormatError.
 */
export async function readStem(bytes: Uint8Array): Promise<StemSignal> {
  if (probeAudio(bytes).format !== 'mp3') return stemSignal(await decodeAudio(bytes));
  const layout = readMp3Layout(bytes);
  const decimator = new MonoDecimator(layout?.header.sampleRate ?? 44_100);
  await streamMp3(bytes, (channels) => decimator.push(channels));
  return decimator.finish();
}

/**
 * Hann-windowed magnitude spectra of a signal at a fixed hop; frame `t` is centred on sample
 * `t · hop` (samples outside the signal count as silence), so a frame's time is simply t · hop / rate.
 */
export class SpectrumFrames {
  readonly bins: number;
  readonly count: number;
  private readonly fft: FFT;
  private readonly window: Float64Array;
  private readonly input: Float64Array;
  private readonly output: number[];

  constructor(
    private readonly signal: MonoSignal,
    readonly size: number,
    readonly hop: number,
  ) {
    this.bins = size / 2;
    this.count = Math.ceil(signal.samples.length / hop);
    this.fft = new FFT(size);
    this.window = Float64Array.from({ length: size }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size));
    this.input = new Float64Array(size);
    this.output = this.fft.createComplexArray() as number[];
  }

  /** Seconds of frame `t`'s centre. */
  timeOf(t: number): number {
    return (t * this.hop) / this.signal.sampleRate;
  }

  /** Frequency of bin `k` in Hz. */
  hzOf(k: number): number {
    return (k * this.signal.sampleRate) / this.size;
  }

  /** Frame `t`'s magnitudes into `out` (`bins` values). */
  magnitudes(t: number, out: Float32Array): void {
    const { samples } = this.signal;
    const start = t * this.hop - this.size / 2;
    for (let i = 0; i < this.size; i++) {
      const j = start + i;
      this.input[i] = j >= 0 && j < samples.length ? samples[j]! * this.window[i]! : 0;
    }
    this.fft.realTransform(this.output, this.input);
    for (let k = 0; k < this.bins; k++) {
      const re = this.output[2 * k]!;
      const im = this.output[2 * k + 1]!;
      out[k] = Math.sqrt(re * re + im * im);
    }
  }
}

/**
 * Peaks of an onset function: local maxima within ±`radius` frames that stand `delta` above the
 * mean of the frames around them (±`around`), at least `gap` frames apart (the larger wins).
 */
export function pickPeaks(values: Float32Array, options: { radius: number; around: number; delta: number; gap: number }): number[] {
  const { radius, around, delta, gap } = options;
  const prefix = new Float64Array(values.length + 1);
  for (let t = 0; t < values.length; t++) prefix[t + 1] = prefix[t]! + values[t]!;
  const peaks: number[] = [];
  for (let t = 0; t < values.length; t++) {
    const v = values[t]!;
    if (v <= 0) continue;
    let highest = true;
    for (let u = Math.max(0, t - radius); u <= Math.min(values.length - 1, t + radius) && highest; u++) {
      if (values[u]! > v || (values[u]! === v && u < t)) highest = false;
    }
    if (!highest) continue;
    const from = Math.max(0, t - around);
    const to = Math.min(values.length, t + around + 1);
    const mean = (prefix[to]! - prefix[from]!) / (to - from);
    if (v < mean + delta) continue;
    const last = peaks[peaks.length - 1];
    if (last !== undefined && t - last < gap) {
      if (v > values[last]!) peaks[peaks.length - 1] = t;
      continue;
    }
    peaks.push(t);
  }
  return peaks;
}

/** The value below which `fraction` of the values lie. */
export function quantile(values: ArrayLike<number>, fraction: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(fraction * (sorted.length - 1))))]!;
}

/** A note found in a stem, before it is named: MIDI pitch, seconds, and a level to make its velocity from. */
export interface FoundNote {
  pitch: number;
  start: number;
  end: number;
  /** Linear level (RMS-like) of the note; velocities are these relative to the stem's loudest. */
  level: number;
}

/** Levels to velocities: relative to the loudest note of the list, never under 0.05 (a note that is found is heard). */
export function withVelocities(notes: readonly FoundNote[]): { pitch: number; start: number; end: number; velocity: number }[] {
  const loudest = notes.reduce((most, note) => Math.max(most, note.level), 0);
  return notes
    .map((note) => ({
      pitch: note.pitch,
      start: note.start,
      end: note.end,
      velocity: loudest > 0 ? Math.max(0.05, Math.min(1, note.level / loudest)) : 1,
    }))
    .sort((a, b) => a.start - b.start || a.pitch - b.pitch);
}
