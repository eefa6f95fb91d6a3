import { Chord, Note } from 'tonal';
import { describe, expect, it } from 'vitest';
import { type BarGrid, chordOfChroma, readChords } from '../../../src/audio/analysis/chords.js';
import { findForm } from '../../../src/audio/analysis/form.js';
import { analyse } from '../../../src/audio/analysis/index.js';
import type { Pcm } from '../../../src/audio/pcm.js';
import { type Arrangement, barAt, barSeconds, planArrangement } from '../../../src/audio/synthesis/arrangement.js';
import type { Mode } from '../../../src/audio/synthesis/style.js';
import { renderSong } from '../../../src/audio/synthesis/synth.js';

const RATE = 22_050;
const pc = (name: string) => Note.chroma(name)!;

/** A chroma vector from pitch-class weights, e.g. { C: 1, E: 0.5 }. */
function chromaOf(weights: Record<string, number>): number[] {
  const chroma = new Array<number>(12).fill(0);
  for (const [name, weight] of Object.entries(weights)) chroma[pc(name)] = weight;
  return chroma;
}

/** Root and third of a chord symbol: what a reading must get right ("Am7" and "Am" agree; a power chord has no third). */
function rootAndThird(symbol: string): { root: number; major: boolean | null } {
  const chord = Chord.get(symbol);
  return { root: pc(chord.tonic ?? 'C'), major: chord.intervals.includes('3M') ? true : chord.intervals.includes('3m') ? false : null };
}

const agrees = (read: string, truth: string) => {
  const [a, b] = [rootAndThird(read), rootAndThird(truth)];
  return a.root === b.root && (b.major === null || a.major === b.major);
};

const chordOfBar = (plan: Arrangement, bar: number) => {
  const { section, barInSection } = barAt(plan, bar);
  return section.chords[barInSection % section.chords.length]!;
};

function song(style: string, tonic: string, mode: Mode, bpm: number, seconds: number): { plan: Arrangement; pcm: Pcm } {
  const plan = planArrangement({ seed: `chords:${style}`, texts: [style], form: 'song', durationS: seconds, fixed: { bpm, tonic, mode } });
  return { plan, pcm: { sampleRate: RATE, channels: renderSong(plan, RATE, 1, seconds) } };
}

/** Ten styles (triads, sevenths, power chords; strummed, arpeggiated, skanked, held), major and minor, tonics spread. */
const CASES: { style: string; tonic: string; mode: Mode; bpm: number }[] = [
  { style: 'pop', tonic: 'C', mode: 'major', bpm: 110 },
  { style: 'pop', tonic: 'E', mode: 'minor', bpm: 100 },
  { style: 'jazz', tonic: 'F', mode: 'major', bpm: 96 },
  { style: 'ballad piano', tonic: 'D', mode: 'major', bpm: 80 },
  { style: 'folk', tonic: 'G', mode: 'major', bpm: 104 },
  { style: 'electronic', tonic: 'A', mode: 'minor', bpm: 124 },
  { style: 'soul', tonic: 'Bb', mode: 'major', bpm: 90 },
  { style: 'reggae', tonic: 'Eb', mode: 'major', bpm: 80 },
  { style: 'lofi', tonic: 'Db', mode: 'minor', bpm: 84 },
  { style: 'rock', tonic: 'E', mode: 'minor', bpm: 130 },
];

