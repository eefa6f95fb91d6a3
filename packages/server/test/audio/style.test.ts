import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Chord, Progression } from 'tonal';
import { describe, expect, it } from 'vitest';
import { GENRES } from '../../src/audio/synthesis/genres.js';
import { ENERGY_WORDS, INSTRUMENTS } from '../../src/audio/synthesis/instruments.js';
import { chooseStyle, energyLabel, type StyleChoice } from '../../src/audio/synthesis/style.js';

const voices = (choice: StyleChoice) => choice.style.harmony.map((part) => part.voice);

describe('genre words', () => {
  const cases: [string, string][] = [
    ['pop', 'pop'],
    ['Synth-Pop', 'pop'],
    ['rock', 'rock'],
    ['grunge', 'rock'],
    ['heavy metal', 'metal'],
    ['thrash', 'metal'],
    ['jazz', 'jazz'],
    ['jazzy', 'jazz'],
    ['bebop', 'jazz'],
    ['blues', 'blues'],
    ['funk', 'funk'],
    ['funky', 'funk'],
    ['soul', 'soul'],
    ['R&B', 'soul'],
    ['electronic', 'electronic'],
    ['EDM', 'electronic'],
    ['house', 'electronic'],
    ['hip hop', 'hiphop'],
    ['Hip-Hop', 'hiphop'],
    ['trap', 'hiphop'],
    ['lo-fi', 'lofi'],
    ['lofi', 'lofi'],
    ['ambient', 'ambient'],
    ['cinematic', 'cinematic'],
    ['soundtrack', 'cinematic'],
    ['classical', 'classical'],
    ['orchestral', 'classical'],
    ['ballad', 'ballad'],
    ['folk', 'folk'],
    ['country', 'country'],
    ['latin', 'latin'],
    ['bossa nova', 'latin'],
    ['salsa', 'latin'],
    ['reggae', 'reggae'],
    ['ska', 'reggae'],
  ];
  for (const [words, genre] of cases) {
    it(`"${words}" is ${genre}`, () => {
      const choice = chooseStyle([words]);
      expect(choice.genre).toBe(genre);
      expect(choice.reasons[0]).toContain(genre);
    });
  }

  it('covers every genre of the table, and each has a word that picks it', () => {
    const covered = new Set(cases.map(([, genre]) => genre));
    expect(GENRES.length).toBeGreaterThanOrEqual(12);
    for (const genre of GENRES) {
      expect(covered.has(genre.name), genre.name).toBe(true);
      expect(chooseStyle([genre.words[0]!]).genre).toBe(genre.name);
    }
  });

  it('matches whole words only, weighs the tags double and lets the first mention win a tie', () => {
    expect(chooseStyle(['therapy music']).genre).toBe('pop'); // "rap" inside a word is not rap
    expect(chooseStyle(['emotional']).genre).toBe('pop'); // nor is "emo"
    expect(chooseStyle(['rock', 'jazz']).genre).toBe('rock');
    expect(chooseStyle(['', 'jazz, rock']).genre).toBe('jazz');
    expect(chooseStyle(['lofi hip hop']).genre).toBe('lofi');
    expect(chooseStyle(['', 'nothing to see']).genre).toBe('pop');
  });

  it('has tempo ranges, modes and progressions that tonal can read', () => {
    for (const genre of GENRES) {
      expect(genre.tempo[0]).toBeGreaterThanOrEqual(50);
      expect(genre.tempo[1]).toBeLessThanOrEqual(200);
      expect(genre.tempo[0]).toBeLessThanOrEqual(genre.tempo[1]);
      expect(genre.harmony.length).toBeGreaterThan(0);
      for (const mode of genre.modes) {
        expect(genre.progressions[mode].length, `${genre.name} ${mode}`).toBeGreaterThanOrEqual(3);
        for (const progression of genre.progressions[mode]) {
          for (const symbol of Progression.fromRomanNumerals('Eb', [...progression])) {
            expect(Chord.get(symbol).notes.length, `${genre.name}: ${symbol}`).toBeGreaterThanOrEqual(2);
          }
        }
      }
      for (const line of genre.drums ? [genre.drums.kick, genre.drums.snare, genre.drums.hat, genre.drums.perc ?? '.'.repeat(16)] : []) {
        expect(line).toMatch(/^[xo.]{16}$/);
      }
    }
  });
});

