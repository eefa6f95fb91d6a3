import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLyrics, promptWords, RHYMES, SHEET_FORMS, syllableCount, titleOf, writeLyricSheet } from '../../src/audio/synthesis/lyrics.js';

/**
 * The lyrics route's writer: whole sheets in the forms of SHEET_FORMS, titled by their hook.
 * What it promises (docs/engines.md "Lyrics"): tagged sections in the form's order, lines near
 * each section's syllable count, rhyming couplets, the prompt's own words, one sheet per seed.
 */

const LABELS: Record<string, string> = { verse: 'Verse', prechorus: 'Pre-Chorus', chorus: 'Chorus', bridge: 'Bridge' };
const promptArb = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc
    .array(
      fc.constantFrom(
        'love',
        'night',
        'city',
        'rain',
        'coffee',
        'morning',
        'ocean',
        'road',
        'the',
        'a',
        'song',
        'about',
        'neon',
        '咖啡',
        '!',
        '42',
        'supercalifragilisticexpialidocious',
        'electroencephalography',
      ),
      {
        maxLength: 30,
      },
    )
    .map((words) => words.join(' ')),
);

/** The rhyme group a line ends in, if any. */
const groupOf = (line: string) =>
  RHYMES.findIndex((group) =>
    group.some((end) =>
      line
        .toLowerCase()
        .replace(/[^a-z -]/g, '')
        .endsWith(end),
    ),
  );

describe('lyric sheets', () => {
  it('follow their form: tags in order, line counts, syllables near the aim, rhyming couplets (property)', () => {
    fc.assert(
      fc.property(promptArb, fc.string({ minLength: 1, maxLength: 16 }), fc.constantFrom(0, 1), (prompt, seed, formIndex) => {
        const form = SHEET_FORMS[formIndex]!;
        const sheet = writeLyricSheet(prompt, seed, form);
        const sections = parseLyrics(sheet.text);
        expect(sections.map((section) => section.tag)).toEqual(form.map((section) => LABELS[section.kind]));
        for (const [s, section] of sections.entries()) {
          expect(section.lines).toHaveLength(form[s]!.lines);
          for (const line of section.lines) expect(Math.abs(syllableCount(line.text) - form[s]!.syllables), line.text).toBeLessThanOrEqual(2);
          for (let i = 0; i + 1 < section.lines.length; i += 2) {
            const first = groupOf(section.lines[i]!.text);
            expect(first, section.lines[i]!.text).toBeGreaterThanOrEqual(0);
            expect(groupOf(section.lines[i + 1]!.text), `${section.lines[i]!.text} / ${section.lines[i + 1]!.text}`).toBe(first);
          }
        }
        // Every chorus is the same chorus.
        const choruses = sections.filter((section) => section.kind === 'chorus').map((section) => section.lines.map((line) => line.text));
        for (const chorus of choruses) expect(chorus).toEqual(choruses[0]);
        expect(sheet.title).toBe(titleOf(sheet.text));
        expect(sheet.title.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });

  it('are deterministic per seed and differ between seeds', () => {
    const prompt = 'A short song about morning coffee';
    for (const form of SHEET_FORMS) {
      expect(writeLyricSheet(prompt, 'seed-1', form)).toEqual(writeLyricSheet(prompt, 'seed-1', form));
      expect(writeLyricSheet(prompt, 'seed-1', form).text).not.toBe(writeLyricSheet(prompt, 'seed-2', form).text);
    }
    expect(writeLyricSheet(prompt, 'seed-1', SHEET_FORMS[0]).text).not.toBe(writeLyricSheet(prompt, 'seed-1', SHEET_FORMS[1]).text);
  });

  it('sing the prompt’s own words, and its theme’s images where it gives few', () => {
    const coffee = writeLyricSheet('A short song about morning coffee', 's', SHEET_FORMS[0]).text.toLowerCase();
    expect(promptWords('A short song about morning coffee')).toEqual(['morning', 'coffee']);
    for (const word of ['morning', 'coffee']) expect(coffee).toContain(word);
    // A prompt about the sea, with one image of its own, borrows the sea theme's images.
    const sea = writeLyricSheet('the ocean', 's', SHEET_FORMS[0]).text.toLowerCase();
    expect(sea).toContain('ocean');
    expect(['harbour', 'current', 'salt'].filter((image) => sea.includes(image)).length).toBeGreaterThanOrEqual(2);
  });

  it('keep a line steady even when the prompt’s own words are too long to sing in it', () => {
    const sheet = writeLyricSheet('supercalifragilisticexpialidocious electroencephalography coffee', 's', SHEET_FORMS[1]);
    const sections = parseLyrics(sheet.text);
    for (const [s, section] of sections.entries())
      for (const line of section.lines) expect(Math.abs(syllableCount(line.text) - SHEET_FORMS[1]![s]!.syllables), line.text).toBeLessThanOrEqual(2);
    expect(sheet.text.toLowerCase()).toContain('coffee');
  });

  it('are titled by the hook: the first chorus line, without padding, cut to its end when long', () => {
    expect(titleOf('[Verse]\nA b c\n[Chorus]\nOh, hold the lantern, find the light\nx')).toBe('Hold the Lantern, Find the Light');
    expect(titleOf('[Chorus]\nyou and I and coffee and the chair')).toBe('Coffee and the Chair');
    expect(titleOf('[Verse]\nin the rain we found the sun')).toBe('In the Rain We Found the Sun');
    expect(titleOf('')).toBe('');
  });
});
