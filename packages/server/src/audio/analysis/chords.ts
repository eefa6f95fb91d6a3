import type { Pcm } from '../pcm.js';
import { addKeyChroma, CHROMA_FFT as KEY_CHROMA_FFT, CHROMA_HOP as KEY_CHROMA_HOP, keyBinClasses, PITCH_NAMES } from './key.js';
import { type AnalysisFront, analysisFront, forEachSpectrum, type MonoSignal, stftFrameCount } from './spectrum.js';

/**
 * A chord per bar, read from the audio on a bar grid the caller measured (the
 * beat tracker's downbeats). Per bar, the chroma of the frames that lie inside
 * it is summed and matched against chord templates: major and minor triads on
 * every root and, optionally, dominant, minor and major sevenths. A template
 * is not a bare set of pitch classes but the chord's notes with their first
 * harmonics (each softer than the last), because the chroma of real or
 * synthesised instruments counts overtones too: a minor chord's root puts a
 * major third into the chroma through its fifth harmonic, which a binary
 * template would hold against it.
 */

export type ChordQuality = 'major' | 'minor' | '7' | 'm7' | 'maj7';

export interface BarGrid {
  /** Start of every bar in seconds of the song; bar k spans [starts[k], starts[k + 1]). */
  starts: readonly number[];
  /** End of the last bar. */
  endS: number;
}

export interface ChordReading {
  /** Chord symbol in the arrangement's spelling (flats for black keys): "C", "Ebm", "G7", "Am7", "Fmaj7". */
  symbol: string;
  /** Pitch class of the root, 0 = C … 11 = B. */
  root: number;
  quality: ChordQuality;
  /** Cosine between the bar's chroma and the winning template. */
  score: number;
  /** 0..1: how far the winner stands above the best chord with another root or third. */
  confidence: number;
}

export interface ChordOptions {
  /** Also consider 7, m7 and maj7 chords (default true). */
  sevenths?: boolean;
  /** The song's key: its diatonic chords win near-ties (a power chord, a bar of passing notes). */
  key?: { pitchClass: number; mode: 'major' | 'minor' } | null;
}

/** Chroma STFT: ~370 ms windows (enough resolution at 100 Hz) every ~46 ms, so short bars still hold several whole frames. */
const CHROMA_FFT = 4096;
const CHROMA_HOP = 512;
/** Every this-many frames of the bars' chroma STFT is one of the key's (see chromagramsInOnePass). */
const KEY_FRAME_STEP = KEY_CHROMA_HOP / CHROMA_HOP;
if (KEY_CHROMA_FFT !== CHROMA_FFT || !Number.isInteger(KEY_FRAME_STEP)) throw new Error('the key and bar chroma STFTs no longer share their frames');
/** Harmonics per chord note in a template, and how much softer each is than the one below. */
const HARMONICS = 6;
const HARMONIC_DECAY = 0.4;
/**
 * A seventh chord must beat its own triad by this much (in cosine) to be
 * named: a triad with a passing melody note on its seventh is still a triad.
 */
const SEVENTH_MARGIN = 0.05;
/** Bonus (in cosine) of the key's diatonic chords. */
const DIATONIC_BONUS = 0.02;
/**
 * Bar chroma is compressed (raised to this power after scaling to a maximum of
 * 1): a bass line's strong root harmonics otherwise drown the third, which is
 * what tells major from minor. With this power, the harmonic decay and the
 * seventh margin above, three sets of ten songs rendered in ten styles (about
 * 120 bars each) were read 97.5, 98 and 99 % right (root and third); the other
 * settings tried (powers 0.5 and 1, decay 0.6, margin 0.02) read 91–98 %.
 */
const CHROMA_POWER = 0.7;
/** A bar this far (in dB) below the song's average level has no chord to read. */
const SILENT_DB = -50;

const INTERVALS: Record<ChordQuality, readonly number[]> = {
  major: [0, 4, 7],
  minor: [0, 3, 7],
  '7': [0, 4, 7, 10],
  m7: [0, 3, 7, 10],
  maj7: [0, 4, 7, 11],
};
const SUFFIX: Record<ChordQuality, string> = { major: '', minor: 'm', '7': '7', m7: 'm7', maj7: 'maj7' };
/** Whether the chord's third is major: what tells chords with the same root apart. */
const MAJOR_THIRD: Record<ChordQuality, boolean> = { major: true, minor: false, '7': true, m7: false, maj7: true };
const TRIADS: readonly ChordQuality[] = ['major', 'minor'];
const SEVENTHS: readonly ChordQuality[] = ['7', 'm7', 'maj7'];

/** Pitch classes above a note where its harmonics 1…HARMONICS land (octave, fifth, octave, major third, …). */
const HARMONIC_CLASSES = Array.from({ length: HARMONICS }, (_, h) => Math.round(12 * Math.log2(h + 1)) % 12);

