import {
  type BassVoice,
  type Comp,
  DEFAULT_DRUMS,
  DEFAULT_GENRE,
  GENRES,
  type Genre,
  type HarmonyPart,
  type HarmonyVoice,
  type LeadVoice,
  type Mode,
} from './genres.js';
import { ENERGY_WORDS, INSTRUMENTS, type Instrument, MAJOR_WORDS, MINOR_WORDS, NEGATION_STOPS, NEGATORS, TRAIT_WORDS } from './instruments.js';
import { consume, find, normalise, splitNegations } from './words.js';

/**
 * From words (tags, prompt, title, negative tags) to a style: one pure
 * function over the tables in genres.ts and instruments.ts. The result is
 * plain data that says what it matched and why, so a task can record it and a
 * test can check it.
 */

export type { BassVoice, Comp, DrumPattern, HarmonyPart, HarmonyVoice, LeadVoice, Mode } from './genres.js';
export { GENRES } from './genres.js';

/** The arrangement the synthesiser plays: a genre after the instrument, energy and negative words changed it. */
export interface Style extends Omit<Genre, 'words' | 'intensity'> {
  /** Section energy from which the bass and the lead play (lower when the words asked for them). */
  bassFrom: number;
  leadFrom: number;
}

export interface GenreMatch {
  name: string;
  /** Votes: each matching word counts, the tags (first text) double. */
  score: number;
  words: readonly string[];
}

export interface StyleChoice {
  /** The chosen genre's name. */
  genre: string;
  style: Style;
  /** Mode asked for by mood words ("sad", "happy") or a key ("in D minor"), if any. */
  mode: Mode | null;
  /** 0 calm … 1 intense: sets tempo within the genre's range, density, drums and dynamics. */
  intensity: number;
  /** How far the words moved the intensity from the genre's own (0 when no energy word was given). */
  lift: number;
  /** The intensity in a word (calm, relaxed, moderate, upbeat, energetic, intense). */
  energy: string;
  /** Tempo named in the words ("90 bpm"), if any. */
  bpm: number | null;
  /** Key named in the words ("in F# minor"), if any. */
  tonic: string | null;
  matched: {
    /** Genres the words voted for (refused ones left out), best first. */
    genres: readonly GenreMatch[];
    energy: readonly string[];
    instruments: readonly string[];
    moods: readonly string[];
    /** Words asking for singing: recorded, because this engine does not sing. */
    vocals: readonly string[];
  };
  /** What the negative words (negativeTags, "no …", "without …") removed. */
  removed: readonly string[];
  /** The choice explained in short sentences, for the task's record. */
  reasons: readonly string[];
}

export interface ChooseOptions {
  /** Prefer this genre if the words matched it (the second song of a pair can take the runner-up). */
  genre?: string;
}

/** Section energy from which bass and lead play by default, and when the words named them. */
const BASS_FROM = 0.5;
const LEAD_FROM = 0.9;
const NAMED_BASS_FROM = 0.3;
const NAMED_LEAD_FROM = 0.6;
/** How much the energy words weigh against the genre's own intensity. */
const WORDS_WEIGHT = 0.75;
/** Harmony voices that stand in, in this order, when the negatives removed all of a genre's. */
const HARMONY_FALLBACK: readonly HarmonyVoice[] = ['piano', 'pad', 'epiano', 'strings', 'organ', 'pluck', 'guitar', 'synth', 'brass', 'power'];
const MAX_HARMONY_PARTS = 3;
const TONIC_NAMES = new Set(['C', 'C#', 'Db', 'D', 'D#', 'Eb', 'E', 'F', 'F#', 'Gb', 'G', 'G#', 'Ab', 'A', 'A#', 'Bb', 'B']);

const ENERGY_LABELS: readonly (readonly [number, string])[] = [
  [0.2, 'calm'],
  [0.4, 'relaxed'],
  [0.6, 'moderate'],
  [0.75, 'upbeat'],
  [0.9, 'energetic'],
  [Infinity, 'intense'],
];

