/**
 * From words (tags, prompt, title) to a style: the presets and keyword rules
 * are plain data, so that a later, more musical version can grow the table
 * rather than the code.
 */

export type ChordVoice = 'epiano' | 'organ' | 'pad' | 'power' | 'pluck';
export type BassVoice = 'round' | 'synth' | 'picked';
export type LeadVoice = 'bell' | 'saw' | 'pluck' | 'epiano' | 'none';
export type Mode = 'major' | 'minor';
/** How the chord instrument plays a bar: held, jazz stabs, broken chord, strummed, or palm-muted 8ths. */
export type Comp = 'sustain' | 'stabs' | 'arpeggio' | 'strum' | 'chug';

export interface DrumPattern {
  /** 16 steps per bar: 'x' hit, 'o' soft hit, '.' rest. */
  kick: string;
  snare: string;
  hat: string;
}

export interface Style {
  name: string;
  tempo: readonly [number, number];
  modes: readonly Mode[];
  chords: ChordVoice;
  comp: Comp;
  bass: BassVoice;
  lead: LeadVoice;
  drums: DrumPattern | null;
  /** Delay of the off-beat 16ths, as a fraction of a 16th (0 straight, ~0.33 triplet feel). */
  swing: number;
  /** Bass notes per bar at full intensity. */
  bassNotesPerBar: 1 | 2 | 4 | 8;
  /** Roman-numeral progressions per mode, one chord per bar. */
  progressions: Record<Mode, readonly (readonly string[])[]>;
  /** Saturation amount of the chord voice (0 = clean). */
  drive: number;
}

const POP_PROGRESSIONS: Style['progressions'] = {
  major: [
    ['I', 'V', 'VIm', 'IV'],
    ['I', 'IV', 'VIm', 'V'],
    ['VIm', 'IV', 'I', 'V'],
    ['I', 'IIIm', 'IV', 'V'],
  ],
  minor: [
    ['Im', 'bVI', 'bIII', 'bVII'],
    ['Im', 'bVII', 'bVI', 'bVII'],
    ['Im', 'IVm', 'bVII', 'bIII'],
    ['bVI', 'bVII', 'Im', 'Im'],
  ],
};

const JAZZ_PROGRESSIONS: Style['progressions'] = {
  major: [
    ['IIm7', 'V7', 'Imaj7', 'VIm7'],
    ['Imaj7', 'VIm7', 'IIm7', 'V7'],
    ['IIIm7', 'VIm7', 'IIm7', 'V7'],
  ],
  minor: [
    ['Im7', 'IVm7', 'bVIImaj7', 'bIIImaj7'],
    ['Im7', 'bVImaj7', 'IIm7b5', 'V7'],
    ['IVm7', 'bVII7', 'Im7', 'Im7'],
  ],
};

const ROCK_PROGRESSIONS: Style['progressions'] = {
  major: [
    ['I5', 'IV5', 'V5', 'IV5'],
    ['I5', 'bVII5', 'IV5', 'I5'],
    ['I5', 'V5', 'bVII5', 'IV5'],
  ],
  minor: [
    ['I5', 'bVII5', 'bVI5', 'bVII5'],
    ['I5', 'bIII5', 'IV5', 'bVI5'],
    ['I5', 'IV5', 'bVII5', 'bIII5'],
  ],
};

const straight: DrumPattern = { kick: 'x.......x.x.....', snare: '....x.......x...', hat: 'x.x.x.x.x.x.x.x.' };

export const STYLES: readonly Style[] = [
  {
    name: 'pop',
    tempo: [96, 124],
    modes: ['major', 'minor'],
    chords: 'pluck',
    comp: 'strum',
    bass: 'round',
    lead: 'bell',
    drums: straight,
    swing: 0,
    bassNotesPerBar: 4,
    progressions: POP_PROGRESSIONS,
    drive: 0,
  },
  {
    name: 'rock',
    tempo: [112, 150],
    modes: ['minor', 'major'],
    chords: 'power',
    comp: 'chug',
    bass: 'picked',
    lead: 'saw',
    drums: { kick: 'x.....x.x.......', snare: '....x.......x...', hat: 'x.x.x.x.x.x.x.x.' },
    swing: 0,
    bassNotesPerBar: 8,
    progressions: ROCK_PROGRESSIONS,
    drive: 0.8,
  },
  {
    name: 'jazz',
    tempo: [84, 132],
    modes: ['major', 'minor'],
    chords: 'epiano',
    comp: 'stabs',
    bass: 'round',
    lead: 'epiano',
    drums: { kick: 'o.......o.......', snare: '......o.......o.', hat: 'x...x.xox...x.xo' },
    swing: 0.33,
    bassNotesPerBar: 4,
    progressions: JAZZ_PROGRESSIONS,
    drive: 0,
  },
  {
    name: 'piano',
    tempo: [66, 92],
    modes: ['major', 'minor'],
    chords: 'epiano',
    comp: 'arpeggio',
    bass: 'round',
    lead: 'epiano',
    drums: null,
    swing: 0,
    bassNotesPerBar: 2,
    progressions: POP_PROGRESSIONS,
    drive: 0,
  },
  {
    name: 'electronic',
    tempo: [118, 128],
    modes: ['minor', 'major'],
    chords: 'pad',
    comp: 'sustain',
    bass: 'synth',
    lead: 'saw',
    drums: { kick: 'x...x...x...x...', snare: '....x.......x...', hat: '..x...x...x...x.' },
    swing: 0,
    bassNotesPerBar: 8,
    progressions: POP_PROGRESSIONS,
    drive: 0,
  },
  {
    name: 'hiphop',
    tempo: [84, 96],
    modes: ['minor'],
    chords: 'epiano',
    comp: 'stabs',
    bass: 'synth',
    lead: 'bell',
    drums: { kick: 'x.....x...x.....', snare: '....x.......x...', hat: 'x.x.x.x.x.x.x.x.' },
    swing: 0.2,
    bassNotesPerBar: 2,
    progressions: JAZZ_PROGRESSIONS,
    drive: 0,
  },
  {
    name: 'ambient',
    tempo: [60, 84],
    modes: ['major', 'minor'],
    chords: 'pad',
    comp: 'sustain',
    bass: 'round',
    lead: 'bell',
    drums: null,
    swing: 0,
    bassNotesPerBar: 1,
    progressions: POP_PROGRESSIONS,
    drive: 0,
  },
  {
    name: 'folk',
    tempo: [88, 116],
    modes: ['major'],
    chords: 'pluck',
    comp: 'strum',
    bass: 'round',
    lead: 'pluck',
    drums: { kick: 'x.......x.......', snare: '....o.......o...', hat: '..o...o...o...o.' },
    swing: 0.1,
    bassNotesPerBar: 2,
    progressions: POP_PROGRESSIONS,
    drive: 0,
  },
  {
    name: 'classical',
    tempo: [70, 100],
    modes: ['major', 'minor'],
    chords: 'organ',
    comp: 'sustain',
    bass: 'round',
    lead: 'bell',
    drums: null,
    swing: 0,
    bassNotesPerBar: 2,
    progressions: POP_PROGRESSIONS,
    drive: 0,
  },
];

