import { beforeAll, describe, expect, it } from 'vitest';
import { analyse } from '../../src/audio/analysis/index.js';
import { decodeAudio } from '../../src/audio/codecs/decode.js';
import { addInstrumental, chooseChords } from '../../src/engine/procedural/add-instrumental.js';
import { DEFAULT_SCRATCH_DIR } from '../../src/engine/scratch.js';
import { type AddInstrumentalInput, type GenerateProgress, type RenderedTrack, SourceAudioError } from '../../src/engine/types.js';
import { buildWav } from '../audio/wav-fixtures.js';

const RATE = 44_100;
const context = { modelName: 'reprise-procedural-1', fadeS: 0.75, scratchDir: DEFAULT_SCRATCH_DIR };
const live = () => new AbortController().signal;

/**
 * A synthetic "vocal" in D major at 120 BPM: a sung-like tone (a few harmonics, vibrato, soft
 * attack and release) on a melody that leans on the tonic triad, two bars sung, one bar rest.
 * MIDI notes per eighth (null: rest, the same note twice: held).
 */
const MELODY: (number | null)[][] = [
  [62, 62, 66, 66, 69, 69, 66, 64],
  [62, 64, 66, 67, 69, 69, 69, 69],
  [null, null, null, null, null, null, null, null],
  [71, 71, 69, 69, 66, 66, 64, 62],
  [64, 64, 61, 61, 62, 62, 62, 62],
  [null, null, null, null, null, null, null, null],
];
function vocal(): Float32Array {
  const eighth = 0.25;
  const out = new Float32Array(Math.round(MELODY.length * 8 * eighth * RATE));
  const notes: { midi: number; start: number; length: number }[] = [];
  MELODY.flat().forEach((midi, i) => {
    if (midi === null) return;
    const last = notes[notes.length - 1];
    if (last && last.midi === midi && last.start + last.length === i) last.length++;
    else notes.push({ midi, start: i, length: 1 });
  });
  for (const note of notes) {
    const hz = 440 * 2 ** ((note.midi - 69) / 12);
    const from = Math.round(note.start * eighth * RATE);
    const frames = Math.round(note.length * eighth * RATE * 0.92);
    let phase = 0;
    for (let i = 0; i < frames; i++) {
      const t = i / RATE;
      const envelope = Math.min(1, t / 0.04) * Math.min(1, (frames - i) / (0.05 * RATE));
      phase += (2 * Math.PI * hz * (1 + 0.006 * Math.sin(2 * Math.PI * 5.5 * t))) / RATE;
      const v = Math.sin(phase) + 0.5 * Math.sin(2 * phase) + 0.25 * Math.sin(3 * phase) + 0.12 * Math.sin(4 * phase);
      out[from + i] = 0.3 * envelope * v;
    }
  }
  return out;
}

const energy = (x: Float32Array) => x.reduce((s, v) => s + v * v, 0) / x.length;

describe('procedural addInstrumental', () => {
  const voice = vocal();
  const input: AddInstrumentalInput = {
    source: { bytes: buildWav({ sampleRate: RATE, channels: [voice], bits: 32, float: true }), name: 'vocal.wav' },
    style: 'acoustic pop, piano',
    prompt: '',
    title: 'Backed',
    negativeTags: '',
    seed: 'add-instrumental-1',
  };
  let track: RenderedTrack;
  const progress: GenerateProgress[] = [];
  let out: Float32Array[];
  beforeAll(async () => {
    const tracks = await addInstrumental(context, input, live(), async (p) => {
      progress.push(p);
    });
    expect(tracks).toHaveLength(1);
    track = tracks[0]!;
    out = (await decodeAudio(track.master!)).channels;
  });

  it('keeps the length and reports what it measured, then the track', () => {
    expect(track.durationS).toBeCloseTo(voice.length / RATE, 3);
    expect(progress.map((p) => p.stage)).toEqual(['text', 'first']);
    const sheet = progress[0]!.stage === 'text' ? progress[0]!.sheet : '';
    expect(sheet).toMatch(/Key of the vocal: (D major|B minor)/);
    expect(sheet).toMatch(/Tempo: 1(19|20|21)\.\d BPM, the vocal's own pulse/);
    expect(sheet).toMatch(/Chords per bar/);
  });

  it('keeps the vocal sample for sample, with an accompaniment a few dB under it in its key', () => {
    const band = out.map((channel) => channel.map((v, i) => v - voice[i]!));
    // The source is in the mix at unity: the output correlates with it, and the rest is the band.
    let xy = 0;
    for (let i = 0; i < voice.length; i++) xy += out[0]![i]! * voice[i]!;
    const correlation = xy / Math.sqrt(energy(out[0]!) * energy(voice)) / voice.length;
    expect(correlation).toBeGreaterThan(0.75);
    const belowDb = 10 * Math.log10(energy(band[0]!) / energy(voice));
    expect(belowDb).toBeLessThan(-2);
    expect(belowDb).toBeGreaterThan(-15);
    // The band is real music in the vocal's key (or its relative).
    const key = analyse({ sampleRate: RATE, channels: band }).key!;
    expect(['D major', 'B minor']).toContain(`${key.tonic} ${key.mode}`);
    // Fuller in the rests (bar 3: 4–6 s) than under the voice (bar 1: 0–2 s).
    const level = (fromS: number, toS: number) => energy(band[0]!.subarray(fromS * RATE, toS * RATE));
    expect(10 * Math.log10(level(4.2, 5.8) / level(0.2, 1.8))).toBeGreaterThan(1);
  });

  it('is deterministic per seed', async () => {
    const again = await addInstrumental(context, input, live(), async () => {});
    expect(Buffer.from(again[0]!.mp3).equals(Buffer.from(track.mp3))).toBe(true);
    const other = await addInstrumental(context, { ...input, seed: 'another' }, live(), async () => {});
    expect(Buffer.from(other[0]!.mp3).equals(Buffer.from(track.mp3))).toBe(false);
  });

  it('refuses bytes that are not audio', async () => {
    const garbage = { ...input, source: { bytes: new Uint8Array(4000).fill(9), name: 'x.bin' } };
    await expect(addInstrumental(context, garbage, live(), async () => {})).rejects.toBeInstanceOf(SourceAudioError);
  });

  it('fits each sung bar with the diatonic triad that holds its notes', () => {
    const chroma = (...classes: number[]) => Array.from({ length: 12 }, (_, c) => (classes.includes(c) ? 1 : 0.05));
    // D major: a bar on A–C#–E, one on B–D–F#, one on G–B–D, and a rest (the progression's chord).
    const chords = chooseChords([chroma(9, 1, 4), chroma(11, 2, 6), chroma(7, 11, 2), chroma()], [true, true, true, false], { pitchClass: 2, mode: 'major' }, [
      'D',
      'A',
      'Bm',
      'G',
    ]);
    expect(chords.map((c) => c.symbol)).toEqual(['A', 'Bm', 'G', 'G']);
    expect(chords.map((c) => c.degree)).toEqual(['V', 'vi', 'IV', 'IV']);
  });
});
