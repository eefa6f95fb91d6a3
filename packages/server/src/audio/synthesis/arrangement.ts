import { Chord, Key, Note, Progression } from 'tonal';
import { type Random, randomFor } from '../prng.js';
import { chooseStyle, type Mode, type Style, type StyleChoice } from './style.js';

/**
 * The plan of a piece before any sound: tempo, key, form and chords. It is
 * plain data, derived only from the seed and the words, so the same request
 * always gets the same music, and it can be shown to the user as a lead sheet.
 */

export type SectionName = 'intro' | 'verse' | 'chorus' | 'bridge' | 'outro' | 'section';

export interface Section {
  name: SectionName;
  bars: number;
  /** Chord symbols, one per bar, repeated over the section. */
  chords: readonly string[];
  /** 0..1: which layers play and how hard. */
  energy: number;
}

/** What the words chose, as recorded with the plan (the style itself is `Arrangement.style`). */
export type StyleSummary = Omit<StyleChoice, 'style'>;

export interface Arrangement {
  seed: string;
  style: Style;
  bpm: number;
  tonic: string;
  mode: Mode;
  beatsPerBar: 4;
  sections: readonly Section[];
  /** A section-replacement plan is one section repeated for as long as needed. */
  loop: boolean;
  /** 0 calm … 1 intense: density follows it. */
  intensity: number;
  /** Intensity asked for beyond the genre's own: section energies and dynamics follow it. */
  lift: number;
  /** Which song of a pair (0 or 1); a single piece is 0. */
  variant: number;
  choice: StyleSummary;
}

export interface ArrangementRequest {
  seed: string;
  /** Words that pick the style, most important first (tags, then prompt, then title). */
  texts: readonly string[];
  negative?: string;
  /** 'song': intro, verse, chorus, bridge, outro filling `durationS`. 'section': one looping high-energy section. */
  form: 'song' | 'section';
  durationS: number;
  /** Tempo, key or mode imposed from outside (for a section: the source's), instead of chosen from the style. */
  fixed?: { bpm?: number; tonic?: string; mode?: Mode };
  /** The song of a pair: variant 1 differs from variant 0 of the same seed in key (unless named), tempo and chords. */
  variant?: number;
}

const TONICS = ['C', 'D', 'Eb', 'E', 'F', 'G', 'A', 'Bb'] as const;
const BASE_ENERGY: Record<SectionName, number> = { intro: 0.4, verse: 0.65, chorus: 1, bridge: 0.75, outro: 0.5, section: 0.9 };
/** How far the words' lift moves every section's energy (calmer: fewer layers; more intense: more, earlier). */
const INTENSITY_REACH = 0.6;
/** Preferred section lengths in bars, at full length and for short songs. */
const FULL_BARS: Record<SectionName, number> = { intro: 4, verse: 8, chorus: 8, bridge: 8, outro: 4, section: 8 };
const SHORT_BARS: Record<SectionName, number> = { intro: 2, verse: 4, chorus: 4, bridge: 4, outro: 2, section: 4 };
/** Which sections to keep when a song is too short for all five kinds. */
const KEEP_FIRST: readonly SectionName[] = ['chorus', 'verse', 'intro', 'outro', 'bridge'];

type FormPlan = [SectionName, number][];

const sum = (form: FormPlan) => form.reduce((n, [, bars]) => n + bars, 0);

const FIVE: readonly SectionName[] = ['intro', 'verse', 'chorus', 'bridge', 'outro'];
/** Long songs repeat this block after the intro; each one ends in a bridge. */
const BLOCK: readonly SectionName[] = ['verse', 'chorus', 'verse', 'chorus', 'bridge'];
/** Where spare bars go first, a bar at a time, in a song too short for phrases. */
const GROW_FIRST: readonly SectionName[] = ['chorus', 'verse', 'bridge', 'intro', 'outro'];

const lengths = (names: readonly SectionName[], bars: Record<SectionName, number>): FormPlan => names.map((name) => [name, bars[name]]);

/**
 * Sections for `totalBars` bars, always with all five kinds when there are
 * at least five bars: intro, verse, chorus, bridge, outro for short songs;
 * intro, verse, chorus, bridge, chorus, outro; then intro, blocks of (verse,
 * chorus, verse, chorus, bridge), chorus, outro. Sections are whole 4-bar
 * phrases where the length allows; spare phrases lengthen the choruses, then
 * the verses, and the last few bars the outro.
 */
