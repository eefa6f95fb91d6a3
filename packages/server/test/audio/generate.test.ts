import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { barSeconds, describeSongs, planArrangement, planSongs, songForm } from '../../src/audio/synthesis/arrangement.js';
import { GENRES } from '../../src/audio/synthesis/genres.js';
import { renderSong, renderWindow } from '../../src/audio/synthesis/synth.js';

const KINDS = ['intro', 'verse', 'chorus', 'bridge', 'outro'];
const RATE = 22_050;

const bytes = (channels: Float32Array[]) => Buffer.concat(channels.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));

/** Mean square below `hz` (three one-pole low-passes) or above it (three high-passes). */
function bandPower(samples: Float32Array, hz: number, band: 'low' | 'high'): number {
  const a = 1 - Math.exp((-2 * Math.PI * hz) / RATE);
  const state = [0, 0, 0];
  let sum = 0;
  for (const x of samples) {
    let v = x;
    for (let k = 0; k < state.length; k++) {
      state[k]! += a * (v - state[k]!);
      v = band === 'low' ? state[k]! : v - state[k]!;
    }
    sum += v * v;
  }
  return sum / samples.length;
}

/** A piece rendered mono at RATE at its own level (not normalised, so adding a part does not turn the others down). */
const render = (texts: string[], negative = '', seconds = 30) =>
  renderWindow(planArrangement({ seed: 'band', texts, negative, form: 'song', durationS: seconds }), {
    sampleRate: RATE,
    channels: 1,
    startFrame: 0,
    frames: seconds * RATE,
  })[0]!;

