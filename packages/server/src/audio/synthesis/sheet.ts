import type { Arrangement } from './arrangement.js';
import type { BassVoice, HarmonyVoice, LeadVoice } from './genres.js';

/**
 * The structure sheet: what was chosen, in words a musician reads. It is the
 * `text` stage of a generate task, and says plainly what the engine is.
 */

export interface SheetOptions {
  title?: string;
  /** Lyrics given in custom mode: printed under the structure (they are not sung). */
  lyrics?: string;
}

const HARMONY_NAMES: Record<HarmonyVoice, string> = {
  piano: 'piano (modelled)',
  epiano: 'electric piano (FM)',
  organ: 'organ',
  pad: 'synth pad',
  strings: 'string ensemble (synthesised)',
  power: 'overdriven guitar',
  guitar: 'clean electric guitar (string model)',
  pluck: 'acoustic guitar (string model)',
  brass: 'brass section (synthesised)',
  synth: 'synth',
};
const BASS_NAMES: Record<BassVoice, string> = {
  round: 'round bass',
  synth: 'synth bass',
  picked: 'picked bass',
  upright: 'upright bass',
  sub: '808 sub bass',
};
const LEAD_NAMES: Record<LeadVoice, string> = {
  bell: 'bell lead',
  saw: 'saw lead',
  pluck: 'plucked lead',
  epiano: 'electric piano lead',
  piano: 'piano melody',
  flute: 'flute-like lead',
  brass: 'horn-like lead',
  guitar: 'lead guitar',
};

const lyricLines = (lyrics: string) => [
  'Lyrics (as given; printed, not sung):',
  ...lyrics
    .trim()
    .split(/\r?\n/)
    .map((line) => `  ${line}`),
];

const clock = (seconds: number) => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;

/** The instruments of a plan, in words. */
export function instrumentNames(arrangement: Pick<Arrangement, 'style'>): string[] {
  const { style } = arrangement;
  return [
    ...style.harmony.map((part) => `${HARMONY_NAMES[part.voice]} (${part.comp})`),
    style.bass ? BASS_NAMES[style.bass] : 'no bass',
    style.lead ? LEAD_NAMES[style.lead] : 'no lead',
    style.drums ? (style.swing > 0 ? 'swung drums' : 'drums') : 'no drums',
  ];
}

/** A lead sheet for one plan: header, style reasons, instruments, the sections with start times, bars and chords. */
export function describeArrangement(arrangement: Arrangement, options: string | SheetOptions = {}): string {
  const { title, lyrics } = typeof options === 'string' ? { title: options, lyrics: undefined } : options;
  const barS = (60 / arrangement.bpm) * arrangement.beatsPerBar;
  const bars = arrangement.sections.reduce((n, s) => n + s.bars, 0);
  const { choice } = arrangement;
  const lines = [
    `${title ? `"${title}": ` : ''}${arrangement.style.name}, ${arrangement.bpm} BPM, ${arrangement.tonic} ${arrangement.mode}, ${arrangement.beatsPerBar}/4, energy ${choice.energy}${arrangement.loop ? '' : `, about ${clock(bars * barS)}, ${bars} bars`}`,
    `Style: ${choice.reasons.join('; ')}`,
    `Instruments: ${instrumentNames(arrangement).join(', ')}`,
  ];
  if (arrangement.loop) {
    lines.push(`Form: ${arrangement.sections.map((s) => `${s.name} ${s.bars} bars [${s.chords.join(' ')}]`).join(' | ')}`);
  } else {
    lines.push('Structure:');
    let bar = 0;
    for (const s of arrangement.sections) {
      lines.push(`  ${clock(bar * barS)} ${s.name} ${s.bars} bars [${s.chords.join(' ')}]`);
      bar += s.bars;
    }
  }
  if (lyrics?.trim()) lines.push(...lyricLines(lyrics));
  return lines.join('\n');
}

/** The sheet of a generate request: both songs, the lyrics once, and what this engine is. */
export function describeSongs(songs: readonly Arrangement[], options: SheetOptions = {}): string {
  const parts = songs.map((song, index) => `Song ${index + 1}: ${describeArrangement(song, { title: options.title })}`);
  if (options.lyrics?.trim()) parts.push(lyricLines(options.lyrics).join('\n'));
  parts.push('An algorithmic arrangement rendered by a seeded synthesiser, not a neural model; it plays instrumentals and does not sing.');
  return parts.join('\n\n');
}
