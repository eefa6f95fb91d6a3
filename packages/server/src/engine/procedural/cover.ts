import {
  type Analysis,
  type Arrangement,
  analyse,
  analysisFront,
  applyGain,
  arrangementParts,
  type BarGrid,
  type BeatTimeline,
  type ChordReading,
  chooseStyle,
  chordSymbol,
  chromagramsInOnePass,
  type FormSection,
  findForm,
  gridTimeline,
  instrumentNames,
  limitTruePeak,
  measureLoudness,
  mixParts,
  type Pcm,
  type RenderWindow,
  readChords,
  renderWindow,
  type Section,
  type Style,
  type SynthPart,
  smoothBeats,
  softClipChannels,
} from '../../audio/index.js';
import { type CoverInput, EngineError, type OnProgress, type RenderedTrack } from '../types.js';
import { decodeSource, finishTrack, MAX_SONG_S, type ProceduralContext, SONG_RATE } from './common.js';
import { bandTrace, copyChannels, type TrackTrace } from './trace.js';

/**
 * Upload-cover: the source's beat grid, its chord in every bar and its form
 * (which sections come back, how loud each is) read from the audio, then
 * played again by the synthesiser in the style the words ask for. The source's
 * tempo and key win over any the words name; its melody and voice are not
 * carried over (this engine reads harmony, not tunes).
 */

/** Below this the beat reading is not followed: the bars are laid at a steady tempo from the start instead. */
const MIN_TEMPO_CONFIDENCE = 0.15;
const BEATS_PER_BAR = 4;
/** How far the words' lift moves each section's energy (as for generated songs). */
const INTENSITY_REACH = 0.6;
/** The cover is brought to the source's loudness, within these bounds (a whisper-quiet or crushed source is not copied). */
const LOUDNESS_RANGE_LUFS: readonly [number, number] = [-20, -10];
/** Fades at the very ends, so the first and last samples are silent. */
const EDGE_FADE_S = 0.01;
const FINAL_FADE_S = 0.5;
/** The second take's comping where the words named one genre only: a different way of playing the same chords. */
type Comp = Style['harmony'][number]['comp'];
const OTHER_COMP: Record<Comp, Comp> = {
  sustain: 'arpeggio',
  arpeggio: 'sustain',
  strum: 'arpeggio',
  stabs: 'sustain',
  chug: 'strum',
  funk: 'stabs',
  skank: 'stabs',
  bossa: 'arpeggio',
};

/** What was read from the source: everything a cover keeps. */
interface Reading {
  durationS: number;
  tempo: { bpm: number; confidence: number; followed: boolean };
  key: { tonic: string; pitchClass: number; mode: 'major' | 'minor'; confidence: number } | null;
  timeline: BeatTimeline;
  grid: BarGrid;
  /** The chord of every bar; a silent bar holds the chord around it. */
  chords: ChordReading[];
  form: FormSection[];
}

/** A steady grid whose bar 0 starts at 0 s: for sources without a beat to follow. */
const steadyTimeline = (bpm: number): BeatTimeline => ({ timeOf: (beat) => (beat * 60) / bpm, beatAt: (seconds) => (seconds * bpm) / 60 });

/**
 * The source's beats as the piece's timeline: its first downbeat is a bar
 * line of the piece, with as many whole bars before it as reach back to 0 s
 * (a pickup is played as the end of a bar), extended past the tracked beats at
 * the local period.
 */
function followBeats(tempo: NonNullable<Analysis['tempo']>): BeatTimeline {
  const beats = smoothBeats(tempo.beats);
  const barS = (BEATS_PER_BAR * 60) / tempo.bpm;
  // A downbeat a fraction of a beat after 0 s is the song's first bar (the tracker places beats a few ms late), not a pickup.
  const firstDownbeatS = beats[tempo.barPhase]! - (0.5 * barS) / BEATS_PER_BAR;
  const barsBefore = Math.max(0, Math.ceil(firstDownbeatS / barS));
  return gridTimeline(beats, barsBefore * BEATS_PER_BAR - tempo.barPhase);
}

