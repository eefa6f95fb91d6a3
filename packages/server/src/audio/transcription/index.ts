import type { Pcm } from '../pcm.js';
import { GM_DRUMS, transcribeDrums, transcribePercussion } from './drums.js';
import { readStem, SILENT_RMS, type StemSignal, stemSignal, withVelocities } from './frames.js';
import { transcribeMonophonic } from './monophonic.js';
import { transcribePolyphonic } from './polyphonic.js';

/**
 * Notes from audio by signal processing (docs/midi.md): one stem at a time, by the kind of music
 * it holds. An estimate, and honest about it: onsets within a few tens of milliseconds, pitches
 * right on clean synthetic stems, octave and fifth confusions on chords, nothing learned.
 */

/**
 * How a stem is heard: `drums` as kick, snare and hi-hat; `percussion` as hits of one key;
 * `voice` as one sung pitch at a time, each syllable starting on its consonants; `monophonic` as
 * one pitch at a time (bass, a solo wind); `polyphonic` as chords.
 */
export type TranscriptionKind = 'drums' | 'percussion' | 'voice' | 'monophonic' | 'polyphonic';

/** How long a sung syllable's consonants last before its vowel, where its pitch is heard (reprise's voice, median). */
const CONSONANT_LEAD_S = 0.08;
/** How long an attack takes before YIN's frames settle on the new pitch. */
const ATTACK_LEAD_S = 0.03;

/** A transcribed note: MIDI pitch (GM drum keys for drums), seconds, velocity 0..1. */
export interface TranscribedNote {
  pitch: number;
  start: number;
  end: number;
  velocity: number;
}

export type { StemSignal };
export { GM_DRUMS };

/** Decoded samples made ready for transcription: mono at about 11 kHz, unit RMS, with the level they had. */
export const prepareStem = (pcm: Pcm): StemSignal => stemSignal(pcm);

/** A stem's MP3 or WAV file made ready for transcription, an MP3 without ever holding it decoded whole. */
export { readStem };

/**
 * The notes of one stem, by start time; none for silence (a stem under about −80 dBFS RMS). A
 * note's velocity is its level relative to the loudest note of the stem (for drums, of its drum).
 */
export function transcribeStem(signal: StemSignal, kind: TranscriptionKind): TranscribedNote[] {
  if (signal.levelRms < SILENT_RMS || signal.samples.length === 0) return [];
  switch (kind) {
    case 'drums':
      return transcribeDrums(signal)
        .flatMap((hits) => withVelocities(hits))
        .sort((a, b) => a.start - b.start || a.pitch - b.pitch);
    case 'percussion':
      return withVelocities(transcribePercussion(signal, GM_DRUMS.claves));
    case 'voice':
      return withVelocities(transcribeMonophonic(signal, CONSONANT_LEAD_S));
    case 'monophonic':
      return withVelocities(transcribeMonophonic(signal, ATTACK_LEAD_S));
    case 'polyphonic':
      return withVelocities(transcribePolyphonic(signal));
  }
}

/** `prepareStem` then `transcribeStem`. */
export const transcribeAudio = (pcm: Pcm, kind: TranscriptionKind): TranscribedNote[] => transcribeStem(prepareStem(pcm), kind);