describe('energy words', () => {
  for (const [word, value] of ENERGY_WORDS) {
    it(`"${word}" sets the intensity towards ${value}`, () => {
      const plain = chooseStyle(['pop']).intensity;
      const choice = chooseStyle([`${word} pop`]);
      expect(choice.matched.energy).toContain(word);
      expect(choice.intensity).toBeCloseTo(0.75 * value + 0.25 * plain, 1);
      if (value < plain - 0.05) expect(choice.intensity).toBeLessThan(plain);
      if (value > plain + 0.05) expect(choice.intensity).toBeGreaterThan(plain);
    });
  }

  it('names the intensity and leans the tempo and section energies with it', () => {
    expect(energyLabel(0.1)).toBe('calm');
    expect(energyLabel(0.95)).toBe('intense');
    expect(chooseStyle(['calm jazz']).energy).toBe('relaxed');
    expect(chooseStyle(['aggressive jazz']).energy).toBe('energetic');
    expect(chooseStyle(['ambient']).energy).toBe('calm');
    expect(chooseStyle(['metal']).energy).toBe('intense');
  });
});

describe('instrument words', () => {
  const cases: [string, 'harmony' | 'lead' | 'bass', string][] = [
    ['pop with piano', 'harmony', 'piano'],
    ['rock with an electric piano', 'harmony', 'epiano'],
    ['jazz organ', 'harmony', 'organ'],
    ['electronic, acoustic guitar', 'harmony', 'pluck'],
    ['ambient guitar', 'harmony', 'guitar'],
    ['folk with strings', 'harmony', 'strings'],
    ['hip hop with a warm pad', 'harmony', 'pad'],
    ['jazz synth', 'harmony', 'synth'],
    ['pop with horns', 'harmony', 'brass'],
    ['rock with a flute', 'lead', 'flute'],
    ['lofi with bells', 'lead', 'bell'],
    ['funk trumpet', 'lead', 'brass'],
    ['pop, upright bass', 'bass', 'upright'],
    ['rock, 808', 'bass', 'sub'],
  ];
  for (const [words, role, voice] of cases) {
    it(`"${words}" puts ${voice} in the ${role}`, () => {
      const choice = chooseStyle([words]);
      if (role === 'harmony') expect(voices(choice)[0]).toBe(voice);
      if (role === 'lead') expect(choice.style.lead).toBe(voice);
      if (role === 'bass') expect(choice.style.bass).toBe(voice);
      expect(choice.matched.instruments.length).toBeGreaterThan(0);
    });
  }

  it('keeps a genre voice that already is the instrument named, and adds drums where there were none', () => {
    expect(voices(chooseStyle(['rock guitar']))).toEqual(['power']);
    expect(voices(chooseStyle(['electric piano'])).filter((v) => v === 'piano')).toEqual([]);
    expect(chooseStyle(['ambient with drums']).style.drums).not.toBeNull();
    expect(chooseStyle(['classical']).style.drums).toBeNull();
  });

  it('lets the instruments suggest a genre when no genre word was given', () => {
    expect(chooseStyle(['calm piano']).genre).toBe('ballad');
    expect(chooseStyle(['acoustic guitar']).genre).toBe('folk');
    expect(chooseStyle(['strings']).genre).toBe('classical');
  });

  it('reads a tempo and a key from the words, and notes vocal words without letting them choose the band', () => {
    const choice = chooseStyle(['funk', 'in F# minor at 100 bpm, female vocals']);
    expect(choice).toMatchObject({ bpm: 100, tonic: 'F#', mode: 'minor' });
    expect(choice.matched.vocals.length).toBeGreaterThan(0);
    expect(choice.reasons.join(' ')).toContain('singing follows the request');
  });
});

