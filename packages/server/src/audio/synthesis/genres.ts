/**
 * The genre table: what each genre sounds like, as data. Adding a genre is
 * adding a row here (and a line in docs/styles.md), not a code branch.
 */

export type HarmonyVoice = 'piano' | 'epiano' | 'organ' | 'pad' | 'strings' | 'power' | 'guitar' | 'pluck' | 'brass' | 'synth';
export type BassVoice = 'round' | 'synth' | 'picked' | 'upright' | 'sub';
export type LeadVoice = 'bell' | 'saw' | 'pluck' | 'epiano' | 'piano' | 'flute' | 'brass' | 'guitar';
export type Mode = 'major' | 'minor';
/**
 * How a harmony instrument plays a bar: held, jazz stabs, broken chord,
 * strummed, palm-muted 8ths, 16th-note funk scratches, reggae off-beat skank,
 * or the bossa-nova comping rhythm.
 */
export type Comp = 'sustain' | 'stabs' | 'arpeggio' | 'strum' | 'chug' | 'funk' | 'skank' | 'bossa';

export interface DrumPattern {
  /** 16 steps per bar: 'x' hit, 'o' soft hit, '.' rest. */
  kick: string;
  snare: string;
  hat: string;
  /** Rim/clave clicks (latin, reggae); absent for most genres. */
  perc?: string;
}

export interface HarmonyPart {
  voice: HarmonyVoice;
  comp: Comp;
}

export type Progressions = Record<Mode, readonly (readonly string[])[]>;

/** One genre: the arrangement it implies before any instrument or energy word changes it. */
export interface Genre {
  name: string;
  /** Words (and phrases) that vote for it; matched as whole words, with plural/adjective endings ("jazzy"). */
  words: readonly string[];
  tempo: readonly [number, number];
  modes: readonly Mode[];
  /** 0 calm … 1 intense: the genre's own energy when no energy word is given. */
  intensity: number;
  /** The first part plays in every section; further parts join in the louder ones. */
  harmony: readonly HarmonyPart[];
  bass: BassVoice | null;
  /** Bass notes per bar at full energy. */
  bassNotesPerBar: 1 | 2 | 4 | 8;
  lead: LeadVoice | null;
  drums: DrumPattern | null;
  /** Delay of the off-beat 16ths, as a fraction of a 16th (0 straight, ~0.33 triplet feel). */
  swing: number;
  /** Roman-numeral progressions per mode, one chord per bar. */
  progressions: Progressions;
}