function barGrid(timeline: BeatTimeline, durationS: number): BarGrid {
  const starts: number[] = [];
  // A bar is never shorter than four beats at the fastest tempo the tracker reads: the bound only guards against a broken timeline.
  const most = Math.ceil(durationS / 1.2) + 2;
  for (let bar = 0; bar < most && timeline.timeOf(bar * BEATS_PER_BAR) < durationS - 1e-3; bar++) starts.push(timeline.timeOf(bar * BEATS_PER_BAR));
  return { starts, endS: durationS };
}

/** Silent bars hold the chord before them (the first ones the first chord heard); a silent song plays the key's tonic. */
function filledChords(read: readonly (ChordReading | null)[], key: Reading['key']): ChordReading[] {
  const tonic = key?.pitchClass ?? 0;
  const quality = key?.mode === 'minor' ? 'minor' : 'major';
  const fallback: ChordReading = read.find((c) => c !== null) ?? { symbol: chordSymbol(tonic, quality), root: tonic, quality, score: 0, confidence: 0 };
  let last = fallback;
  return read.map((chord) => {
    if (chord) last = chord;
    return last;
  });
}

/** What a cover keeps of the source, and the source's integrated loudness (measured by the analysis). */
function readSource(source: Pcm, fallbackBpm: number): { reading: Reading; sourceLufs: number } {
  const durationS = (source.channels[0]?.length ?? 0) / source.sampleRate;
  // Tempo, key and chords read one decimated signal; the key's and the chords' chroma one STFT of it.
  const front = analysisFront(source);
  chromagramsInOnePass(front);
  const analysis = analyse(source, undefined, { front });
  const tempo = analysis.tempo && analysis.tempo.confidence >= MIN_TEMPO_CONFIDENCE && analysis.tempo.beats.length >= 8 ? analysis.tempo : null;
  const timeline = tempo ? followBeats(tempo) : steadyTimeline(fallbackBpm);
  const grid = barGrid(timeline, durationS);
  const key = analysis.key && { tonic: analysis.key.tonic, pitchClass: analysis.key.pitchClass, mode: analysis.key.mode, confidence: analysis.key.confidence };
  const { chords, features } = readChords(source, grid, { key }, front);
  const form = findForm(chords.map((chord, bar) => ({ chord: chord?.symbol ?? null, levelDb: features.levelDb[bar]! })));
  const reading: Reading = {
    durationS,
    tempo: { bpm: tempo?.bpm ?? fallbackBpm, confidence: analysis.tempo?.confidence ?? 0, followed: tempo !== null },
    key,
    timeline,
    grid,
    chords: filledChords(chords, key),
    form,
  };
  // The analysis window is the whole song: its integrated loudness is the source's.
  return { reading, sourceLufs: analysis.loudness.integratedLufs };
}

/** Whether a style's own progressions colour their chords with sevenths (jazz, soul, lo-fi). */
const usesSevenths = (style: Style) => [...style.progressions.major, ...style.progressions.minor].flat().some((numeral) => numeral.includes('7'));

/**
 * A bar's chord as the style voices it: a style that plays sevenths adds them
 * to plain triads (a dominant seventh on the key's fifth degree, a major
 * seventh on other major chords, a minor seventh on minor ones); the root and
 * the third, which are the chord, never change.
 */
function inStyle(chord: ChordReading, style: Style, key: Reading['key']): string {
  if (!usesSevenths(style) || (chord.quality !== 'major' && chord.quality !== 'minor')) return chord.symbol;
  if (chord.quality === 'minor') return chordSymbol(chord.root, 'm7');
  const dominant = key ? (key.pitchClass + 7) % 12 : -1;
  return chordSymbol(chord.root, chord.root === dominant ? '7' : 'maj7');
}

/** The second take: the runner-up genre when the words named two, else the same genre played another way. */
function secondTake(style: Style): Style {
  const [first, second, ...rest] = style.harmony;
  if (!first) return style;
  // With two harmony parts the second one leads; with one, it comps differently.
  const harmony = second ? [second, first, ...rest] : [{ ...first, comp: OTHER_COMP[first.comp] }];
  return { ...style, harmony };
}

