import { Chord, Key, Note } from 'tonal';
import type { MusicAnalysis, TempoAnalysis } from '../analysis/index.js';
import { type Arrangement, planArrangement, type Section } from './arrangement.js';
import { gridTimeline, MIN_KEY_CONFIDENCE, MIN_TEMPO_CONFIDENCE, smoothBeats } from './fit.js';
import { describeArrangement } from './sheet.js';
import type { Mode } from './style.js';
import { type BeatTimeline, renderWindow } from './synth.js';

/**
 * New bars after the end of a song (extend): a piece in the source's tempo, key and mode
 * whose bars lie on the source's own bar grid, so the first new downbeat falls where the
 * source's next downbeat would have. The grid is the tracked beats (jitter smoothed, as a
 * replaced section is laid) and then the measured tempo held steady, since past the join
 * there is nothing left to follow.
 */

/** The pickup: the bar the join falls in, played by the new piece up to its first downbeat. */
const PICKUP_BARS = 1;
/** A join this close before a downbeat counts as on it (the grid is smoothed to well under this). */
const ON_BEAT_S = 0.002;

export interface ContinuationRequest {
  /** Seed of the task: the same inputs give the same music. */
  seed: string;
  /** Words that pick the style, most important first. */
  texts: readonly string[];
  negative?: string;
  /** Which of the pair (0 or 1): variant 1 differs from variant 0 of the same seed. */
  variant: number;
  /** The analysis of the source before the join. */
  analysis: MusicAnalysis;
  /** Where the new music takes over and where it ends, in seconds of the song. */
  joinS: number;
  endS: number;
}

export interface ContinuationPlan {
  /** What the extension plays from its first downbeat on: the lead sheet's sections. */
  arrangement: Arrangement;
  /** What is rendered: a one-bar pickup (the bar the join falls in), then `arrangement`'s sections. */
  rendered: Arrangement;
  /** The piece's beats in seconds of the song. */
  timeline: BeatTimeline;
  /** The first new downbeat (at or after the join), in seconds of the song. */
  firstBarS: number;
  /** Seconds of the song where the new music takes over. */
  joinS: number;
  /** Whether the source's tempo and key were followed (else the piece chose its own). */
  followed: { tempo: boolean; key: boolean };
}

/** The tempo reading to follow, or null where it is too unsure to build on. */
export function followedTempo(analysis: MusicAnalysis): TempoAnalysis | null {
  const { tempo } = analysis;
  return tempo && tempo.confidence >= MIN_TEMPO_CONFIDENCE && tempo.beats.length >= 4 ? tempo : null;
}

/**
 * The source's beats with their jitter smoothed out, continued at the measured tempo until
 * `untilS`. Indices keep the tracker's numbering, so `barPhase` still marks the downbeats.
 */
export function continuedBeats(tempo: TempoAnalysis, untilS: number): number[] {
  const beats = smoothBeats(tempo.beats);
  const periodS = 60 / tempo.bpm;
  while (beats[beats.length - 1]! < untilS) beats.push(beats[beats.length - 1]! + periodS);
  return beats;
}

/**
 * A song plan as a continuation: no intro (the song is already under way), its bars given to
 * the section after it.
 */
function withoutIntro(sections: readonly Section[]): Section[] {
  const out = sections.map((section) => ({ ...section }));
  if (out.length > 1 && out[0]!.name === 'intro') {
    const intro = out.shift()!;
    out[0]!.bars += intro.bars;
  }
  return out;
}

/**
 * A power chord (`E5`) as the key's own triad on its root (`Em` in E minor; a major triad on a
 * root outside the key); other chords as they are. Without thirds the new bars leave the mode,
 * often the key, to guesswork, and a continuation must say it is in the source's key.
 */
function withThirdInKey(symbol: string, tonic: string, mode: Mode): string {
  const chord = Chord.get(symbol);
  if (chord.type !== 'fifth' || !chord.tonic) return symbol;
  const triads = mode === 'major' ? Key.majorKey(tonic).triads : Key.minorKey(tonic).natural.triads;
  const root = Note.chroma(chord.tonic);
  return triads.find((triad) => Note.chroma(Chord.get(triad).tonic ?? '') === root) ?? chord.tonic;
}

/** The bar before the first section: its last chord, so the pickup turns around into the first bar. */
function pickupOf(first: Section): Section {
  return { ...first, bars: PICKUP_BARS, chords: [first.chords[first.chords.length - 1]!] };
}

