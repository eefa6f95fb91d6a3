import { type FoundNote, pickPeaks, quantile, SpectrumFrames, type StemSignal } from './frames.js';

/**
 * Notes of a stem that plays chords (keys, guitars, strings, pads): in every frame, the pitches
 * whose harmonics together stand out, found one at a time and each taken out of the spectrum
 * before the next is looked for (iterative estimation and cancellation, after Klapuri); a note is
 * a run of one pitch, cut again where that pitch's strength jumps at a spectral-flux onset, and
 * its start placed on the onset nearest it. An estimate: octave and fifth confusions remain.
 */

/**
 * Long frames for pitch (186 ms at 11 kHz: 5.4 Hz bins, a semitone apart from G3 up) at a 23 ms
 * hop; the onsets, which place the notes, come from short frames (46 ms) at an 11.6 ms hop.
 */
const SIZE = 2048;
const HOP = 256;
const ONSET_SIZE = 512;
const ONSET_HOP = 128;
const LOWEST = 36;
const HIGHEST = 96;
const HARMONICS = 8;
/** Harmonic h weighs HARMONIC_DECAY^(h−1): low harmonics say most about a pitch. */
const HARMONIC_DECAY = 0.8;
const MAX_VOICES = 6;
/** A further pitch must reach this share of the frame's strongest pitch. */
const RELATIVE_FLOOR = 0.25;
/** A pitch's own fundamental must hold this share of its strongest harmonic (else it is an octave below a real note). */
const FUNDAMENTAL_SHARE = 0.2;
/** A frame this far under the stem's loud frames is silence. */
const QUIET_DB = -35;
/** Shorter runs are mostly the broadband noise of attacks read as pitches. */
const MIN_NOTE_S = 0.1;
/** Frames an active pitch may drop out for without ending its note. */
const BRIDGE_FRAMES = 2;
/** How far from a note's first frame the onset it starts on may be. */
const SNAP_S = 0.12;
/** A pitch whose strength grows by this factor across an onset is struck again there. */
const RESTRIKE_RATIO = 1.3;
/** Where the strength is compared before and after an onset (the long frames smear it over ±90 ms). */
const RESTRIKE_SPAN_S: readonly [number, number] = [0.03, 0.09];

const hzOf = (midi: number) => 440 * 2 ** ((midi - 69) / 12);

/** Where each harmonic of each candidate pitch is looked for: bins [from, to] around h·f0, computed once. */
interface HarmonicBins {
  from: Int32Array;
  to: Int32Array;
  /** Harmonics each pitch has below the top of the spectrum. */
  count: Int32Array;
}

function harmonicBins(bins: number, binHz: number): HarmonicBins {
  const pitches = HIGHEST - LOWEST + 1;
  const table: HarmonicBins = { from: new Int32Array(pitches * HARMONICS), to: new Int32Array(pitches * HARMONICS), count: new Int32Array(pitches) };
  for (let p = 0; p < pitches; p++) {
    const f0 = hzOf(LOWEST + p);
    for (let h = 1; h <= HARMONICS; h++) {
      const centre = (h * f0) / binHz;
      if (centre >= bins - 2) break;
      // Within about a quarter of a semitone of the harmonic (at least ±1 bin).
      const reach = Math.max(1, Math.round(centre * 0.015));
      table.from[p * HARMONICS + h - 1] = Math.max(1, Math.round(centre) - reach);
      table.to[p * HARMONICS + h - 1] = Math.min(bins - 1, Math.round(centre) + reach);
      table.count[p] = h;
    }
  }
  return table;
}

/** The strongest bin of a harmonic's range. */
function peakBin(spectrum: Float32Array, from: number, to: number): number {
  let best = from;
  for (let k = from + 1; k <= to; k++) if (spectrum[k]! > spectrum[best]!) best = k;
  return best;
}

/**
 * The strength of pitch `p` (index from LOWEST) in a frame's compressed spectrum: its harmonics'
 * peaks, weighted; 0 where its own fundamental is too weak for it to be the note (an octave below one).
 */
function salience(spectrum: Float32Array, table: HarmonicBins, p: number): number {
  let value = 0;
  let strongest = 0;
  let fundamental = 0;
  let weight = 1;
  for (let h = 0; h < table.count[p]!; h++) {
    const i = p * HARMONICS + h;
    const magnitude = spectrum[peakBin(spectrum, table.from[i]!, table.to[i]!)]!;
    if (h === 0) fundamental = magnitude;
    if (magnitude > strongest) strongest = magnitude;
    value += weight * magnitude;
    weight *= HARMONIC_DECAY;
  }
  return fundamental >= FUNDAMENTAL_SHARE * strongest ? value : 0;
}

/** The pitches of one frame (index from LOWEST), strongest first, with their strengths. */
function framePitches(spectrum: Float32Array, table: HarmonicBins): { p: number; value: number }[] {
  const found: { p: number; value: number }[] = [];
  const pitches = HIGHEST - LOWEST + 1;
  for (let voice = 0; voice < MAX_VOICES; voice++) {
    let best = -1;
    let bestValue = 0;
    for (let p = 0; p < pitches; p++) {
      const value = salience(spectrum, table, p);
      if (value > bestValue && !found.some((f) => f.p === p)) {
        best = p;
        bestValue = value;
      }
    }
    if (best < 0 || (found.length > 0 && bestValue < RELATIVE_FLOOR * found[0]!.value)) break;
    found.push({ p: best, value: bestValue });
    // Take the pitch's harmonics out (their peaks and neighbours), so its partials do not make up the next pitch.
    for (let h = 0; h < table.count[best]!; h++) {
      const i = best * HARMONICS + h;
      const k = peakBin(spectrum, table.from[i]!, table.to[i]!);
      spectrum.fill(0, Math.max(0, k - 1), k + 2);
    }
  }
  return found;
}

