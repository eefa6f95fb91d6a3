import { hashString, mulberry32 } from '../prng.js';
import { lettersOf, syllables } from './lyrics.js';

/**
 * A synthesised singing voice (source–filter): a band-limited pulse train at
 * the sung pitch, tilted like a glottal source, through a cascade of formant
 * resonators that move between vowel targets; noise for fricatives, bursts
 * and breath. Pronunciation comes from spelling with a few English rules, not
 * from a dictionary, so it is approximate; the voice is recognisably sung
 * vowels and consonants on the planned pitches, not a human recording.
 */

export type Gender = 'm' | 'f';
export type VowelName = 'a' | 'ae' | 'e' | 'ih' | 'i' | 'o' | 'uh' | 'oo' | 'u' | 'er';
export type ConsonantName =
  | 'p'
  | 'b'
  | 't'
  | 'd'
  | 'k'
  | 'g'
  | 'ch'
  | 'j'
  | 'f'
  | 'v'
  | 'th'
  | 's'
  | 'z'
  | 'sh'
  | 'h'
  | 'm'
  | 'n'
  | 'ng'
  | 'l'
  | 'r'
  | 'w'
  | 'y';

export interface SyllableSound {
  onset: ConsonantName[];
  /** One vowel, or two for a diphthong (the second reached at the end of the note). */
  nucleus: VowelName[];
  coda: ConsonantName[];
}

type Formants = readonly [number, number, number];

/** Vowel formants F1–F3 in Hz, adult male and female averages (Peterson & Barney's measurements, rounded). */
export const VOWEL_FORMANTS: Record<Gender, Record<VowelName, Formants>> = {
  m: {
    a: [730, 1090, 2440],
    ae: [660, 1720, 2410],
    e: [530, 1840, 2480],
    ih: [390, 1990, 2550],
    i: [270, 2290, 3010],
    o: [570, 840, 2410],
    uh: [640, 1190, 2390],
    oo: [440, 1020, 2240],
    u: [300, 870, 2240],
    er: [490, 1350, 1690],
  },
  f: {
    a: [850, 1220, 2810],
    ae: [860, 2050, 2850],
    e: [610, 2330, 2990],
    ih: [430, 2480, 3070],
    i: [310, 2790, 3310],
    o: [590, 920, 2710],
    uh: [760, 1400, 2780],
    oo: [470, 1160, 2680],
    u: [370, 950, 2670],
    er: [500, 1640, 1960],
  },
};

type ConsonantKind = 'stop' | 'affricate' | 'fricative' | 'aspirate' | 'nasal' | 'approximant';

interface ConsonantSpec {
  kind: ConsonantKind;
  voiced: boolean;
  /** Centre of the noise (burst or frication), Hz. */
  noiseHz: number;
  /** Level of the noise. */
  noise: number;
  /** Formants held while a nasal or approximant sounds. */
  formants?: Formants;
  /** Length at an unhurried tempo, seconds. */
  lengthS: number;
}

