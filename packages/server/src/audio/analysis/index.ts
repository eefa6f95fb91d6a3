import type { Pcm } from '../pcm.js';
import { CHROMA_FFT, CHROMA_HOP, chordRoots, type KeyEstimate, keyChromagram, keyOfChroma, sumChroma } from './key.js';
import { type Loudness, measureLoudness } from './loudness.js';
import { type AnalysisFront, monoForAnalysis } from './spectrum.js';
import { barPhase, estimateTempo, fitBeatLine, onsetEnvelope, trackBeats } from './tempo.js';

/**
 * One call that describes a stretch of a song: tempo and beat grid, bar
 * phase, key and loudness, each with a confidence. Plain numbers only, so
 * the result can be logged, stored or compared in a test as it is.
 */

export interface AnalysisRange {
  /** Seconds from the start of the song; the window analysed is [fromS, toS). */
  fromS: number;
  toS: number;
}

export interface TempoAnalysis {
  bpm: number;
  /** 0..1. */
  confidence: number;
  /** Beat times in seconds from the start of the song (not of the window). */
  beats: number[];
  beatsPerBar: 4;
  /** Index into `beats` of the first downbeat. */
  barPhase: number;
  barConfidence: number;
  /** The downbeats, in seconds from the start of the song. */
  downbeats: number[];
}

export interface KeyAnalysis {
  tonic: string;
  pitchClass: number;
  mode: 'major' | 'minor';
  confidence: number;
  chroma: number[];
}

export interface LoudnessAnalysis {
  integratedLufs: number;
  /** Short-term (3 s) loudness every 100 ms from the window's start. */
  shortTermLufs: number[];
  maxShortTermLufs: number;
  maxMomentaryLufs: number;
  truePeakDbtp: number | null;
  confidence: number;
}

/** What the music of a window is: its beat grid and its key (no loudness). */
export interface MusicAnalysis {
  sampleRate: number;
  range: AnalysisRange;
  /** Null when the window is too short or has no rhythm to speak of. */
  tempo: TempoAnalysis | null;
  /** Null for silence. */
  key: KeyAnalysis | null;
}

export interface Analysis extends MusicAnalysis {
  loudness: LoudnessAnalysis;
}

export interface AnalyseOptions extends MusicAnalyseOptions {
  /** Also compute the true peak (the slowest measurement; off by default). */
  truePeak?: boolean;
}

export interface MusicAnalyseOptions {
  /**
   * The song's analysis signal as other readings of the same samples share it (a cover reads
   * chords after the tempo, add-vocals bar chords): used when the window is the whole song.
   */
  front?: AnalysisFront;
  /**
   * Where `pcm` starts in the song, in seconds (default 0): an edit that decoded only the music
   * around its change analyses that excerpt, and every time returned is still the song's.
   */
  startS?: number;
}

/** Onset STFT: ~46 ms windows every ~11.6 ms at the analysis rate (the chroma STFT's are key.ts's). */
const ONSET_FFT = 512;
const ONSET_HOP = 128;
const BEATS_PER_BAR = 4;

/** The window a section replacement should analyse: the section plus up to `contextS` on each side. */
export function analysisWindow(durationS: number, startS: number, endS: number, contextS = 30): AnalysisRange {
  return { fromS: Math.max(0, startS - contextS), toS: Math.min(durationS, endS + contextS) };
}

/**
 * How much the harmony changes at each beat: 1 − the cosine between the
 * chroma of the beat and of the one before. 0 for the first beat, and where
 * either beat has no chroma (silence, or past the last chroma frame): no
 * harmony is no change of harmony.
 */
function harmonicChanges(beatsS: readonly number[], chroma: Float32Array, chromaRate: number, chromaOffsetS: number): number[] {
  const frameCount = chroma.length / 12;
  const frameOf = (s: number) => Math.max(0, Math.min(frameCount, Math.round((s - chromaOffsetS) * chromaRate)));
  const beatChroma = beatsS.map((s, b): number[] | null => {
    const next = beatsS[b + 1] ?? s + (s - (beatsS[b - 1] ?? s - 0.5));
    const v = sumChroma(chroma, frameOf(s), Math.max(frameOf(s) + 1, frameOf(next)));
    const norm = Math.hypot(...v);
    return norm > 0 ? v.map((x) => x / norm) : null;
  });
  return beatChroma.map((here, b) => {
    const before = beatChroma[b - 1];
    return here && before ? 1 - here.reduce((sum, x, c) => sum + x * before[c]!, 0) : 0;
  });
}

/**
 * Per-beat evidence of a bar line: how much the harmony changes at the beat
 * (chords change on downbeats) plus a smaller share of the low-band onset
 * (kick and bass).
 */