const POP: Progressions = {
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

const JAZZ: Progressions = {
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

const ROCK: Progressions = {
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

const METAL: Progressions = {
  major: ROCK.major,
  minor: [
    ['I5', 'bVI5', 'bVII5', 'I5'],
    ['I5', 'bII5', 'I5', 'bVII5'],
    ['I5', 'IV5', 'bIII5', 'bII5'],
  ],
};

const BLUES: Progressions = {
  major: [
    ['I7', 'I7', 'I7', 'I7', 'IV7', 'IV7', 'I7', 'I7', 'V7', 'IV7', 'I7', 'V7'],
    ['I7', 'IV7', 'I7', 'I7', 'IV7', 'IV7', 'I7', 'I7', 'V7', 'IV7', 'I7', 'I7'],
    ['IV7', 'IV7', 'I7', 'I7', 'V7', 'IV7', 'I7', 'V7'],
  ],
  minor: [
    ['Im7', 'Im7', 'Im7', 'Im7', 'IVm7', 'IVm7', 'Im7', 'Im7', 'bVI7', 'V7', 'Im7', 'V7'],
    ['Im7', 'IVm7', 'Im7', 'Im7', 'IVm7', 'IVm7', 'Im7', 'Im7', 'bVI7', 'V7', 'Im7', 'Im7'],
    ['IVm7', 'IVm7', 'Im7', 'Im7', 'bVI7', 'V7', 'Im7', 'V7'],
  ],
};

const FUNK: Progressions = {
  major: [
    ['I7', 'I7', 'IV7', 'I7'],
    ['IIm7', 'V7', 'IIm7', 'V7'],
    ['I7', 'IV7', 'I7', 'V7'],
  ],
  minor: [
    ['Im7', 'IV7', 'Im7', 'IV7'],
    ['Im7', 'bVII7', 'bVI7', 'V7'],
    ['Im7', 'Im7', 'IVm7', 'bVII7'],
  ],
};

const SOUL: Progressions = {
  major: [
    ['Imaj7', 'IIIm7', 'IVmaj7', 'V7'],
    ['IIm7', 'V7', 'Imaj7', 'IVmaj7'],
    ['IVmaj7', 'IIIm7', 'IIm7', 'Imaj7'],
  ],
  minor: [
    ['Im7', 'IVm7', 'bVIImaj7', 'bIIImaj7'],
    ['Im7', 'bVImaj7', 'bVII7', 'Im7'],
    ['IVm7', 'bVII7', 'bIIImaj7', 'bVImaj7'],
  ],
};

const LATIN: Progressions = {
  major: [
    ['Imaj7', 'IIm7', 'V7', 'Imaj7'],
    ['IIm7', 'V7', 'Imaj7', 'VIm7'],
    ['Imaj7', 'IVmaj7', 'IIIm7', 'VI7'],
  ],
  minor: [
    ['Im', 'bVII', 'bVI', 'V7'],
    ['Im7', 'IVm7', 'V7', 'Im7'],
    ['Im', 'IVm', 'bVII', 'bIII'],
  ],
};

const REGGAE: Progressions = {
  major: [
    ['I', 'IV', 'I', 'V'],
    ['I', 'VIm', 'IV', 'V'],
    ['IV', 'V', 'I', 'I'],
  ],
  minor: [
    ['Im', 'IVm', 'Im', 'bVII'],
    ['Im', 'bVII', 'bVI', 'bVII'],
    ['Im', 'bIII', 'bVII', 'IVm'],
  ],
};

const CINEMATIC: Progressions = {
  major: [
    ['I', 'V', 'VIm', 'IV'],
    ['IV', 'I', 'V', 'VIm'],
    ['VIm', 'IV', 'I', 'V'],
  ],
  minor: [
    ['Im', 'bVI', 'bIII', 'bVII'],
    ['Im', 'bVI', 'IVm', 'V'],
    ['bVI', 'bIII', 'bVII', 'Im'],
  ],
};

const STRAIGHT: DrumPattern = { kick: 'x.......x.x.....', snare: '....x.......x...', hat: 'x.x.x.x.x.x.x.x.' };

/** What "drums" adds to a genre that has none: a light, straight kit. */
export const DEFAULT_DRUMS: DrumPattern = { kick: 'x.......x.......', snare: '....o.......o...', hat: 'x.x.x.x.x.x.x.x.' };

export const DEFAULT_GENRE = 'pop';

export const GENRES: readonly Genre[] = [
  {
    name: 'pop',
    words: ['pop', 'dance pop', 'synthpop', 'synth pop', 'k pop', 'j pop', 'kpop', 'radio', 'mainstream', 'top 40'],
    tempo: [96, 124],
    modes: ['major', 'minor'],
    intensity: 0.55,
    harmony: [{ voice: 'pluck', comp: 'strum' }],
    bass: 'round',
    bassNotesPerBar: 4,
    lead: 'bell',
    drums: STRAIGHT,
    swing: 0,
    progressions: POP,
  },
  {
    name: 'rock',
    words: ['rock', 'punk', 'grunge', 'indie', 'garage', 'emo', 'alternative', 'alt rock', 'britpop', 'stoner'],
    tempo: [112, 150],
    modes: ['minor', 'major'],
    intensity: 0.75,
    harmony: [{ voice: 'power', comp: 'chug' }],
    bass: 'picked',
    bassNotesPerBar: 8,
    lead: 'saw',
    drums: { kick: 'x.....x.x.......', snare: '....x.......x...', hat: 'x.x.x.x.x.x.x.x.' },
    swing: 0,
    progressions: ROCK,
  },
  {
    name: 'metal',
    words: ['metal', 'metalcore', 'thrash', 'djent', 'doom', 'death metal', 'black metal', 'nu metal'],
    tempo: [120, 170],
    modes: ['minor'],
    intensity: 0.92,
    harmony: [{ voice: 'power', comp: 'chug' }],
    bass: 'picked',
    bassNotesPerBar: 8,
    lead: 'guitar',
    drums: { kick: 'x.x.x.x.x.x.x.x.', snare: '....x.......x...', hat: 'x...x...x...x...' },
    swing: 0,
    progressions: METAL,
  },
  {
    name: 'jazz',
    words: ['jazz', 'bebop', 'swing', 'big band', 'hard bop', 'cool jazz', 'fusion', 'lounge'],
    tempo: [84, 132],
    modes: ['major', 'minor'],
    intensity: 0.5,
    harmony: [{ voice: 'epiano', comp: 'stabs' }],
    bass: 'upright',
    bassNotesPerBar: 4,
    lead: 'epiano',
    drums: { kick: 'o.......o.......', snare: '......o.......o.', hat: 'x...x.xox...x.xo' },
    swing: 0.33,
    progressions: JAZZ,
  },
  {
    name: 'blues',
    words: ['blues', 'delta blues', 'shuffle', 'rhythm and blues'],
    tempo: [70, 110],
    modes: ['major', 'minor'],
    intensity: 0.5,
    harmony: [
      { voice: 'guitar', comp: 'strum' },
      { voice: 'organ', comp: 'sustain' },
    ],
    bass: 'round',
    bassNotesPerBar: 4,
    lead: 'guitar',
    drums: { kick: 'x.......x.......', snare: '....x.......x...', hat: 'x.xxx.xxx.xxx.xx' },
    swing: 0.33,
    progressions: BLUES,
  },
  {
    name: 'funk',
    words: ['funk', 'p funk', 'boogie', 'afrobeat', 'go go'],
    tempo: [96, 118],
    modes: ['minor', 'major'],
    intensity: 0.7,
    harmony: [
      { voice: 'guitar', comp: 'funk' },
      { voice: 'brass', comp: 'stabs' },
    ],
    bass: 'picked',
    bassNotesPerBar: 8,
    lead: 'brass',
    drums: { kick: 'x..x..x...x..x..', snare: '....x..o.o..x...', hat: 'xoxoxoxoxoxoxoxo' },
    swing: 0.08,
    progressions: FUNK,
  },
  {
    name: 'soul',
    words: ['soul', 'r&b', 'rnb', 'neo soul', 'motown', 'gospel', 'quiet storm'],
    tempo: [70, 100],
    modes: ['major', 'minor'],
    intensity: 0.5,
    harmony: [
      { voice: 'epiano', comp: 'stabs' },
      { voice: 'organ', comp: 'sustain' },
    ],
    bass: 'round',
    bassNotesPerBar: 4,
    lead: 'bell',
    drums: { kick: 'x.....x.x.......', snare: '....x.......x...', hat: 'x.x.x.x.x.x.x.x.' },
    swing: 0.15,
    progressions: SOUL,
  },
  {
    name: 'electronic',
    words: [
      'electronic',
      'electronica',
      'electro',
      'edm',
      'house',
      'techno',
      'trance',
      'dance',
      'club',
      'dubstep',
      'synthwave',
      'rave',
      'idm',
      'disco',
      'drum and bass',
      'drum n bass',
      'dnb',
      'breakbeat',
    ],
    tempo: [118, 128],
    modes: ['minor', 'major'],
    intensity: 0.7,
    harmony: [{ voice: 'pad', comp: 'sustain' }],
    bass: 'synth',
    bassNotesPerBar: 8,
    lead: 'saw',
    drums: { kick: 'x...x...x...x...', snare: '....x.......x...', hat: '..x...x...x...x.' },
    swing: 0,
    progressions: POP,
  },
  {
    name: 'hiphop',
    words: ['hip hop', 'hiphop', 'rap', 'rapper', 'trap', 'boom bap', 'drill', 'grime'],
    tempo: [84, 96],
    modes: ['minor'],
    intensity: 0.6,
    harmony: [{ voice: 'epiano', comp: 'stabs' }],
    bass: 'sub',
    bassNotesPerBar: 2,
    lead: 'bell',
    drums: { kick: 'x.....x...x.....', snare: '....x.......x...', hat: 'x.x.x.x.x.x.x.x.' },
    swing: 0.2,
    progressions: JAZZ,
  },
  {
    name: 'lofi',
    words: ['lofi', 'lo fi', 'chillhop', 'jazzhop', 'jazz hop', 'study beats', 'beats to study'],
    tempo: [70, 90],
    modes: ['major', 'minor'],
    intensity: 0.3,
    harmony: [{ voice: 'epiano', comp: 'stabs' }],
    bass: 'round',
    bassNotesPerBar: 2,
    lead: 'piano',
    drums: { kick: 'x......x.x......', snare: '....x.......x...', hat: 'x.x.x.x.x.x.x.xo' },
    swing: 0.25,
    progressions: JAZZ,
  },
  {
    name: 'ambient',
    words: ['ambient', 'drone', 'meditation', 'new age', 'soundscape', 'atmospheric', 'spa', 'space music'],
    tempo: [60, 84],
    modes: ['major', 'minor'],
    intensity: 0.15,
    harmony: [{ voice: 'pad', comp: 'sustain' }],
    bass: 'round',
    bassNotesPerBar: 1,
    lead: 'bell',
    drums: null,
    swing: 0,
    progressions: POP,
  },
  {
    name: 'cinematic',
    words: ['cinematic', 'epic', 'film score', 'film music', 'soundtrack', 'trailer', 'score', 'movie'],
    tempo: [70, 110],
    modes: ['minor', 'major'],
    intensity: 0.6,
    harmony: [
      { voice: 'strings', comp: 'sustain' },
      { voice: 'piano', comp: 'arpeggio' },
    ],
    bass: 'round',
    bassNotesPerBar: 2,
    lead: 'brass',
    drums: { kick: 'x.......x.x.....', snare: '........x.......', hat: '................', perc: '....x.......x...' },
    swing: 0,
    progressions: CINEMATIC,
  },
  {
    name: 'classical',
    words: ['classical', 'orchestra', 'orchestral', 'baroque', 'symphony', 'symphonic', 'chamber', 'string quartet', 'concerto', 'sonata', 'waltz', 'hymn'],
    tempo: [70, 100],
    modes: ['major', 'minor'],
    intensity: 0.35,
    harmony: [{ voice: 'strings', comp: 'sustain' }],
    bass: 'round',
    bassNotesPerBar: 2,
    lead: 'flute',
    drums: null,
    swing: 0,
    progressions: POP,
  },
  {
    name: 'ballad',
    words: ['ballad', 'lullaby', 'power ballad', 'love song', 'nocturne'],
    tempo: [66, 92],
    modes: ['major', 'minor'],
    intensity: 0.3,
    harmony: [{ voice: 'piano', comp: 'arpeggio' }],
    bass: 'round',
    bassNotesPerBar: 2,
    lead: 'piano',
    drums: null,
    swing: 0,
    progressions: POP,
  },
  {
    name: 'folk',
    words: ['folk', 'singer songwriter', 'americana', 'bluegrass', 'celtic', 'irish', 'campfire', 'indie folk'],
    tempo: [88, 116],
    modes: ['major'],
    intensity: 0.45,
    harmony: [{ voice: 'pluck', comp: 'strum' }],
    bass: 'round',
    bassNotesPerBar: 2,
    lead: 'pluck',
    drums: { kick: 'x.......x.......', snare: '....o.......o...', hat: '..o...o...o...o.' },
    swing: 0.1,
    progressions: POP,
  },
  {
    name: 'country',
    words: ['country', 'western', 'honky tonk', 'cowboy', 'nashville', 'outlaw country'],
    tempo: [90, 130],
    modes: ['major'],
    intensity: 0.55,
    harmony: [
      { voice: 'pluck', comp: 'strum' },
      { voice: 'piano', comp: 'stabs' },
    ],
    bass: 'picked',
    bassNotesPerBar: 2,
    lead: 'guitar',
    drums: { kick: 'x.......x.......', snare: '....x.......x...', hat: 'xoxoxoxoxoxoxoxo' },
    swing: 0.05,
    progressions: REGGAE,
  },
  {
    name: 'latin',
    words: ['latin', 'bossa', 'bossa nova', 'salsa', 'samba', 'cumbia', 'reggaeton', 'tango', 'flamenco', 'mambo', 'cha cha', 'rumba', 'merengue', 'bachata'],
    tempo: [90, 126],
    modes: ['minor', 'major'],
    intensity: 0.6,
    harmony: [
      { voice: 'pluck', comp: 'bossa' },
      { voice: 'brass', comp: 'stabs' },
    ],
    bass: 'round',
    bassNotesPerBar: 4,
    lead: 'flute',
    drums: { kick: 'x..x....x..x....', snare: '................', hat: 'x.xxx.xxx.xxx.xx', perc: 'x..x..x...x.x...' },
    swing: 0,
    progressions: LATIN,
  },
  {
    name: 'reggae',
    words: ['reggae', 'dub', 'ska', 'dancehall', 'rocksteady', 'roots'],
    tempo: [70, 90],
    modes: ['major', 'minor'],
    intensity: 0.45,
    harmony: [
      { voice: 'guitar', comp: 'skank' },
      { voice: 'organ', comp: 'skank' },
    ],
    bass: 'round',
    bassNotesPerBar: 4,
    lead: 'bell',
    drums: { kick: '........x.......', snare: '................', hat: 'x.x.x.x.x.x.x.x.', perc: '........x.......' },
    swing: 0.1,
    progressions: REGGAE,
  },
];