const CONSONANTS: Record<ConsonantName, ConsonantSpec> = {
  p: { kind: 'stop', voiced: false, noiseHz: 900, noise: 0.5, lengthS: 0.07 },
  b: { kind: 'stop', voiced: true, noiseHz: 900, noise: 0.3, lengthS: 0.05 },
  t: { kind: 'stop', voiced: false, noiseHz: 4200, noise: 0.5, lengthS: 0.07 },
  d: { kind: 'stop', voiced: true, noiseHz: 3600, noise: 0.3, lengthS: 0.05 },
  k: { kind: 'stop', voiced: false, noiseHz: 2200, noise: 0.5, lengthS: 0.07 },
  g: { kind: 'stop', voiced: true, noiseHz: 2000, noise: 0.3, lengthS: 0.05 },
  ch: { kind: 'affricate', voiced: false, noiseHz: 3200, noise: 0.4, lengthS: 0.09 },
  j: { kind: 'affricate', voiced: true, noiseHz: 3000, noise: 0.25, lengthS: 0.07 },
  f: { kind: 'fricative', voiced: false, noiseHz: 5500, noise: 0.14, lengthS: 0.08 },
  v: { kind: 'fricative', voiced: true, noiseHz: 5000, noise: 0.08, lengthS: 0.06 },
  th: { kind: 'fricative', voiced: false, noiseHz: 6000, noise: 0.1, lengthS: 0.07 },
  s: { kind: 'fricative', voiced: false, noiseHz: 6500, noise: 0.35, lengthS: 0.1 },
  z: { kind: 'fricative', voiced: true, noiseHz: 6000, noise: 0.18, lengthS: 0.08 },
  sh: { kind: 'fricative', voiced: false, noiseHz: 3000, noise: 0.3, lengthS: 0.1 },
  h: { kind: 'aspirate', voiced: false, noiseHz: 0, noise: 0.35, lengthS: 0.06 },
  m: { kind: 'nasal', voiced: true, noiseHz: 0, noise: 0, formants: [250, 1100, 2200], lengthS: 0.07 },
  n: { kind: 'nasal', voiced: true, noiseHz: 0, noise: 0, formants: [250, 1600, 2600], lengthS: 0.07 },
  ng: { kind: 'nasal', voiced: true, noiseHz: 0, noise: 0, formants: [250, 2000, 2700], lengthS: 0.07 },
  l: { kind: 'approximant', voiced: true, noiseHz: 0, noise: 0, formants: [360, 1300, 2700], lengthS: 0.06 },
  r: { kind: 'approximant', voiced: true, noiseHz: 0, noise: 0, formants: [310, 1060, 1380], lengthS: 0.06 },
  w: { kind: 'approximant', voiced: true, noiseHz: 0, noise: 0, formants: [300, 610, 2200], lengthS: 0.05 },
  y: { kind: 'approximant', voiced: true, noiseHz: 0, noise: 0, formants: [260, 2070, 3000], lengthS: 0.05 },
};

// ---------------------------------------------------------------------------------------------
// Spelling to sound.

/** Words whose vowels the rules get wrong, one vowel list per syllable. */
const VOWEL_EXCEPTIONS: Record<string, VowelName[][]> = {
  the: [['uh']],
  a: [['uh']],
  to: [['u']],
  do: [['u']],
  who: [['u']],
  you: [['u']],
  your: [['o']],
  i: [['a', 'i']],
  of: [['uh']],
  was: [['uh']],
  what: [['uh']],
  one: [['uh']],
  are: [['a']],
  have: [['ae']],
  give: [['ih']],
  live: [['ih']],
  love: [['uh']],
  come: [['uh']],
  some: [['uh']],
  done: [['uh']],
  none: [['uh']],
  from: [['uh']],
  been: [['ih']],
  said: [['e']],
  there: [['e']],
  where: [['e']],
  they: [['e', 'i']],
  eye: [['a', 'i']],
  eyes: [['a', 'i']],
  heart: [['a']],
  again: [['uh'], ['e']],
  only: [['o', 'oo'], ['i']],
  every: [['e'], ['uh'], ['i']],
};

/** One-syllable words whose "ow" is the vowel of "go", not of "now". */
const LONG_OW = new Set([
  'know',
  'known',
  'snow',
  'show',
  'shown',
  'glow',
  'slow',
  'low',
  'grow',
  'grown',
  'flow',
  'blow',
  'throw',
  'own',
  'bowl',
  'crow',
  'row',
  'sow',
  'tow',
]);

/** Letters to consonants, longest spellings first. */
const CONSONANT_SPELLINGS: readonly [string, ConsonantName[]][] = [
  ['tch', ['ch']],
  ['sch', ['s', 'k']],
  ['ch', ['ch']],
  ['sh', ['sh']],
  ['th', ['th']],
  ['ph', ['f']],
  ['wh', ['w']],
  ['ck', ['k']],
  ['ng', ['ng']],
  ['nk', ['ng', 'k']],
  ['gh', []],
  ['qu', ['k', 'w']],
  ['kn', ['n']],
  ['wr', ['r']],
  ['x', ['k', 's']],
  ['q', ['k']],
  ['c', ['k']],
  ['j', ['j']],
  ['y', ['y']],
  ...(['p', 'b', 't', 'd', 'k', 'g', 'f', 'v', 's', 'z', 'h', 'm', 'n', 'l', 'r', 'w'] as const).map((c): [string, ConsonantName[]] => [c, [c]]),
];