function downbeatEvidence(beatsS: readonly number[], changes: readonly number[], low: Float32Array, onsetRate: number, onsetOffsetS: number): number[] {
  return beatsS.map((s, b) => {
    const frame = Math.round((s - onsetOffsetS) * onsetRate);
    let kick = 0;
    for (let f = frame - 1; f <= frame + 1; f++) kick = Math.max(kick, low[f] ?? 0);
    return changes[b]! + 0.02 * kick;
  });
}

/** The frames [from, to) that `range` covers in a signal of `total` frames. */
function framesOf(range: AnalysisRange | undefined, sampleRate: number, total: number): { from: number; to: number } {
  const from = Math.max(0, Math.min(total, Math.round((range?.fromS ?? 0) * sampleRate)));
  const to = Math.max(from, Math.min(total, Math.round((range?.toS ?? total / sampleRate) * sampleRate)));
  return { from, to };
}

/** Tempo, beats, bars, key and loudness of a window of the song (default the whole song). */
export function analyse(pcm: Pcm, range?: AnalysisRange, options: AnalyseOptions = {}): Analysis {
  const { from, to } = framesOf(range, pcm.sampleRate, pcm.channels[0]?.length ?? 0);
  const measured: Loudness = measureLoudness(pcm.channels, pcm.sampleRate, { from, to, truePeak: options.truePeak });
  const loudness: LoudnessAnalysis = {
    integratedLufs: measured.integratedLufs,
    shortTermLufs: measured.shortTermLufs,
    maxShortTermLufs: measured.maxShortTermLufs,
    maxMomentaryLufs: measured.maxMomentaryLufs,
    truePeakDbtp: measured.truePeakDbtp,
    confidence: measured.confidence,
  };
  return { ...analyseMusic(pcm, range, options), loudness };
}

/**
 * `analyse` without the loudness: for the operations that measure loudness their own way (over
 * a vocal's phrases, after a stretch) and would otherwise filter the whole song for nothing.
 */
export function analyseMusic(pcm: Pcm, range?: AnalysisRange, options: MusicAnalyseOptions = {}): MusicAnalysis {
  const { sampleRate, channels } = pcm;
  const total = channels[0]?.length ?? 0;
  const { from, to } = framesOf(range, sampleRate, total);
  const startS = options.startS ?? 0;
  const fromS = startS + from / sampleRate;

  // A front shared with other readings stands for the whole song only.
  const front = options.front && from === 0 && to === total && options.front.pcm.channels[0] === channels[0] ? options.front : null;
  const mono = front ? front.mono() : monoForAnalysis(channels, sampleRate, from, to);
  const chroma = front ? keyChromagram(front) : keyChromagram(mono);
  const keyEstimate: KeyEstimate | null = keyOfChroma(sumChroma(chroma), chordRoots(chroma));
  const key: KeyAnalysis | null = keyEstimate && {
    tonic: keyEstimate.tonic,
    pitchClass: keyEstimate.pitchClass,
    mode: keyEstimate.mode,
    confidence: keyEstimate.confidence,
    chroma: keyEstimate.chroma,
  };

  const envelope = onsetEnvelope(mono, ONSET_FFT, ONSET_HOP);
  const chromaRate = mono.sampleRate / CHROMA_HOP;
  const chromaOffsetS = fromS + CHROMA_FFT / 2 / mono.sampleRate;
  const secondsOf = (frames: readonly number[]) => frames.map((f) => fromS + envelope.offsetS + f / envelope.rate);
  const estimate = estimateTempo(envelope, (beatFrames) => harmonicChanges(secondsOf(beatFrames), chroma, chromaRate, chromaOffsetS));
  let tempo: TempoAnalysis | null = null;
  if (estimate) {
    const beats = secondsOf(trackBeats(envelope, estimate.period));
    const line = fitBeatLine(beats);
    const bpm = line && line.periodS > 0 ? 60 / line.periodS : estimate.bpm;
    const changes = harmonicChanges(beats, chroma, chromaRate, chromaOffsetS);
    const evidence = downbeatEvidence(beats, changes, envelope.low, envelope.rate, fromS + envelope.offsetS);
    const bar = barPhase(evidence, BEATS_PER_BAR);
    tempo = {
      bpm,
      confidence: estimate.confidence,
      beats,
      beatsPerBar: BEATS_PER_BAR,
      barPhase: bar.phase,
      barConfidence: bar.confidence,
      downbeats: beats.filter((_, b) => b % BEATS_PER_BAR === bar.phase),
    };
  }
  return { sampleRate, range: { fromS, toS: startS + to / sampleRate }, tempo, key };
}

export { type KeyEstimate, type KeyMode, keyOfChroma, PITCH_NAMES, relativeOf } from './key.js';
export {
  type Biquad,
  gatedLoudness,
  integratedLoudness,
  kWeightingFilters,
  type Loudness,
  type LoudnessOptions,
  measureLoudness,
  truePeakDbtp,
} from './loudness.js';
