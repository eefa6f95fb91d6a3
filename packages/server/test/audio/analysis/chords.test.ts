import { describe, expect, it } from 'vitest';
import { chordOfChroma, readChords } from '../../../src/audio/analysis/chords.js';
import { PITCH_NAMES } from '../../../src/audio/analysis/key.js';
import { barAt, barSeconds, planArrangement } from '../../../src/audio/synthesis/arrangement.js';
import type { Mode } from '../../../src/audio/synthesis/style.js';
import { renderSong } from '../../../src/audio/synthesis/synth.js';
import { Chord, Note } from 'tonal';

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

function truth(symbol: string) {
  const chord = Chord.get(symbol);
  const root = Note.chroma(chord.tonic ?? 'C');
  const third = chord.intervals.includes('3M') ? true : chord.intervals.includes('3m') ? false : null;
  return { root, third };
}

describe('chords', () => {
  it('measures', () => {
    const rate = 22_050;
    let right = 0;
    let all = 0;
    for (const c of CASES) {
      const seconds = 30;
      const plan = planArrangement({ seed: `chords:${process.env.SEEDX ?? ""}${c.style}`, texts: [c.style], form: 'song', durationS: seconds, fixed: { bpm: c.bpm, tonic: c.tonic, mode: c.mode } });
      const channels = renderSong(plan, rate, 1, seconds);
      const barS = barSeconds(plan);
      const bars = Math.floor(seconds / barS);
      const grid = { starts: Array.from({ length: bars }, (_, k) => k * barS), endS: bars * barS };
      const { chords } = readChords({ sampleRate: rate, channels }, grid, { key: { pitchClass: Note.chroma(c.tonic)!, mode: c.mode } });
      const rows: string[] = [];
      let ok = 0;
      for (let k = 0; k < bars; k++) {
        const { section, barInSection } = barAt(plan, k);
        const symbol = section.chords[barInSection % section.chords.length]!;
        const t = truth(symbol);
        const read = chords[k];
        const good = read && read.root === t.root && (t.third === null || (['major', '7', 'maj7'].includes(read.quality)) === t.third);
        if (good) ok++;
        rows.push(`${symbol}/${read?.symbol}${good ? '' : '!'}`);
      }
      right += ok;
      all += bars;
      console.log(c.style, c.tonic, c.mode, `${ok}/${bars}`, rows.join(' '));
    }
    console.log('accuracy', right / all);
  });
});
