import { hashString, pick, type Random, randomFor } from '../prng.js';

/**
 * Lyrics as text: reading them (section tags, lines, words, syllables) and
 * writing them from a prompt. The writer is a handful of line templates, a
 * rhyme table and the prompt's own words, chosen by the seed. It is not a
 * language model and makes no claim to meaning beyond that.
 */

export type LyricKind = 'intro' | 'verse' | 'prechorus' | 'chorus' | 'bridge' | 'outro' | 'section';

export interface LyricWord {
  /** The word as written (punctuation kept), for display and timestamps. */
  text: string;
  /** Its spoken syllables, as spellings; at least one. */
  syllables: string[];
}

export interface LyricLine {
  text: string;
  words: LyricWord[];
}

export interface LyricSection {
  /** The tag as written ("Verse 2"), or null for lines before any tag. */
  tag: string | null;
  kind: LyricKind;
  lines: LyricLine[];
}

const TAG_LINE = /^\s*\[([^\]]*)\]\s*(.*)$/;
const HAS_LETTER = /[\p{L}\p{N}]/u;

export function kindOfTag(tag: string): LyricKind {
  const t = tag.toLowerCase();
  if (/pre[\s-]*chorus/.test(t)) return 'prechorus';
  if (/chorus|hook|refrain/.test(t)) return 'chorus';
  if (/verse/.test(t)) return 'verse';
  if (/bridge|break/.test(t)) return 'bridge';
  if (/intro/.test(t)) return 'intro';
  if (/outro|end|coda/.test(t)) return 'outro';
  return 'section';
}

/** A line's words: every whitespace-separated token with a letter or digit in it, as written. */
export function lineWords(line: string): LyricWord[] {
  return line
    .split(/\s+/)
    .filter((token) => HAS_LETTER.test(token))
    .map((text) => ({ text, syllables: syllables(text) }));
}

/**
 * Sections and lines of lyrics. A line that is only `[Tag]` opens a section; text after a tag on
 * the same line is its first line. Blank lines and lines without words are dropped; every word of
 * the other lines is kept, in order.
 */
export function parseLyrics(text: string): LyricSection[] {
  const sections: LyricSection[] = [];
  let current: LyricSection | null = null;
  for (const raw of text.split(/\r\n|\r|\n/)) {
    let line = raw;
    const tagged = TAG_LINE.exec(line);
    if (tagged) {
      const tag = tagged[1]!.trim();
      current = { tag, kind: kindOfTag(tag), lines: [] };
      sections.push(current);
      line = tagged[2]!;
    }
    const words = lineWords(line);
    if (words.length === 0) continue;
    if (!current) {
      current = { tag: null, kind: 'verse', lines: [] };
      sections.push(current);
    }
    current.lines.push({ text: line.trim(), words });
  }
  return sections.filter((section) => section.lines.length > 0);
}

// ---------------------------------------------------------------------------------------------
// Syllables: an English spelling heuristic (vowel groups, a silent final e, consonants between
// groups split so that a single consonant and common blends start the next syllable). It is right
// for most everyday words and off by one on some (e.g. "create"); nothing here needs more.

const VOWELS = new Set(['a', 'e', 'i', 'o', 'u']);
/** Consonant pairs that begin a syllable together ("ta-ble", "se-cret"). */
const BLENDS = new Set([
  'bl',
  'br',
  'cl',
  'cr',
  'dr',
  'fl',
  'fr',
  'gl',
  'gr',
  'pl',
  'pr',
  'sc',
  'sk',
  'sl',
  'sm',
  'sn',
  'sp',
  'st',
  'sw',
  'tr',
  'tw',
  'th',
  'sh',
  'ch',
  'ph',
  'wh',
  'wr',
  'kn',
  'qu',
]);
/** Pairs that end a syllable together ("rock-et", "sing-er"). */
const CLOSERS = new Set(['ck', 'ng', 'nk', 'tch']);
/** Vowel pairs sung as two syllables ("li-on", "pi-a-no", "vi-de-o"). */
const HIATUS = new Set(['ia', 'io', 'eo', 'ua', 'uo', 'iu', 'ea$']);
const CJK = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/u;

const isVowelAt = (letters: string, i: number): boolean => {
  const c = letters[i]!;
  if (VOWELS.has(c)) return true;
  // y is a vowel after a consonant ("my", "happy", "rhythm"), a consonant at the start or before a vowel ("you", "beyond").
  return c === 'y' && i > 0 && !VOWELS.has(letters[i - 1]!) && !(i + 1 < letters.length && VOWELS.has(letters[i + 1]!));
};