/** Consonant letters as sounds; doubled letters are one sound, c before e/i/y is s. */
export function consonantsOf(letters: string, following = ''): ConsonantName[] {
  const out: ConsonantName[] = [];
  let rest = letters;
  while (rest.length > 0) {
    if (rest.length > 1 && rest[0] === rest[1] && rest[0] !== 'c') {
      rest = rest.slice(1);
      continue;
    }
    const next = rest.length > 1 ? rest[1]! : (following[0] ?? '');
    if (rest[0] === 'c' && 'eiy'.includes(next)) {
      out.push('s');
      rest = rest.slice(1);
      continue;
    }
    const match = CONSONANT_SPELLINGS.find(([spelling]) => rest.startsWith(spelling));
    if (!match) {
      rest = rest.slice(1);
      continue;
    }
    for (const sound of match[1]) if (out[out.length - 1] !== sound) out.push(sound);
    rest = rest.slice(match[0].length);
  }
  return out;
}

const isVowelLetter = (letters: string, i: number) =>
  'aeiou'.includes(letters[i]!) || (letters[i] === 'y' && i > 0 && !'aeiou'.includes(letters[i - 1]!) && !'aeiou'.includes(letters[i + 1] ?? ''));

/** The vowel of a spelled nucleus, given what follows it in the syllable and whether a silent e makes it long. */
function vowelOf(word: string, nucleus: string, coda: string, long: boolean, open: boolean, wordEnd: boolean, single: boolean): VowelName[] {
  if (nucleus.includes('igh') || nucleus === 'ie' || nucleus === 'ye') return ['a', 'i'];
  if (['ee', 'ea', 'ei', 'ey', 'ie'].includes(nucleus)) return nucleus === 'ey' && !wordEnd ? ['e', 'i'] : ['i'];
  if (nucleus === 'oo') return coda.startsWith('k') || coda.startsWith('d') ? ['oo'] : ['u'];
  if (nucleus === 'ou') return coda.startsWith('r') ? ['o'] : coda.startsWith('ld') ? ['oo'] : ['a', 'oo'];
  if (nucleus === 'ow') return (wordEnd && !single) || LONG_OW.has(word) ? ['o', 'oo'] : ['a', 'oo'];
  if (['ai', 'ay'].includes(nucleus)) return ['e', 'i'];
  if (['oa', 'oe'].includes(nucleus)) return ['o', 'oo'];
  if (['oi', 'oy'].includes(nucleus)) return ['o', 'i'];
  if (['au', 'aw'].includes(nucleus)) return ['o'];
  if (['ue', 'ew', 'ui'].includes(nucleus)) return ['u'];
  const v = nucleus[nucleus.length - 1]!;
  const r = coda.startsWith('r');
  switch (v) {
    case 'a':
      if (r) return ['a'];
      if (coda.startsWith('l')) return ['o'];
      return long ? ['e', 'i'] : open && !wordEnd ? ['e', 'i'] : wordEnd && open ? ['uh'] : ['ae'];
    case 'e':
      if (r) return ['er'];
      return long || (open && wordEnd) ? ['i'] : ['e'];
    case 'i':
      if (r) return ['er'];
      if (long || (open && wordEnd && single) || coda.startsWith('nd') || coda.startsWith('ld')) return ['a', 'i'];
      return ['ih'];
    case 'o':
      if (r) return ['o'];
      return long || open ? ['o', 'oo'] : ['a'];
    case 'u':
      if (r) return ['er'];
      return long ? ['u'] : open ? ['u'] : ['uh'];
    default:
      // y as a vowel: "my", "fly" (one syllable), "happy" (an ending), "rhythm" (inside).
      return wordEnd ? (single ? ['a', 'i'] : ['i']) : ['ih'];
  }
}