/** Plans the new bars of one variant and where they fall on the song's timeline. */
export function planContinuation(request: ContinuationRequest): ContinuationPlan {
  const { analysis, joinS, endS, variant } = request;
  const tempo = followedTempo(analysis);
  const key = analysis.key && analysis.key.confidence >= MIN_KEY_CONFIDENCE ? analysis.key : null;
  const fixed: { bpm?: number; tonic?: string; mode?: Mode } = {};
  if (tempo) fixed.bpm = tempo.bpm;
  if (key) {
    fixed.tonic = key.tonic;
    fixed.mode = key.mode;
  }
  let firstBarS = joinS;
  let grid: { beats: number[]; first: number } | null = null;
  if (tempo) {
    const barS = (60 / tempo.bpm) * tempo.beatsPerBar;
    const beats = continuedBeats(tempo, endS + 2 * barS);
    // The grid runs past the end, so a downbeat at or after the join always exists.
    const first = beats.findIndex((t, b) => t >= joinS - ON_BEAT_S && b % tempo.beatsPerBar === tempo.barPhase);
    grid = { beats, first };
    firstBarS = beats[first]!;
  }
  const planned = planArrangement({
    seed: request.seed,
    texts: request.texts,
    negative: request.negative,
    form: 'song',
    // Whole bars from the first new downbeat to the end; a join just before the end still gets a bar.
    durationS: Math.max(endS - firstBarS, 1e-3),
    fixed,
    variant,
  });
  // Variant 1 also plays other phrases and hits: the renderer draws them from the seed.
  const seed = variant === 0 ? request.seed : `${request.seed}\u0000variant ${variant}`;
  const sections = withoutIntro(planned.sections).map((section) =>
    key ? { ...section, chords: section.chords.map((symbol) => withThirdInKey(symbol, planned.tonic, planned.mode)) } : section,
  );
  const arrangement: Arrangement = { ...planned, seed, sections };
  const rendered: Arrangement = { ...arrangement, sections: [pickupOf(sections[0]!), ...sections] };
  const pickupBeats = PICKUP_BARS * planned.beatsPerBar;
  const timeline: BeatTimeline = grid
    ? gridTimeline(grid.beats, pickupBeats - grid.first)
    : {
        timeOf: (beat) => joinS + ((beat - pickupBeats) * 60) / planned.bpm,
        beatAt: (seconds) => ((seconds - joinS) * planned.bpm) / 60 + pickupBeats,
      };
  return { arrangement, rendered, timeline, firstBarS, joinS, followed: { tempo: tempo !== null, key: key !== null } };
}

export interface ContinuationWindow {
  sampleRate: number;
  /** 1 or 2. */
  channels: number;
  /** The frames of the song to render: [startFrame, startFrame + frames). */
  startFrame: number;
  frames: number;
}

/** The planned bars as audio over a window of the song's timeline, at the renderer's fixed level. */
export function renderContinuation(plan: ContinuationPlan, window: ContinuationWindow, into?: readonly Float32Array[]): Float32Array[] {
  return renderWindow(plan.rendered, { ...window, timeline: plan.timeline }, into);
}

const clock = (seconds: number) => `${Math.floor(seconds / 60)}:${(seconds % 60).toFixed(1).padStart(4, '0')}`;

/** The lead sheet of an extension: where it joins, what it follows, and each variant's new bars. */
export function describeContinuation(plans: readonly ContinuationPlan[], options: { title?: string; lyrics?: string } = {}): string {
  const parts = plans.map((plan, index) => {
    const { arrangement, followed } = plan;
    const shown = { ...arrangement, bpm: Math.round(arrangement.bpm * 10) / 10 };
    const follows = [followed.tempo ? 'tempo and beat grid' : null, followed.key ? 'key' : null].filter(Boolean);
    const pickup = plan.firstBarS - plan.joinS > ON_BEAT_S ? ` (a pickup on ${arrangement.sections[0]!.chords.at(-1)} before them)` : '';
    const head = `Extension ${index + 1}: continues the source at ${clock(plan.joinS)}, new bars from ${clock(plan.firstBarS)}${pickup}; ${
      follows.length > 0 ? `follows the source's ${follows.join(' and ')}` : 'chooses its own tempo and key (the source gave no steady reading)'
    }.`;
    return `${head}\n${describeArrangement(shown, { title: options.title })}`;
  });
  if (options.lyrics?.trim()) parts.push(`Lyrics (as given; printed, not sung):\n${options.lyrics.trim()}`);
  parts.push('New bars from an algorithmic arrangement rendered by a seeded synthesiser, not a neural model; it plays instrumentals and does not sing.');
  return parts.join('\n\n');
}
