import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LyricPlanSection, parseLyrics, promptWords, RHYMES, syllableCount, syllables, writeLyrics } from '../../src/audio/synthesis/lyrics.js';
import { pronounce } from '../../src/audio/synthesis/singing.js';

const FORM: LyricPlanSection[] = [
  { kind: 'verse', lines: 4, syllables: 9 },
  { kind: 'chorus', lines: 4, syllables: 8 },
  { kind: 'verse', lines: 4, syllables: 9 },
  { kind: 'chorus', lines: 4, syllables: 8 },
  { kind: 'bridge', lines: 2, syllables: 7 },
];

/** The tokens a reader would call words: whitespace-separated, with a letter or digit. */
const tokensOf = (text: string) =>
  text
    .split(/\r\n|\r|\n/)
    .map((line) => line.replace(/^\s*\[[^\]]*\]/, ''))
    .flatMap((line) => line.split(/\s+/))
    .filter((token) => /[\p{L}\p{N}]/u.test(token));

describe('lyrics parser', () => {
  it('reads sections by their tags, lines and words', () => {
    const sections = parseLyrics(
      'Intro words here\n[Verse 1]\nCity lights are calling,\n\nI keep on driving\n[Chorus] Oh-oh, tonight!\n[Bridge]\n[Outro]\nGoodbye',
    );
    expect(sections.map((s) => [s.tag, s.kind, s.lines.map((l) => l.text)])).toEqual([
      [null, 'verse', ['Intro words here']],
      ['Verse 1', 'verse', ['City lights are calling,', 'I keep on driving']],
      ['Chorus', 'chorus', ['Oh-oh, tonight!']],
      ['Outro', 'outro', ['Goodbye']],
    ]);
    expect(sections[1]!.lines[0]!.words.map((w) => w.text)).toEqual(['City', 'lights', 'are', 'calling,']);
  });

  it('never throws and keeps every word, in order (property)', () => {
    const alphabet = fc.constantFrom(..."abc xyz[]()\n\r\t,.!?-'’é语0".split(''), 'Verse', '[Chorus]', '\n[Verse 2]\n', 'the ', 'fire ');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(alphabet).map((parts) => parts.join('')),
        ),
        (text) => {
          const sections = parseLyrics(text);
          const words = sections.flatMap((s) => s.lines.flatMap((l) => l.words.map((w) => w.text)));
          expect(words).toEqual(tokensOf(text));
          for (const section of sections) for (const line of section.lines) for (const word of line.words) expect(word.syllables.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('syllables', () => {
  it('splits everyday English words as a singer would', () => {
    const cases: Record<string, string> = {
      morning: 'mor-ning',
      table: 'ta-ble',
      love: 'love',
      loves: 'loves',
      moved: 'moved',
      wanted: 'wan-ted',
      piano: 'pi-a-no',
      nation: 'na-tion',
      singer: 'sing-er',
      rocket: 'rock-et',
      happy: 'hap-py',
      yesterday: 'yes-ter-day',
      beautiful: 'beau-ti-ful',
      music: 'mu-sic',
      afternoon: 'af-ter-noon',
      "don't": 'dont',
    };
    for (const [word, split] of Object.entries(cases)) expect(syllables(word).join('-'), word).toBe(split);
    expect(syllables('hmm')).toEqual(['hmm']);
    expect(syllables('你好')).toEqual(['你', '好']);
  });

  it('joins back into the word’s letters (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{1,14}$/), (word) => {
        expect(syllables(word).join('')).toBe(word);
        expect(pronounce(word)).toHaveLength(syllables(word).length);
      }),
    );
  });

  it('gives each syllable a vowel from its spelling', () => {
    expect(pronounce('time')).toEqual([{ onset: ['t'], nucleus: ['a', 'i'], coda: ['m'] }]);
    expect(pronounce('sea')).toEqual([{ onset: ['s'], nucleus: ['i'], coda: [] }]);
    expect(pronounce('night')).toEqual([{ onset: ['n'], nucleus: ['a', 'i'], coda: ['t'] }]);
    expect(pronounce('window').map((s) => s.nucleus)).toEqual([['ih'], ['o', 'oo']]);
    expect(pronounce('now')[0]!.nucleus).toEqual(['a', 'oo']);
    expect(pronounce('snow')[0]!.nucleus).toEqual(['o', 'oo']);
    expect(pronounce('love')[0]!.nucleus).toEqual(['uh']);
  });
});

describe('lyric writer', () => {
  const prompt = 'a lonely night drive through neon city lights after the rain';

  it('is deterministic per seed and differs between seeds', () => {
    expect(writeLyrics(prompt, 'seed-a', FORM)).toBe(writeLyrics(prompt, 'seed-a', FORM));
    expect(writeLyrics(prompt, 'seed-a', FORM)).not.toBe(writeLyrics(prompt, 'seed-b', FORM));
  });

  for (const [name, words] of [
    ['a city prompt', prompt],
    ['a love prompt', 'a sweet love song about summer by the sea'],
    ['an empty prompt', ''],
    ['long words', 'extraordinary electromagnetic melancholy'],
  ] as const) {
    it(`writes tagged sections, steady lines and rhyming couplets (${name})`, () => {
      for (const seed of ['s1', 's2', 's3']) {
        const text = writeLyrics(words, seed, FORM);
        const sections = parseLyrics(text);
        expect(sections.map((s) => s.tag)).toEqual(['Verse', 'Chorus', 'Verse', 'Chorus', 'Bridge']);
        // Every chorus sings the same words; the verses differ.
        expect(sections[1]!.lines.map((l) => l.text)).toEqual(sections[3]!.lines.map((l) => l.text));
        expect(sections[0]!.lines.map((l) => l.text)).not.toEqual(sections[2]!.lines.map((l) => l.text));
        for (const [s, section] of sections.entries()) {
          expect(section.lines).toHaveLength(FORM[s]!.lines);
          for (const line of section.lines) expect(Math.abs(syllableCount(line.text) - FORM[s]!.syllables), `${line.text}`).toBeLessThanOrEqual(2);
          for (let i = 0; i + 1 < section.lines.length; i += 2) {
            const a = section.lines[i]!.text.toLowerCase();
            const b = section.lines[i + 1]!.text.toLowerCase();
            const group = RHYMES.find((g) => g.some((end) => a.endsWith(end)));
            expect(group, a).toBeDefined();
            expect(
              group!.some((end) => b.endsWith(end)),
              `${a} / ${b}`,
            ).toBe(true);
            expect(a.split(' ').at(-1)).not.toBe(b.split(' ').at(-1));
          }
        }
        if (words) {
          const own = promptWords(words);
          const used = own.filter((word) => text.toLowerCase().includes(word));
          expect(used.length, `${own} in ${text}`).toBeGreaterThanOrEqual(Math.min(own.length, 3));
        }
      }
    });
  }
});