describe('chords', () => {
  it('names the chord of a chroma vector', () => {
    expect(chordOfChroma(chromaOf({ C: 1, E: 0.8, G: 0.9 }))).toMatchObject({ symbol: 'C', root: 0, quality: 'major' });
    expect(chordOfChroma(chromaOf({ A: 1, C: 0.8, E: 0.9 }))).toMatchObject({ symbol: 'Am', quality: 'minor' });
    expect(chordOfChroma(chromaOf({ G: 1, B: 0.8, D: 0.9, F: 0.8 }))?.symbol).toBe('G7');
    expect(chordOfChroma(chromaOf({ D: 1, F: 0.8, A: 0.9, C: 0.8 }))?.symbol).toBe('Dm7');
    expect(chordOfChroma(chromaOf({ F: 1, A: 0.8, C: 0.9, E: 0.8 }))?.symbol).toBe('Fmaj7');
    // A faint passing seventh does not make a seventh chord.
    expect(chordOfChroma(chromaOf({ C: 1, E: 0.8, G: 0.9, Bb: 0.15 }))?.symbol).toBe('C');
    expect(chordOfChroma(chromaOf({ C: 1, E: 0.8, G: 0.9, B: 0.8 }), { sevenths: false })?.symbol).toBe('C');
    expect(chordOfChroma(new Array(12).fill(0))).toBeNull();
  });

  it("lets the key decide a chord without a third (a power chord is the key's own triad)", () => {
    const fifth = chromaOf({ E: 1, B: 0.9 });
    expect(chordOfChroma(fifth, { key: { pitchClass: pc('C'), mode: 'major' } })?.symbol).toBe('Em');
    expect(chordOfChroma(fifth, { key: { pitchClass: pc('A'), mode: 'major' } })?.symbol).toBe('E');
    const clear = chordOfChroma(chromaOf({ C: 1, E: 0.8, G: 0.9 }))!;
    expect(clear.confidence).toBeGreaterThan(chordOfChroma(fifth)!.confidence);
  });

  it('reads the chord of every bar of rendered songs in ten styles (≥ 90 % of bars)', () => {
    let right = 0;
    let all = 0;
    const wrong: string[] = [];
    for (const c of CASES) {
      const { plan, pcm } = song(c.style, c.tonic, c.mode, c.bpm, 30);
      const barS = barSeconds(plan);
      const bars = Math.floor(30 / barS);
      const grid: BarGrid = { starts: Array.from({ length: bars }, (_, k) => k * barS), endS: bars * barS };
      const { chords } = readChords(pcm, grid, { key: { pitchClass: pc(c.tonic), mode: c.mode } });
      for (let bar = 0; bar < bars; bar++) {
        const truth = chordOfBar(plan, bar);
        if (chords[bar] && agrees(chords[bar]!.symbol, truth)) right++;
        else wrong.push(`${c.style} bar ${bar}: ${truth} read as ${chords[bar]?.symbol}`);
      }
      all += bars;
    }
    console.log(`chords on the true bar grid: ${right}/${all} bars right (${((100 * right) / all).toFixed(1)} %); wrong: ${wrong.join('; ')}`);
    expect(right / all).toBeGreaterThanOrEqual(0.9);
  });

  it('reads them on the bar grid the beat tracker measured (≥ 80 % of bars)', () => {
    let right = 0;
    let all = 0;
    for (const c of [CASES[0]!, CASES[2]!, CASES[5]!]) {
      const { plan, pcm } = song(c.style, c.tonic, c.mode, c.bpm, 30);
      const tempo = analyse(pcm).tempo!;
      const barS = (4 * 60) / tempo.bpm;
      const grid: BarGrid = { starts: tempo.downbeats, endS: tempo.downbeats[tempo.downbeats.length - 1]! + barS };
      const { chords } = readChords(pcm, grid);
      tempo.downbeats.forEach((startS, k) => {
        // The true bar under the middle of the measured one.
        const truth = chordOfBar(plan, Math.floor((startS + barS / 2) / barSeconds(plan)));
        if (chords[k] && agrees(chords[k]!.symbol, truth)) right++;
        all++;
      });
    }
    console.log(`chords on the measured bar grid: ${right}/${all} bars right (${((100 * right) / all).toFixed(1)} %)`);
    expect(right / all).toBeGreaterThanOrEqual(0.8);
  });

  it('finds the form: the chorus comes back as the chorus, quieter intro and louder chorus', () => {
    const { plan, pcm } = song('ballad', 'C', 'major', 112, 96);
    const barS = barSeconds(plan);
    const bars = Math.floor(96 / barS);
    const grid: BarGrid = { starts: Array.from({ length: bars }, (_, k) => k * barS), endS: bars * barS };
    const { chords, features } = readChords(pcm, grid);
    const form = findForm(chords.map((chord, bar) => ({ chord: chord?.symbol ?? null, levelDb: features.levelDb[bar]! })));
    const planned = plan.sections.map((s) => s.name);
    console.log(`planned ${planned.join(' ')}; found ${form.map((s) => `${s.name}(${s.label}) ${s.bars} bars ${s.energy}`).join(', ')}`);
    const chorusBars = (sections: readonly { name: string; bars: number }[]) => {
      let first = 0;
      const out: number[] = [];
      for (const s of sections) {
        if (s.name === 'chorus') out.push(first);
        first += s.bars;
      }
      return out;
    };
    // Every planned chorus starts where a found chorus does, and the intro is the quietest section.
    const found = form.filter((s) => s.name === 'chorus').map((s) => s.firstBar);
    for (const first of chorusBars(plan.sections)) expect(found).toContain(first);
    expect(form[0]!.name).toBe('intro');
    expect(form[0]!.energy).toBe(Math.min(...form.map((s) => s.energy)));
    expect(new Set(form.filter((s) => s.name === 'chorus').map((s) => s.label)).size).toBe(1);
  });
});