/** The letters a-z of a word, accents removed ("Café!" → "cafe"). */
export const lettersOf = (word: string): string =>
  word
    .normalize('NFD')
    .toLowerCase()
    .replace(/[^a-z]/g, '');

/** Runs of vowel letters as [start, end) pairs, with hiatus pairs split in two. */
function vowelGroups(letters: string): [number, number][] {
  const groups: [number, number][] = [];
  for (let i = 0; i < letters.length; ) {
    if (!isVowelAt(letters, i)) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < letters.length && isVowelAt(letters, j)) j++;
    // Split a hiatus pair, except after t/s/c/x ("-tion", "-cious" are one syllable) or q/g ("qua").
    let start = i;
    for (let k = i; k + 1 < j; k++) {
      const pair = letters.slice(k, k + 2);
      const before = letters[k - 1] ?? '';
      const atEnd = k + 2 === letters.length;
      if ((HIATUS.has(pair) || (atEnd && HIATUS.has(`${pair}$`))) && !'tscxqg'.includes(before)) {
        groups.push([start, k + 1]);
        start = k + 1;
      }
    }
    groups.push([start, j]);
    i = j;
  }
  return groups;
}

/** Drops a final group that is a silent e ("love", "time", "loves", "moved"), keeping "-le" ("table") and "-ted"/"-ded", "-ses" syllables. */
function withoutSilentE(letters: string, groups: [number, number][]): [number, number][] {
  if (groups.length < 2) return groups;
  const [start, end] = groups[groups.length - 1]!;
  if (end - start !== 1 || letters[start] !== 'e') return groups;
  const tail = letters.slice(start);
  const before = letters[start - 1] ?? '';
  const before2 = letters[start - 2] ?? '';
  const silent =
    (tail === 'e' && !(before === 'l' && !VOWELS.has(before2))) ||
    (tail === 'es' && !'sxzgc'.includes(before) && !(before === 'h' && 'sc'.includes(before2))) ||
    (tail === 'ed' && !'td'.includes(before));
  return silent ? groups.slice(0, -1) : groups;
}

/**
 * The syllables of a word, as spellings that join back into its letters ("morning" → "mor", "ning").
 * A word without Latin vowels is one syllable ("hmm", "42"); CJK text is one syllable per character.
 */
export function syllables(word: string): string[] {
  if (CJK.test(word)) {
    const chars = [...word].filter((c) => HAS_LETTER.test(c));
    return chars.length > 0 ? chars : [word];
  }
  const letters = lettersOf(word);
  const groups = withoutSilentE(letters, vowelGroups(letters));
  if (groups.length <= 1) return [letters || word];
  const cuts: number[] = [];
  for (let g = 0; g + 1 < groups.length; g++) {
    const from = groups[g]![1];
    const to = groups[g + 1]![0];
    const cluster = letters.slice(from, to);
    let cut: number;
    if (cluster.length <= 1) cut = from;
    else if (CLOSERS.has(cluster.slice(0, 2)) || CLOSERS.has(cluster.slice(0, 3))) cut = from + (cluster.startsWith('tch') ? 3 : 2);
    else if (cluster.length === 2 && BLENDS.has(cluster) && cluster !== 'st' && cluster !== 'sk' && cluster !== 'sp') cut = from;
    else if (BLENDS.has(cluster.slice(-2)) && cluster.length >= 3) cut = to - 2;
    else cut = from + 1;
    cuts.push(Math.max(cut, groups[g]![0] + 1));
  }
  const parts: string[] = [];
  let at = 0;
  for (const cut of cuts) {
    parts.push(letters.slice(at, cut));
    at = cut;
  }
  parts.push(letters.slice(at));
  return parts.filter(Boolean);
}

export const syllableCount = (text: string): number => lineWords(text).reduce((n, word) => n + word.syllables.length, 0);

// ---------------------------------------------------------------------------------------------
// The writer.

