import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AudioFormatError } from '../../src/audio/codecs/errors.js';
import { encodeMidiFile, type MidiFileInstrument, type MidiFileNote, midiVelocity, readMidiFile } from '../../src/audio/codecs/midi.js';

/** Notes of one instrument that MIDI can hold apart: no two of one pitch overlap (docs/midi.md). */
function playable(notes: readonly MidiFileNote[]): MidiFileNote[] {
  const sorted = [...notes].sort((a, b) => a.start - b.start || a.pitch - b.pitch);
  const lastEnd = new Map<number, number>();
  return sorted.filter((note) => {
    const end = lastEnd.get(note.pitch);
    if (end !== undefined && note.start < end + 0.002) return false;
    lastEnd.set(note.pitch, note.end);
    return true;
  });
}

const noteArbitrary = fc
  .record({
    pitch: fc.integer({ min: 0, max: 127 }),
    start: fc.double({ min: 0, max: 600, noNaN: true }),
    length: fc.double({ min: 0.002, max: 8, noNaN: true }),
    velocity: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ pitch, start, length, velocity }) => ({ pitch, start, end: start + length, velocity }));

const instrumentArbitrary = fc.record({
  name: fc.string({ maxLength: 20 }),
  program: fc.integer({ min: 0, max: 127 }),
  isDrum: fc.boolean(),
  notes: fc.array(noteArbitrary, { maxLength: 40 }).map(playable),
});

describe('the Standard MIDI File writer and reader', () => {
  it('round-trips any notes: onsets and ends within 1 ms, pitch exact, velocity to 1/127', () => {
    fc.assert(
      fc.property(fc.array(instrumentArbitrary, { maxLength: 18 }), (instruments: MidiFileInstrument[]) => {
        const file = readMidiFile(encodeMidiFile(instruments, { title: 'round trip' }));
        expect(file.format).toBe(1);
        expect(file.tracks).toHaveLength(instruments.length + 1);
        expect(file.tracks[0]!.name).toBe('round trip');
        instruments.forEach((instrument, index) => {
          const track = file.tracks[index + 1]!;
          expect(track.name).toBe(instrument.name);
          if (instrument.isDrum) expect(track.channel === null || track.channel === 9).toBe(true);
          else if (instrument.notes.length > 0) expect(track.channel).not.toBe(9);
          if (!instrument.isDrum) expect(track.program).toBe(instrument.program);
          // By pitch, then time: notes of one pitch never overlap, so the order is the same on both sides.
          const byPitch = (a: MidiFileNote, b: MidiFileNote) => a.pitch - b.pitch || a.start - b.start;
          const expected = [...instrument.notes].sort(byPitch);
          expect(track.notes).toHaveLength(expected.length);
          [...track.notes].sort(byPitch).forEach((note, i) => {
            const want = expected[i]!;
            expect(note.pitch).toBe(want.pitch);
            expect(Math.abs(note.start - want.start)).toBeLessThanOrEqual(0.001);
            expect(Math.abs(note.end - want.end)).toBeLessThanOrEqual(0.001);
            expect(note.velocity).toBeCloseTo(midiVelocity(want.velocity) / 127, 10);
            expect(Math.abs(note.velocity - want.velocity)).toBeLessThanOrEqual(1 / 254 + 1 / 127 + 1e-9);
          });
        });
      }),
      { numRuns: 150 },
    );
  });

  it('writes type 1 with a tempo track, drums on channel 10 and programs on the others', () => {
    const bytes = encodeMidiFile([
      { name: 'Drums', program: 0, isDrum: true, notes: [{ pitch: 36, start: 0.036, end: 0.182, velocity: 1 }] },
      { name: 'Electric Piano', program: 4, isDrum: false, notes: [{ pitch: 60, start: 0.5, end: 1, velocity: 0.5 }] },
    ]);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('MThd');
    // format 1, 3 tracks, 960 ticks per quarter
    expect([...bytes.subarray(8, 14)]).toEqual([0, 1, 0, 3, 0x03, 0xc0]);
    const file = readMidiFile(bytes);
    expect(file.tracks.map((track) => [track.name, track.channel, track.program])).toEqual([
      [null, null, null],
      ['Drums', 9, null],
      ['Electric Piano', 0, 4],
    ]);
    expect(file.tracks[1]!.notes[0]!.start).toBeCloseTo(0.036, 3);
  });

  it('ends a note of one pitch where the same pitch starts again', () => {
    const file = readMidiFile(
      encodeMidiFile([
        {
          name: 'Bass',
          program: 33,
          isDrum: false,
          notes: [
            { pitch: 40, start: 0, end: 1, velocity: 1 },
            { pitch: 40, start: 0.5, end: 1.5, velocity: 1 },
          ],
        },
      ]),
    );
    expect(file.tracks[1]!.notes.map((note) => [note.start, Number(note.end.toFixed(3))])).toEqual([
      [0, 0.5],
      [0.5, 1.5],
    ]);
  });

  it('refuses bytes that are not a MIDI file, and truncated ones', () => {
    expect(() => readMidiFile(new Uint8Array([1, 2, 3]))).toThrow(AudioFormatError);
    const bytes = encodeMidiFile([{ name: 'x', program: 0, isDrum: false, notes: [{ pitch: 60, start: 0, end: 1, velocity: 1 }] }]);
    expect(() => readMidiFile(bytes.subarray(0, bytes.length - 3))).toThrow(AudioFormatError);
  });
});
