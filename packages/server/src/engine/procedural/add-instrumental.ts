import { Chord, Note } from 'tonal';
import {
  type Arrangement,
  analyseMusic,
  analysisFront,
  applyGain,
  type BeatTimeline,
  barFeatures,
  chromagramsInOnePass,
  gridTimeline,
  limitTruePeak,
  loudnessOfSpans,
  type MusicAnalysis,
  PITCH_NAMES,
  planArrangement,
  renderWindow,
  type Section,
  smoothBeats,
} from '../../audio/index.js';
import { releaseAllNow } from '../../memory.js';
import type { AddInstrumentalInput, OnProgress, RenderedTrack } from '../types.js';
import { decodeSource, finishTrack, type ProceduralContext } from './common.js';

/**
 * Add-instrumental: an accompaniment rendered for an uploaded vocal. The vocal is measured (key from
 * its chroma, tempo and bar grid where it has a pulse, and where it sings and where it rests); the
 * synthesiser then plays the chosen style in that key on that grid, with a chord per bar chosen to
 * fit the notes sung in the bar, sparse under the voice and fuller in its rests. The vocal itself is
 * kept sample for sample: the output is the source plus the accompaniment.
 */

/** Below this confidence an a cappella pulse is too weak to play a beat on; the tempo then comes from the words. */
const MIN_TEMPO_CONFIDENCE = 0.3;
/** Section energy under the voice (bass, drums, one harmony part, no lead) and in its rests (everything, lead fills). */
const PHRASE_ENERGY = 0.62;
const REST_ENERGY = 0.95;
/** A bar counts as sung when the voice sounds for at least this share of it. */
const SUNG_SHARE = 0.3;
/** The accompaniment sits this far (in LU) under the voice where the voice sings. */
const BELOW_VOICE_DB = 9;
/** Extra dip of the accompaniment while the voice sounds, eased in and out. */
const DUCK_DB = 3;
const DUCK_TIME_S = 0.15;
/** Voice activity: 20 ms frames; a frame sounds when within this many dB of the loud part of the vocal. */
const ACTIVITY_HOP_S = 0.02;
const ACTIVITY_RANGE_DB = 25;
const ACTIVITY_FLOOR_DB = -60;
/** Gaps in the voice shorter than this are breaths inside a phrase, not rests. */
const BREATH_S = 0.3;
const BEATS_PER_BAR = 4;

type Mode = 'major' | 'minor';
interface Key {
  pitchClass: number;
  mode: Mode;
}

/** Whether the voice sounds, per 20 ms frame: level within range of the vocal's loud frames, breaths bridged. */
export function voiceActivity(channels: readonly Float32Array[], sampleRate: number): { active: Uint8Array; hop: number } {
  const hop = Math.max(1, Math.round(ACTIVITY_HOP_S * sampleRate));
  const frames = Math.ceil((channels[0]?.length ?? 0) / hop);
  const levels = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    let n = 0;
    for (const channel of channels) {
      for (let i = f * hop; i < Math.min(channel.length, (f + 1) * hop); i++) {
        sum += channel[i]! * channel[i]!;
        n++;
      }
    }
    levels[f] = n > 0 ? 10 * Math.log10(sum / n + 1e-20) : -200;
  }
  const sorted = Float64Array.from(levels).sort();
  const loud = sorted[Math.floor(0.95 * (sorted.length - 1))] ?? -200;
  const threshold = Math.max(ACTIVITY_FLOOR_DB, loud - ACTIVITY_RANGE_DB);
  const active = new Uint8Array(frames);
  for (let f = 0; f < frames; f++) active[f] = levels[f]! > threshold ? 1 : 0;
  const breath = Math.round(BREATH_S / ACTIVITY_HOP_S);
  for (let f = 0; f < frames; ) {
    if (active[f]) {
      f++;
      continue;
    }
    let end = f;
    while (end < frames && !active[end]) end++;
    if (f > 0 && end < frames && end - f < breath) active.fill(1, f, end);
    f = end;
  }
  return { active, hop };
}

