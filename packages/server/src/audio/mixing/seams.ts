import type { TempoAnalysis } from '../analysis/index.js';
import { smoothBeats } from '../synthesis/fit.js';
import type { FrameSpan } from './match.js';
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
/** How far `snapToBeats` moves an edge at most, unless told otherwise (seconds). */
export const DEFAULT_MAX_SHIFT_S = 0.5;

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

/**
 * Placing the crossfades between attacks. A fade's gains are smooth, but where one of its
 * ends meets a drum hit of either signal, the hit is heard half-faded or cut in: a seam
 * sounds clean when neither signal has a transient near either end. The sharpest
 * transients are the largest sample steps |x[n] − x[n−1]|, so each fade end goes where the
 * largest step of both signals nearby is smallest, inside the room the fade has (before
 * the section's start, after its end) and within its allowed lengths.
 */

/** Shortest and longest crossfade allowed, in frames. */
export interface FadeLengths {
  shortest: number;
  longest: number;
}

export interface CrossfadeRequest {
  sampleRate: number;
  /** The replaced range [start, end), in frames of the song. */
  start: number;
  end: number;
  /** Frames before `start` and after `end` that the fades may use (the new material covers them). */
  roomIn: number;
  roomOut: number;
  lengthIn: FadeLengths;
  lengthOut: FadeLengths;
}

/**
 * How far either side of a fade end the steps are looked at: well beyond the ~20 ms within
 * which the ear hears a gain change and an attack as one event, so that a fade end keeps
 * clear of an attack's onset and of the first of its decay too.
 */
const CLEARANCE_S = 0.05;
/** Spacing of the fade ends tried. */
const HOP_S = 0.001;

/**
 * The largest step of any channel of any of the signals at each frame of [from, to) of the
 * song; each signal is `channels` beginning at song frame `offset`, still where it has no samples.
 */
function stepsOver(signals: ReadonlyArray<{ channels: readonly Float32Array[]; offset: number }>, from: number, to: number): Float32Array {
  const steps = new Float32Array(Math.max(0, to - from));
  for (const { channels, offset } of signals) {
    for (const channel of channels) {
      const first = Math.max(from, offset + 1);
      const last = Math.min(to, offset + channel.length);
      for (let n = first; n < last; n++) {
        const step = Math.abs(channel[n - offset]! - channel[n - offset - 1]!);
        if (step > steps[n - from]!) steps[n - from] = step;
      }
    }
  }
  return steps;
}

/** The largest of `steps` (which begin at frame `stepsFrom`) within ±`clearance` frames of each of `positions`. */
function largestNear(steps: Float32Array, stepsFrom: number, positions: readonly number[], clearance: number): number[] {
  return positions.map((p) => {
    let max = 0;
    const hi = Math.min(stepsFrom + steps.length, p + clearance);
    for (let n = Math.max(stepsFrom, p - clearance); n < hi; n++) max = Math.max(max, steps[n - stepsFrom]!);
    return max;
  });
}

/**
 * The fade [a, b) between two of `positions` whose ends are clearest of attacks (`attack`
 * at each position): the one whose louder end is quietest, then whose ends are quieter
 * together, then the longer, then the one nearer `inner` (the section's edge).
 */
function clearestFade(positions: readonly number[], attack: readonly number[], lengths: FadeLengths, inner: number): FrameSpan {
  let best: { key: [number, number, number, number]; span: FrameSpan } | null = null;
  for (let i = 0; i < positions.length; i++) {
    for (let j = i + 1; j < positions.length; j++) {
      const length = positions[j]! - positions[i]!;
      if (length > lengths.longest) break;
      if (length < lengths.shortest) continue;
      const [a, b] = [attack[i]!, attack[j]!];
      const key: [number, number, number, number] = [
        Math.max(a, b),
        a + b,
        -length,
        Math.min(Math.abs(positions[i]! - inner), Math.abs(positions[j]! - inner)),
      ];
      if (!best || before(key, best.key)) best = { key, span: [positions[i]!, positions[j]!] };
    }
  }
  // A room narrower than a hop: the fade fills it.
  return best?.span ?? [positions[0]!, positions[positions.length - 1]!];
}

/** Lexicographic order of two keys. */
function before(a: readonly number[], b: readonly number[]): boolean {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! < b[k]!;
  return false;
}

/**
 * Where the fade-in (ending at or before `start`) and the fade-out (beginning at or after
 * `end`) go so that neither signal has an attack near their ends. `fresh` is the new
 * material beginning at song frame `freshFrom` and covering at least the rooms.
 */
export function quietCrossfades(
  source: readonly Float32Array[],
  fresh: readonly Float32Array[],
  freshFrom: number,
  request: CrossfadeRequest,
): { in: FrameSpan; out: FrameSpan } {
  const { sampleRate, start, end } = request;
  const clearance = Math.max(1, Math.round(CLEARANCE_S * sampleRate));
  const hop = Math.max(1, Math.round(HOP_S * sampleRate));
  const signals = [
    { channels: source, offset: 0 },
    { channels: fresh, offset: freshFrom },
  ];
  const side = (roomFrom: number, roomTo: number, wanted: FadeLengths, inner: number): FrameSpan => {
    const longest = Math.min(wanted.longest, roomTo - roomFrom);
    if (longest <= 0) return [inner, inner];
    const positions: number[] = [];
    for (let p = roomFrom; p < roomTo; p += hop) positions.push(p);
    positions.push(roomTo);
    const steps = stepsOver(signals, roomFrom - clearance, roomTo + clearance);
    const attack = largestNear(steps, roomFrom - clearance, positions, clearance);
    return clearestFade(positions, attack, { longest, shortest: Math.min(wanted.shortest, longest) }, inner);
  };
  return { in: side(start - request.roomIn, start, request.lengthIn, start), out: side(end, end + request.roomOut, request.lengthOut, end) };
}
