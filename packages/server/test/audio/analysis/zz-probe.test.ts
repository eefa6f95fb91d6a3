import { it } from 'vitest';
import { barAt, barSeconds, planArrangement } from '../../../src/audio/synthesis/arrangement.js';
import { renderSong } from '../../../src/audio/synthesis/synth.js';
import { readChords } from '../../../src/audio/analysis/chords.js';
import { findForm } from '../../../src/audio/analysis/form.js';
it('probe', () => {
  for (const [style, seconds] of [['pop', 100], ['rock', 80], ['ballad', 120]] as const) {
  const rate = 22050;
  const plan = planArrangement({ seed: 'form:' + style, texts: [style], form: 'song', durationS: seconds, fixed: { bpm: 112, tonic: 'C', mode: 'major' } });
  const channels = renderSong(plan, rate, 1, seconds);
  const barS = barSeconds(plan);
  const bars = Math.floor(seconds / barS);
  const grid = { starts: Array.from({ length: bars }, (_, k) => k * barS), endS: bars * barS };
  const { chords, features } = readChords({ sampleRate: rate, channels }, grid);
  const form = findForm(chords.map((c, k) => ({ chord: c?.symbol ?? null, levelDb: features.levelDb[k] })));
  console.log(style, plan.sections.map((s) => `${s.name} ${s.bars} ${s.energy}`).join(' | '));
  console.log(style, form.map((s) => `${s.name}(${s.label}) ${s.bars} ${s.energy} ${s.levelDb.toFixed(1)}`).join(' | '));
  }
});