/** The spans (in frames of the song) where the voice sounds. */
function phraseSpans(active: Uint8Array, hop: number, total: number): [number, number][] {
  const spans: [number, number][] = [];
  for (let f = 0; f < active.length; f++) {
    if (!active[f]) continue;
    const start = f;
    while (f < active.length && active[f]) f++;
    spans.push([start * hop, Math.min(total, f * hop)]);
  }
  return spans;
}

/** The key's diatonic major and minor triads (the diminished one left out), with their degree names. */
function diatonicTriads(key: Key): { root: number; minor: boolean; degree: string }[] {
  const steps = key.mode === 'major' ? [0, 2, 4, 5, 7, 9, 11] : [0, 2, 3, 5, 7, 8, 10];
  const numerals = ['i', 'ii', 'iii', 'iv', 'v', 'vi', 'vii'];
  const triads: { root: number; minor: boolean; degree: string }[] = [];
  steps.forEach((step, degree) => {
    const third = (steps[(degree + 2) % 7]! - step + 12) % 12;
    const fifth = (steps[(degree + 4) % 7]! - step + 12) % 12;
    if (fifth !== 7) return;
    const minor = third === 3;
    const numeral = numerals[degree]!;
    triads.push({ root: (key.pitchClass + step) % 12, minor, degree: minor ? numeral : numeral.toUpperCase() });
  });
  return triads;
}

const rootOf = (symbol: string): number => {
  const chroma = Note.chroma(Chord.get(symbol).tonic ?? '');
  return Number.isFinite(chroma) ? chroma : -1;
};

/**
 * A chord for every bar. A sung bar takes the diatonic triad that holds most of its notes (the
 * root weighing most), with a small preference for the style's own progression at that bar and
 * for staying on the chord before; a bar without voice plays the style's progression.
 */
export function chooseChords(
  barChroma: readonly number[][],
  sung: readonly boolean[],
  key: Key,
  progression: readonly string[],
): { symbol: string; degree: string }[] {
  const triads = diatonicTriads(key);
  const chosen: { symbol: string; degree: string }[] = [];
  barChroma.forEach((chroma, bar) => {
    const planned = progression[bar % progression.length]!;
    const total = chroma.reduce((s, v) => s + v, 0);
    if (!sung[bar] || !(total > 0)) {
      const triad = triads.find((t) => t.root === rootOf(planned));
      chosen.push({ symbol: planned, degree: triad?.degree ?? '·' });
      return;
    }
    const previous = chosen[bar - 1];
    let best = triads[0]!;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const triad of triads) {
      const tones = [triad.root, (triad.root + (triad.minor ? 3 : 4)) % 12, (triad.root + 7) % 12];
      const inside = chroma[tones[0]!]! + 0.8 * chroma[tones[1]!]! + 0.8 * chroma[tones[2]!]!;
      const outside = total - chroma[tones[0]!]! - chroma[tones[1]!]! - chroma[tones[2]!]!;
      let score = (inside - 0.5 * outside) / total;
      if (triad.root === rootOf(planned)) score += 0.05;
      if (previous && triad.root === rootOf(previous.symbol)) score += 0.03;
      if (triad.root === key.pitchClass) score += 0.02;
      if (score > bestScore) {
        bestScore = score;
        best = triad;
      }
    }
    chosen.push({ symbol: `${PITCH_NAMES[best.root]}${best.minor ? 'm' : ''}`, degree: best.degree });
  });
  return chosen;
}

/** Consecutive bars of the same kind (sung or resting) become one section with a chord per bar. */
function sectionsOf(sung: readonly boolean[], chords: readonly string[]): Section[] {
  const sections: Section[] = [];
  for (let bar = 0; bar < sung.length; ) {
    const kind = sung[bar]!;
    let end = bar;
    while (end < sung.length && sung[end] === kind) end++;
    sections.push({ name: kind ? 'verse' : 'chorus', bars: end - bar, chords: chords.slice(bar, end), energy: kind ? PHRASE_ENERGY : REST_ENERGY });
    bar = end;
  }
  return sections;
}