/** Onset frames (on the pitch frames' clock) from the spectral flux of short frames. */
function onsetTimes(signal: StemSignal): number[] {
  const frames = new SpectrumFrames(signal, ONSET_SIZE, ONSET_HOP);
  const flux = new Float32Array(frames.count);
  const magnitudes = new Float32Array(frames.bins);
  let previous = new Float32Array(frames.bins);
  let current = new Float32Array(frames.bins);
  for (let t = 0; t < frames.count; t++) {
    frames.magnitudes(t, magnitudes);
    let rise = 0;
    for (let k = 1; k < frames.bins; k++) {
      current[k] = Math.log1p(100 * magnitudes[k]!);
      rise += Math.max(0, current[k]! - previous[k]!);
    }
    flux[t] = rise;
    [previous, current] = [current, previous];
  }
  const strong = quantile(flux, 0.99);
  return pickPeaks(flux, { radius: 3, around: 30, delta: 0.15 * strong, gap: 5 }).map((t) => frames.timeOf(t));
}

/** Notes of a polyphonic stem, levels in the harmonic strength of their pitch. */
export function transcribePolyphonic(signal: StemSignal): FoundNote[] {
  const frames = new SpectrumFrames(signal, SIZE, HOP);
  const table = harmonicBins(frames.bins, frames.hzOf(1));
  const spectrum = new Float32Array(frames.bins);
  const energies = new Float32Array(frames.count);
  const pitches = HIGHEST - LOWEST + 1;
  const strength = new Float32Array(frames.count * pitches);
  const perFrame: { p: number; value: number }[][] = [];
  for (let t = 0; t < frames.count; t++) {
    frames.magnitudes(t, spectrum);
    let energy = 0;
    for (let k = 0; k < frames.bins; k++) {
      energy += spectrum[k]! * spectrum[k]!;
      // Square-root compression evens out loud and quiet partials (a chord's upper notes are softer).
      spectrum[k] = Math.sqrt(spectrum[k]!);
    }
    energies[t] = Math.sqrt(energy);
    perFrame.push(framePitches(spectrum, table));
  }
  const floor = quantile(energies, 0.95) * 10 ** (QUIET_DB / 20);
  for (let t = 0; t < frames.count; t++) {
    if (energies[t]! < floor) continue;
    for (const { p, value } of perFrame[t]!) strength[t * pitches + p] = value;
  }
  const onsets = onsetTimes(signal);
  const frameS = frames.timeOf(1);
  const notes: FoundNote[] = [];
  const minFrames = Math.ceil(MIN_NOTE_S / frameS);
  const nearestOnset = (seconds: number) => {
    let best: number | null = null;
    for (const onset of onsets)
      if (Math.abs(onset - seconds) <= SNAP_S && (best === null || Math.abs(onset - seconds) < Math.abs(best - seconds))) best = onset;
    return best;
  };
  const meanOver = (p: number, fromS: number, toS: number) => {
    let sum = 0;
    let n = 0;
    for (let t = Math.max(0, Math.round(fromS / frameS)); t <= Math.min(frames.count - 1, Math.round(toS / frameS)); t++, n++)
      sum += strength[t * pitches + p]!;
    return n > 0 ? sum / n : 0;
  };
  const [near, far] = RESTRIKE_SPAN_S;
  /** The onsets inside a run where its pitch is struck again. */
  const restrikes = (p: number, startS: number, endS: number) =>
    onsets.filter(
      (o) => o > startS + MIN_NOTE_S && o < endS - MIN_NOTE_S / 2 && meanOver(p, o + near, o + far) > RESTRIKE_RATIO * meanOver(p, o - far, o - near),
    );
  for (let p = 0; p < pitches; p++) {
    const at = (t: number) => strength[t * pitches + p]!;
    let from = -1;
    let gap = 0;
    const close = (to: number) => {
      if (from >= 0 && to - from >= minFrames) {
        const first = frames.timeOf(from);
        const start = nearestOnset(first) ?? first;
        const end = Math.max(start + frameS, frames.timeOf(to));
        const cuts = [start, ...restrikes(p, start, end), end];
        for (let i = 0; i + 1 < cuts.length; i++)
          notes.push({ pitch: LOWEST + p, start: cuts[i]!, end: cuts[i + 1]!, level: meanOver(p, cuts[i]!, cuts[i + 1]!) });
      }
      from = -1;
    };
    for (let t = 0; t < frames.count; t++) {
      if (at(t) > 0) {
        if (from < 0) from = t;
        gap = 0;
      } else if (from >= 0 && ++gap > BRIDGE_FRAMES) close(t - gap + 1);
    }
    if (from >= 0) close(frames.count - gap);
  }
  // Snapping a start onto its onset can shorten a run of attack noise under the minimum: it goes too.
  return notes.filter((note) => note.end - note.start >= MIN_NOTE_S);
}
