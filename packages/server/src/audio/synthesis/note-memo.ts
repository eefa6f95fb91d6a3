import { type Note, TWO_PART_VOICES, type Voice } from './voices.js';

/**
 * Notes a mix (one sample rate) has rendered, kept to be copied when the same note comes again: a held chord
 * repeats its tones bar after bar, and a bass line its roots. What is kept is what is a function
 * of the note alone: the whole note of a voice that draws no random numbers (such a voice does
 * not declare the `random` parameter, the fourth, and an arrow function cannot read an
 * undeclared one, so `voice.length < 4` is the test), or the repeatable part of a two-part voice,
 * whose random part is then drawn onto the copy. A copy is the very samples a new rendering would write.
 */

/** What the memo may hold, in bytes: a few seconds of distinct notes, a small share of a render's memory. */
const MEMO_BYTES = 6 * 1024 * 1024;

export interface NoteMemo {
  /** Renders the note into `out` (zeroed, its length the note's), from the memo where the note was rendered before. */
  render(voice: Voice, out: Float32Array, sampleRate: number, note: Note, draw: () => Parameters<Voice>[3]): void;
}

/** Where a kept note's samples lie in the memo's arena. */
interface Kept {
  at: number;
  length: number;
}

export function noteMemo(): NoteMemo {
  const voiceIds = new Map<Voice, number>();
  const capacity = MEMO_BYTES / Float32Array.BYTES_PER_ELEMENT;
  // The kept notes' samples share one arena written round like a ring: a note is stored at the
  // write position and displaces the notes it overlaps, the oldest ones (a song's sections each
  // bring their own chords). One array, rather than one per note, leaves no garbage behind.
  let arena: Float32Array | null = null;
  let head = 0;
  const kept = new Map<string, Kept>();
  const overlaps = (note: Kept, from: number, to: number) => note.at < to && note.at + note.length > from;
  const keep = (key: string, samples: Float32Array) => {
    const n = samples.length;
    if (n > capacity) return;
    arena ??= new Float32Array(capacity);
    const wraps = head + n > capacity;
    const at = wraps ? 0 : head;
    for (const [oldKey, old] of kept) {
      if (overlaps(old, at, at + n) || (wraps && overlaps(old, head, capacity))) kept.delete(oldKey);
    }
    arena.set(samples, at);
    kept.set(key, { at, length: n });
    head = at + n;
  };
  /** The repeatable part of a voice's note into `out` by `render`, or copied where it was rendered before. */
  const repeat = (voice: Voice, out: Float32Array, note: Note, render: () => void) => {
    let id = voiceIds.get(voice);
    if (id === undefined) {
      id = voiceIds.size;
      voiceIds.set(voice, id);
    }
    const key = `${id} ${note.freq} ${note.gateS} ${note.velocity} ${out.length}`;
    const known = kept.get(key);
    if (known && arena) {
      out.set(arena.subarray(known.at, known.at + known.length));
      return;
    }
    render();
    keep(key, out);
  };
  return {
    render(voice, out, sampleRate, note, draw) {
      const twoParts = TWO_PART_VOICES.get(voice);
      if (twoParts) {
        repeat(voice, out, note, () => twoParts.repeatable(out, sampleRate, note));
        twoParts.rest(out, sampleRate, note, draw());
      } else if (voice.length < 4) repeat(voice, out, note, () => voice(out, sampleRate, note, draw()));
      else voice(out, sampleRate, note, draw());
    },
  };
}