/**
 * Which beat of four is the downbeat. A voice alone has few chord changes for the analyser to
 * find bar lines by, but its phrases mostly start on a downbeat (or the beat before, a pickup):
 * the phase on which most phrase starts fall wins, the analyser's reading breaking ties.
 */
function phraseBarPhase(beats: readonly number[], phraseStartsS: readonly number[], measured: number): number {
  const votes = new Array<number>(BEATS_PER_BAR).fill(0);
  const period = beats.length > 1 ? (beats[beats.length - 1]! - beats[0]!) / (beats.length - 1) : 0.5;
  for (const start of phraseStartsS) {
    const index = Math.round((start - beats[0]!) / period);
    const nearest = beats[Math.max(0, Math.min(beats.length - 1, index))] ?? start;
    if (Math.abs(nearest - start) > period / 4) continue;
    votes[((index % BEATS_PER_BAR) + BEATS_PER_BAR) % BEATS_PER_BAR]! += 1;
    // A pickup of one beat also speaks for the next beat, by half.
    votes[(((index + 1) % BEATS_PER_BAR) + BEATS_PER_BAR) % BEATS_PER_BAR]! += 0.5;
  }
  const most = Math.max(...votes);
  if (!(most > 0) || votes[measured % BEATS_PER_BAR] === most) return measured % BEATS_PER_BAR;
  return votes.indexOf(most);
}

/**
 * The bar grid the accompaniment plays on: the vocal's own beats where its pulse is clear enough
 * (bar 0 of the piece a whole number of bars before its first downbeat, at or before the start),
 * otherwise a steady grid at the chosen tempo whose downbeat falls where the voice first enters.
 */
function timelineFor(analysis: MusicAnalysis, followed: boolean, bpm: number, phraseStartsS: readonly number[]): BeatTimeline {
  const tempo = analysis.tempo;
  if (followed && tempo) {
    const beats = smoothBeats(tempo.beats);
    const phase = phraseBarPhase(beats, phraseStartsS, tempo.barPhase);
    const firstDownbeat = beats[phase]!;
    // Whole bars before the first downbeat, so the piece covers the start; a downbeat within a tenth of a
    // bar of the start (the tracker reads onsets a little late) opens the piece instead of a near-empty bar.
    const barsBefore = Math.max(0, Math.ceil(firstDownbeat / ((60 / bpm) * BEATS_PER_BAR) - 0.1));
    return gridTimeline(beats, BEATS_PER_BAR * barsBefore - phase);
  }
  const firstVoiceS = phraseStartsS[0] ?? 0;
  const barS = (60 / bpm) * BEATS_PER_BAR;
  const zeroS = firstVoiceS - Math.ceil(firstVoiceS / barS) * barS;
  return { timeOf: (beat) => zeroS + (beat * 60) / bpm, beatAt: (seconds) => ((seconds - zeroS) * bpm) / 60 };
}

/**
 * The accompaniment ducked in place: down by DUCK_DB where the voice sounds, eased by a one-pole
 * smoother per activity frame and interpolated linearly between frame centres. Each sample's gain
 * is rounded to float32 before it is applied, and applied as it is made: the curve is never held.
 */