interface Template {
  root: number;
  quality: ChordQuality;
  /** Unit length. */
  weights: Float64Array;
}

function template(root: number, quality: ChordQuality): Template {
  const weights = new Float64Array(12);
  for (const interval of INTERVALS[quality]) {
    for (let h = 0; h < HARMONICS; h++) weights[(root + interval + HARMONIC_CLASSES[h]!) % 12]! += HARMONIC_DECAY ** h;
  }
  const norm = Math.hypot(...weights);
  for (let c = 0; c < 12; c++) weights[c]! /= norm;
  return { root, quality, weights };
}

const TEMPLATES: readonly Template[] = [...TRIADS, ...SEVENTHS].flatMap((quality) => Array.from({ length: 12 }, (_, root) => template(root, quality)));

export const chordSymbol = (root: number, quality: ChordQuality): string => `${PITCH_NAMES[root]!}${SUFFIX[quality]}`;

/** Roots and thirds of the key's diatonic triads (natural minor for minor keys). */
function diatonic(key: { pitchClass: number; mode: 'major' | 'minor' }): Set<string> {
  const steps = key.mode === 'major' ? [0, 2, 4, 5, 7, 9, 11] : [0, 2, 3, 5, 7, 8, 10];
  const chords = new Set<string>();
  steps.forEach((step, degree) => {
    const third = (steps[(degree + 2) % 7]! - step + 12) % 12;
    if (third === 3 || third === 4) chords.add(`${(key.pitchClass + step) % 12}:${third === 4}`);
  });
  return chords;
}

/**
 * The chord a chroma vector sounds most like, or null for a silent one. A
 * seventh is named only where it clearly beats the triad it contains, and the
 * confidence is measured against the best chord with another root or third
 * (a G7 against a G is not a rival reading).
 */
export function chordOfChroma(chroma: readonly number[], options: ChordOptions = {}): ChordReading | null {
  const norm = Math.hypot(...chroma);
  if (!(norm > 0)) return null;
  const inKey = options.key ? diatonic(options.key) : null;
  const sevenths = options.sevenths ?? true;
  const scored = TEMPLATES.filter((t) => sevenths || TRIADS.includes(t.quality)).map((t) => {
    let cosine = 0;
    for (let c = 0; c < 12; c++) cosine += (chroma[c]! / norm) * t.weights[c]!;
    const bonus = inKey?.has(`${t.root}:${MAJOR_THIRD[t.quality]}`) ? DIATONIC_BONUS : 0;
    const margin = SEVENTHS.includes(t.quality) ? SEVENTH_MARGIN : 0;
    return { template: t, cosine, score: cosine + bonus - margin };
  });
  scored.sort((a, b) => b.score - a.score);
  const best = scored[0]!;
  const sameChord = (t: Template) => t.root === best.template.root && MAJOR_THIRD[t.quality] === MAJOR_THIRD[best.template.quality];
  const rival = scored.find((s) => !sameChord(s.template));
  const gap = best.score - (rival?.score ?? 0);
  const { root, quality } = best.template;
  // A gap of 0.1 in cosine is a clear call.
  return { symbol: chordSymbol(root, quality), root, quality, score: best.cosine, confidence: Math.max(0, Math.min(1, gap / 0.1)) };
}

/** Range of fundamentals and low harmonics that carry the harmony (the bass's fundamentals lie below). */
const LOW_HZ = 100;
const HIGH_HZ = 1000;

/**
 * Chroma per frame (12 values each) from the spectral peaks in the harmony's
 * range, left at their magnitude: unlike the key's chromagram, whose frames
 * are each scaled to a maximum of 1, a frame where the chords sound outweighs
 * one where only a hi-hat or a rim click does. Off-beat chords (a reggae
 * skank, funk scratches) sound in a few frames of the bar only.
 */
function rawChromagram(signal: MonoSignal): Float32Array {
  const bins = CHROMA_FFT / 2;
  const classes = rawBinClasses(bins, signal.sampleRate);
  const out = new Float32Array(stftFrameCount(signal.samples.length, CHROMA_FFT, CHROMA_HOP) * 12);
  forEachSpectrum(signal, CHROMA_FFT, CHROMA_HOP, (f, row) => addRawChroma(row, bins, classes, out, f * 12));
  return out;
}

function rawBinClasses(bins: number, sampleRate: number): Int8Array {
  const classes = new Int8Array(bins).fill(-1);
  for (let k = 1; k < bins; k++) {
    const hz = (k * sampleRate) / CHROMA_FFT;
    if (hz >= LOW_HZ && hz <= HIGH_HZ) classes[k] = ((Math.round(69 + 12 * Math.log2(hz / 440)) % 12) + 12) % 12;
  }
  return classes;
}

