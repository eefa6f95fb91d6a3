import type { Note, Voice } from './voices.js';

/**
 * Notes a mix (one sample rate) has rendered, kept to be copied when the same note comes again: a held chord
 * repeats its tones bar after bar, and a bass line its roots. Only a voice that draws no random
 * numbers qualifies, since its sound is a function of the note alone; such a voice does not
 * declare the `random` parameter (the fourth), and an arrow function cannot read an undeclared
 * one, so `voice.length < 4` is the test. A copy is the very samples a new rendering would write.
 */

/** What the memo may hold, in bytes: a few seconds of distinct notes, a small share of a render's memory. */
const MEMO_BYTES = 6 * 1024 * 1024;

export interface NoteMemo {
  /** Renders the note into `out` (zeroed, its length the note's), from the memo where the note was rendered before. */
  render(voice: Voice, out: Float32Array, sampleRate: number, note: Note, draw: () => Parameters<Voice>[3]): void;
}

export function noteMemo(): NoteMemo {
  const byVoice = new Map<Voice, Map<string, Float32Array>>();
  let bytes = 0;
  return {
    render(voice, out, sampleRate, note, draw) {
      if (voice.length >= 4) {
        voice(out, sampleRate, note, draw());
        return;
      }
      let notes = byVoice.get(voice);
      if (!notes) {
        notes = new Map();
        byVoice.set(voice, notes);
      }
      const key = `${note.freq} ${note.gateS} ${note.velocity} ${out.length}`;
      const known = notes.get(key);
      if (known) {
        out.set(known);
        return;
      }
      voice(out, sampleRate, note, draw());
      if (bytes + out.byteLength <= MEMO_BYTES) {
        notes.set(key, out.slice());
        bytes += out.byteLength;
      }
    },
  };
}
