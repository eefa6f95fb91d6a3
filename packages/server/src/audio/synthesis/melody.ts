import { Chord, Note } from 'tonal';
import type { MusicAnalysis } from '../analysis/index.js';
import { CHROMA_FFT, CHROMA_HOP, keyChromagram, sumChroma } from '../analysis/key.js';
import { type AnalysisFront, analysisFront } from '../analysis/spectrum.js';
import type { Pcm } from '../pcm.js';
import { pick, type Random, randomFor } from '../prng.js';
import { type Arrangement, barAt } from './arrangement.js';
import { type LyricKind, type LyricPlanSection, type LyricSection, parseLyrics, writeLyrics } from './lyrics.js';
import { type Gender, pronounce, type SungNote } from './singing.js';

/**
 * Where the words go: lines of lyrics onto phrases of a song's bars, one
 * syllable per note, the notes on the beat grid, in the key's scale and
 * leaning on each bar's chord. Seeded, so the same song sings the same tune
 * (and a repeated chorus repeats its melody).
 */

export type KeyMode = 'major' | 'minor';

/** Where beats fall: beat 0 is the downbeat of bar 0. */
export interface BeatGrid {
  beatsPerBar: number;
  timeOf(beat: number): number;
}

export interface VocalRange {
  low: number;
  high: number;
}

/** Comfortable sung ranges (MIDI): a baritone-tenor C3–E4, a mezzo A3–D5. */
export const VOCAL_RANGES: Record<Gender, VocalRange> = { m: { low: 48, high: 64 }, f: { low: 57, high: 74 } };

const SCALES: Record<KeyMode, readonly number[]> = { major: [0, 2, 4, 5, 7, 9, 11], minor: [0, 2, 3, 5, 7, 8, 10] };

/** Pitch classes of a key's scale. */
export const scaleOf = (tonic: number, mode: KeyMode): number[] => SCALES[mode].map((step) => (tonic + step) % 12);

export interface MelodyContext {
  seed: string;
  /** Tonic pitch class, 0 = C. */
  tonic: number;
  mode: KeyMode;
  grid: BeatGrid;
  /** Pitch classes of the chord of a bar. */
  chordAt(bar: number): readonly number[];
  range: VocalRange;
}

/** A stretch of bars that one line of lyrics is sung in. */
export interface PhraseSlot {
  bar: number;
  bars: number;
  /** The section's kind sets the register (verses lower, choruses higher). */
  kind: LyricKind;
  /** Which phrase of its section: with the kind, it seeds the tune, so repeated sections repeat it. */
  index: number;
  /** The section's last phrase comes home to the tonic. */
  last: boolean;
}

export interface PhraseNote {
  startS: number;
  endS: number;
  midi: number;
  /** Position in 16th-note steps from the phrase's first downbeat. */
  step: number;
  steps: number;
}

/** A steady grid from time zero. */
export const steadyGrid = (bpm: number, offsetS = 0, beatsPerBar = 4): BeatGrid => ({ beatsPerBar, timeOf: (beat) => offsetS + (beat * 60) / bpm });

/**
 * Tracked beats made regular enough to sing on: a beat much closer to the one before than the
 * median spacing (a tracker's extra off-beat) is dropped, and a gap of several periods gets the
 * missing beats in between, so that a line's notes keep their lengths. Returns the same count of
 * beats before `firstDownbeat` as are kept, so bar lines stay where they were read.
 */
export function regularBeats(beats: readonly number[], firstDownbeat: number): { beats: number[]; firstDownbeat: number } {
  if (beats.length < 3) return { beats: [...beats], firstDownbeat };
  const gaps = beats.slice(1).map((t, i) => t - beats[i]!);
  const period = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
  const out: number[] = [beats[0]!];
  let first = firstDownbeat === 0 ? 0 : -1;
  for (let i = 1; i < beats.length; i++) {
    const gap = beats[i]! - out[out.length - 1]!;
    const periods = Math.round(gap / period);
    if (periods < 1 || Math.abs(gap / periods - period) > 0.2 * period) {
      if (i === firstDownbeat) first = out.length - 1;
      continue;
    }
    for (let k = 1; k < periods; k++) out.push(out[out.length - 1]! + gap / periods);
    if (i === firstDownbeat) first = out.length;
    out.push(beats[i]!);
  }
  return { beats: out, firstDownbeat: Math.max(0, first) };
}

