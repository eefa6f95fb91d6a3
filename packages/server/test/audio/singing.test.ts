import FFT from 'fft.js';
import { describe, expect, it } from 'vitest';
import { parseLyrics } from '../../src/audio/synthesis/lyrics.js';
import { type MelodyContext, melodyFor, type PhraseSlot, planVocal, scaleOf, steadyGrid } from '../../src/audio/synthesis/melody.js';
import { pronounce, renderVoice, type SungNote, VOWEL_FORMANTS, type VowelName } from '../../src/audio/synthesis/singing.js';

const RATE = 22_050;

/** YIN (de Cheveigné & Kawahara): the fundamental of a frame in Hz, or null where it is not periodic. */
function yin(signal: Float32Array, from: number, size: number, minHz = 70, maxHz = 700): number | null {
  const maxLag = Math.floor(RATE / minHz);
  const minLag = Math.floor(RATE / maxHz);
  if (from + size + maxLag > signal.length) return null;
  const d = new Float64Array(maxLag + 1);
  for (let lag = 1; lag <= maxLag; lag++) {
    let sum = 0;
    for (let i = 0; i < size; i++) {
      const diff = signal[from + i]! - signal[from + i + lag]!;
      sum += diff * diff;
    }
    d[lag] = sum;
  }
  let running = 0;
  const cmnd = new Float64Array(maxLag + 1).fill(1);
  for (let lag = 1; lag <= maxLag; lag++) {
    running += d[lag]!;
    cmnd[lag] = running > 0 ? (d[lag]! * lag) / running : 1;
  }
  for (let lag = minLag; lag < maxLag; lag++) {
    if (cmnd[lag]! < 0.15) {
      while (lag + 1 < maxLag && cmnd[lag + 1]! < cmnd[lag]!) lag++;
      // Parabolic interpolation of the dip.
      const a = cmnd[lag - 1]!;
      const b = cmnd[lag]!;
      const c = cmnd[lag + 1]!;
      const shift = (a - c) / (2 * (a - 2 * b + c) || 1);
      return RATE / (lag + shift);
    }
  }
  return null;
}

const midiOf = (hz: number) => 69 + 12 * Math.log2(hz / 440);

function rmsOf(signal: Float32Array, fromS: number, toS: number): number {
  const from = Math.max(0, Math.round(fromS * RATE));
  const to = Math.min(signal.length, Math.round(toS * RATE));
  let sum = 0;
  for (let i = from; i < to; i++) sum += signal[i]! * signal[i]!;
  return Math.sqrt(sum / Math.max(1, to - from));
}

/** Magnitude spectrum of [fromS, fromS + 2^k samples), Hann-windowed. */
function spectrum(signal: Float32Array, fromS: number, size = 8192): Float64Array {
  const fft = new FFT(size);
  const input = new Float64Array(size);
  const start = Math.round(fromS * RATE);
  for (let i = 0; i < size; i++) input[i] = (signal[start + i] ?? 0) * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size));
  const out = fft.createComplexArray() as number[];
  fft.realTransform(out, input);
  const mags = new Float64Array(size / 2);
  for (let k = 0; k < size / 2; k++) mags[k] = Math.hypot(out[2 * k]!, out[2 * k + 1]!);
  return mags;
}

/**
 * Formants as the peaks of the harmonic envelope: each harmonic's amplitude, lightly smoothed
 * across neighbours for F1 (the strongest in 200–1000 Hz); F2 is the strongest local maximum of the raw levels above F1 + 250 Hz, up to 3 kHz.
 */
function formants(signal: Float32Array, f0: number): [number, number] {
  const size = 8192;
  const mags = spectrum(signal, 0.3, size);
  const binHz = RATE / size;
  const harmonics: { hz: number; level: number }[] = [];
  for (let k = 1; k * f0 < 4000; k++) {
    const centre = Math.round((k * f0) / binHz);
    let level = 0;
    for (let b = centre - 3; b <= centre + 3; b++) level = Math.max(level, mags[b] ?? 0);
    harmonics.push({ hz: k * f0, level: Math.log(level + 1e-12) });
  }
  const smooth = harmonics.map((h, i) => ({
    hz: h.hz,
    level: (harmonics[i - 1]?.level ?? h.level) * 0.25 + h.level * 0.5 + (harmonics[i + 1]?.level ?? h.level) * 0.25,
  }));
  const inBand = (lo: number, hi: number) => smooth.filter((h) => h.hz >= lo && h.hz <= hi);
  const f1 = inBand(200, 1000).reduce((a, b) => (b.level > a.level ? b : a)).hz;
  const peaks = harmonics.filter(
    (h, i) => i > 0 && i < harmonics.length - 1 && h.level >= harmonics[i - 1]!.level && h.level >= harmonics[i + 1]!.level && h.hz > f1 + 250 && h.hz <= 3000,
  );
  const f2 = peaks.reduce((a, b) => (b.level > a.level ? b : a)).hz;
  return [f1, f2];
}

