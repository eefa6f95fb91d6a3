import type { Pcm } from '../../../src/audio/pcm.js';
import { planArrangement } from '../../../src/audio/synthesis/arrangement.js';
import type { Mode } from '../../../src/audio/synthesis/style.js';
import { renderSong } from '../../../src/audio/synthesis/synth.js';

/** A song rendered by our synthesiser at a known tempo and key: the ground truth the analysis is checked against. */
export function renderedSong(style: string, bpm: number | undefined, tonic: string, mode: Mode, seconds: number, sampleRate = 44_100, channels = 2): Pcm {
  const plan = planArrangement({
    seed: `analysis:${style}:${bpm}:${tonic}:${mode}`,
    texts: [style],
    form: 'song',
    durationS: seconds,
    fixed: { bpm, tonic, mode },
  });
  return { sampleRate, channels: renderSong(plan, sampleRate, channels, seconds) };
}

/** Whether a found key is the expected one or its relative (C major / A minor). */
export function sameOrRelative(found: { pitchClass: number; mode: Mode }, tonic: string, mode: Mode): boolean {
  const names = ['C', 'Db', 'D', 'Eb', 'E', 'F', 'Gb', 'G', 'Ab', 'A', 'Bb', 'B'];
  const pc = names.indexOf(tonic);
  if (found.pitchClass === pc && found.mode === mode) return true;
  const relative = mode === 'minor' ? (pc + 3) % 12 : (pc + 9) % 12;
  return found.pitchClass === relative && found.mode !== mode;
}