export const energyLabel = (intensity: number): string => ENERGY_LABELS.find(([below]) => intensity < below)![1];

const genreByName = new Map(GENRES.map((genre) => [genre.name, genre]));
const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** Every genre as an arrangement style, before any word changes it. */
export const STYLES: readonly Style[] = GENRES.map((genre) => styleOf(genre));

function styleOf({ words: _words, intensity: _intensity, ...arrangement }: Genre): Style {
  return { ...arrangement, bassFrom: BASS_FROM, leadFrom: LEAD_FROM };
}

/** The words of all texts, each with its weight: the tags (first) count double. */
interface Weighted {
  text: string;
  weight: number;
}

const hasAny = (text: string, words: readonly string[]) => words.some((word) => find(text, word) !== null);

function genreVotes(texts: readonly Weighted[]): { matches: GenreMatch[]; rest: Weighted[] } {
  const votes = new Map<string, { score: number; at: number; words: Set<string> }>();
  const rest: Weighted[] = [];
  texts.forEach(({ text, weight }, index) => {
    const { hits, rest: left } = consume(
      text,
      GENRES.map((genre) => ({ owner: genre.name, phrases: genre.words })),
    );
    rest.push({ text: left, weight });
    for (const [name, found] of hits) {
      const vote = votes.get(name) ?? { score: 0, at: Infinity, words: new Set<string>() };
      vote.score += found.length * weight;
      // Earlier texts come first, then earlier words: the first genre mentioned wins a tie.
      vote.at = Math.min(vote.at, index * 1e6 + Math.min(...found.map((f) => f.at)));
      for (const f of found) vote.words.add(f.phrase);
      votes.set(name, vote);
    }
  });
  const matches = [...votes.entries()]
    .sort(([, a], [, b]) => b.score - a.score || a.at - b.at)
    .map(([name, vote]) => ({ name, score: vote.score, words: [...vote.words] }));
  return { matches, rest };
}

function instrumentsIn(texts: readonly Weighted[]): Instrument[] {
  const found: { instrument: Instrument; at: number }[] = [];
  texts.forEach(({ text }, index) => {
    const { hits } = consume(
      text,
      INSTRUMENTS.map((instrument) => ({ owner: instrument, phrases: instrument.words })),
    );
    for (const [instrument, at] of hits) {
      if (!found.some((f) => f.instrument === instrument)) found.push({ instrument, at: index * 1e6 + Math.min(...at.map((a) => a.at)) });
    }
  });
  return found.sort((a, b) => a.at - b.at).map((f) => f.instrument);
}

function intensityOf(texts: readonly Weighted[]): { value: number | null; words: string[] } {
  let sum = 0;
  let weights = 0;
  const words: string[] = [];
  for (const { text, weight } of texts) {
    for (const [word, value] of ENERGY_WORDS) {
      if (find(text, word) === null) continue;
      sum += value * weight;
      weights += weight;
      if (!words.includes(word)) words.push(word);
    }
  }
  return { value: weights > 0 ? sum / weights : null, words };
}

/** "120 bpm", "at 90 BPM". */
function bpmIn(text: string): number | null {
  const match = / (\d{2,3}) ?bpm /.exec(text.replace(/(\d)bpm/g, '$1 bpm'));
  if (!match) return null;
  const bpm = Number(match[1]);
  return bpm >= 40 && bpm <= 220 ? bpm : null;
}