/** Rhyming line ends, by sound. Every word of a group rhymes with every other. */
export const RHYMES: readonly (readonly string[])[] = [
  ['light', 'night', 'flight', 'sight', 'starlight', 'satellite'],
  ['day', 'way', 'bay', 'highway', 'yesterday', 'holiday'],
  ['fire', 'wire', 'desire', 'choir', 'empire'],
  ['rain', 'train', 'lane', 'chain', 'window pane', 'hurricane'],
  ['heart', 'start', 'part', 'art', 'counterpart'],
  ['sea', 'tree', 'key', 'melody', 'memory', 'symphony'],
  ['snow', 'glow', 'radio', 'undertow', 'afterglow', 'show'],
  ['line', 'sign', 'wine', 'shine', 'skyline', 'design'],
  ['stone', 'phone', 'zone', 'unknown', 'throne', 'saxophone'],
  ['moon', 'tune', 'june', 'afternoon', 'balloon', 'monsoon'],
  ['stars', 'cars', 'guitars', 'scars', 'boulevards'],
  ['sound', 'ground', 'underground', 'merry-go-round', 'playground'],
  ['flame', 'name', 'game', 'frame', 'picture frame'],
  ['tide', 'side', 'ride', 'pride', 'countryside', 'riverside'],
  ['gold', 'cold', 'marigold', 'story told'],
  ['sun', 'one', 'run', 'everyone', 'setting sun'],
  ['dream', 'stream', 'gleam', 'moonbeam', 'daydream'],
  ['air', 'prayer', 'stair', 'everywhere', 'chair'],
];

interface Theme {
  keys: readonly string[];
  /** Images the lines may use besides the prompt's words. */
  images: readonly string[];
  /** Rhyme groups (indexes into RHYMES) that suit the theme, tried first. */
  rhymes: readonly number[];
}

const THEMES: readonly Theme[] = [
  { keys: ['love', 'heart', 'kiss', 'romance', 'lover', 'baby', 'darling'], images: ['heart', 'embrace', 'promise', 'whisper'], rhymes: [4, 2, 5, 9] },
  { keys: ['night', 'city', 'neon', 'drive', 'driving', 'street', 'lights'], images: ['neon', 'city', 'midnight', 'headlights'], rhymes: [0, 10, 7, 1] },
  { keys: ['sea', 'ocean', 'wave', 'beach', 'shore', 'sail'], images: ['ocean', 'harbour', 'current', 'salt'], rhymes: [5, 13, 6, 1] },
  { keys: ['summer', 'sun', 'sunny', 'holiday', 'beach'], images: ['summer', 'sunlight', 'laughter', 'breeze'], rhymes: [15, 1, 9, 0] },
  { keys: ['rain', 'storm', 'grey', 'thunder', 'cloud'], images: ['thunder', 'window', 'puddle', 'umbrella'], rhymes: [3, 11, 6, 1] },
  { keys: ['road', 'journey', 'travel', 'highway', 'wander', 'home'], images: ['highway', 'compass', 'journey', 'suitcase'], rhymes: [1, 14, 8, 13] },
  { keys: ['dream', 'sleep', 'space', 'star', 'galaxy', 'cosmic'], images: ['starlight', 'silence', 'comet', 'orbit'], rhymes: [16, 10, 9, 0] },
  { keys: ['party', 'dance', 'club', 'groove', 'funk', 'disco'], images: ['rhythm', 'dancefloor', 'spotlight', 'bassline'], rhymes: [11, 0, 2, 10] },
  { keys: ['sad', 'lonely', 'alone', 'goodbye', 'tears', 'blue'], images: ['shadow', 'letter', 'echo', 'silence'], rhymes: [8, 3, 6, 17] },
  { keys: ['fire', 'rock', 'wild', 'rebel', 'fight', 'power'], images: ['thunder', 'engine', 'wildfire', 'anthem'], rhymes: [2, 12, 4, 11] },
];
const DEFAULT_THEME: Theme = { keys: [], images: ['morning', 'river', 'lantern', 'story'], rhymes: [0, 1, 16, 17] };

/** Words of a prompt that carry no image of their own. */
const STOPWORDS = new Set(
  (
    'a an and the of to in on at for with about from into over under by as is are was were be been being it its this that these those ' +
    'i me my we our you your he she they them his her their song songs music track tune style genre vocal vocals vocalist sung sing singing ' +
    'lyrics lyric beat beats bpm tempo feel feeling like some very really just make write create give want please mood vibe vibes type kind ' +
    'male female man woman voice instrumental slow fast upbeat chill soft hard loud quiet big small new old good great nice all more most ' +
    'short long little tiny quick brief simple ' +
    'not no but or so if then than also who what when where why how which there here have has had do does did can could would should will ' +
    'through across beneath around under while until during after before without within between against toward towards'
  ).split(' '),
);

/** Line shapes: X is an image (the prompt's words first), R the rhyming end. */
const TEMPLATES: readonly string[] = [
  'X and R',
  'oh the X, oh the R',
  'X in the R',
  'follow X to the R',
  'hold the X, find the R',
  'we are chasing X through the R',
  'I can feel the X in the R',
  'every X is calling from the R',
  'I keep my X beside the R',
  'running with the X into the R',
  'all I need is X and the R',
  'tell me of the X and the R',
  'carry me like X across the R',
  'find me where the X meets the R',
  'never let the X forget the R',
  'dancing with the X beneath the R',
  'say my name like X in the R',
  'we were young and X was our R',
  'you and I and X and the R',
  'in the X we found the R',
];
const FILLERS = ['oh', 'so', 'now', 'yeah'];

