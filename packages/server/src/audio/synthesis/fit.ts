import type { Analysis } from '../analysis/index.js';
import { type Arrangement, planArrangement } from './arrangement.js';
import type { Mode } from './style.js';
import { type BeatTimeline, renderWindow } from './synth.js';

/**
 * A new section that fits the song around it: the arrangement takes the
 * source's tempo, key and mode, and its bars are laid on the source's beat
 * grid (downbeat on downbeat), so that at the seams the new material is in
 * time and in tune with the old. Where the analysis is unsure, the section
 * falls back to its own choice rather than following a wrong reading.
 */

/** Below these confidences a reading is not followed (a replaced section, a continuation). */
export const MIN_TEMPO_CONFIDENCE = 0.15;
/** Any key reading is followed: a doubtful reading is still far likelier right than a key drawn at random. */
export const MIN_KEY_CONFIDENCE = 0;
/** Beats on each side used to smooth the beat grid (the tracker's frame jitter is ~±6 ms). */
const SMOOTHING_BEATS = 4;

export interface FitRequest {
  /** Seed of the task: the same inputs give the same section. */
  seed: string;
  /** Words that pick the style, most important first (tags, then prompt, then title). */
  texts: readonly string[];
  negative?: string;
  /** The analysis of the source around the section. */
  analysis: Analysis;
  sampleRate: number;
  channels: number;
  /** The replaced range [from, to) in source frames. */
  from: number;
  to: number;
  /** Frames rendered before `from` and after `to`, for the crossfades. */
  preRoll: number;
  postRoll: number;
}

export interface FittedSection {
  /** The rendered audio: `channels` arrays covering [startFrame, startFrame + length) of the source's timeline. */
  channels: Float32Array[];
  startFrame: number;
  arrangement: Arrangement;
  /** What was followed from the analysis, and what the section chose itself. */
  followed: { tempo: boolean; key: boolean };
  /** The piece's beat grid, in seconds of the source. */
  timeline: BeatTimeline;
}

/** Each beat moved onto a straight line fitted through its neighbours: keeps slow drift, drops jitter. */
export function smoothBeats(beats: readonly number[], radius = SMOOTHING_BEATS): number[] {
  return beats.map((_, k) => {
    const first = Math.max(0, k - radius);
    const last = Math.min(beats.length - 1, k + radius);
    let n = 0;
    let si = 0;
    let st = 0;
    let sii = 0;
    let sit = 0;
    for (let i = first; i <= last; i++) {
      n++;
      si += i;
      st += beats[i]!;
      sii += i * i;
      sit += i * beats[i]!;
    }
    const den = n * sii - si * si;
    if (den === 0) return beats[k]!;
    const slope = (n * sit - si * st) / den;
    return (st - slope * si) / n + slope * k;
  });
}

/**
 * A timeline through known beat times (beat `offset` of the piece is
 * `beats[0]`), extended at both ends at the local period.
 */
export function gridTimeline(beats: readonly number[], offset: number): BeatTimeline {
  const n = beats.length;
  const startPeriod = n > 1 ? beats[1]! - beats[0]! : 0.5;
  const endPeriod = n > 1 ? beats[n - 1]! - beats[n - 2]! : 0.5;
  const timeAtIndex = (j: number): number => {
    if (j <= 0) return beats[0]! + j * startPeriod;
    if (j >= n - 1) return beats[n - 1]! + (j - (n - 1)) * endPeriod;
    const i = Math.floor(j);
    return beats[i]! + (beats[i + 1]! - beats[i]!) * (j - i);
  };
  const indexAtTime = (t: number): number => {
    if (t <= beats[0]!) return (t - beats[0]!) / startPeriod;
    if (t >= beats[n - 1]!) return n - 1 + (t - beats[n - 1]!) / endPeriod;
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (beats[mid]! <= t) lo = mid;
      else hi = mid;
    }
    return lo + (t - beats[lo]!) / (beats[hi]! - beats[lo]!);
  };
  return { timeOf: (beat) => timeAtIndex(beat - offset), beatAt: (seconds) => indexAtTime(seconds) + offset };
}

/** A constant-tempo timeline whose beat 0 is at `zeroS`. */
const steadyTimeline = (bpm: number, zeroS: number): BeatTimeline => ({
  timeOf: (beat) => zeroS + (beat * 60) / bpm,
  beatAt: (seconds) => ((seconds - zeroS) * bpm) / 60,
});

/**
 * Plans and renders the new section. The piece's first loop bar starts on
 * the source's downbeat nearest the section's start; the loop before it
 * (rendered only as far back as the pre-roll) gives the first crossfade
 * material in the same time and key.
 */
export function renderFittedSection(request: FitRequest): FittedSection {
  const { analysis, sampleRate } = request;
  const tempo = analysis.tempo && analysis.tempo.confidence >= MIN_TEMPO_CONFIDENCE && analysis.tempo.beats.length >= 4 ? analysis.tempo : null;
  const key = analysis.key && analysis.key.confidence >= MIN_KEY_CONFIDENCE ? analysis.key : null;
  const fixed: { bpm?: number; tonic?: string; mode?: Mode } = {};
  if (tempo) fixed.bpm = tempo.bpm;
  if (key) {
    fixed.tonic = key.tonic;
    fixed.mode = key.mode;
  }
  const arrangement = planArrangement({
    seed: request.seed,
    texts: request.texts,
    negative: request.negative,
    form: 'section',
    durationS: (request.to - request.from) / sampleRate,
    fixed,
  });
  const loopBeats = arrangement.sections[0]!.bars * arrangement.beatsPerBar;
  const startS = request.from / sampleRate;
  let timeline: BeatTimeline;
  if (tempo) {
    const beats = smoothBeats(tempo.beats);
    // The downbeat nearest the section's start (counted on the grid, which may extend past the analysed beats)
    // becomes the first beat of a loop.
    const beatAtStart = (startS - beats[0]!) / (60 / tempo.bpm);
    const downbeat = Math.round((beatAtStart - tempo.barPhase) / tempo.beatsPerBar) * tempo.beatsPerBar + tempo.barPhase;
    // Beat `downbeat` of the source is beat `loopBeats` of the piece: one whole loop of lead-in before it.
    timeline = gridTimeline(beats, loopBeats - downbeat);
  } else {
    timeline = steadyTimeline(arrangement.bpm, startS - (loopBeats * 60) / arrangement.bpm);
  }
  const startFrame = request.from - request.preRoll;
  const channels = renderWindow(arrangement, {
    sampleRate,
    channels: request.channels,
    startFrame,
    frames: request.to + request.postRoll - startFrame,
    timeline,
  });
  return { channels, startFrame, arrangement, followed: { tempo: tempo !== null, key: key !== null }, timeline };
}