/** How a word is sung, one sound per syllable of `syllables(word)`. */
export function pronounce(word: string): SyllableSound[] {
  const parts = syllables(word);
  const letters = lettersOf(word);
  const exception = VOWEL_EXCEPTIONS[letters];
  return parts.map((part, index) => {
    const spelled = lettersOf(part);
    const last = index === parts.length - 1;
    const next = parts[index + 1] ? lettersOf(parts[index + 1]!) : '';
    let start = 0;
    while (start < spelled.length && !isVowelLetter(spelled, start)) start++;
    if (start === spelled.length) {
      // No vowel letters ("hmm", digits, other scripts): a hummed or open vowel.
      return { onset: consonantsOf(spelled.replace(/m+$/, '')), nucleus: [spelled.endsWith('m') ? 'uh' : 'a'], coda: spelled.endsWith('m') ? ['m'] : [] };
    }
    let end = start + 1;
    while (end < spelled.length && isVowelLetter(spelled, end)) end++;
    // "-igh" and a w after a vowel ("now", "saw", "new") belong to the vowel; a u after q or g is a consonant glide.
    if (spelled.slice(end, end + 2) === 'gh') end += 2;
    else if (spelled[end] === 'w' && !isVowelLetter(spelled, end + 1)) end += 1;
    let onsetLetters = spelled.slice(0, start);
    let nucleus = spelled.slice(start, end);
    if ((onsetLetters.endsWith('q') || onsetLetters === 'g') && nucleus.length > 1 && nucleus[0] === 'u') {
      onsetLetters += 'u';
      nucleus = nucleus.slice(1);
    }
    let coda = spelled.slice(end);
    // A silent e after one consonant lengthens the vowel ("time", "home"); "-es" and "-ed" likewise.
    const silentE = last && /^[^aeiou]{1,2}e[sd]?$/.test(coda) && !coda.startsWith('r');
    if (silentE) coda = coda.replace(/e([sd]?)$/, '$1');
    const open = coda.length === 0;
    const nucleusSound = exception?.[index] ?? vowelOf(letters, nucleus, coda, silentE && coda.length <= 2, open, last, parts.length === 1);
    const onset = consonantsOf(onsetLetters, nucleus);
    // An r after a vowel colours it (er, ar, or) and is not sung as a consonant of its own.
    const codaSounds = consonantsOf(coda, next).filter((c, i) => !(i === 0 && c === 'r'));
    return { onset, nucleus: nucleusSound, coda: codaSounds };
  });
}

// ---------------------------------------------------------------------------------------------
// The voice.

export interface SungNote {
  startS: number;
  endS: number;
  midi: number;
  sound: SyllableSound;
  /** Joined to the note before (same phrase): the pitch glides and the voice does not stop. */
  legato: boolean;
  /** 0..1 loudness of the note. */
  velocity?: number;
}

export interface VoiceOptions {
  sampleRate: number;
  /** Length of the rendered voice in frames. */
  frames: number;
  gender: Gender;
  seed: string;
}

/** Parameters are set per block of this many samples and interpolated inside it. */
const BLOCK = 32;
const VIBRATO_HZ = 5.4;
/** Peak vibrato depth in semitones: well inside half a semitone, so a note stays its note. */
const VIBRATO_DEPTH = 0.28;
const VIBRATO_DELAY_S = 0.28;
const GLIDE_S = 0.07;
const RELEASE_S = 0.06;
const BANDWIDTHS: Formants = [90, 110, 170];
/** RMS of the voice where it sings. */
export const VOICE_RMS = 0.1;

interface Tracks {
  blocks: number;
  f0: Float32Array;
  voice: Float32Array;
  aspiration: Float32Array;
  frication: Float32Array;
  fricHz: Float32Array;
  formants: [Float32Array, Float32Array, Float32Array];
}

function tracksFor(frames: number): Tracks {
  const blocks = Math.ceil(frames / BLOCK) + 1;
  const nan = () => new Float32Array(blocks).fill(Number.NaN);
  return {
    blocks,
    f0: nan(),
    voice: new Float32Array(blocks),
    aspiration: new Float32Array(blocks),
    frication: new Float32Array(blocks),
    fricHz: new Float32Array(blocks).fill(2000),
    formants: [nan(), nan(), nan()],
  };
}