/** A grid through measured beat times (beat 0 = `beats[firstDownbeat]`), continued at their mean spacing beyond them. */
export function gridFromBeats(beats: readonly number[], firstDownbeat: number, beatsPerBar = 4): BeatGrid {
  const period = beats.length > 1 ? (beats[beats.length - 1]! - beats[0]!) / (beats.length - 1) : 0.5;
  return {
    beatsPerBar,
    timeOf(beat) {
      const x = beat + firstDownbeat;
      if (beats.length === 0) return x * period;
      if (x <= 0) return beats[0]! + x * period;
      if (x >= beats.length - 1) return beats[beats.length - 1]! + (x - beats.length + 1) * period;
      const i = Math.floor(x);
      return beats[i]! + (x - i) * (beats[i + 1]! - beats[i]!);
    },
  };
}

/** Steps (16ths) left silent at the end of a phrase: a breath. */
const restSteps = (bars: number) => (bars >= 2 ? 4 : 2);

/** The shortest note allowed: a 16th, or an 8th when 16ths are too quick to sing. */
function minSteps(grid: BeatGrid, bar: number): number {
  const stepS = (grid.timeOf((bar + 1) * grid.beatsPerBar) - grid.timeOf(bar * grid.beatsPerBar)) / (grid.beatsPerBar * 4);
  return stepS < 0.09 ? 2 : 1;
}

/** How many syllables a phrase of `bars` bars holds. */
export const capacity = (grid: BeatGrid, bar: number, bars: number) => Math.floor((bars * 16 - restSteps(bars)) / minSteps(grid, bar));

/** Start step and length of each syllable: 8ths or quarters as room allows, the last held, some lengthened by the seed. */
function rhythm(count: number, bars: number, shortest: number, random: Random): [number, number][] {
  const room = bars * 16 - restSteps(bars);
  const unit = count * 4 <= room * 0.7 ? 4 : count * 2 <= room ? 2 : shortest;
  const lengths = new Array<number>(count).fill(unit);
  let extra = room - count * unit;
  const hold = Math.min(Math.max(0, extra), 2 * unit);
  lengths[count - 1]! += hold;
  extra -= hold;
  for (let pass = 0; pass < 2 && extra >= unit; pass++) {
    for (let i = 0; i < count - 1 && extra >= unit; i++) {
      if (random() < 0.35) {
        lengths[i]! += unit;
        extra -= unit;
      }
    }
  }
  const out: [number, number][] = [];
  let at = 0;
  for (const length of lengths) {
    out.push([at, length]);
    at += length;
  }
  return out;
}

const REGISTER: Record<LyricKind, number> = { intro: 0.4, verse: 0.35, prechorus: 0.5, chorus: 0.62, bridge: 0.55, outro: 0.4, section: 0.45 };

/** The scale's notes inside the range, lowest first. */
function pitchesIn(context: MelodyContext): number[] {
  const scale = new Set(scaleOf(context.tonic, context.mode));
  const out: number[] = [];
  for (let midi = context.range.low; midi <= context.range.high; midi++) if (scale.has(((midi % 12) + 12) % 12)) out.push(midi);
  return out;
}

/** The index of the pitch nearest `index` whose class is in `wanted` (within `reach` scale steps), or `index`. */
function nearestOf(pitches: readonly number[], index: number, wanted: ReadonlySet<number>, reach: number): number {
  for (let d = 0; d <= reach; d++) {
    for (const i of [index - d, index + d]) if (i >= 0 && i < pitches.length && wanted.has(pitches[i]! % 12)) return i;
  }
  return index;
}

/**
 * The notes of one phrase for `count` syllables: on the grid from the slot's first downbeat, every
 * pitch in the key's scale and range, strong beats (1 and 3) and the last note on a tone of the bar's
 * chord that is in the scale, the line shaped as an arch, a rise or a fall chosen by the seed.
 */