/** Words that vote for a preset. Substring matches on lower-cased words, so "jazzy" counts as jazz. */
const KEYWORDS: Record<string, readonly string[]> = {
  pop: ['pop', 'dance-pop', 'synthpop', 'radio'],
  rock: ['rock', 'metal', 'punk', 'grunge', 'guitar', 'indie', 'garage', 'emo'],
  jazz: ['jazz', 'swing', 'bebop', 'blues', 'soul', 'funk', 'bossa', 'lounge', 'r&b', 'rnb'],
  piano: ['piano', 'ballad', 'keys', 'lullaby'],
  electronic: ['electro', 'edm', 'house', 'techno', 'trance', 'dance', 'synth', 'disco', 'club', 'dubstep'],
  hiphop: ['hip hop', 'hip-hop', 'hiphop', 'rap', 'trap', 'lofi', 'lo-fi', 'boom bap', 'drill'],
  ambient: ['ambient', 'chill', 'drone', 'meditation', 'calm', 'atmospheric', 'cinematic', 'dream'],
  folk: ['folk', 'acoustic', 'country', 'bluegrass', 'singer-songwriter', 'americana'],
  classical: ['classical', 'orchestra', 'orchestral', 'baroque', 'strings', 'choir', 'organ', 'hymn'],
};

const MINOR_WORDS = ['sad', 'dark', 'melanchol', 'minor', 'moody', 'night', 'lonely', 'blue', 'gloom', 'haunting', 'epic'];
const MAJOR_WORDS = ['happy', 'bright', 'uplifting', 'sunny', 'major', 'joy', 'summer', 'cheerful', 'hopeful', 'love'];
const FAST_WORDS = ['fast', 'energetic', 'upbeat', 'driving', 'intense', 'hard', 'aggressive'];
const SLOW_WORDS = ['slow', 'chill', 'relaxed', 'calm', 'gentle', 'soft', 'sleepy', 'mellow'];
const DRUM_WORDS = ['drum', 'percussion', 'beat'];

export interface StyleChoice {
  style: Style;
  /** Mode forced by mood words, if any. */
  mode: Mode | null;
  /** −1 slower, 0 as preset, +1 faster. */
  pace: -1 | 0 | 1;
}

const count = (text: string, words: readonly string[]) => words.reduce((n, word) => n + (text.includes(word) ? 1 : 0), 0);

/**
 * Picks the preset with the most keyword votes; the first text (the tags)
 * counts double. Negative words veto presets and, for "drums", the drums.
 */
export function chooseStyle(texts: readonly string[], negative = ''): StyleChoice {
  const lower = texts.map((t) => t.toLowerCase());
  const all = lower.join(' ');
  const vetoed = negative.toLowerCase();
  let best: Style | null = null;
  let bestVotes = 0;
  for (const style of STYLES) {
    const words = KEYWORDS[style.name] ?? [];
    if (count(vetoed, words) > 0) continue;
    const votes = lower.reduce((n, text, i) => n + count(text, words) * (i === 0 ? 2 : 1), 0);
    if (votes > bestVotes) {
      best = style;
      bestVotes = votes;
    }
  }
  let style = best ?? STYLES.find((s) => count(vetoed, KEYWORDS[s.name] ?? []) === 0) ?? STYLES[0]!;
  if (style.drums && count(vetoed, DRUM_WORDS) > 0) style = { ...style, drums: null };
  const minor = count(all, MINOR_WORDS);
  const major = count(all, MAJOR_WORDS);
  const mode: Mode | null = minor > major ? 'minor' : major > minor ? 'major' : null;
  const fast = count(all, FAST_WORDS);
  const slow = count(all, SLOW_WORDS);
  return { style, mode, pace: fast > slow ? 1 : slow > fast ? -1 : 0 };
}