/** Calls `set(block, t)` for the blocks whose start lies in [fromS, toS), t in 0..1 across the span. */
function span(tracks: Tracks, sampleRate: number, fromS: number, toS: number, set: (block: number, t: number) => void): void {
  const first = Math.max(0, Math.ceil((fromS * sampleRate) / BLOCK));
  const last = Math.min(tracks.blocks - 1, Math.ceil((toS * sampleRate) / BLOCK) - 1);
  const width = Math.max(1e-9, toS - fromS);
  for (let b = first; b <= last; b++) set(b, Math.min(1, Math.max(0, ((b * BLOCK) / sampleRate - fromS) / width)));
}

/** Holds each NaN at the nearest value set before it (or after it, at the start). */
function fillGaps(track: Float32Array, fallback: number): void {
  let last = Number.NaN;
  for (let i = 0; i < track.length; i++) {
    if (Number.isNaN(track[i]!)) track[i] = last;
    else last = track[i]!;
  }
  const first = track.find((v) => !Number.isNaN(v)) ?? fallback;
  for (let i = 0; i < track.length && Number.isNaN(track[i]!); i++) track[i] = first;
}

const hz = (midi: number) => 440 * 2 ** ((midi - 69) / 12);
const lerp = (a: number, b: number, t: number) => a + (b - a) * t;

/** Consonant lengths scaled to fit `budgetS`. */
function lengths(consonants: readonly ConsonantName[], budgetS: number): number[] {
  const natural = consonants.map((c) => CONSONANTS[c].lengthS);
  const total = natural.reduce((s, v) => s + v, 0);
  const scale = total > budgetS ? budgetS / total : 1;
  return natural.map((v) => v * scale);
}

/** Writes one consonant over [fromS, toS); `vowel` supplies the formants an aspirate or a stop's release passes through. */
function writeConsonant(tracks: Tracks, sampleRate: number, name: ConsonantName, fromS: number, toS: number, vowel: Formants, level: number): void {
  const spec = CONSONANTS[name];
  const formantsOf = spec.formants ?? vowel;
  span(tracks, sampleRate, fromS, toS, (b, t) => {
    for (let k = 0; k < 3; k++) tracks.formants[k]![b] = formantsOf[k]!;
    tracks.fricHz[b] = spec.noiseHz || 2000;
    switch (spec.kind) {
      case 'nasal':
        tracks.voice[b] = 0.45 * level;
        break;
      case 'approximant':
        tracks.voice[b] = 0.7 * level;
        break;
      case 'aspirate':
        tracks.voice[b] = 0;
        tracks.aspiration[b] = spec.noise * level;
        break;
      case 'fricative':
        tracks.voice[b] = spec.voiced ? 0.35 * level : 0;
        // Frication swells and fades rather than switching.
        tracks.frication[b] = spec.noise * level * Math.sin(Math.PI * Math.min(1, Math.max(0.08, t)));
        break;
      default: {
        // Stop or affricate: a closure (a murmur if voiced), then a burst and, unvoiced, aspiration.
        const burstAt = spec.kind === 'affricate' ? 0.4 : 0.6;
        tracks.voice[b] = spec.voiced ? 0.12 * level : 0;
        if (t >= burstAt) {
          const after = (t - burstAt) / (1 - burstAt);
          if (spec.kind === 'affricate') tracks.frication[b] = spec.noise * level * (1 - 0.5 * after);
          else {
            tracks.frication[b] = after < 0.35 ? spec.noise * level * (1 - after / 0.35) : 0;
            if (!spec.voiced) tracks.aspiration[b] = 0.22 * level * (1 - after);
          }
        }
      }
    }
  });
}

