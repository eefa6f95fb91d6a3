import { describe, expect, it } from 'vitest';
import { randomFor } from '../../src/audio/prng.js';
import { noteMemo } from '../../src/audio/synthesis/note-memo.js';
import type { Note, Voice } from '../../src/audio/synthesis/voices.js';
import * as voices from '../../src/audio/synthesis/voices.js';

const RATE = 44_100;
const VOICES: Record<string, Voice> = {
  epiano: voices.epiano,
  organ: voices.organ,
  pad: voices.pad,
  power: voices.power,
  pluck: voices.pluck,
  bell: voices.bell,
  saw: voices.saw,
  piano: voices.piano,
  strings: voices.strings,
  brass: voices.brass,
  flute: voices.flute,
  synth: voices.synth,
  guitar: voices.guitar,
  upright: voices.upright,
  sub: voices.sub,
  'bass round': voices.bass('round'),
  'bass synth': voices.bass('synth'),
  'bass picked': voices.bass('picked'),
};
const NOTE: Note = { freq: 220, gateS: 0.4, velocity: 0.7 };
const length = Math.ceil(0.9 * RATE);

/** Bit for bit (a deep equality over a million samples is slow). */
const bytesOf = (samples: Float32Array) => Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && bytesOf(a).equals(bytesOf(b));

/** The voice as the mix calls it without a memo. */
function fresh(voice: Voice, note: Note, seed: number): Float32Array {
  const out = new Float32Array(length);
  voice(out, RATE, note, randomFor('memo', seed));
  return out;
}

describe('note memo', () => {
  it.each(Object.entries(VOICES))('%s: every note the memo renders is the voice’s own, sample for sample', (_, voice) => {
    const memo = noteMemo();
    let calls = 0;
    const counted: Voice = Object.defineProperty(
      (out: Float32Array, rate: number, note: Note, random: ReturnType<typeof randomFor>) => {
        calls++;
        voice(out, rate, note, random);
      },
      'length',
      { value: voice.length },
    );
    // The same note three times (a held chord's tone bar after bar), another pitch, another velocity.
    const notes: [Note, number][] = [
      [NOTE, 1],
      [NOTE, 2],
      [{ ...NOTE, freq: 330 }, 3],
      [NOTE, 4],
      [{ ...NOTE, velocity: 0.3 }, 5],
    ];
    for (const [note, seed] of notes) {
      const out = new Float32Array(length);
      memo.render(counted, out, RATE, note, () => randomFor('memo', seed));
      expect(same(out, fresh(voice, note, seed))).toBe(true);
    }
    // A voice that draws random numbers renders every note; any other, each distinct note once.
    expect(calls).toBe(voice.length >= 4 ? notes.length : 3);
  });

  it('draws a two-part voice’s random part onto each copy of its repeatable part', () => {
    const memo = noteMemo();
    const outs = [1, 2, 3].map((seed) => {
      const out = new Float32Array(length);
      memo.render(voices.piano, out, RATE, NOTE, () => randomFor('memo', seed));
      expect(same(out, fresh(voices.piano, NOTE, seed))).toBe(true);
      return out;
    });
    // Each note's hammer is its own.
    expect(same(outs[0]!, outs[1]!)).toBe(false);
  });

  it('keeps rendering exactly once it holds all it may', () => {
    const memo = noteMemo();
    // About 8 MB of distinct one-second notes, past what the memo keeps (the oldest make room), then each again.
    const notes = Array.from({ length: 48 }, (_, i) => ({ freq: 100 + i, gateS: 0.9, velocity: 0.5 }));
    for (const round of [0, 1]) {
      for (const note of notes) {
        const out = new Float32Array(length);
        memo.render(voices.organ, out, RATE, note, () => randomFor('memo', round));
        expect(same(out, fresh(voices.organ, note, round))).toBe(true);
      }
    }
  });
});
