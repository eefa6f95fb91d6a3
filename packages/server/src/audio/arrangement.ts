import { Progression } from 'tonal';
import { between, pick, randomFor } from './prng.js';
import { chooseStyle, type Mode, type Style } from './style.js';

/**
 * The plan of a piece before any sound: tempo, key, form and chords. It is
 * plain data, derived only from the seed and the words, so the same request
 * always gets the same music, and it can be shown to the user as a lead sheet.
 */

export type SectionName = 'intro' | 'verse' | 'chorus' | 'bridge' | 'outro' | 'section';

export interface Section {
  name: SectionName;
  bars: number;
  /** Chord symbols, one per bar, repeated over the section. */
  chords: readonly string[];
  /** 0..1: which layers play and how hard. */
  energy: number;
}

export interface Arrangement {
  seed: string;
  style: Style;
  bpm: number;
  tonic: string;
  mode: Mode;
  beatsPerBar: 4;
  sections: readonly Section[];
  /** A section-replacement plan is one section repeated for as long as needed. */
  loop: boolean;
}

export interface ArrangementRequest {
  seed: string;
  /** Words that pick the style, most important first (tags, then prompt, then title). */
  texts: readonly string[];
  negative?: string;
  /** 'song': intro, verses, choruses, bridge, outro filling `durationS`. 'section': one looping high-energy section. */
  form: 'song' | 'section';
  durationS: number;
  /** Tempo, key or mode imposed from outside (for a section: the source's), instead of chosen from the style. */
  fixed?: { bpm?: number; tonic?: string; mode?: Mode };
}

const TONICS = ['C', 'D', 'Eb', 'E', 'F', 'G', 'A', 'Bb'] as const;
const ENERGY: Record<SectionName, number> = { intro: 0.4, verse: 0.65, chorus: 1, bridge: 0.75, outro: 0.5, section: 0.9 };
/** The order sections come in after the intro; long songs cycle through it. */
const SONG_ORDER: readonly SectionName[] = ['verse', 'chorus', 'verse', 'chorus', 'bridge', 'chorus'];

export function planArrangement(request: ArrangementRequest): Arrangement {
  const { style, mode: moodMode, pace } = chooseStyle(request.texts, request.negative);
  const random = randomFor(request.seed, 'arrangement');
  const [slow, fast] = style.tempo;
  // The draws happen even when fixed values replace them, so the rest of the plan does not shift.
  const chosenBpm = Math.round(between(random, slow, fast) * (1 + pace * 0.1));
  const chosenTonic = pick(random, TONICS);
  const chosenMode = moodMode && style.modes.includes(moodMode) ? moodMode : pick(random, style.modes);
  const fixed = request.fixed ?? {};
  const bpm = fixed.bpm ?? chosenBpm;
  const tonic = fixed.tonic ?? chosenTonic;
  const mode = fixed.mode ?? chosenMode;
  const progressions = style.progressions[mode];
  // Verse, chorus and bridge each get their own progression when the style has enough.
  const start = Math.floor(random() * progressions.length);
  const chordsOf = (n: number) => Progression.fromRomanNumerals(tonic, [...progressions[(start + n) % progressions.length]!]);
  const chords: Record<SectionName, readonly string[]> = {
    intro: chordsOf(1),
    verse: chordsOf(0),
    chorus: chordsOf(1),
    bridge: chordsOf(2),
    outro: chordsOf(1),
    section: chordsOf(1),
  };
  const barS = (60 / bpm) * 4;
  const totalBars = Math.max(1, Math.ceil(request.durationS / barS));
  const section = (name: SectionName, bars: number): Section => ({ name, bars, chords: chords[name], energy: ENERGY[name] });
  if (request.form === 'section') return { seed: request.seed, style, bpm, tonic, mode, beatsPerBar: 4, sections: [section('section', 8)], loop: true };
  const intro = totalBars >= 12 ? 4 : totalBars >= 6 ? 2 : 0;
  const outro = totalBars >= 16 ? 4 : 0;
  const sections: Section[] = intro ? [section('intro', intro)] : [];
  let remaining = totalBars - intro - outro;
  for (let i = 0; remaining > 0; i++) {
    // Sections are 8 bars; a short remainder lengthens the last one rather than making a stub.
    const bars = remaining < 12 ? remaining : 8;
    sections.push(section(SONG_ORDER[i % SONG_ORDER.length]!, bars));
    remaining -= bars;
  }
  if (outro) sections.push(section('outro', outro));
  return { seed: request.seed, style, bpm, tonic, mode, beatsPerBar: 4, sections, loop: false };
}

export const barSeconds = (arrangement: Arrangement): number => (60 / arrangement.bpm) * arrangement.beatsPerBar;

export interface BarPosition {
  section: Section;
  /** Bar number inside its section (0-based). */
  barInSection: number;
}

/** Which section a bar (counted from the start of the piece) belongs to. */
export function barAt(arrangement: Arrangement, bar: number): BarPosition {
  const { sections } = arrangement;
  if (arrangement.loop) {
    const only = sections[0]!;
    return { section: only, barInSection: bar % only.bars };
  }
  let first = 0;
  for (const section of sections) {
    if (bar < first + section.bars) return { section, barInSection: bar - first };
    first += section.bars;
  }
  // Past the planned end (rounding up to whole bars): keep playing the last section.
  const last = sections[sections.length - 1]!;
  return { section: last, barInSection: (bar - first) % last.bars };
}

const VOICE_NAMES: Record<string, string> = {
  epiano: 'electric piano (FM)',
  organ: 'organ',
  pad: 'synth pad',
  power: 'overdriven power chords',
  pluck: 'plucked strings',
  round: 'round bass',
  synth: 'synth bass',
  picked: 'picked bass',
  bell: 'bell lead',
  saw: 'saw lead',
  none: 'no lead',
};

/** A short lead sheet: what was chosen, in words a musician reads. */
export function describeArrangement(arrangement: Arrangement, title?: string): string {
  const { style } = arrangement;
  const seconds = arrangement.sections.reduce((sum, s) => sum + s.bars, 0) * barSeconds(arrangement);
  const length = `${Math.floor(seconds / 60)}:${String(Math.round(seconds % 60)).padStart(2, '0')}`;
  const instruments = [
    VOICE_NAMES[style.chords],
    VOICE_NAMES[style.bass],
    style.lead === 'none' ? null : VOICE_NAMES[style.lead],
    style.drums ? (style.swing > 0 ? 'swung drums' : 'drums') : 'no drums',
  ].filter(Boolean);
  const form = arrangement.sections.map((s) => `${s.name} ${s.bars} bars [${s.chords.join(' ')}]`).join(' | ');
  return [
    `${title ? `"${title}": ` : ''}${style.name}, ${arrangement.bpm} BPM, ${arrangement.tonic} ${arrangement.mode}, ${arrangement.beatsPerBar}/4${arrangement.loop ? '' : `, about ${length}`}`,
    `Instruments: ${instruments.join(', ')}`,
    `Form: ${form}`,
  ].join('\n');
}