/** Writes one note's consonants, vowel, pitch and dynamics into the tracks. */
function writeNote(
  tracks: Tracks,
  sampleRate: number,
  note: SungNote,
  previous: SungNote | null,
  next: SungNote | null,
  gender: Gender,
  drift: (s: number) => number,
): void {
  const table = VOWEL_FORMANTS[gender];
  const level = note.velocity ?? 0.9;
  const durationS = note.endS - note.startS;
  const onsetLengths = lengths(note.sound.onset, durationS * 0.35);
  const codaLengths = lengths(note.sound.coda, durationS * 0.3);
  const vowelFrom = note.startS + onsetLengths.reduce((s, v) => s + v, 0);
  const phraseEnds = !next?.legato;
  const vowelTo = note.endS - codaLengths.reduce((s, v) => s + v, 0);
  const first = table[note.sound.nucleus[0]!];
  const second = table[note.sound.nucleus[note.sound.nucleus.length - 1]!];
  let at = note.startS;
  note.sound.onset.forEach((c, i) => {
    writeConsonant(tracks, sampleRate, c, at, at + onsetLengths[i]!, first, level);
    at += onsetLengths[i]!;
  });
  const onsetFormants = note.sound.onset.length > 0 ? CONSONANTS[note.sound.onset[note.sound.onset.length - 1]!].formants : undefined;
  const vowelS = Math.max(1e-3, vowelTo - vowelFrom);
  const releaseS = phraseEnds && note.sound.coda.length === 0 ? Math.min(RELEASE_S, vowelS * 0.4) : 0;
  span(tracks, sampleRate, vowelFrom, vowelTo, (b, t) => {
    const s = vowelFrom + t * vowelS;
    // Formants leave the consonant's over 30 ms, and glide to a diphthong's second vowel over the last quarter.
    const fromConsonant = onsetFormants ? Math.min(1, (s - vowelFrom) / 0.03) : 1;
    const toSecond = Math.max(0, (t - 0.7) / 0.3);
    for (let k = 0; k < 3; k++) {
      const vowel = lerp(first[k]!, second[k]!, toSecond);
      tracks.formants[k]![b] = onsetFormants ? lerp(onsetFormants[k]!, vowel, fromConsonant) : vowel;
    }
    const attack = Math.min(1, (s - vowelFrom) / 0.02 + (note.legato && note.sound.onset.length === 0 ? 1 : 0));
    const release = releaseS > 0 ? Math.min(1, (vowelTo - s) / releaseS) : 1;
    tracks.voice[b] = level * Math.min(attack, release);
    tracks.aspiration[b] = 0.02 * level;
  });
  at = vowelTo;
  note.sound.coda.forEach((c, i) => {
    writeConsonant(tracks, sampleRate, c, at, at + codaLengths[i]!, second, level);
    at += codaLengths[i]!;
  });
  // Pitch over the whole note: a glide from the note before, then vibrato after a delay.
  const glideFrom = note.legato && previous ? previous.midi : note.midi;
  const glideS = Math.min(GLIDE_S, durationS * 0.3);
  const pitchTo = phraseEnds ? note.endS : (next?.startS ?? note.endS);
  span(tracks, sampleRate, note.startS, pitchTo, (b) => {
    const s = (b * BLOCK) / sampleRate;
    const into = s - note.startS;
    const glide = into < glideS ? 0.5 - 0.5 * Math.cos((Math.PI * into) / glideS) : 1;
    const depth = VIBRATO_DEPTH * Math.min(1, Math.max(0, (into - VIBRATO_DELAY_S) / 0.25));
    const vibrato = depth * Math.sin(2 * Math.PI * VIBRATO_HZ * into);
    tracks.f0[b] = hz(lerp(glideFrom, note.midi, glide) + vibrato + drift(s));
  });
}

/** A breath before a phrase that follows a rest: a soft, dark noise, ended before the first sound. */
function writeBreath(tracks: Tracks, sampleRate: number, startS: number, gapS: number): void {
  if (gapS < 0.35) return;
  const lengthS = Math.min(0.3, gapS * 0.5);
  const from = startS - lengthS - 0.06;
  span(tracks, sampleRate, from, startS - 0.06, (b, t) => {
    tracks.frication[b] = Math.max(tracks.frication[b]!, 0.035 * Math.sin(Math.PI * t));
    tracks.fricHz[b] = 1600;
  });
}