export function melodyFor(context: MelodyContext, slot: PhraseSlot, count: number): PhraseNote[] {
  if (count <= 0) return [];
  const random = randomFor(context.seed, 'melody', slot.kind, slot.index, count);
  const pitches = pitchesIn(context);
  const { grid } = context;
  const beatsPerBar = grid.beatsPerBar;
  const steps = rhythm(count, slot.bars, minSteps(grid, slot.bar), random);
  const centre = Math.round(REGISTER[slot.kind] * (pitches.length - 1));
  const shape = pick(random, ['arch', 'rise', 'fall'] as const);
  const contour = (k: number) => {
    const x = count > 1 ? k / (count - 1) : 0;
    return centre + Math.round(shape === 'arch' ? 2.5 * Math.sin(Math.PI * x) - 0.5 : shape === 'rise' ? 3 * x - 1 : 1.5 - 3 * x);
  };
  const scale = new Set(scaleOf(context.tonic, context.mode));
  const chordTonesAt = (bar: number) => {
    const tones = context.chordAt(bar).filter((pc) => scale.has(pc));
    return new Set(tones.length > 0 ? tones : [context.tonic]);
  };
  const notes: PhraseNote[] = [];
  let index = contour(0) + Math.floor(random() * 3) - 1;
  steps.forEach(([step, length], k) => {
    if (k > 0) {
      const target = contour(k);
      const move = pick(random, [-2, -1, -1, 0, 1, 1, 2]);
      // The walk wanders, but never far from the contour.
      index = Math.abs(index + move - target) > 2 ? index + Math.sign(target - index) : index + move;
    }
    index = Math.max(0, Math.min(pitches.length - 1, index));
    const bar = slot.bar + Math.floor(step / 16);
    const lastNote = k === count - 1;
    if (step % 8 === 0 || lastNote) {
      const home = lastNote && slot.last ? new Set([context.tonic]) : chordTonesAt(bar);
      index = nearestOf(pitches, index, home, lastNote && slot.last ? 4 : 2);
    }
    const beat = slot.bar * beatsPerBar + step / 4;
    notes.push({ startS: grid.timeOf(beat), endS: grid.timeOf(beat + length / 4), midi: pitches[index]!, step, steps: length });
  });
  return notes;
}

// ---------------------------------------------------------------------------------------------
// Lyrics onto slots.

export interface TimedWord {
  word: string;
  startS: number;
  endS: number;
}

export interface VocalPlan {
  notes: SungNote[];
  words: TimedWord[];
  /** The lyrics as sung, with their section tags. */
  text: string;
}

/**
 * Sings the lines in order, one line per slot (a line too long for its slot takes the next one too,
 * when it follows without a gap). Lines beyond the last slot, and words beyond what a slot holds,
 * are not sung, and are left out of `text`.
 */
export function planVocal(context: MelodyContext, lyrics: readonly LyricSection[], slots: readonly PhraseSlot[]): VocalPlan {
  const notes: SungNote[] = [];
  const words: TimedWord[] = [];
  const textSections: string[] = [];
  let next = 0;
  for (const section of lyrics) {
    const sungLines: string[] = [];
    for (const line of section.lines) {
      if (next >= slots.length) break;
      let slot = slots[next++]!;
      const count = line.words.reduce((n, word) => n + word.syllables.length, 0);
      while (count > capacity(context.grid, slot.bar, slot.bars) && next < slots.length && slots[next]!.bar === slot.bar + slot.bars) {
        slot = { ...slot, bars: slot.bars + slots[next]!.bars, last: slots[next]!.last };
        next++;
      }
      const room = capacity(context.grid, slot.bar, slot.bars);
      const sung: typeof line.words = [];
      let used = 0;
      for (const word of line.words) {
        if (used + word.syllables.length > room) break;
        sung.push(word);
        used += word.syllables.length;
      }
      if (sung.length === 0) continue;
      const phrase = melodyFor(context, slot, used);
      let k = 0;
      for (const word of sung) {
        const sounds = pronounce(word.text);
        const first = phrase[k]!;
        for (const sound of sounds) {
          const note = phrase[k]!;
          notes.push({ startS: note.startS, endS: phrase[k + 1]?.startS ?? note.endS, midi: note.midi, sound, legato: k > 0 });
          k++;
        }
        words.push({ word: word.text, startS: first.startS, endS: phrase[k]?.startS ?? phrase[k - 1]!.endS });
      }
      sungLines.push(sung.length === line.words.length ? line.text : sung.map((w) => w.text).join(' '));
    }
    if (sungLines.length > 0) textSections.push([...(section.tag !== null ? [`[${section.tag}]`] : []), ...sungLines].join('\n'));
  }
  return { notes, words, text: textSections.join('\n\n') };
}

// ---------------------------------------------------------------------------------------------
// A song of ours.

