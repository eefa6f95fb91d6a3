import { type FoundNote, pickPeaks, quantile, SpectrumFrames, type StemSignal } from './frames.js';

/**
 * Drum hits from a drum stem: onsets of spectral flux (the rise of magnitudes, frame to frame) in
 * three bands, each band a drum. Linear magnitudes, not logarithmic: a hi-hat's faint low partials
 * would otherwise rise as much as a snare's body. The kick is the flux below 120 Hz; the snare the
 * flux of 800–2,500 Hz that a kick's overtones do not explain (a hi-hat has almost nothing there);
 * the hi-hat the flux above 3 kHz that the snare's own high end does not explain. Hits of
 * different drums at the same moment are all found; two hits of one drum closer than 50–70 ms are one.
 */

/** General MIDI percussion keys. */
export const GM_DRUMS = { kick: 36, snare: 38, closedHat: 42, sideStick: 37, claves: 75 } as const;

const SIZE = 512;
const HOP = 64;
const BANDS = { low: [30, 120], mid: [800, 2500], high: [3000, 5400] } as const;
/**
 * What one drum leaves in another's band, per unit of flux in its own (measured on reprise's kit
 * through MP3, with margin): a kick's overtones reach the snare's band, a snare's rattle the
 * hi-hat's. The rest of a band's flux is its own drum's.
 */
const KICK_MID_PER_LOW = 0.012;
const SNARE_HIGH_PER_MID = 1.3;
/**
 * A peak must stand this share of the band's strong peaks (its 99.5th percentile) above its
 * surroundings. The kick's is high: a snare's body leaks into the low band at about an eighth of a kick.
 */
const PEAK_DELTA = { low: 0.25, mid: 0.25, high: 0.06 } as const;
/** Two onsets of one drum closer than this are one hit (a kick's falling pitch sweeps through its band). */
const MIN_GAP_S = { low: 0.07, mid: 0.05, high: 0.05 } as const;

type Band = keyof typeof BANDS;

/** Each band's flux, frame by frame, and its mean level just after each frame (for velocities). */
function bandFlux(signal: StemSignal): { flux: Record<Band, Float32Array>; level: Record<Band, Float32Array>; frames: SpectrumFrames } {
  const frames = new SpectrumFrames(signal, SIZE, HOP);
  const flux = { low: new Float32Array(frames.count), mid: new Float32Array(frames.count), high: new Float32Array(frames.count) };
  const level = { low: new Float32Array(frames.count), mid: new Float32Array(frames.count), high: new Float32Array(frames.count) };
  const ranges = Object.fromEntries(
    (Object.keys(BANDS) as Band[]).map((band) => {
      const [low, high] = BANDS[band];
      return [band, [Math.max(1, Math.round((low * SIZE) / signal.sampleRate)), Math.min(frames.bins - 1, Math.round((high * SIZE) / signal.sampleRate))]];
    }),
  ) as Record<Band, [number, number]>;
  let previous = new Float32Array(frames.bins);
  let current = new Float32Array(frames.bins);
  const magnitudes = new Float32Array(frames.bins);
  for (let t = 0; t < frames.count; t++) {
    frames.magnitudes(t, magnitudes);
    current.set(magnitudes);
    for (const band of Object.keys(BANDS) as Band[]) {
      const [from, to] = ranges[band];
      let rise = 0;
      let energy = 0;
      for (let k = from; k <= to; k++) {
        const d = current[k]! - previous[k]!;
        if (d > 0) rise += d;
        energy += magnitudes[k]! * magnitudes[k]!;
      }
      flux[band][t] = rise / (to - from + 1);
      level[band][t] = Math.sqrt(energy);
    }
    [previous, current] = [current, previous];
  }
  return { flux, level, frames };
}

/** Onset frames of one band's onset function, its threshold scaled to its own strong peaks. */
function onsets(values: Float32Array, band: Band, frameS: number): number[] {
  const strong = quantile(values, 0.995);
  if (strong <= 0) return [];
  return pickPeaks(values, { radius: 3, around: 40, delta: PEAK_DELTA[band] * strong, gap: Math.round(MIN_GAP_S[band] / frameS) });
}

/** The loudest band level in the 30 ms after frame t: the hit's level. */
function hitLevel(level: Float32Array, t: number): number {
  let most = 0;
  for (let u = t; u < Math.min(level.length, t + 5); u++) most = Math.max(most, level[u]!);
  return most;
}

/** Drum hits of a drum stem as GM kick, snare and closed hi-hat notes (each 100 ms long, as drum notes are written). */
export function transcribeDrums(signal: StemSignal): FoundNote[][] {
  const { flux, level, frames } = bandFlux(signal);
  const ownMid = new Float32Array(frames.count);
  const ownHigh = new Float32Array(frames.count);
  for (let t = 0; t < frames.count; t++) {
    ownMid[t] = Math.max(0, flux.mid[t]! - KICK_MID_PER_LOW * flux.low[t]!);
    ownHigh[t] = Math.max(0, flux.high[t]! - SNARE_HIGH_PER_MID * ownMid[t]!);
  }
  const frameS = frames.timeOf(1);
  const hits = (values: Float32Array, pitch: number, band: Band) =>
    onsets(values, band, frameS).map((t) => ({ pitch, start: frames.timeOf(t), end: frames.timeOf(t) + 0.1, level: hitLevel(level[band], t) }));
  return [hits(flux.low, GM_DRUMS.kick, 'low'), hits(ownMid, GM_DRUMS.snare, 'mid'), hits(ownHigh, GM_DRUMS.closedHat, 'high')];
}

/** Hits of a percussion stem: every onset of the whole band's flux, as one percussion key. */
export function transcribePercussion(signal: StemSignal, pitch: number): FoundNote[] {
  const { flux, level, frames } = bandFlux(signal);
  const all = new Float32Array(frames.count);
  for (let t = 0; t < frames.count; t++) all[t] = flux.low[t]! + flux.mid[t]! + flux.high[t]!;
  return onsets(all, 'high', frames.timeOf(1)).map((t) => ({
    pitch,
    start: frames.timeOf(t),
    end: frames.timeOf(t) + 0.1,
    level: hitLevel(level.mid, t) + hitLevel(level.high, t),
  }));
}