/** Resonator coefficients [gain, c1, c2] with unity gain at DC (a cascade then keeps vowels' natural balance). */
function resonator(freq: number, bandwidth: number, sampleRate: number): [number, number, number] {
  const f = Math.min(freq, sampleRate * 0.45);
  const r = Math.exp((-Math.PI * bandwidth) / sampleRate);
  const c1 = 2 * r * Math.cos((2 * Math.PI * f) / sampleRate);
  const c2 = -r * r;
  return [1 - c1 - c2, c1, c2];
}

/** Band-pass coefficients (constant skirt gain, peak 1) for the noise of a fricative. */
function bandpass(freq: number, q: number, sampleRate: number): [number, number, number, number, number] {
  const f = Math.min(freq, sampleRate * 0.42);
  const w = (2 * Math.PI * f) / sampleRate;
  const alpha = Math.sin(w) / (2 * q);
  const a0 = 1 + alpha;
  return [alpha / a0, 0, -alpha / a0, (-2 * Math.cos(w)) / a0, (1 - alpha) / a0];
}

/** The sung notes as a mono signal of `frames` samples, at VOICE_RMS where it sings. */
export function renderVoice(notes: readonly SungNote[], options: VoiceOptions): Float32Array {
  const { sampleRate, frames, gender, seed } = options;
  const tracks = tracksFor(frames);
  const driftRandom = mulberry32(hashString(`${seed}:drift`));
  const driftPoints = Array.from({ length: Math.ceil(frames / sampleRate / 0.4) + 2 }, () => (driftRandom() - 0.5) * 0.12);
  const drift = (s: number) => {
    const x = s / 0.4;
    const i = Math.max(0, Math.min(driftPoints.length - 2, Math.floor(x)));
    return lerp(driftPoints[i]!, driftPoints[i + 1]!, Math.min(1, Math.max(0, x - i)));
  };
  const sorted = [...notes].sort((a, b) => a.startS - b.startS);
  sorted.forEach((note, i) => {
    const previous = sorted[i - 1] ?? null;
    if (!note.legato) writeBreath(tracks, sampleRate, note.startS, note.startS - (previous?.endS ?? 0));
    writeNote(tracks, sampleRate, note, previous, sorted[i + 1] ?? null, gender, drift);
  });
  fillGaps(tracks.f0, gender === 'm' ? 130 : 220);
  const neutral = VOWEL_FORMANTS[gender].uh;
  for (let k = 0; k < 3; k++) fillGaps(tracks.formants[k]!, neutral[k]!);
  return synthesise(tracks, sampleRate, frames, gender, seed);
}