const SUNG_SECTIONS = new Set(['verse', 'chorus', 'bridge']);
/** Syllables a line aims at in a two-bar phrase (a one-bar phrase: five). */
const LINE_SYLLABLES: Record<LyricPlanSection['kind'], number> = { verse: 9, prechorus: 8, chorus: 8, bridge: 7 };

const chordClasses = (symbol: string): number[] =>
  Chord.get(symbol)
    .notes.map((note) => Note.chroma(note))
    .filter((pc): pc is number => typeof pc === 'number' && Number.isFinite(pc));

/** The phrases of an arrangement's verses, choruses and bridges: two bars each (one in a one-bar section), an odd bar left as a rest. */
export function arrangementSlots(arrangement: Arrangement): { slots: PhraseSlot[]; sections: LyricPlanSection[] } {
  const slots: PhraseSlot[] = [];
  const sections: LyricPlanSection[] = [];
  let bar = 0;
  for (const section of arrangement.sections) {
    if (SUNG_SECTIONS.has(section.name)) {
      const kind = section.name as LyricPlanSection['kind'];
      const count = section.bars === 1 ? 1 : Math.floor(section.bars / 2);
      const bars = section.bars === 1 ? 1 : 2;
      for (let i = 0; i < count; i++) slots.push({ bar: bar + i * bars, bars, kind, index: i, last: i === count - 1 });
      sections.push({ kind, lines: count, syllables: bars === 1 ? 5 : LINE_SYLLABLES[kind] });
    }
    bar += section.bars;
  }
  return { slots, sections };
}

export interface SongVocalRequest {
  seed: string;
  /** Lyrics to sing as given (custom mode); without words in them, lyrics are written from `prompt`. */
  lyrics?: string;
  prompt: string;
  gender: Gender;
  range?: VocalRange;
  /** The song's length: nothing is sung past it. */
  durationS: number;
}

export interface SongVocal extends VocalPlan {
  /** The whole lyrics the song was sung from (written or given). */
  lyrics: string;
  written: boolean;
}

/** The vocal line of one of our arrangements: lyrics given or written to fit its form, sung on its chords. */
export function singArrangement(arrangement: Arrangement, request: SongVocalRequest): SongVocal {
  const { slots, sections } = arrangementSlots(arrangement);
  const given = request.lyrics !== undefined ? parseLyrics(request.lyrics) : [];
  const written = given.length === 0;
  const lyrics = written ? writeLyrics(request.prompt, request.seed, sections) : request.lyrics!;
  const context: MelodyContext = {
    seed: request.seed,
    tonic: Note.chroma(arrangement.tonic) ?? 0,
    mode: arrangement.mode,
    grid: steadyGrid(arrangement.bpm),
    chordAt: (bar) => {
      const { section, barInSection } = barAt(arrangement, bar);
      return chordClasses(section.chords[barInSection % section.chords.length]!);
    },
    range: request.range ?? VOCAL_RANGES[request.gender],
  };
  const fits = slots.filter((slot) => context.grid.timeOf((slot.bar + slot.bars) * context.grid.beatsPerBar) <= request.durationS);
  return { ...planVocal(context, written ? parseLyrics(lyrics) : given, fits), lyrics, written };
}

// ---------------------------------------------------------------------------------------------
// A recording: its measured beats, key and chords.

/** The diatonic major and minor triads of a key, as pitch-class triples (the diminished one left out). */
function diatonicTriads(tonic: number, mode: KeyMode): number[][] {
  const scale = scaleOf(tonic, mode);
  const triads: number[][] = [];
  for (let degree = 0; degree < 7; degree++) {
    const triad = [scale[degree]!, scale[(degree + 2) % 7]!, scale[(degree + 4) % 7]!];
    if ((triad[2]! - triad[0]! + 12) % 12 === 7) triads.push(triad);
  }
  return triads;
}

/**
 * The chord of each bar of a recording: the key's diatonic triad that carries most of the bar's
 * chroma (the tonic triad where a bar has none). `barStartsS` has one more entry than there are bars.
 */