function duck(channels: readonly Float32Array[], active: Uint8Array, hop: number): void {
  const dip = 10 ** (-DUCK_DB / 20);
  const alpha = 1 - Math.exp(-ACTIVITY_HOP_S / DUCK_TIME_S);
  const perFrame = new Float32Array(active.length);
  let g = active[0] ? dip : 1;
  for (let f = 0; f < active.length; f++) {
    g += alpha * ((active[f] ? dip : 1) - g);
    perFrame[f] = g;
  }
  const lastFrame = active.length - 1;
  const total = channels[0]?.length ?? 0;
  const count = channels.length;
  for (let i = 0; i < total; i++) {
    // Comparisons rather than Math.min/max: this runs for every sample of the song.
    const x = i / hop - 0.5;
    const below = Math.floor(x);
    // biome-ignore lint/complexity/useMathMinMax: per sample, see above
    const f = below < 0 ? 0 : below > lastFrame ? lastFrame : below;
    const next = f < lastFrame ? f + 1 : lastFrame;
    const u = x - f;
    // biome-ignore lint/complexity/useMathMinMax: per sample, see above
    const t = u < 0 ? 0 : u > 1 ? 1 : u;
    const gain = Math.fround(perFrame[f]! * (1 - t) + perFrame[next]! * t);
    for (let c = 0; c < count; c++) channels[c]![i]! *= gain;
  }
}

function describe(facts: {
  key: Key | null;
  keyConfidence: number;
  bpm: number;
  followed: boolean;
  tempoConfidence: number;
  arrangement: Arrangement;
  phrases: number;
  sungSeconds: number;
  chords: { symbol: string; degree: string }[];
  sung: boolean[];
  durationS: number;
}): string {
  const keyLine = facts.key
    ? `Key of the vocal: ${PITCH_NAMES[facts.key.pitchClass]} ${facts.key.mode} (confidence ${facts.keyConfidence.toFixed(2)})`
    : `Key of the vocal: not readable; ${facts.arrangement.tonic} ${facts.arrangement.mode} chosen from the words`;
  const tempoLine = facts.followed
    ? `Tempo: ${facts.bpm.toFixed(1)} BPM, the vocal's own pulse (confidence ${facts.tempoConfidence.toFixed(2)}), bars on its downbeats`
    : `Tempo: ${facts.bpm.toFixed(1)} BPM chosen from the words: the vocal's pulse is too weak to follow (confidence ${facts.tempoConfidence.toFixed(2)}); the first bar starts where the voice enters`;
  const bars = facts.chords.map((c, bar) => `${c.symbol}${facts.sung[bar] ? '' : '*'}`);
  return [
    `Add instrumental (${facts.arrangement.style.name}; the vocal is kept as it is)`,
    keyLine,
    tempoLine,
    `Voice: ${facts.phrases} phrase${facts.phrases === 1 ? '' : 's'}, ${facts.sungSeconds.toFixed(1)} of ${facts.durationS.toFixed(1)} s sung; the band plays softer under the voice and fuller in its rests`,
    `Chords per bar (* = the voice rests): ${bars.join(' | ')}`,
  ].join('\n');
}