describe('song form', () => {
  it('fills exactly the bars asked for, with all five kinds from five bars up', () => {
    for (let bars = 1; bars <= 300; bars++) {
      const form = songForm(bars);
      expect(
        form.reduce((n, [, b]) => n + b, 0),
        `${bars} bars`,
      ).toBe(bars);
      expect(form.every(([, b]) => b >= 1)).toBe(true);
      if (bars >= 5) expect(new Set(form.map(([name]) => name)), `${bars} bars`).toEqual(new Set(KINDS));
      expect(form[0]![0]).toBe(bars >= 3 ? 'intro' : form[0]![0]);
    }
  });

  it('gives every generate song intro, verse, chorus, bridge and outro, in order, with their own material', () => {
    fc.assert(
      fc.property(fc.constantFrom(...GENRES.map((g) => g.name)), fc.integer({ min: 20, max: 480 }), fc.string(), (genre, durationS, seed) => {
        for (const song of planSongs({ seed, texts: [genre], durationS })) {
          const names = song.sections.map((s) => s.name);
          expect(new Set(names)).toEqual(new Set(KINDS));
          expect(names[0]).toBe('intro');
          expect(names[names.length - 1]).toBe('outro');
          const bars = song.sections.reduce((n, s) => n + s.bars, 0);
          expect(bars * barSeconds(song)).toBeGreaterThanOrEqual(durationS - 1e-9);
          expect((bars - 1) * barSeconds(song)).toBeLessThan(durationS);
          const of = (name: string) => song.sections.find((s) => s.name === name)!;
          // Distinct material: the bridge has its own chords and the chorus plays louder than the verse.
          expect(of('bridge').chords).not.toEqual(of('chorus').chords);
          expect(of('intro').chords).not.toEqual(of('chorus').chords);
          expect(of('chorus').energy).toBeGreaterThan(of('verse').energy);
          expect(song.bpm).toBeGreaterThanOrEqual(song.style.tempo[0]);
          expect(song.bpm).toBeLessThanOrEqual(song.style.tempo[1] + 4);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('the two songs of a request', () => {
  it('always differ in key, tempo or chords, and their audio differs', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('pop', 'jazz', 'metal', 'ambient', 'funk, in D minor', 'rock at 120 bpm'), (seed, words) => {
        const [a, b] = planSongs({ seed, texts: [words], durationS: 60 });
        expect(a.variant).toBe(0);
        expect(b.variant).toBe(1);
        const sameChords = JSON.stringify(a.sections.map((s) => s.chords)) === JSON.stringify(b.sections.map((s) => s.chords));
        expect(a.tonic !== b.tonic || a.bpm !== b.bpm || !sameChords).toBe(true);
        expect(sameChords).toBe(false);
      }),
      { numRuns: 100 },
    );
    const [a, b] = planSongs({ seed: 'pair', texts: ['pop'], durationS: 30 });
    expect(bytes(renderSong(a, RATE, 1, 4)).equals(bytes(renderSong(b, RATE, 1, 4)))).toBe(false);
  });

  it('take the second genre for the second song when the words name two', () => {
    const [a, b] = planSongs({ seed: 's', texts: ['jazz and rock'], durationS: 60 });
    expect([a.style.name, b.style.name]).toEqual(['jazz', 'rock']);
  });

  it('are described on one sheet: sections with bars, tempo, key, the lyrics, and what the engine is', () => {
    const songs = planSongs({ seed: 'sheet', texts: ['latin', 'a summer night'], durationS: 90 });
    const sheet = describeSongs(songs, { title: 'Noche', lyrics: '[Verse]\nla luna\n[Chorus]\nbaila' });
    for (const [index, song] of songs.entries()) {
      expect(sheet).toContain(`Song ${index + 1}: "Noche": latin, ${song.bpm} BPM, ${song.tonic} ${song.mode}`);
      for (const s of song.sections) expect(sheet).toContain(`${s.name} ${s.bars} bars [${s.chords.join(' ')}]`);
    }
    expect(sheet).toMatch(/0:00 intro \d+ bars/);
    expect(sheet).toContain('  la luna');
    expect(sheet.match(/la luna/g)).toHaveLength(1);
    expect(sheet).toContain('not a neural model');
    expect(sheet).toContain('does not sing');
    expect(describeSongs(songs, { title: 'Noche' })).not.toContain('Lyrics');
  });
});

describe('rendering', () => {
  it('is deterministic with every voice and comping rhythm (same inputs, identical samples)', () => {
    const words = [
      ['funk with strings, piano and flute', '808'],
      ['latin with organ, synth and bells', 'upright bass'],
      ['reggae, brass, lead guitar'],
      ['metal', 'acoustic guitar, electric piano, calm'],
    ];
    for (const texts of words) {
      const plan = planArrangement({ seed: 'voices', texts, form: 'song', durationS: 12 });
      const a = renderSong(plan, RATE, 2, 6);
      const b = renderSong(planArrangement({ seed: 'voices', texts, form: 'song', durationS: 12 }), RATE, 2, 6);
      expect(bytes(a).equals(bytes(b)), texts.join(' ')).toBe(true);
      expect(a[0]!.some((v) => v !== 0)).toBe(true);
      expect(a.every((c) => c.every((v) => Number.isFinite(v) && Math.abs(v) <= 1))).toBe(true);
    }
  });

  it('renders a section window exactly like the same stretch of the loop, in a multi-part style', () => {
    const plan = planArrangement({ seed: 'w', texts: ['cinematic with drums'], form: 'section', durationS: 20 });
    const whole = renderWindow(plan, { sampleRate: 16_000, channels: 1, startFrame: 0, frames: 16_000 * 10 });
    const part = renderWindow(plan, { sampleRate: 16_000, channels: 1, startFrame: 16_000 * 6 + 7, frames: 16_000 * 2 });
    expect(bytes(part).equals(bytes([whole[0]!.subarray(16_000 * 6 + 7, 16_000 * 8 + 7)]))).toBe(true);
  });

  it('plays the drums that the words add and stops those they remove', () => {
    const plain = bandPower(render(['ambient']), 7000, 'high');
    const drummed = bandPower(render(['ambient with drums']), 7000, 'high');
    expect(drummed).toBeGreaterThan(3 * plain);
    const rock = bandPower(render(['rock']), 7000, 'high');
    const quiet = bandPower(render(['rock'], 'drums'), 7000, 'high');
    expect(quiet).toBeLessThan(rock / 3);
  });

  it('plays the bass that the words name and drops it when refused', () => {
    const withBass = bandPower(render(['classical with a double bass']), 110, 'low');
    const without = bandPower(render(['classical'], 'bass'), 110, 'low');
    expect(withBass).toBeGreaterThan(5 * without);
  });

  it('plays a named melody instrument from the verse on', () => {
    const plan = planArrangement({ seed: 'lead', texts: ['ambient with a flute'], form: 'song', durationS: 60 });
    expect(plan.style.lead).toBe('flute');
    const verse = plan.sections.find((s) => s.name === 'verse')!;
    expect(verse.energy).toBeGreaterThanOrEqual(plan.style.leadFrom);
    const none = planArrangement({ seed: 'lead', texts: ['ambient'], form: 'song', durationS: 60 });
    expect(none.sections.find((s) => s.name === 'verse')!.energy).toBeLessThan(none.style.leadFrom);
  });

  it('plays calm words softer and sparser than intense ones', () => {
    const calm = planArrangement({ seed: 'e', texts: ['calm pop'], form: 'song', durationS: 60 });
    const intense = planArrangement({ seed: 'e', texts: ['intense pop'], form: 'song', durationS: 60 });
    for (const name of ['intro', 'verse', 'chorus', 'bridge', 'outro']) {
      const energyOf = (plan: typeof calm) => plan.sections.find((s) => s.name === name)!.energy;
      expect(energyOf(calm), name).toBeLessThan(energyOf(intense));
    }
    expect(calm.bpm).toBeLessThan(intense.bpm);
  });
});