/** One frame's raw chroma into out[at, at + 12). */
function addRawChroma(magnitudes: Float32Array, bins: number, classes: Int8Array, out: Float32Array, at: number): void {
  for (let k = 1; k < bins - 1; k++) {
    const m = magnitudes[k]!;
    // Only spectral peaks count: the skirts of a strong partial would otherwise leak into its neighbours.
    if (classes[k]! >= 0 && m >= magnitudes[k - 1]! && m >= magnitudes[k + 1]!) out[at + classes[k]!]! += m;
  }
}

/**
 * The key's chromagram and the bars' in one pass, where a reading needs both (a cover's key and
 * chords, an accompaniment's key and bar chords): they use the same window, and the key's hop is
 * twice the bars', so every other frame of the bars' STFT is a frame of the key's. Each is exactly
 * what its own pass would make; a third of the chroma FFTs are saved.
 */
export function chromagramsInOnePass(front: AnalysisFront): void {
  const mono = front.mono();
  const both = front.memo('key-and-bar-chromagrams', () => {
    const bins = CHROMA_FFT / 2;
    const rawClasses = rawBinClasses(bins, mono.sampleRate);
    const keyClasses = keyBinClasses({ bins, size: CHROMA_FFT, sampleRate: mono.sampleRate });
    const bar = new Float32Array(stftFrameCount(mono.samples.length, CHROMA_FFT, CHROMA_HOP) * 12);
    const key = new Float32Array(stftFrameCount(mono.samples.length, KEY_CHROMA_FFT, KEY_CHROMA_HOP) * 12);
    forEachSpectrum(mono, CHROMA_FFT, CHROMA_HOP, (f, row) => {
      addRawChroma(row, bins, rawClasses, bar, f * 12);
      if (f % KEY_FRAME_STEP === 0) addKeyChroma(row, 0, bins, keyClasses, key, (f / KEY_FRAME_STEP) * 12);
    });
    return { key, bar };
  });
  front.memo('key-chromagram', () => both.key);
  front.memo('bar-chromagram', () => both.bar);
}

/** Per bar of the grid: its level in dB against the song's average, and its chroma (12 values, maximum 1; zeros for silence). */
export interface BarFeatures {
  levelDb: number[];
  chroma: number[][];
}

/**
 * Chroma and level of every bar (`front`: the song's analysis signal, when other readings of
 * the same samples share it). A chroma frame counts towards a bar by the
 * square of the share of its window that lies inside the bar, so a frame
 * astride a chord change adds little to either side.
 */
export function barFeatures(pcm: Pcm, grid: BarGrid, front: AnalysisFront = analysisFront(pcm)): BarFeatures {
  const mono = front.mono();
  const frames = front.memo('bar-chromagram', () => rawChromagram(mono));
  const frameCount = frames.length / 12;
  const windowS = CHROMA_FFT / mono.sampleRate;
  const hopS = CHROMA_HOP / mono.sampleRate;
  const levelDb: number[] = [];
  const chroma: number[][] = [];
  grid.starts.forEach((startS, bar) => {
    const endS = grid.starts[bar + 1] ?? grid.endS;
    // The analysis signal has unit RMS over the song: a bar's RMS on it is its level against the song's.
    const from = Math.max(0, Math.round(startS * mono.sampleRate));
    const to = Math.min(mono.samples.length, Math.round(endS * mono.sampleRate));
    let energy = 0;
    for (let i = from; i < to; i++) energy += mono.samples[i]! ** 2;
    const db = to > from && energy > 0 ? 10 * Math.log10(energy / (to - from)) : Number.NEGATIVE_INFINITY;
    levelDb.push(db);
    const sum = new Array<number>(12).fill(0);
    if (db > SILENT_DB) {
      const first = Math.max(0, Math.floor((startS - windowS) / hopS));
      const last = Math.min(frameCount - 1, Math.ceil(endS / hopS));
      for (let f = first; f <= last; f++) {
        const frameStart = f * hopS;
        const overlap = Math.max(0, Math.min(endS, frameStart + windowS) - Math.max(startS, frameStart)) / windowS;
        if (overlap <= 0) continue;
        const weight = overlap * overlap;
        for (let c = 0; c < 12; c++) sum[c]! += weight * frames[f * 12 + c]!;
      }
    }
    const max = Math.max(...sum);
    chroma.push(max > 0 ? sum.map((v) => (v / max) ** CHROMA_POWER) : sum);
  });
  return { levelDb, chroma };
}

/** The chord of every bar (null where the bar is silent), with the features they were read from; `front` as for `barFeatures`. */
export function readChords(
  pcm: Pcm,
  grid: BarGrid,
  options: ChordOptions = {},
  front: AnalysisFront = analysisFront(pcm),
): { chords: (ChordReading | null)[]; features: BarFeatures } {
  const features = barFeatures(pcm, grid, front);
  return { chords: features.chroma.map((chroma) => chordOfChroma(chroma, options)), features };
}