export function barChords(pcm: Pcm, barStartsS: readonly number[], tonic: number, mode: KeyMode, front: AnalysisFront = analysisFront(pcm)): number[][] {
  const mono = front.mono();
  // The key's chromagram of the whole recording: the analysis that found the key has made it already where it shares `front`.
  const chroma = keyChromagram(front);
  const frameOf = (s: number) => Math.max(0, Math.round((s * mono.sampleRate - CHROMA_FFT / 2) / CHROMA_HOP));
  const triads = diatonicTriads(tonic, mode);
  const out: number[][] = [];
  for (let b = 0; b + 1 < barStartsS.length; b++) {
    const from = frameOf(barStartsS[b]!);
    const bar = sumChroma(chroma, from, Math.max(from + 1, frameOf(barStartsS[b + 1]!)));
    let best = triads[0]!;
    let bestScore = 0;
    for (const triad of triads) {
      const score = triad.reduce((s, pc) => s + bar[pc]!, 0);
      if (score > bestScore) {
        best = triad;
        bestScore = score;
      }
    }
    out.push(best);
  }
  return out;
}

export interface RecordingVocalRequest {
  seed: string;
  /** What to sing: lyrics with or without tags, or any text (its words are sung). */
  text: string;
  gender: Gender;
  range?: VocalRange;
}

export interface RecordingVocal extends VocalPlan {
  bpm: number;
  /** Null when no steady beat was found (then 100 BPM from the start). */
  tempoConfidence: number | null;
  tonic: number;
  mode: KeyMode;
  /** Null when the key could not be read (then C major). */
  keyConfidence: number | null;
}

const FALLBACK_BPM = 100;

/**
 * A vocal line for an uploaded recording: on its measured beat grid and bars, in its measured key,
 * on the chords read bar by bar. Lines run two bars each from the first or second bar, a section of
 * the lyrics followed by two bars of rest where the recording is long enough for all of them.
 * `front`: the recording's analysis signal as `analysis` was read from it, when shared.
 */
export function singOverRecording(
  pcm: Pcm,
  analysis: MusicAnalysis,
  request: RecordingVocalRequest,
  front: AnalysisFront = analysisFront(pcm),
): RecordingVocal {
  const durationS = (pcm.channels[0]?.length ?? 0) / pcm.sampleRate;
  const tempo = analysis.tempo;
  const regular = tempo && tempo.beats.length >= 4 ? regularBeats(tempo.beats, tempo.barPhase) : null;
  const grid = regular ? gridFromBeats(regular.beats, regular.firstDownbeat) : steadyGrid(FALLBACK_BPM);
  const bpm = tempo?.bpm ?? FALLBACK_BPM;
  const tonic = analysis.key?.pitchClass ?? 0;
  const mode: KeyMode = analysis.key?.mode ?? 'major';
  const bars: number[] = [];
  for (let bar = 0; grid.timeOf((bar + 1) * grid.beatsPerBar) <= durationS; bar++) bars.push(bar);
  const barStarts = [...bars, bars.length].map((bar) => grid.timeOf(bar * grid.beatsPerBar));
  const chords = barChords(pcm, barStarts, tonic, mode, front);
  const lyrics = parseLyrics(request.text);
  // Skip the first bar (or two, in a longer piece) so the voice comes in after the band; stop a bar before the end.
  const first = bars.length >= 12 ? 2 : bars.length >= 4 ? 1 : 0;
  const lastBar = bars.length - (bars.length >= 4 ? 1 : 0);
  const lines = lyrics.reduce((n, s) => n + s.lines.length, 0);
  const room = Math.floor((lastBar - first) / 2);
  const breaks = room >= lines + lyrics.length - 1;
  const slots: PhraseSlot[] = [];
  let bar = first;
  for (const [s, section] of lyrics.entries()) {
    if (s > 0 && breaks) bar += 2;
    section.lines.forEach((_, i) => {
      if (bar + 2 <= lastBar) slots.push({ bar, bars: 2, kind: section.kind, index: i, last: i === section.lines.length - 1 });
      else if (bar + 1 <= lastBar) slots.push({ bar, bars: 1, kind: section.kind, index: i, last: true });
      bar += 2;
    });
  }
  const context: MelodyContext = {
    seed: request.seed,
    tonic,
    mode,
    grid,
    chordAt: (b) => chords[b] ?? [tonic],
    range: request.range ?? VOCAL_RANGES[request.gender],
  };
  return {
    ...planVocal(context, lyrics, slots),
    bpm,
    tempoConfidence: tempo ? tempo.confidence : null,
    tonic,
    mode,
    keyConfidence: analysis.key ? analysis.key.confidence : null,
  };
}