export interface LyricPlanSection {
  kind: 'verse' | 'prechorus' | 'chorus' | 'bridge';
  /** How many lines (one per sung phrase). */
  lines: number;
  /** Syllables each line aims at. */
  syllables: number;
}

/** The prompt's image words in the order given, without repeats; "neon-lit" gives "neon", "lit". */
export function promptWords(prompt: string): string[] {
  const words = prompt
    .toLowerCase()
    .split(/[^a-z']+/)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter((w) => w.length >= 3 && !STOPWORDS.has(w));
  return [...new Set(words)];
}

function themeOf(words: readonly string[]): Theme {
  let best: Theme = DEFAULT_THEME;
  let bestHits = 0;
  for (const theme of THEMES) {
    const hits = words.filter((w) => theme.keys.includes(w)).length;
    if (hits > bestHits) {
      best = theme;
      bestHits = hits;
    }
  }
  return best;
}

/** The group whose last word sounds like the end of `word` (exact listing), if any. */
export function rhymeGroupOf(word: string): number {
  const lower = word.toLowerCase();
  return RHYMES.findIndex((group) => group.some((entry) => entry === lower || entry.endsWith(` ${lower}`)));
}

/** A line from a template, padded with fillers towards `target` syllables. */
function buildLine(template: string, image: string, end: string, target: number): string {
  const core = template.replace('X', image).replace('R', end);
  let line = core;
  let count = syllableCount(line);
  for (let f = 0; count < target && f < 3; f++) {
    const filler = FILLERS[(hashString(core) + f) % FILLERS.length]!;
    line = `${filler}, ${line}`;
    count++;
  }
  return line.charAt(0).toUpperCase() + line.slice(1);
}

/** The template whose line lands nearest `target` syllables (ties: the seed's pick). */
function chooseTemplate(random: Random, image: string, end: string, target: number, used: Set<string>): string {
  const scored = TEMPLATES.map((template) => {
    const count = syllableCount(template.replace('X', image).replace('R', end));
    // Short lines are padded with fillers (at most three); long ones cannot be shortened.
    const gap = count > target ? (count - target) * 2 : count < target - 3 ? 9 : (target - count) * 0.75;
    // A shape already sung is avoided while another fits nearly as well.
    return { template, gap: gap + (used.has(template) ? 1.6 : 0) };
  });
  const least = Math.min(...scored.map((s) => s.gap));
  const chosen = pick(
    random,
    scored.filter((s) => s.gap <= least + 0.5).map((s) => s.template),
  );
  used.add(chosen);
  return chosen;
}

/**
 * Lyrics for the sung sections of a song, tagged `[Verse]`, `[Chorus]` …: couplets whose ends rhyme
 * (a group of `RHYMES`), lines aimed at each section's syllable count, images taken from the prompt's
 * own words first and then from its theme. Every chorus sings the same words; verses differ.
 */
export function writeLyrics(prompt: string, seed: string, sections: readonly LyricPlanSection[]): string {
  const own = promptWords(prompt);
  const theme = themeOf(own);
  const images = [...own, ...theme.images.filter((image) => !own.includes(image))];
  // Prompt words that are line ends in the table steer the rhymes to them.
  const ownRhymes = own.map(rhymeGroupOf).filter((g) => g >= 0);
  const rhymeOrder = [...new Set([...ownRhymes, ...theme.rhymes, ...RHYMES.keys()])];
  let nextImage = 0;
  let nextRhyme = 0;
  /**
   * The next image in turn that the line can hold: not the line's end (that would sing the same
   * word twice), and short enough that the shortest shape, "X and R", stays within the line's
   * syllables (a twelve-syllable word cannot be sung in a nine-syllable line). If none fits, the
   * next one anyway.
   */
  const nextImageFor = (group: readonly string[], end: string, target: number): string => {
    for (let tries = 0; tries < images.length; tries++) {
      const image = images[nextImage++ % images.length]!;
      if (group.includes(image) && images.length > 1) continue;
      if (syllableCount(image) + syllableCount(end) + 1 <= target) return image;
    }
    return images[nextImage++ % images.length]!;
  };
  const written = new Map<string, string[]>();
  const used = new Set<string>();
  const out: string[] = [];
  sections.forEach((section, index) => {
    const label = section.kind === 'prechorus' ? 'Pre-Chorus' : section.kind.charAt(0).toUpperCase() + section.kind.slice(1);
    const key = `${section.kind}:${section.lines}:${section.syllables}`;
    let lines = section.kind === 'chorus' ? written.get(key) : undefined;
    if (!lines) {
      const random = randomFor(seed, 'lyrics', section.kind, index);
      lines = [];
      for (let i = 0; i < section.lines; i += 2) {
        const group = RHYMES[rhymeOrder[nextRhyme++ % rhymeOrder.length]!]!;
        // A prompt word that ends lines of this group is the first couplet end.
        const ownEnd = own.find((word) => group.includes(word));
        const ends = [...group].sort((a, b) => hashString(`${seed}:${a}`) - hashString(`${seed}:${b}`));
        const first = ownEnd ?? ends[0]!;
        const second = ends.find((end) => end !== first)!;
        for (const [k, end] of [first, second].entries()) {
          if (i + k >= section.lines) break;
          const image = nextImageFor(group, end, section.syllables);
          lines.push(buildLine(chooseTemplate(random, image, end, section.syllables, used), image, end, section.syllables));
        }
      }
      if (section.kind === 'chorus') written.set(key, lines);
    }
    out.push(`[${label}]`, ...lines, '');
  });
  return out.join('\n').trim();
}

// ---------------------------------------------------------------------------------------------
// Whole lyric sheets (the lyrics route): a song's words with a title, no music attached.

/** A sheet of lyrics as KIE's lyrics route answers one: the tagged text and a title for it. */
export interface LyricSheet {
  text: string;
  title: string;
}

const VERSE: LyricPlanSection = { kind: 'verse', lines: 4, syllables: 9 };
const PRE_CHORUS: LyricPlanSection = { kind: 'prechorus', lines: 2, syllables: 8 };
const CHORUS: LyricPlanSection = { kind: 'chorus', lines: 4, syllables: 8 };
const BRIDGE: LyricPlanSection = { kind: 'bridge', lines: 2, syllables: 7 };

/**
 * The forms sheets are written in, one per variation: the plain verse–chorus song, and the same
 * with a pre-chorus before each chorus. Both end on the chorus after a bridge, as most songs do.
 */
export const SHEET_FORMS: readonly (readonly LyricPlanSection[])[] = [
  [VERSE, CHORUS, VERSE, CHORUS, BRIDGE, CHORUS],
  [VERSE, PRE_CHORUS, CHORUS, VERSE, PRE_CHORUS, CHORUS, BRIDGE, CHORUS],
];

/** Words a title keeps in lower case unless they open or close it ("Fire in the Night"). */
const MINOR_WORDS = new Set(['a', 'an', 'the', 'and', 'or', 'of', 'in', 'on', 'at', 'to', 'by', 'for', 'from', 'into', 'like', 'with']);
/** Longest title, in words; a longer hook line is cut to its last `TITLE_TAIL` words, where the rhyme is. */
const TITLE_WORDS = 7;
const TITLE_TAIL = 4;

function titleCase(words: readonly string[]): string {
  return words
    .map((word, i) => {
      const minor = i > 0 && i < words.length - 1 && MINOR_WORDS.has(lettersOf(word));
      return minor ? word.toLowerCase() : word.replace(/\p{L}/u, (first) => first.toUpperCase());
    })
    .join(' ');
}

/**
 * A sheet's title: its hook, the first line of the first chorus, without the filler the writer
 * padded it with ("oh, …") and cut to its last words when long; a sheet without a chorus is named
 * after its first line. Punctuation inside the line stays; at its ends it goes.
 */
export function titleOf(text: string): string {
  const sections = parseLyrics(text);
  const hook = (sections.find((section) => section.kind === 'chorus') ?? sections[0])?.lines[0];
  if (!hook) return '';
  let words = hook.words.map((word) => word.text);
  while (words.length > 1 && FILLERS.includes(lettersOf(words[0]!))) words = words.slice(1);
  if (words.length > TITLE_WORDS) words = words.slice(-TITLE_TAIL);
  return titleCase(words).replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
}

/**
 * A lyric sheet for a prompt: `writeLyrics` in one of `SHEET_FORMS`, titled by its hook. Same
 * prompt, seed and form, same sheet.
 */
export function writeLyricSheet(prompt: string, seed: string, form: readonly LyricPlanSection[] = SHEET_FORMS[0]!): LyricSheet {
  const text = writeLyrics(prompt, seed, form);
  return { text, title: titleOf(text) };
}