export function songForm(totalBars: number): FormPlan {
  if (totalBars < FIVE.length) {
    const kept = new Set(KEEP_FIRST.slice(0, Math.max(1, totalBars)));
    return FIVE.filter((name) => kept.has(name)).map((name) => [name, 1]);
  }
  if (totalBars < 16) {
    // Too short for phrases: the short lengths scaled down, every kind at least a bar.
    const form = FIVE.map((name): [SectionName, number] => [name, Math.max(1, Math.floor((SHORT_BARS[name] * totalBars) / 16))]);
    for (let i = 0; sum(form) < totalBars; i++) form[FIVE.indexOf(GROW_FIRST[i % GROW_FIRST.length]!)]![1]++;
    return form;
  }
  let form: FormPlan;
  if (totalBars < 32) form = lengths(FIVE, SHORT_BARS);
  else if (totalBars < 40) form = lengths(FIVE, FULL_BARS);
  else if (totalBars < 56) form = lengths(['intro', 'verse', 'chorus', 'bridge', 'chorus', 'outro'], FULL_BARS);
  else {
    const blocks = 1 + Math.floor((totalBars - 56) / 40);
    form = lengths(['intro', ...Array.from({ length: blocks }, () => BLOCK).flat(), 'chorus', 'outro'], FULL_BARS);
  }
  let slack = totalBars - sum(form);
  const growable = [...form.keys()].filter((i) => form[i]![0] === 'chorus').reverse();
  growable.push(...[...form.keys()].filter((i) => form[i]![0] === 'verse'));
  const phrase = form[1]![1] >= 8 ? 4 : 2;
  for (let i = 0; slack >= phrase; i++) {
    form[growable[i % growable.length]!]![1] += phrase;
    slack -= phrase;
  }
  form[form.length - 1]![1] += slack;
  return form;
}

/** A different index from `avoid` (when there is a choice), drawn from `random`. */
const other = (random: Random, n: number, avoid: number) => (n < 2 ? avoid : (avoid + 1 + Math.floor(random() * (n - 1))) % n);

/** The chord of the key's tonic, in the progression's own chord type when it has one (C5 in rock, Cmaj7 in jazz). */
function homeChord(tonic: string, mode: Mode, progressions: readonly (readonly string[])[]): string {
  const home = Chord.get(Progression.fromRomanNumerals(tonic, [mode === 'major' ? 'I' : 'Im'])[0]!).tonic;
  for (const progression of progressions) {
    for (const symbol of Progression.fromRomanNumerals(tonic, [...progression])) if (Chord.get(symbol).tonic === home) return symbol;
  }
  return Progression.fromRomanNumerals(tonic, [mode === 'major' ? 'I' : 'Im'])[0]!;
}

/** A power chord (`E5`) as the key's triad on its root (`Em` in C major; a major triad on a root outside the key); other chords unchanged. */
function withThird(symbol: string, tonic: string, mode: Mode): string {
  const chord = Chord.get(symbol);
  if (chord.type !== 'fifth' || !chord.tonic) return symbol;
  const triads = mode === 'major' ? Key.majorKey(tonic).triads : Key.minorKey(tonic).natural.triads;
  const root = Note.chroma(chord.tonic);
  return triads.find((triad) => Note.chroma(Chord.get(triad).tonic ?? '') === root) ?? chord.tonic;
}

interface Draws {
  bpm: number;
  tonic: string;
  mode: Mode;
  /** Index of the verse's progression; chorus and bridge take the next ones. */
  start: number;
}

/** The seeded choices of one variant; variant 1 is drawn to differ from variant 0. */
function draw(seed: string, choice: StyleChoice, variant: number, first?: Draws): Draws {
  const { style, intensity } = choice;
  const random = randomFor(seed, 'arrangement', variant);
  const [slow, fast] = style.tempo;
  // Intensity leans the tempo towards the slow or fast end of the genre's range; the draw spreads it.
  const position = Math.min(1, Math.max(0, random() * 0.6 + intensity * 0.4));
  let bpm = choice.bpm ?? Math.round(slow + position * (fast - slow));
  const tonicIndex =
    first && !choice.tonic ? other(random, TONICS.length, TONICS.indexOf(first.tonic as (typeof TONICS)[number])) : Math.floor(random() * TONICS.length);
  const tonic = choice.tonic ?? TONICS[tonicIndex]!;
  const modes = choice.mode && style.modes.includes(choice.mode) ? [choice.mode] : style.modes;
  const mode = modes[Math.floor(random() * modes.length)] ?? choice.mode ?? 'major';
  const count = style.progressions[mode].length;
  const start = first && first.mode === mode ? other(random, count, first.start) : Math.floor(random() * count);
  if (first && !choice.bpm && bpm === first.bpm) bpm += bpm + 4 <= fast ? 4 : -4;
  return { bpm, tonic, mode, start };
}