/** The cover's plan: the source's bars, chords and sections, the words' style, one of two takes. */
function coverPlan(reading: Reading, seed: string, texts: readonly string[], negative: string, variant: number): Arrangement {
  const base = chooseStyle(texts, negative);
  const runnerUp = base.matched.genres.find((g) => g.name !== base.genre);
  const choice = variant > 0 && runnerUp ? chooseStyle(texts, negative, { genre: runnerUp.name }) : base;
  const style = variant > 0 && !runnerUp ? secondTake(choice.style) : choice.style;
  const { style: _style, ...summary } = choice;
  const sections: Section[] = reading.form.map((part) => ({
    name: part.name,
    bars: part.bars,
    chords: reading.chords.slice(part.firstBar, part.firstBar + part.bars).map((chord) => inStyle(chord, style, reading.key)),
    energy: Math.round(Math.min(1, Math.max(0.15, part.energy + choice.lift * INTENSITY_REACH)) * 100) / 100,
  }));
  return {
    seed: `${seed}:cover:${variant}`,
    style,
    bpm: reading.tempo.bpm,
    tonic: reading.key?.tonic ?? 'C',
    mode: reading.key?.mode ?? 'major',
    beatsPerBar: BEATS_PER_BAR,
    sections,
    loop: false,
    intensity: choice.intensity,
    lift: choice.lift,
    variant,
    choice: summary,
  };
}

const clock = (seconds: number) => `${Math.floor(seconds / 60)}:${(seconds % 60).toFixed(1).padStart(4, '0')}`;

/** The `text` stage: what was read from the source, and how each take plays it. */
function describeCover(reading: Reading, plans: readonly Arrangement[], title: string): string {
  const { tempo, key, grid, chords, form } = reading;
  const lines = [
    `Cover${title ? ` "${title}"` : ''} of the uploaded audio (${clock(reading.durationS)})`,
    tempo.followed
      ? `Read from the source: ${tempo.bpm.toFixed(1)} BPM (beat confidence ${tempo.confidence.toFixed(2)}), first bar line at ${clock(grid.starts.find((s) => s >= -1e-6) ?? 0)}, 4/4, ${grid.starts.length} bars`
      : `Read from the source: no steady beat found; bars laid at ${tempo.bpm.toFixed(0)} BPM from the start, ${grid.starts.length} bars`,
    `Key: ${key ? `${key.tonic} ${key.mode} (confidence ${key.confidence.toFixed(2)})` : 'none (no pitched sound)'}`,
    'Chords, one per bar:',
  ];
  for (let bar = 0; bar < chords.length; bar += 8) {
    lines.push(
      `  ${String(bar + 1).padStart(3)}: | ${chords
        .slice(bar, bar + 8)
        .map((c) => c.symbol)
        .join(' | ')} |`,
    );
  }
  lines.push(`Form: ${form.map((s) => `${s.name} (${s.label}) ${s.bars} bars, energy ${s.energy.toFixed(2)}`).join('; ')}`);
  plans.forEach((plan, index) => {
    lines.push(`Take ${index + 1}: ${plan.style.name}, energy ${plan.choice.energy}; ${instrumentNames(plan).join(', ')}`);
    lines.push(`  Style: ${plan.choice.reasons.join('; ')}`);
  });
  lines.push(
    "An algorithmic re-arrangement: the source's tempo, beat grid, chords and form replayed by a seeded synthesiser in the style asked for, not a neural model. The source's melody and voice are not carried over; tempo and key named in the words give way to the source's.",
  );
  return lines.join('\n');
}

/** The take as a finished song: the source's length, brought to the source's loudness, peaks under the ceiling. */
function renderTake(plan: Arrangement, reading: Reading, sourceLufs: number): Float32Array[] {
  const frames = Math.round(reading.durationS * SONG_RATE);
  const channels = renderWindow(plan, { sampleRate: SONG_RATE, channels: 2, startFrame: 0, frames, timeline: reading.timeline });
  levelTake(channels, sourceLufs);
  return channels;
}