const sustained = (vowel: VowelName, midi: number, seconds = 1.2): SungNote[] => [
  { startS: 0.05, endS: 0.05 + seconds, midi, sound: { onset: [], nucleus: [vowel], coda: [] }, legato: false },
];

describe('singing voice: vowels', () => {
  it('puts F1 and F2 where each vowel has them, male and female', () => {
    const measured: Record<string, [number, number]> = {};
    for (const gender of ['m', 'f'] as const) {
      const midi = gender === 'm' ? 43 : 50; // G2 / D3: low, so the harmonics sample the envelope finely
      const f0 = 440 * 2 ** ((midi - 69) / 12);
      for (const vowel of ['a', 'i', 'u', 'ae'] as const) {
        const voice = renderVoice(sustained(vowel, midi), { sampleRate: RATE, frames: Math.round(1.4 * RATE), gender, seed: 'v' });
        const [f1, f2] = formants(voice, f0);
        measured[`${gender}:${vowel}`] = [Math.round(f1), Math.round(f2)];
        const [t1, t2] = VOWEL_FORMANTS[gender][vowel];
        expect(Math.abs(f1 - t1), `${gender} ${vowel} F1 ${f1} vs ${t1}`).toBeLessThan(f0 * 1.2);
        expect(Math.abs(f2 - t2), `${gender} ${vowel} F2 ${f2} vs ${t2}`).toBeLessThan(Math.max(150, f0 * 1.5));
      }
    }
    // 'ah' is open (high F1) and back (low F2); 'ee' is closed and front.
    expect(measured['m:a']![0] - measured['m:i']![0]).toBeGreaterThan(300);
    expect(measured['m:i']![1] - measured['m:a']![1]).toBeGreaterThan(900);
    console.info('formants [F1, F2] Hz', measured);
  });
});

/** A minor at 96 BPM, Am F C G, two lines of verse from bar 1 and two of chorus from bar 7. */
const A_MINOR: Omit<MelodyContext, 'range'> = {
  seed: 'sing-test',
  tonic: 9,
  mode: 'minor',
  grid: steadyGrid(96),
  chordAt: (bar) =>
    [
      [9, 0, 4],
      [5, 9, 0],
      [0, 4, 7],
      [7, 11, 2],
    ][bar % 4]!,
};
const LYRICS = `[Verse]
Silver rivers running through the night
Every window holding on to light
[Chorus]
Sing it louder, sing it like the sea
Carry me home to the melody`;
const SLOTS: PhraseSlot[] = [
  { bar: 1, bars: 2, kind: 'verse', index: 0, last: false },
  { bar: 3, bars: 2, kind: 'verse', index: 1, last: true },
  { bar: 7, bars: 2, kind: 'chorus', index: 0, last: false },
  { bar: 9, bars: 2, kind: 'chorus', index: 1, last: true },
];
const SONG_S = 12 * 2.5;

function sing(gender: 'm' | 'f') {
  const context: MelodyContext = { ...A_MINOR, range: gender === 'm' ? { low: 48, high: 64 } : { low: 57, high: 74 } };
  const plan = planVocal(context, parseLyrics(LYRICS), SLOTS);
  const voice = renderVoice(plan.notes, { sampleRate: RATE, frames: Math.round(SONG_S * RATE), gender, seed: 'sing-test' });
  return { plan, voice };
}

/** Pitch (MIDI, fractional) of every voiced 20 ms frame, with its centre time. */
function pitchTrack(voice: Float32Array): { t: number; midi: number }[] {
  const size = 1024;
  const hop = 441;
  const out: { t: number; midi: number }[] = [];
  for (let from = 0; from + size + RATE / 70 < voice.length; from += hop) {
    const t = (from + size / 2) / RATE;
    if (rmsOf(voice, from / RATE, (from + size) / RATE) < 0.03) continue;
    const f = yin(voice, from, size);
    if (f) out.push({ t, midi: midiOf(f) });
  }
  return out;
}