export async function addInstrumental(
  context: ProceduralContext,
  input: AddInstrumentalInput,
  signal: AbortSignal,
  onProgress: OnProgress,
): Promise<RenderedTrack[]> {
  signal.throwIfAborted();
  const source = await decodeSource(input.source.bytes, input.source.name);
  const { sampleRate } = source;
  const total = source.channels[0]!.length;
  const durationS = total / sampleRate;
  const vocal = source.channels.length >= 2 ? source.channels.slice(0, 2) : [source.channels[0]!, source.channels[0]!];
  const voicePcm = { sampleRate, channels: vocal };
  // The tempo and key analysis and the bar chroma read one decimated signal. The vocal's
  // loudness is measured over its phrases below, so the analysis does not measure it.
  const front = analysisFront(voicePcm);
  // The key's chroma and the bars' come from one STFT.
  chromagramsInOnePass(front);
  const analysis = analyseMusic(voicePcm, undefined, { front });
  signal.throwIfAborted();

  const tempoConfidence = analysis.tempo?.confidence ?? 0;
  const followed = analysis.tempo !== null && tempoConfidence >= MIN_TEMPO_CONFIDENCE && analysis.tempo.beats.length >= 8;
  const key: Key | null = analysis.key && { pitchClass: analysis.key.pitchClass, mode: analysis.key.mode };
  const texts = [input.style, input.prompt, input.title];
  const base = planArrangement({
    seed: input.seed,
    texts,
    negative: input.negativeTags,
    form: 'section',
    durationS,
    fixed: { bpm: followed ? analysis.tempo!.bpm : undefined, tonic: key ? PITCH_NAMES[key.pitchClass] : undefined, mode: key?.mode },
  });
  const bpm = base.bpm;
  const { active, hop } = voiceActivity(vocal, sampleRate);
  const spans = phraseSpans(active, hop, total);
  const timeline = timelineFor(
    analysis,
    followed,
    bpm,
    spans.map(([from]) => from / sampleRate),
  );

  // Bars of the piece covering the whole vocal, and what the voice does in each.
  const barCount = Math.max(1, Math.ceil(timeline.beatAt(durationS) / BEATS_PER_BAR));
  const starts = Array.from({ length: barCount }, (_, bar) => timeline.timeOf(bar * BEATS_PER_BAR));
  const features = barFeatures(voicePcm, { starts, endS: timeline.timeOf(barCount * BEATS_PER_BAR) }, front);
  const sung = starts.map((startS, bar) => {
    const endS = starts[bar + 1] ?? durationS;
    const [from, to] = [Math.max(0, Math.floor(startS / ACTIVITY_HOP_S)), Math.min(active.length, Math.ceil(endS / ACTIVITY_HOP_S))];
    let on = 0;
    for (let f = from; f < to; f++) on += active[f]!;
    return to > from && on / (to - from) >= SUNG_SHARE;
  });
  const tonality: Key = key ?? { pitchClass: Note.chroma(base.tonic) ?? 0, mode: base.mode };
  const chords = chooseChords(features.chroma, sung, tonality, base.sections[0]!.chords);
  const arrangement: Arrangement = {
    ...base,
    // The lead only answers the voice in its rests; under a phrase it would sing against it.
    style: { ...base.style, leadFrom: Math.max(base.style.leadFrom, PHRASE_ENERGY + 0.01) },
    sections: sectionsOf(
      sung,
      chords.map((c) => c.symbol),
    ),
    loop: false,
  };
  const sungSeconds = spans.reduce((s, [from, to]) => s + (to - from), 0) / sampleRate;
  await onProgress({
    stage: 'text',
    sheet: describe({
      key,
      keyConfidence: analysis.key?.confidence ?? 0,
      bpm,
      followed,
      tempoConfidence,
      arrangement,
      phrases: spans.length,
      sungSeconds,
      chords,
      sung,
      durationS,
    }),
  });
  signal.throwIfAborted();

  const band = renderWindow(arrangement, { sampleRate, channels: 2, startFrame: 0, frames: total, timeline });
  duck(band, active, hop);
  // Level: a few LU under the voice where it sings (the band's own level where there is no voice at all).
  const voiceLoudness = spans.length > 0 ? loudnessOfSpans(vocal, sampleRate, spans) : Number.NEGATIVE_INFINITY;
  const bandLoudness = spans.length > 0 ? loudnessOfSpans(band, sampleRate, spans) : Number.NEGATIVE_INFINITY;
  if (Number.isFinite(voiceLoudness) && Number.isFinite(bandLoudness)) applyGain(band, 10 ** ((voiceLoudness - BELOW_VOICE_DB - bandLoudness) / 20));
  signal.throwIfAborted();

  // The vocal at unity, the band under it, summed in the band's memory (laid out for the master);
  // the limiter only acts where the sum would pass the ceiling.
  for (const [c, channel] of band.entries()) {
    const voice = vocal[c]!;
    for (let i = 0; i < total; i++) channel[i]! += voice[i]!;
  }
  // The upload's samples are in the sum now: their memory goes back before the encoder and the cover need theirs.
  await releaseAllNow(source.channels);
  limitTruePeak(band, { sampleRate });
  const track = await finishTrack(context, { sampleRate, channels: band }, { title: input.title, tags: input.style }, signal);
  await onProgress({ stage: 'first', track, index: 0 });
  return [track];
}