/** What follows the synthesiser's soft clip on a take, in place: the source's loudness, the limiter, the fades at the ends. */
function levelTake(channels: Float32Array[], sourceLufs: number): void {
  const frames = channels[0]!.length;
  const own = measureLoudness(channels, SONG_RATE).integratedLufs;
  const [quietest, loudest] = LOUDNESS_RANGE_LUFS;
  const target = Number.isFinite(sourceLufs) ? Math.min(loudest, Math.max(quietest, sourceLufs)) : quietest;
  if (Number.isFinite(own)) applyGain(channels, 10 ** ((target - own) / 20));
  limitTruePeak(channels, { sampleRate: SONG_RATE });
  const edge = Math.min(frames, Math.round(EDGE_FADE_S * SONG_RATE));
  const final = Math.min(frames, Math.round(FINAL_FADE_S * SONG_RATE));
  for (const channel of channels) {
    for (let i = 0; i < edge; i++) channel[i]! *= i / edge;
    for (let i = 0; i < final; i++) channel[frames - 1 - i]! *= i / final;
  }
}

/** The two takes' plans and what they need of the upload: one reading serves both. */
async function coverPlans(input: CoverInput): Promise<{ reading: Reading; sourceLufs: number; plans: Arrangement[] }> {
  // A persona's words are already in the style (tasks/kinds/rules.ts styleWithPersona).
  const texts = [input.style, input.prompt, input.title];
  const [slow, fast] = chooseStyle(texts, input.negativeTags).style.tempo;
  const { reading, sourceLufs } = await readUpload(input, Math.round((slow + fast) / 2));
  const plans = [0, 1].map((variant) => coverPlan(reading, input.seed, texts, input.negativeTags, variant));
  return { reading, sourceLufs, plans };
}

/** Take `index` as it is played (its stems and notes are read from it): its plan, and the window on the upload's beats it plays in. */
export async function coverTake(input: CoverInput, index: number): Promise<{ plan: Arrangement; window: Omit<RenderWindow, 'channels'>; sourceLufs: number }> {
  const { reading, sourceLufs, plans } = await coverPlans(input);
  const plan = plans[index];
  if (!plan) throw new EngineError(`a cover makes 2 takes; there is no take ${index}`);
  return { plan, window: { sampleRate: SONG_RATE, startFrame: 0, frames: Math.round(reading.durationS * SONG_RATE), timeline: reading.timeline }, sourceLufs };
}

/**
 * Take `index` of a cover told back for exact stems (trace.ts): the upload read again, the take's
 * band mixed raw and then taken through the take's stages (soft clip, loudness, limiter, fades),
 * whose gain on every sample is kept. A cover holds no audio of the upload, only what was read from it.
 */
export async function traceCover(input: CoverInput, index: number): Promise<TrackTrace> {
  const { plan, window, sourceLufs } = await coverTake(input, index);
  const render = (keep: (part: SynthPart) => boolean) => mixParts(plan, window, keep);
  const raw = render(() => true);
  const master = copyChannels(raw);
  softClipChannels(master);
  levelTake(master, sourceLufs);
  return bandTrace(SONG_RATE, raw, master, { parts: arrangementParts(plan), render });
}

/** Everything a cover keeps of the upload. Its samples are dropped when this returns, before any take is rendered. */
async function readUpload(input: CoverInput, fallbackBpm: number): Promise<{ reading: Reading; sourceLufs: number }> {
  const source = await decodeSource(input.source.bytes, input.source.name);
  const durationS = (source.channels[0]?.length ?? 0) / source.sampleRate;
  if (durationS > MAX_SONG_S) throw new EngineError(`the source is ${durationS.toFixed(0)} s long; a cover is at most ${MAX_SONG_S} s`);
  return readSource(source, fallbackBpm);
}

/** Upload-cover: two takes of the source's song in the asked style, reported as `text` (what was read) and `first`. */
export async function cover(context: ProceduralContext, input: CoverInput, signal: AbortSignal, onProgress: OnProgress): Promise<RenderedTrack[]> {
  signal.throwIfAborted();
  const { reading, sourceLufs, plans } = await coverPlans(input);
  signal.throwIfAborted();
  await onProgress({ stage: 'text', sheet: describeCover(reading, plans, input.title) });
  const tracks: RenderedTrack[] = [];
  for (const [index, plan] of plans.entries()) {
    signal.throwIfAborted();
    const channels = renderTake(plan, reading, sourceLufs);
    signal.throwIfAborted();
    const track = await finishTrack(context, { sampleRate: SONG_RATE, channels }, { title: input.title, tags: input.style, variant: String(index) }, signal);
    tracks.push(track);
    if (index === 0) await onProgress({ stage: 'first', track, index });
  }
  return tracks;
}
