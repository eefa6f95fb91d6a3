import { measureLoudness, type TempoAnalysis } from '../analysis/index.js';
import { continuedBeats } from '../synthesis/continuation.js';
import { limitTruePeak } from './limiter.js';
import type { FrameSpan } from './match.js';
import type { SnapKind } from './seams.js';
import { applyGain } from './splice.js';

/**
 * Joining new music onto the end of a song (extend): where the join goes, the level of
 * what follows it, and how the song ends.
 */

export interface JoinPoint {
  /** Where the new music takes over, in seconds of the song. */
  atS: number;
  kind: SnapKind;
}

export interface JoinOptions {
  /** The join moves back by no more than this (default 0.5 s): the song is cut where it was asked to be, near enough. */
  maxShiftS?: number;
  /** The join is never earlier than this (room for the crossfade before it). */
  minS?: number;
}

const DEFAULT_MAX_SHIFT_S = 0.5;
/** A beat this far after the asked point still counts as at it (the grid is smoothed to well under this). */
const ON_BEAT_S = 0.002;

/**
 * The join moved back onto the song's beat grid: the latest downbeat at or before the asked
 * point within reach, else the latest beat, else the asked point itself. Never later than
 * asked, since what follows the asked point is what the caller wants replaced. `tempo` is the
 * reading the new music follows (null where there is none to trust).
 */
export function snapJoin(askedS: number, tempo: TempoAnalysis | null, options: JoinOptions = {}): JoinPoint {
  const asked: JoinPoint = { atS: askedS, kind: 'asked' };
  if (!tempo) return asked;
  const maxShiftS = options.maxShiftS ?? DEFAULT_MAX_SHIFT_S;
  const minS = options.minS ?? 0;
  const beats = continuedBeats(tempo, askedS + 1);
  const reachable = beats.map((atS, index) => ({ atS, index })).filter(({ atS }) => atS <= askedS + ON_BEAT_S && atS >= askedS - maxShiftS && atS >= minS);
  const downbeat = reachable.filter(({ index }) => index % tempo.beatsPerBar === tempo.barPhase).pop();
  if (downbeat) return { atS: Math.min(askedS, downbeat.atS), kind: 'downbeat' };
  const beat = reachable.pop();
  return beat ? { atS: Math.min(askedS, beat.atS), kind: 'beat' } : asked;
}

/**
 * Largest loudness corrections: a near-silent source must not mute the new music, nor blow it up.
 * The cut may go further than the boost: the synthesiser renders hot (about −11 LUFS) and a
 * produced song's quiet passage before the join can sit at −27 LUFS (measured on the corpus).
 */
const MAX_CUT_DB = 30;
const MAX_BOOST_DB = 12;
/** Close enough to the target (the goal is ±1 LU). */
const LOUDNESS_TOLERANCE_LU = 0.2;

const clampDb = (db: number) => Math.max(-MAX_CUT_DB, Math.min(MAX_BOOST_DB, db));
const loudnessOf = (channels: readonly Float32Array[], sampleRate: number, [from, to]: FrameSpan) =>
  measureLoudness(channels, sampleRate, { from, to }).integratedLufs;

/**
 * Brings `material` (judged over `span`) to `targetLufs` under a true-peak ceiling, in place.
 * The limiter can take back part of a gain, so gain and limiter are iterated until the limited
 * material is at the target or the gain at its bound. Returns the gain applied, in dB.
 */
export function matchLoudness(material: Float32Array[], sampleRate: number, targetLufs: number, span: FrameSpan): number {
  const own = loudnessOf(material, sampleRate, span);
  if (!(Number.isFinite(targetLufs) && Number.isFinite(own))) {
    limitTruePeak(material, { sampleRate });
    return 0;
  }
  const unlimited = material.map((channel) => Float32Array.from(channel));
  let gainDb = clampDb(targetLufs - own);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt > 0) for (const [c, channel] of material.entries()) channel.set(unlimited[c]!);
    applyGain(material, 10 ** (gainDb / 20));
    if (limitTruePeak(material, { sampleRate }).passes === 0) return gainDb;
    const missing = targetLufs - loudnessOf(material, sampleRate, span);
    const next = clampDb(gainDb + missing);
    if (Math.abs(missing) <= LOUDNESS_TOLERANCE_LU || next === gainDb) return gainDb;
    gainDb = next;
  }
  return gainDb;
}

/**
 * A fade to silence over the last `frames` frames, in place: raised cosine, so it leaves the
 * music without a corner and reaches zero with zero slope (the song ends without a click).
 */
export function fadeOutEnd(channels: Float32Array[], frames: number): void {
  for (const channel of channels) {
    const n = Math.min(frames, channel.length);
    const from = channel.length - n;
    for (let i = 0; i < n; i++) channel[from + i]! *= 0.5 * (1 + Math.cos((Math.PI * (i + 1)) / n));
  }
}
