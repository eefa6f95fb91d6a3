import type { SynthPart } from '../../audio/index.js';
import type { SplitStemName } from '../types.js';

/**
 * Which of KIE's stems each instrument of reprise's synthesiser belongs to (docs/stems.md has the
 * same table). Instruments go by the sound of their voice, as the song's sheet names them: the
 * plucked string model is the sheet's acoustic guitar, so a pluck is guitar whether it comps or
 * leads, and the lead "guitar" is the overdriven one. KIE's backing_vocals and fx have no
 * instrument here; its piano (a field of the details view only) is part of keyboard. Typed over
 * every part, so a new voice does not compile until it has a stem.
 */
export const STEM_OF_PART: Readonly<Record<SynthPart, SplitStemName>> = {
  'harmony:piano': 'keyboard',
  'harmony:epiano': 'keyboard',
  'harmony:organ': 'keyboard',
  'harmony:pad': 'synth',
  'harmony:synth': 'synth',
  'harmony:strings': 'strings',
  'harmony:power': 'guitar',
  'harmony:guitar': 'guitar',
  'harmony:pluck': 'guitar',
  'harmony:brass': 'brass',
  'lead:bell': 'synth',
  'lead:saw': 'synth',
  'lead:pluck': 'guitar',
  'lead:epiano': 'keyboard',
  'lead:piano': 'keyboard',
  'lead:flute': 'woodwinds',
  'lead:brass': 'brass',
  'lead:guitar': 'guitar',
  'bass:round': 'bass',
  'bass:synth': 'bass',
  'bass:picked': 'bass',
  'bass:upright': 'bass',
  'bass:sub': 'bass',
  'drums:kick': 'drums',
  'drums:snare': 'drums',
  'drums:hat': 'drums',
  // The rim/clave click of latin and reggae patterns.
  'drums:perc': 'percussion',
};