describe('singing voice: a sung line', () => {
  for (const gender of ['m', 'f'] as const) {
    it(`sings in the key, on the planned notes (${gender})`, () => {
      const { plan, voice } = sing(gender);
      expect(plan.words.map((w) => w.word).join(' ')).toBe(
        LYRICS.split('\n')
          .filter((l) => !l.startsWith('['))
          .join(' '),
      );
      const track = pitchTrack(voice);
      const scale = new Set(scaleOf(9, 'minor'));
      const inScale = track.filter((f) => scale.has(((Math.round(f.midi) % 12) + 12) % 12)).length / track.length;
      // Notes held long enough to measure: the median pitch over their middle.
      let followed = 0;
      let measured = 0;
      for (const note of plan.notes) {
        const length = note.endS - note.startS;
        if (length < 0.2) continue;
        const frames = track.filter((f) => f.t > note.startS + 0.45 * length && f.t < note.endS - 0.15 * length).map((f) => f.midi);
        if (frames.length < 2) continue;
        frames.sort((a, b) => a - b);
        const median = frames[Math.floor(frames.length / 2)]!;
        measured++;
        if (Math.abs(median - note.midi) < 0.5) followed++;
      }
      console.info(`${gender}: ${track.length} voiced frames, ${(inScale * 100).toFixed(1)} % in A minor; ${followed}/${measured} held notes on pitch`);
      expect(track.length).toBeGreaterThan(150);
      expect(inScale).toBeGreaterThanOrEqual(0.9);
      expect(measured).toBeGreaterThan(plan.notes.length / 3);
      expect(followed / measured).toBeGreaterThanOrEqual(0.9);
      const range = gender === 'm' ? [48, 64] : [57, 74];
      for (const note of plan.notes) expect(note.midi >= range[0]! && note.midi <= range[1]! && scale.has(note.midi % 12)).toBe(true);
    });
  }

  it('sounds in every word and is silent between phrases, a breath before the next', () => {
    const { plan, voice } = sing('f');
    const sungRms = rmsOf(voice, plan.words[0]!.startS, plan.words[plan.words.length - 1]!.endS);
    for (const word of plan.words) expect(rmsOf(voice, word.startS, word.endS), word.word).toBeGreaterThan(0.25 * sungRms);
    const verseEnd = plan.notes.filter((n) => n.startS < A_MINOR.grid.timeOf(7 * 4)).at(-1)!.endS;
    const chorusStart = A_MINOR.grid.timeOf(7 * 4);
    // Two bars of rest between verse and chorus: nothing, then a short soft breath just before the chorus.
    expect(chorusStart - verseEnd).toBeGreaterThan(1.5);
    expect(rmsOf(voice, verseEnd + 0.05, chorusStart - 0.4)).toBeLessThan(1e-4);
    const breath = rmsOf(voice, chorusStart - 0.36, chorusStart - 0.06);
    expect(breath).toBeGreaterThan(1e-4);
    expect(breath).toBeLessThan(0.3 * sungRms);
    // Before the first word and after the last: silence (but for the first breath).
    expect(rmsOf(voice, 0, plan.words[0]!.startS - 0.4)).toBeLessThan(1e-4);
    expect(rmsOf(voice, plan.words.at(-1)!.endS + 0.05, SONG_S)).toBeLessThan(1e-4);
  });

  it('makes an s a hiss and a vowel voiced: spectral centroid of the onset against the vowel', () => {
    const note: SungNote = { startS: 0.05, endS: 0.85, midi: 57, sound: pronounce('see')[0]!, legato: false };
    expect(note.sound).toEqual({ onset: ['s'], nucleus: ['i'], coda: [] });
    const voice = renderVoice([note], { sampleRate: RATE, frames: RATE, gender: 'f', seed: 's' });
    const centroid = (fromS: number) => {
      const mags = spectrum(voice, fromS, 1024);
      let weighted = 0;
      let total = 0;
      mags.forEach((m, k) => {
        weighted += m * ((k * RATE) / 1024);
        total += m;
      });
      return weighted / total;
    };
    const hiss = centroid(0.07);
    const vowel = centroid(0.5);
    expect(hiss).toBeGreaterThan(4000);
    expect(vowel).toBeLessThan(2500);
  });

  it('renders the same samples for the same seed, and differs for another', () => {
    const notes = sustained('a', 50, 0.5);
    const options = { sampleRate: RATE, frames: RATE, gender: 'm' as const, seed: 'x' };
    expect(Buffer.from(renderVoice(notes, options).buffer).equals(Buffer.from(renderVoice(notes, options).buffer))).toBe(true);
    expect(Buffer.from(renderVoice(notes, options).buffer).equals(Buffer.from(renderVoice(notes, { ...options, seed: 'y' }).buffer))).toBe(false);
  });
});

describe('melody', () => {
  it('puts one note per syllable on the grid, inside the phrase, strong beats on chord tones', () => {
    const context: MelodyContext = { ...A_MINOR, range: { low: 57, high: 74 } };
    for (const count of [3, 7, 9, 12, 20]) {
      const slot: PhraseSlot = { bar: 2, bars: 2, kind: 'verse', index: 0, last: true };
      const notes = melodyFor(context, slot, count);
      expect(notes).toHaveLength(count);
      const barS = 2.5;
      for (const [i, note] of notes.entries()) {
        expect(note.startS).toBeGreaterThanOrEqual(2 * barS - 1e-9);
        expect(note.endS).toBeLessThanOrEqual(4 * barS - 0.25 * 2.5 + 1e-9);
        if (i > 0) expect(note.startS).toBeCloseTo(notes[i - 1]!.endS, 9);
        if (note.step % 8 === 0) expect(context.chordAt(2 + Math.floor(note.step / 16)).includes(note.midi % 12), `${count}: step ${note.step}`).toBe(true);
      }
      // The section's last phrase comes home.
      expect(notes.at(-1)!.midi % 12).toBe(9);
    }
  });
});