function synthesise(tracks: Tracks, sampleRate: number, frames: number, gender: Gender, seed: string): Float32Array {
  const out = new Float32Array(frames);
  const noise = mulberry32(hashString(`${seed}:noise`));
  const f4 = gender === 'm' ? 3500 : 4100;
  const [g4, a4, b4] = resonator(f4, 250, sampleRate);
  // Glottal tilt: a one-pole low-pass above the pitch turns the flat pulse train into a falling spectrum.
  const tilt = 1 - Math.exp((-2 * Math.PI * (gender === 'm' ? 180 : 260)) / sampleRate);
  let phase = 0;
  let tilted = 0;
  const state = new Float64Array(8);
  const fric = new Float64Array(4);
  let sumSquares = 0;
  let sungSamples = 0;
  for (let b = 0; b * BLOCK < frames; b++) {
    const v0 = tracks.voice[b]!;
    const v1 = tracks.voice[b + 1] ?? v0;
    const h0 = tracks.aspiration[b]!;
    const h1 = tracks.aspiration[b + 1] ?? h0;
    const n0 = tracks.frication[b]!;
    const n1 = tracks.frication[b + 1] ?? n0;
    const quiet = v0 + v1 + h0 + h1 + n0 + n1 === 0;
    if (quiet && Math.abs(state[6]!) + Math.abs(fric[2]!) < 1e-7) continue;
    const coefs = [0, 1, 2].map((k) => resonator(tracks.formants[k]![b]!, BANDWIDTHS[k]!, sampleRate));
    const [bp0, , bp2, bpa1, bpa2] = bandpass(tracks.fricHz[b]!, 1.6, sampleRate);
    const p0 = tracks.f0[b]!;
    const p1 = tracks.f0[b + 1] ?? p0;
    const end = Math.min(frames, (b + 1) * BLOCK);
    for (let i = b * BLOCK; i < end; i++) {
      const t = (i - b * BLOCK) / BLOCK;
      const f0 = p0 + (p1 - p0) * t;
      phase += (2 * Math.PI * f0) / sampleRate;
      if (phase >= 2 * Math.PI) phase -= 2 * Math.PI;
      // Band-limited impulse train (closed-form sum of the harmonics below 0.45 × the rate), zero mean.
      const harmonics = Math.max(1, Math.floor((0.45 * sampleRate) / f0));
      const denominator = Math.sin(phase / 2);
      const pulse = Math.abs(denominator) < 1e-6 ? 1 : (Math.sin((harmonics + 0.5) * phase) / denominator - 1) / (2 * harmonics);
      const white = noise() * 2 - 1;
      tilted += tilt * (pulse - tilted);
      const source = (v0 + (v1 - v0) * t) * tilted * 6 + (h0 + (h1 - h0) * t) * white * 0.5;
      let x = source;
      for (let k = 0; k < 3; k++) {
        const [g, c1, c2] = coefs[k]!;
        const y = g * x + c1 * state[2 * k]! + c2 * state[2 * k + 1]!;
        state[2 * k + 1] = state[2 * k]!;
        state[2 * k] = y;
        x = y;
      }
      const y4 = g4 * x + a4 * state[6]! + b4 * state[7]!;
      state[7] = state[6]!;
      state[6] = y4;
      // Frication is shaped by the front of the mouth, not the vowel tract: in parallel, after it.
      const fx = white * (n0 + (n1 - n0) * t);
      const fy = bp0 * fx + bp2 * fric[1]! - bpa1 * fric[2]! - bpa2 * fric[3]!;
      fric[1] = fric[0]!;
      fric[0] = fx;
      fric[3] = fric[2]!;
      fric[2] = fy;
      out[i] = y4 + fy;
      if (!quiet) {
        sumSquares += out[i]! * out[i]!;
        sungSamples++;
      }
    }
  }
  const rms = Math.sqrt(sumSquares / Math.max(1, sungSamples));
  if (rms > 0) for (let i = 0; i < frames; i++) out[i]! *= VOICE_RMS / rms;
  return out;
}

/**
 * Adds a mono voice to every channel of a mix, scaled so that where it sings its RMS is `ratio`
 * times the RMS of the mix (over the whole mix, silence included). The caller limits the sum.
 */
export function addVoice(channels: readonly Float32Array[], voice: Float32Array, ratio: number): number {
  let mixSquares = 0;
  let count = 0;
  for (const channel of channels) {
    for (let i = 0; i < channel.length; i++) mixSquares += channel[i]! * channel[i]!;
    count += channel.length;
  }
  const mixRms = Math.sqrt(mixSquares / Math.max(1, count));
  // The voice's own level where it sings: blocks of 10 ms above a floor.
  let voiceSquares = 0;
  let voiced = 0;
  const block = 441;
  for (let start = 0; start < voice.length; start += block) {
    let sum = 0;
    const end = Math.min(voice.length, start + block);
    for (let i = start; i < end; i++) sum += voice[i]! * voice[i]!;
    if (sum / (end - start) > 1e-6) {
      voiceSquares += sum;
      voiced += end - start;
    }
  }
  const voiceRms = Math.sqrt(voiceSquares / Math.max(1, voiced));
  const gain = voiceRms > 0 && mixRms > 0 ? (ratio * mixRms) / voiceRms : voiceRms > 0 ? (ratio * 0.1) / voiceRms : 0;
  for (const channel of channels) {
    const n = Math.min(channel.length, voice.length);
    for (let i = 0; i < n; i++) channel[i]! += voice[i]! * gain;
  }
  return gain;
}
