import { instrumentNames } from './sheet.js';
import { chooseStyle } from './style.js';

/**
 * Boost Music Style (KIE `POST /api/v1/style/generate`): a short style description expanded
 * into the arrangement the words imply, read from the genre and instrument tables the
 * synthesiser plays from. Deterministic, and it says only what the tables hold: the tempo
 * range, the modes, the instruments and how they play, the groove, and what was refused.
 */
export function boostStyle(content: string): string {
  const choice = chooseStyle([content]);
  const { style } = choice;
  const [low, high] = style.tempo;
  const tempo = choice.bpm !== null ? `${choice.bpm} BPM` : `${low}–${high} BPM`;
  const mode = choice.tonic ? `in ${choice.tonic} ${choice.mode ?? style.modes[0]}` : `in a ${choice.mode ?? style.modes.join(' or ')} key`;
  const moods = choice.matched.moods.length > 0 ? `, ${choice.matched.moods.join(', ')}` : '';
  const groove = style.drums ? (style.swing > 0 ? 'a swung groove' : 'a straight groove') : 'no drums, the harmony carries the pulse';
  const sentences = [
    `${capitalise(choice.energy)} ${choice.genre}${moods} at ${tempo} ${mode}.`,
    `Instruments: ${instrumentNames({ style }).join(', ')}.`,
    `Rhythm: ${groove}, ${style.bassNotesPerBar} bass notes per bar at full energy.`,
  ];
  if (choice.removed.length > 0) sentences.push(`Without: ${choice.removed.join(', ')}.`);
  return sentences.join(' ');
}

const capitalise = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