/** "in D minor", "key of F# major", "Bb major". */
function keyIn(raw: string): { tonic: string; mode: Mode } | null {
  const match = /(?:^|[^a-z])(?:in|key of|key)\s+([a-g])\s*(#|b|♯|♭|sharp|flat)?\s*(major|minor|maj|min|m)(?![a-z])/i.exec(raw);
  if (!match) return null;
  const accidental = match[2]?.toLowerCase();
  const sign =
    accidental === '#' || accidental === '♯' || accidental === 'sharp' ? '#' : accidental === 'b' || accidental === '♭' || accidental === 'flat' ? 'b' : '';
  const tonic = `${match[1]!.toUpperCase()}${sign}`;
  if (!TONIC_NAMES.has(tonic)) return null;
  const mode: Mode = match[3]!.toLowerCase().startsWith('maj') ? 'major' : 'minor';
  return { tonic, mode };
}

interface Removal {
  genres: Set<string>;
  /** Traits of the refused genres: their swing and distortion go; their voices go unless the chosen genre has them itself. */
  genreTraits: { harmony: Set<HarmonyVoice>; leads: Set<LeadVoice>; swing: boolean; distortion: boolean };
  harmony: Set<HarmonyVoice>;
  lead: boolean;
  leads: Set<LeadVoice>;
  bass: boolean;
  basses: Set<BassVoice>;
  drums: boolean;
  swing: boolean;
  distortion: boolean;
  /** Bounds on the intensity from refused energy words ("not aggressive" caps it). */
  atMost: number;
  atLeast: number;
  /** Refused moods push towards the other mode. */
  mode: Mode | null;
  said: string[];
}

function removalsIn(negative: string): Removal {
  const removal: Removal = {
    genres: new Set(),
    genreTraits: { harmony: new Set(), leads: new Set(), swing: false, distortion: false },
    harmony: new Set(),
    lead: false,
    leads: new Set(),
    bass: false,
    basses: new Set(),
    drums: false,
    swing: false,
    distortion: false,
    atMost: 1,
    atLeast: 0,
    mode: null,
    said: [],
  };
  const { matches, rest } = genreVotes([{ text: negative, weight: 1 }]);
  for (const match of matches) {
    removal.genres.add(match.name);
    const genre = genreByName.get(match.name)!;
    // A refused genre takes its traits with it: its swing, its distortion, its signature voices.
    const traits = removal.genreTraits;
    if (genre.swing > 0) traits.swing = true;
    if (genre.harmony.some((part) => part.voice === 'power')) traits.distortion = true;
    traits.harmony.add(genre.harmony[0]!.voice);
    if (genre.lead) traits.leads.add(genre.lead);
    removal.said.push(`the ${match.name} genre and its traits`);
  }
  for (const instrument of instrumentsIn(rest)) {
    const plays = instrument.plays;
    if (plays.role === 'drums') removal.drums = true;
    else if (plays.role === 'harmony') for (const voice of plays.family) removal.harmony.add(voice);
    else if (plays.role === 'lead') for (const voice of plays.family) removal.leads.add(voice);
    else if (instrument.name === 'bass') removal.bass = true;
    else for (const voice of plays.family) removal.basses.add(voice);
    removal.said.push(instrument.name);
  }
  const text = rest[0]!.text;
  const traits: readonly [readonly string[], 'swing' | 'distortion' | 'lead', string][] = [
    [TRAIT_WORDS.swing, 'swing', 'swing'],
    [TRAIT_WORDS.distortion, 'distortion', 'distortion'],
    [TRAIT_WORDS.lead, 'lead', 'the lead melody'],
  ];
  for (const [words, trait, said] of traits) {
    if (!hasAny(text, words)) continue;
    removal[trait] = true;
    removal.said.push(said);
  }
  for (const [word, value] of ENERGY_WORDS) {
    if (find(text, word) === null) continue;
    if (value >= 0.6) removal.atMost = Math.min(removal.atMost, value - 0.25);
    if (value <= 0.4) removal.atLeast = Math.max(removal.atLeast, value + 0.25);
    removal.said.push(`"${word}" energy`);
  }
  if (hasAny(text, MINOR_WORDS)) removal.mode = 'major';
  else if (hasAny(text, MAJOR_WORDS)) removal.mode = 'minor';
  if (removal.mode) removal.said.push(`the ${removal.mode === 'major' ? 'minor' : 'major'} mood`);
  return removal;
}

/** Applies the named instruments: each forces its voice into the arrangement, first named first. */
function withInstruments(style: Style, genre: Genre, named: readonly Instrument[], reasons: string[]): Style {
  let harmony = [...style.harmony];
  let { bass, lead, drums, bassFrom, leadFrom } = style;
  const forced: HarmonyPart[] = [];
  for (const instrument of named) {
    const plays = instrument.plays;
    if (plays.role === 'harmony') {
      const present = harmony.find((part) => plays.family.includes(part.voice));
      if (present) {
        if (!forced.includes(present)) forced.push(present);
        continue;
      }
      // The genre's way of playing if it suits the instrument (a piano cannot palm-mute), else the instrument's own.
      const comp: Comp = plays.comps.includes(genre.harmony[0]!.comp) ? genre.harmony[0]!.comp : plays.comps[0]!;
      forced.push({ voice: plays.voice, comp });
      reasons.push(`${instrument.name} added (${comp})`);
    } else if (plays.role === 'lead') {
      if (!lead || !plays.family.includes(lead)) lead = plays.voice;
      leadFrom = NAMED_LEAD_FROM;
      reasons.push(`${instrument.name} plays the melody`);
    } else if (plays.role === 'bass') {
      if (!bass || !plays.family.includes(bass)) bass = plays.voice;
      bassFrom = NAMED_BASS_FROM;
      reasons.push(`${instrument.name} plays the bass line`);
    } else {
      if (!drums) {
        drums = DEFAULT_DRUMS;
        reasons.push('drums added');
      }
    }
  }
  if (forced.length) harmony = [...forced, ...harmony.filter((part) => !forced.includes(part))].slice(0, MAX_HARMONY_PARTS);
  return { ...style, harmony, bass, lead, drums, bassFrom, leadFrom };
}

/** Applies the negatives: what they name leaves the arrangement (harmony is replaced, never left empty). */
function withoutRemoved(style: Style, removal: Removal, genre: Genre): Style {
  const traits = removal.genreTraits;
  const own = (voice: HarmonyVoice) => genre.harmony.some((part) => part.voice === voice);
  const distortion = removal.distortion || traits.distortion;
  const gone = (voice: HarmonyVoice) => removal.harmony.has(voice) || (traits.harmony.has(voice) && !own(voice)) || (distortion && voice === 'power');
  // Without distortion a power-chord guitar becomes a clean one, if guitars are still allowed.
  const clean = (part: HarmonyPart): HarmonyPart =>
    distortion && part.voice === 'power' && !removal.harmony.has('guitar') ? { voice: 'guitar', comp: part.comp === 'chug' ? 'strum' : part.comp } : part;
  let harmony = style.harmony.map(clean).filter((part) => !gone(part.voice));
  if (harmony.length === 0) {
    const voice = HARMONY_FALLBACK.find((v) => !gone(v)) ?? 'piano';
    const instrument = INSTRUMENTS.find((i) => i.plays.role === 'harmony' && i.plays.voice === voice);
    const comps = instrument?.plays.role === 'harmony' ? instrument.plays.comps : ['sustain' as const];
    const comp = comps.includes(genre.harmony[0]!.comp) ? genre.harmony[0]!.comp : comps[0]!;
    harmony = [{ voice, comp }];
  }
  const leadGone = (voice: LeadVoice) => removal.leads.has(voice) || (traits.leads.has(voice) && genre.lead !== voice);
  const lead = removal.lead || (style.lead && leadGone(style.lead)) ? null : style.lead;
  const bass = removal.bass || (style.bass && removal.basses.has(style.bass)) ? null : style.bass;
  const swing = removal.swing || traits.swing ? 0 : style.swing;
  return { ...style, harmony, lead, bass, drums: removal.drums ? null : style.drums, swing };
}

/**
 * Turns the words into a style choice. `texts` are the positive texts, most
 * important first (tags, then prompt, then title); `negative` is the
 * negativeTags. Never throws: any strings give a valid choice, and the same
 * strings always the same one.
 */
export function chooseStyle(texts: readonly string[], negative = '', options: ChooseOptions = {}): StyleChoice {
  const reasons: string[] = [];
  const refused: string[] = [negative];
  const weighted: Weighted[] = texts.map((raw, index) => {
    const { positive, negative: inline } = splitNegations(String(raw ?? ''), NEGATORS, NEGATION_STOPS);
    if (inline) refused.push(inline);
    return { text: normalise(positive), weight: index === 0 ? 2 : 1 };
  });
  const removal = removalsIn(normalise(refused.join(', ')));

  const { matches, rest } = genreVotes(weighted);
  const allowed = matches.filter((m) => !removal.genres.has(m.name));
  const named = instrumentsIn(rest);
  const preferred = allowed.find((m) => m.name === options.genre);
  const winner = preferred ?? allowed[0];
  let genreName: string;
  if (winner) {
    genreName = winner.name;
    reasons.push(`${genreName}: matched ${winner.words.map((w) => `"${w}"`).join(', ')}`);
  } else {
    // No genre word: the first named instrument suggests one ("calm piano" is a ballad, not pop).
    const hinted = named.map((i) => i.hint).find((hint) => !removal.genres.has(hint));
    genreName = hinted ?? [DEFAULT_GENRE, ...GENRES.map((g) => g.name)].find((name) => !removal.genres.has(name)) ?? DEFAULT_GENRE;
    reasons.push(hinted ? `${genreName}: suggested by the instruments named` : `${genreName}: no genre word matched, the default`);
  }
  const genre = genreByName.get(genreName)!;

  const all = weighted.map((w) => w.text).join(' ');
  const energy = intensityOf(weighted);
  let intensity = energy.value === null ? genre.intensity : WORDS_WEIGHT * energy.value + (1 - WORDS_WEIGHT) * genre.intensity;
  intensity = clamp01(Math.min(removal.atMost, Math.max(removal.atLeast, intensity)));
  intensity = Math.round(intensity * 100) / 100;
  reasons.push(
    `energy ${energyLabel(intensity)} (${intensity})${energy.words.length ? ` from ${energy.words.map((w) => `"${w}"`).join(', ')}` : ' from the genre'}`,
  );

  const moodsMinor = MINOR_WORDS.filter((w) => find(all, w) !== null);
  const moodsMajor = MAJOR_WORDS.filter((w) => find(all, w) !== null);
  const key = keyIn(texts.map((t) => String(t ?? '')).join(' \n '));
  let mode: Mode | null = moodsMinor.length > moodsMajor.length ? 'minor' : moodsMajor.length > moodsMinor.length ? 'major' : null;
  if (removal.mode && mode !== removal.mode) mode = removal.mode;
  if (key) mode = key.mode;
  if (key) reasons.push(`key ${key.tonic} ${key.mode} named`);
  else if (mode) reasons.push(`${mode} mode from the mood`);
  const bpm = bpmIn(all);
  if (bpm) reasons.push(`${bpm} BPM named`);

  let style = withInstruments(styleOf(genre), genre, named, reasons);
  style = withoutRemoved(style, removal, genre);
  if (removal.said.length) reasons.push(`removed: ${removal.said.join(', ')}`);
  const vocals = TRAIT_WORDS.vocals.filter((w) => find(all, w) !== null);
  // The arrangement is the band's; whether a song is sung is the request's `instrumental`, not its style words.
  if (vocals.length) reasons.push(`vocal words (${vocals.join(', ')}) noted: singing follows the request's instrumental flag`);

  return {
    genre: genre.name,
    style,
    mode,
    intensity,
    lift: Math.round((intensity - genre.intensity) * 100) / 100,
    energy: energyLabel(intensity),
    bpm,
    tonic: key?.tonic ?? null,
    matched: {
      genres: allowed,
      energy: energy.words,
      instruments: named.filter((i) => !removal.said.includes(i.name)).map((i) => i.name),
      moods: [...moodsMinor, ...moodsMajor],
      vocals: [...vocals],
    },
    removed: removal.said,
    reasons,
  };
}
