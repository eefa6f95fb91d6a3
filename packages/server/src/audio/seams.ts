import type { TempoAnalysis } from './analysis/index.js';
import { smoothBeats } from './fit.js';
import type { FadeShape } from './splice.js';

/**
 * Where a replaced section begins and ends, and how it is joined: the range
 * moved onto the song's beats (a bar line where one is near), and for each
 * seam the crossfade that suits how alike the old and new material are.
 */

/** What a section must satisfy (SPEC §2: 6–60 s, at most half the song, inside it). */
export interface SectionRules {
  minS: number;
  maxS: number;
  maxShareOfSong: number;
}

export interface SnapOptions {
  durationS: number;
  rules: SectionRules;
  /** Below this tempo confidence the beats are not trusted and the range stays as asked (default 0.3). */
  minConfidence?: number;
  /** No edge moves by more than this (default 0.5 s), so the section stays the one that was asked for. */
  maxShiftS?: number;
}

/** How an edge was placed. */
export type SnapKind = 'downbeat' | 'beat' | 'asked';

export interface SnappedRange {
  startS: number;
  endS: number;
  start: SnapKind;
  end: SnapKind;
}

const DEFAULT_MIN_CONFIDENCE = 0.3;
const DEFAULT_MAX_SHIFT_S = 0.5;

function fitsRules(startS: number, endS: number, { durationS, rules }: SnapOptions): boolean {
  const length = endS - startS;
  return startS >= 0 && endS <= durationS && length >= rules.minS && length <= rules.maxS && length <= rules.maxShareOfSong * durationS;
}

function nearest(times: readonly number[], t: number): number | null {
  let best: number | null = null;
  for (const x of times) if (best === null || Math.abs(x - t) < Math.abs(best - t)) best = x;
  return best;
}

/** Where one edge may go, best first: the nearest downbeat within a beat, the nearest beat within half a beat, where it was asked. */
function candidates(t: number, beats: readonly number[], downbeats: readonly number[], periodS: number, maxShiftS: number): Array<[number, SnapKind]> {
  const out: Array<[number, SnapKind]> = [];
  const downbeat = nearest(downbeats, t);
  if (downbeat !== null && Math.abs(downbeat - t) <= Math.min(periodS, maxShiftS)) out.push([downbeat, 'downbeat']);
  const beat = nearest(beats, t);
  if (beat !== null && beat !== downbeat && Math.abs(beat - t) <= Math.min(periodS / 2, maxShiftS)) out.push([beat, 'beat']);
  out.push([t, 'asked']);
  return out;
}

/**
 * The asked range with each edge moved to the song's beats, downbeats preferred, when the
 * tempo reading is confident. Of the combinations that keep the section within the rules,
 * the one whose edges are best placed wins; a range that breaks the rules already (a caller
 * other than the API) is left alone.
 */
export function snapToBeats(startS: number, endS: number, tempo: TempoAnalysis | null, options: SnapOptions): SnappedRange {
  const asked: SnappedRange = { startS, endS, start: 'asked', end: 'asked' };
  const minConfidence = options.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  if (!tempo || tempo.confidence < minConfidence || tempo.beats.length < 4 || !fitsRules(startS, endS, options)) return asked;
  // The grid the section will be rendered on (fit.ts): the tracked beats with their jitter smoothed out.
  const beats = smoothBeats(tempo.beats);
  const downbeats = beats.filter((_, b) => b % tempo.beatsPerBar === tempo.barPhase);
  const periodS = 60 / tempo.bpm;
  const maxShiftS = options.maxShiftS ?? DEFAULT_MAX_SHIFT_S;
  const starts = candidates(startS, beats, downbeats, periodS, maxShiftS);
  const ends = candidates(endS, beats, downbeats, periodS, maxShiftS);
  const rank = (kind: SnapKind) => (kind === 'downbeat' ? 0 : kind === 'beat' ? 1 : 2);
  const pairs = starts.flatMap(([s, sk]) => ends.map(([e, ek]) => ({ startS: s, endS: e, start: sk, end: ek })));
  pairs.sort((a, b) => rank(a.start) + rank(a.end) - (rank(b.start) + rank(b.end)));
  return pairs.find((pair) => fitsRules(pair.startS, pair.endS, options)) ?? asked;
}

/**
 * Normalised correlation (−1..1) of `a` over [aFrom, aFrom + length) with `b` over
 * [bFrom, bFrom + length), all channels together: near 1 when the new material continues
 * the old one, near 0 when it is other music.
 */
export function correlation(a: readonly Float32Array[], aFrom: number, b: readonly Float32Array[], bFrom: number, length: number): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (const [c, x] of a.entries()) {
    const y = b[c]!;
    for (let i = 0; i < length; i++) {
      const u = x[aFrom + i]!;
      const v = y[bFrom + i]!;
      ab += u * v;
      aa += u * u;
      bb += v * v;
    }
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/** From this correlation on, two signals are treated as the same music (they add as amplitudes, not as powers). */
const CORRELATED = 0.5;

/** The crossfade for material that correlates `r` with what it replaces. */
export const fadeShapeFor = (r: number): FadeShape => (r >= CORRELATED ? 'linear' : 'equal-power');