export function planArrangement(request: ArrangementRequest): Arrangement {
  const variant = request.variant ?? 0;
  const base = chooseStyle(request.texts, request.negative);
  // The second song of a pair takes the runner-up genre when the words named two.
  const runnerUp = base.matched.genres.find((g) => g.name !== base.genre);
  const choice = variant > 0 && runnerUp ? chooseStyle(request.texts, request.negative, { genre: runnerUp.name }) : base;
  const { style, intensity } = choice;
  const first = variant > 0 ? draw(request.seed, base, 0) : undefined;
  const drawn = draw(request.seed, choice, variant, first);
  const fixed = request.fixed ?? {};
  const bpm = fixed.bpm ?? drawn.bpm;
  const tonic = fixed.tonic ?? drawn.tonic;
  const mode = fixed.mode ?? drawn.mode;
  const progressions = style.progressions[mode];
  const chordsOf = (n: number) => Progression.fromRomanNumerals(tonic, [...progressions[(drawn.start + n) % progressions.length]!]);
  const verse = chordsOf(0);
  const chorus = chordsOf(1);
  const chords: Record<SectionName, readonly string[]> = {
    // The intro previews the verse's opening; the bridge has a progression of its own.
    intro: verse.slice(0, Math.max(2, Math.floor(verse.length / 2))),
    verse,
    chorus,
    bridge: progressions.length > 2 ? chordsOf(2) : [...chorus.slice(2), ...chorus.slice(0, 2)],
    outro: chorus,
    section: chorus,
  };
  const energyOf = (name: SectionName) => Math.round(Math.min(1, Math.max(0.15, BASE_ENERGY[name] + choice.lift * INTENSITY_REACH)) * 100) / 100;
  const section = (name: SectionName, bars: number): Section => ({ name, bars, chords: chords[name], energy: energyOf(name) });
  const { style: _style, ...summary } = choice;
  const common = { seed: request.seed, style, bpm, tonic, mode, beatsPerBar: 4 as const, intensity, lift: choice.lift, variant, choice: summary };
  if (request.form === 'section') {
    const body = section('section', 8);
    // A section that follows a song's key says which key it is: a power chord (no third) becomes
    // the key's own triad on that root, or it would leave the mode, and often the key, to guesswork.
    const chordsInKey = fixed.tonic ? body.chords.map((symbol) => withThird(symbol, tonic, mode)) : body.chords;
    return { ...common, sections: [{ ...body, chords: chordsInKey }], loop: true };
  }
  const barS = (60 / bpm) * 4;
  const totalBars = Math.max(1, Math.ceil(request.durationS / barS));
  const sections = songForm(totalBars).map(([name, bars]) => section(name, bars));
  const last = sections[sections.length - 1]!;
  if (last.name === 'outro') {
    // The outro ends at home: its last bar is the tonic chord.
    const outro = Array.from({ length: last.bars }, (_, bar) => chorus[bar % chorus.length]!);
    outro[outro.length - 1] = homeChord(tonic, mode, progressions);
    sections[sections.length - 1] = { ...last, chords: outro };
  }
  return { ...common, sections, loop: false };
}

export interface SongsRequest {
  seed: string;
  texts: readonly string[];
  negative?: string;
  durationS: number;
}

/** The two songs of a `generate` request: same words and seed, different variants, so they always differ. */
export function planSongs(request: SongsRequest): [Arrangement, Arrangement] {
  const plan = (variant: number) => planArrangement({ ...request, form: 'song', variant });
  return [plan(0), plan(1)];
}

export { describeArrangement, describeSongs, type SheetOptions } from './sheet.js';

export const barSeconds = (arrangement: Arrangement): number => (60 / arrangement.bpm) * arrangement.beatsPerBar;

export interface BarPosition {
  section: Section;
  /** Bar number inside its section (0-based). */
  barInSection: number;
}

/** Which section a bar (counted from the start of the piece) belongs to. */
export function barAt(arrangement: Arrangement, bar: number): BarPosition {
  const { sections } = arrangement;
  if (arrangement.loop) {
    const only = sections[0]!;
    return { section: only, barInSection: bar % only.bars };
  }
  let first = 0;
  for (const section of sections) {
    if (bar < first + section.bars) return { section, barInSection: bar - first };
    first += section.bars;
  }
  // Past the planned end (rounding up to whole bars): keep playing the last section.
  const last = sections[sections.length - 1]!;
  return { section: last, barInSection: (bar - first) % last.bars };
}
