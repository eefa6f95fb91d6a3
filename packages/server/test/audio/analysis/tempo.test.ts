import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/audio/analysis/index.js';
import { changesEveryEighthBeat } from '../../../src/audio/analysis/tempo.js';
import { planArrangement } from '../../../src/audio/synthesis/arrangement.js';
import { GENRES } from '../../../src/audio/synthesis/genres.js';
import { renderWindow } from '../../../src/audio/synthesis/synth.js';
import { renderedSong } from './songs.js';

/** A click (a 1 kHz blip of 10 ms) on every beat from `firstS`. */
function clickTrack(bpm: number, seconds: number, firstS: number, sampleRate = 44_100): Float32Array {
  const out = new Float32Array(Math.round(seconds * sampleRate));
  for (let t = firstS; t < seconds; t += 60 / bpm) {
    const at = Math.round(t * sampleRate);
    for (let i = 0; i < 400 && at + i < out.length; i++) out[at + i]! += 0.5 * Math.sin((2 * Math.PI * 1000 * i) / sampleRate) * Math.exp(-i / 80);
  }
  return out;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('tempo and beats', () => {
  for (const bpm of [60, 75, 100, 128, 150, 180, 200]) {
    it(`finds ${bpm} BPM and its beats on a click track`, () => {
      const firstS = 0.25;
      const click = clickTrack(bpm, 20, firstS);
      const tempo = analyse({ sampleRate: 44_100, channels: [click, click] }).tempo!;
      expect(Math.abs(tempo.bpm / bpm - 1)).toBeLessThan(0.02);
      expect(tempo.confidence).toBeGreaterThan(0.5);
      const period = 60 / bpm;
      const errors = tempo.beats.map((b) => Math.abs(b - (firstS + Math.round((b - firstS) / period) * period)));
      expect(median(errors)).toBeLessThan(0.015);
      expect(tempo.beats.length).toBeGreaterThan((0.9 * (20 - firstS)) / period);
    });
  }

  for (const bpm of [70, 90, 120, 140, 170]) {
    it(`finds the tempo, beats and bars of rendered pop and rock songs at ${bpm} BPM`, () => {
      for (const style of ['pop', 'rock']) {
        const song = renderedSong(style, bpm, 'E', 'minor', 36);
        const analysis = analyse(song, { fromS: 4, toS: 34 });
        const tempo = analysis.tempo!;
        expect(Math.abs(tempo.bpm / bpm - 1), `${style} at ${bpm}: read ${tempo.bpm}`).toBeLessThan(0.02);
        // Beats are reported in song time, and the synthesiser's bars start at multiples of four beats.
        const period = 60 / bpm;
        const off = (t: number, unit: number) => Math.abs(t - Math.round(t / unit) * unit);
        expect(median(tempo.beats.map((b) => off(b, period)))).toBeLessThan(0.02);
        expect(tempo.beats[0]!).toBeGreaterThanOrEqual(4);
        expect(median(tempo.downbeats.map((d) => off(d, 4 * period)))).toBeLessThan(0.03);
      }
    });
  }

  it('reads at least 90 % of drummed styles within 2 %, and almost all the rest at the tempo or its double', () => {
    let exact = 0;
    let octave = 0;
    let cases = 0;
    for (const style of ['pop', 'rock', 'folk', 'electronic', 'jazz', 'hiphop']) {
      for (const bpm of [70, 90, 120, 140, 170]) {
        const tempo = analyse(renderedSong(style, bpm, 'C', 'major', 24, 22_050, 1), { fromS: 2, toS: 22 }).tempo;
        cases++;
        const ratio = (tempo?.bpm ?? 0) / bpm;
        if (Math.abs(ratio - 1) < 0.02) exact++;
        else if ([0.5, 2].some((r) => Math.abs(ratio / r - 1) < 0.02)) octave++;
      }
    }
    console.info(`drummed songs: ${exact} of ${cases} within 2 %, ${octave} more at the tempo's double or half`);
    expect(exact / cases).toBeGreaterThanOrEqual(0.9);
    expect((exact + octave) / cases).toBeGreaterThanOrEqual(0.95);
  });

  it('tells bars of chords changing every fourth beat from every eighth', () => {
    // A chord change (0.4) on every fourth beat, a little movement (0.02) on the others.
    const everyFourth = Array.from({ length: 32 }, (_, b) => (b % 4 === 0 ? 0.4 : 0.02));
    const everyEighth = Array.from({ length: 32 }, (_, b) => (b % 8 === 3 ? 0.4 : 0.02));
    expect(changesEveryEighthBeat(everyFourth)).toBe(false);
    expect(changesEveryEighthBeat(everyEighth)).toBe(true);
    // No change at all (a drum loop, a click track): nothing to read.
    expect(changesEveryEighthBeat(Array.from({ length: 32 }, (_, b) => (b % 8 === 3 ? 0.02 : 0.001)))).toBe(false);
    // Too few beats for two cycles of eight.
    expect(changesEveryEighthBeat(everyEighth.slice(0, 12))).toBe(false);
  });

  it('reads slow sections with an eighth-note drive at their tempo, not at its double', () => {
    // 70–90 BPM with hats, picked bass or palm-muted guitar in eighths: the onsets alone say double time, the chords
    // (one a bar) say which level is the beat. Styles whose off-beats are accented or swung (reggae's skank, funk's
    // and latin's sixteenths, lo-fi's swung hats) may still read at the double.
    const rate = 22_050;
    const misses: string[] = [];
    let cases = 0;
    for (const genre of GENRES.filter((g) => g.drums)) {
      for (const bpm of [70, 80, 90]) {
        const plan = planArrangement({
          seed: `slow:${genre.name}:${bpm}`,
          texts: [genre.name],
          form: 'section',
          durationS: 12,
          fixed: { bpm, tonic: 'E', mode: 'minor' },
        });
        const tempo = analyse({ sampleRate: rate, channels: renderWindow(plan, { sampleRate: rate, channels: 1, startFrame: 0, frames: 12 * rate }) }).tempo;
        cases++;
        const ratio = (tempo?.bpm ?? 0) / bpm;
        if (Math.abs(ratio - 1) >= 0.02) {
          misses.push(`${genre.name} ${bpm} → ${tempo?.bpm.toFixed(1)}`);
          expect(Math.abs(ratio / 2 - 1), `${genre.name} at ${bpm}: read ${tempo?.bpm}`).toBeLessThan(0.02);
        }
      }
    }
    console.info(`slow sections: ${cases - misses.length} of ${cases} within 2 % (at double: ${misses.join(', ')})`);
    expect((cases - misses.length) / cases).toBeGreaterThanOrEqual(0.7);
  });

  it('gives no tempo for a window too short to hold one', () => {
    const click = clickTrack(120, 2, 0);
    expect(analyse({ sampleRate: 44_100, channels: [click] }).tempo).toBeNull();
  });
});
