import type { SynthPart } from '../synthesis/synth.js';
import { GM_DRUMS } from './drums.js';

/**
 * The synthesiser's parts as General MIDI instruments: a name in words, the program (0-based, as
 * a program-change byte carries it: GM's number minus one) and, for drum parts, the key each hit
 * plays. Typed over every part, so a new voice does not compile until it has an instrument.
 */
export interface GmInstrument {
  name: string;
  program: number;
  /** The GM percussion key of a drum part's hits (channel 10); absent for pitched parts. */
  drumKey?: number;
}

export const GM_OF_PART: Readonly<Record<SynthPart, GmInstrument>> = {
  'harmony:piano': { name: 'Piano', program: 0 },
  'harmony:epiano': { name: 'Electric Piano', program: 4 },
  'harmony:organ': { name: 'Organ', program: 16 },
  'harmony:pad': { name: 'Synth Pad', program: 89 },
  'harmony:synth': { name: 'Synth', program: 90 },
  'harmony:strings': { name: 'Strings', program: 48 },
  'harmony:power': { name: 'Distorted Guitar', program: 30 },
  'harmony:guitar': { name: 'Electric Guitar', program: 27 },
  'harmony:pluck': { name: 'Acoustic Guitar', program: 25 },
  'harmony:brass': { name: 'Brass', program: 61 },
  'lead:bell': { name: 'Bell Lead', program: 14 },
  'lead:saw': { name: 'Saw Lead', program: 81 },
  'lead:pluck': { name: 'Plucked Lead', program: 25 },
  'lead:epiano': { name: 'Electric Piano Lead', program: 4 },
  'lead:piano': { name: 'Piano Lead', program: 0 },
  'lead:flute': { name: 'Flute', program: 73 },
  'lead:brass': { name: 'Trumpet', program: 56 },
  'lead:guitar': { name: 'Lead Guitar', program: 29 },
  'bass:round': { name: 'Bass', program: 33 },
  'bass:synth': { name: 'Synth Bass', program: 38 },
  'bass:picked': { name: 'Picked Bass', program: 34 },
  'bass:upright': { name: 'Upright Bass', program: 32 },
  'bass:sub': { name: 'Sub Bass', program: 38 },
  'drums:kick': { name: 'Drums', program: 0, drumKey: GM_DRUMS.kick },
  'drums:snare': { name: 'Drums', program: 0, drumKey: GM_DRUMS.snare },
  'drums:hat': { name: 'Drums', program: 0, drumKey: GM_DRUMS.closedHat },
  // The rim/clave click of latin and reggae patterns: its own stem (percussion), so its own instrument.
  'drums:perc': { name: 'Percussion', program: 0, drumKey: GM_DRUMS.claves },
};

/** The sung voice (a lead vocal): GM's "Voice Oohs". */
export const GM_VOICE: GmInstrument = { name: 'Vocals', program: 53 };