describe('negative words', () => {
  it('removes drums, named instruments, the lead and the bass', () => {
    expect(chooseStyle(['rock'], 'drums').style.drums).toBeNull();
    expect(chooseStyle(['rock, no drums']).style.drums).toBeNull();
    expect(chooseStyle(['a jazz tune without drums and with piano']).style.drums).toBeNull();
    expect(voices(chooseStyle(['a jazz tune without drums and with piano']))).toContain('piano');
    expect(voices(chooseStyle(['pop with piano'], 'piano'))).not.toContain('piano');
    expect(voices(chooseStyle(['rock'], 'guitar')).some((v) => ['power', 'guitar', 'pluck'].includes(v))).toBe(false);
    expect(chooseStyle(['pop'], 'melody').style.lead).toBeNull();
    expect(chooseStyle(['pop'], 'bass').style.bass).toBeNull();
    expect(chooseStyle(['ambient'], 'pad').style.harmony.length).toBeGreaterThan(0);
  });

  it('removes a refused genre and its traits: never chosen, its swing and distortion gone', () => {
    expect(chooseStyle(['rock and jazz'], 'rock').genre).toBe('jazz');
    expect(chooseStyle(['lofi'], 'jazz').style.swing).toBe(0);
    expect(chooseStyle(['jazz'], 'swing, jazz').genre).not.toBe('jazz');
    expect(voices(chooseStyle(['rock'], 'metal'))).toEqual(['guitar']);
    expect(voices(chooseStyle(['metal'], 'distortion'))).not.toContain('power');
    expect(chooseStyle([''], 'pop').genre).not.toBe('pop');
  });

  it('bounds the energy and flips the mood it names', () => {
    expect(chooseStyle(['metal'], 'aggressive').intensity).toBeLessThanOrEqual(0.7);
    expect(chooseStyle(['ambient'], 'calm').intensity).toBeGreaterThanOrEqual(0.35);
    expect(chooseStyle(['pop'], 'sad').mode).toBe('major');
    expect(chooseStyle(['sad pop']).mode).toBe('minor');
  });
});

describe('any words', () => {
  const vocabulary = [
    ...GENRES.flatMap((g) => g.words.slice(0, 2)),
    ...ENERGY_WORDS.map(([w]) => w),
    'piano',
    'guitar',
    'no',
    'without',
    'drums',
    'bass',
    'strings',
    'sad',
    'in c minor',
    '120 bpm',
    ',',
  ];
  const phrase = fc.oneof(
    fc.string(),
    fc.array(fc.constantFrom(...vocabulary), { maxLength: 8 }).map((words) => words.join(' ')),
  );

  it('give a valid choice, the same every time, and never throw', () => {
    const names = new Set(GENRES.map((g) => g.name));
    fc.assert(
      fc.property(fc.array(phrase, { maxLength: 3 }), phrase, (texts, negative) => {
        const choice = chooseStyle(texts, negative);
        expect(chooseStyle(texts, negative)).toEqual(choice);
        expect(names.has(choice.genre)).toBe(true);
        expect(choice.intensity).toBeGreaterThanOrEqual(0);
        expect(choice.intensity).toBeLessThanOrEqual(1);
        expect(choice.style.harmony.length).toBeGreaterThanOrEqual(1);
        expect(choice.style.harmony.length).toBeLessThanOrEqual(3);
        expect(choice.style.tempo[0]).toBeLessThanOrEqual(choice.style.tempo[1]);
        expect(choice.reasons.length).toBeGreaterThan(0);
        if (choice.bpm !== null) expect(choice.bpm).toBeGreaterThanOrEqual(40);
        // Plain data: survives a JSON round trip unchanged, so it can be stored with the task.
        expect(JSON.parse(JSON.stringify(choice))).toEqual(choice);
      }),
      { numRuns: 300 },
    );
  });
});

describe('docs/styles.md', () => {
  const doc = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../docs/styles.md'), 'utf8');

  it('lists every genre with its tempo range, every instrument and every energy word of the tables', () => {
    for (const genre of GENRES) expect(doc, genre.name).toContain(`| ${genre.name} | `);
    for (const genre of GENRES) expect(doc, genre.name).toContain(`| ${genre.tempo[0]}–${genre.tempo[1]} |`);
    for (const instrument of INSTRUMENTS) expect(doc, instrument.name).toContain(`| ${instrument.name} | ${instrument.words.join(', ')} |`);
    for (const [word, value] of ENERGY_WORDS) expect(doc, word).toContain(`${word} (${value})`);
    expect(doc).toContain('not a neural model');
    expect(doc).toContain('does not sing');
  });
});
