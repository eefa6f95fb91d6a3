import {
  analyseMusic,
  applyGain,
  type ChangePlan,
  type ChannelAllocator,
  channelChanger,
  type DecodedAudio,
  floatWavChannels,
  inFloatWavLayout,
  integratedLoudness,
  limitTruePeak,
  type MusicAnalysis,
  PITCH_NAMES,
  planChange,
  relativeOf,
  resample,
  silence,
  smoothBeats,
  stretchSearchSignal,
} from '../../audio/index.js';
import { releaseAllNow, releaseNow } from '../../memory.js';
import type { MashupInput, OnProgress, RenderedTrack } from '../types.js';
import { decodeSource, finishTrack, type ProceduralContext, SONG_RATE } from './common.js';
import { copyChannels } from './trace.js';

/**
 * Mashup: two songs measured (tempo, downbeats, key), brought to one tempo by time-stretching and
 * one key by pitch-shifting the second, then woven phrase by phrase on the first song's bar grid:
 * downbeat on downbeat, each phrase from one song or both, joined by short crossfades that end on
 * the bar line. Nothing new is composed: every sample comes from the two sources.
 */

/** The longest mashup, in seconds: the first song's length, up to this. */
const MAX_MASHUP_S = 240;
/** Tempos this close (as a ratio) meet in the middle, so each song is stretched by half as much. */
const NEAR_TEMPO = 0.06;
/** A tempo reading below this confidence is not followed: the song is laid unstretched on its own clock. */
const MIN_TEMPO_CONFIDENCE = 0.1;
/** Tempo when neither song has a pulse to measure (phrases then are just lengths of time). */
const FALLBACK_BPM = 120;
/** Crossfade at each phrase change, ending on the bar line so the new phrase's downbeat sounds whole. */
const FADE_S = 0.05;
/** Largest loudness correction of the second song either way. */
const MAX_GAIN_DB = 12;
/** Where both songs play at once, each at this gain: two unrelated signals sum in power, so the pair is as loud as one. */
const BOTH_GAIN = Math.SQRT1_2;
const BEATS_PER_BAR = 4;

type Part = 'A' | 'B' | 'AB';

/** What was measured on one song and how it is changed. */
interface SongPlan {
  /** BPM as measured, null where no pulse was found. */
  bpm: number | null;
  confidence: number;
  key: { pitchClass: number; mode: 'major' | 'minor'; confidence: number } | null;
  /** Stretch ratio (output length ÷ input length). */
  ratio: number;
  /** Pitch shift in semitones. */
  semitones: number;
  /** Beats of the measured grid per bar of the mashup (4, or 2 / 8 where the song was read at half / double time). */
  beatsPerBar: number;
  durationS: number;
}

interface Plan {
  bpm: number;
  a: SongPlan;
  b: SongPlan;
  /** The key both end in, or null where a key could not be read. */
  key: { pitchClass: number; mode: 'major' | 'minor' } | null;
  tempoRule: 'mean' | 'first' | 'second' | 'none';
}

const keyName = (key: { pitchClass: number; mode: string } | null) => (key ? `${PITCH_NAMES[key.pitchClass]} ${key.mode}` : 'no clear key');

/** Both sources at one rate, as stereo (a mono source on both sides, extra channels dropped). */
function prepare(source: DecodedAudio, rate: number, maxS: number): Float32Array[] {
  const frames = Math.min(source.channels[0]!.length, Math.round(maxS * source.sampleRate));
  let channels = source.channels.slice(0, 2).map((channel) => channel.subarray(0, frames));
  if (channels.length === 1) channels = [channels[0]!, channels[0]!];
  return source.sampleRate === rate ? channels : resample(channels, source.sampleRate, rate);
}

function measure(analysis: MusicAnalysis, durationS: number): SongPlan {
  const tempo = analysis.tempo && analysis.tempo.confidence >= MIN_TEMPO_CONFIDENCE && analysis.tempo.beats.length >= 8 ? analysis.tempo : null;
  const key = analysis.key ? { pitchClass: analysis.key.pitchClass, mode: analysis.key.mode, confidence: analysis.key.confidence } : null;
  return { bpm: tempo?.bpm ?? null, confidence: tempo?.confidence ?? 0, key, ratio: 1, semitones: 0, beatsPerBar: BEATS_PER_BAR, durationS };
}

/** The interval in −6…+5 semitones that takes pitch class `from` to `to`. */
const nearestShift = (from: number, to: number) => ((((to - from) % 12) + 18) % 12) - 6;

/**
 * One tempo and one key for both. The second song's tempo may be read at half or double the
 * first's (a beat tracker's octave); it is counted in whichever octave is nearest. Its key moves
 * by the smallest interval onto the first song's key, or onto that key's relative when the modes
 * differ (a minor song is not made major).
 */
export function planMashup(a: MusicAnalysis, b: MusicAnalysis, durations: [number, number]): Plan {
  const first = measure(a, durations[0]);
  const second = measure(b, durations[1]);
  let bpm = first.bpm ?? second.bpm ?? FALLBACK_BPM;
  let tempoRule: Plan['tempoRule'] = first.bpm !== null ? 'first' : second.bpm !== null ? 'second' : 'none';
  if (first.bpm !== null && second.bpm !== null) {
    const octaves = [0.5, 1, 2].map((m) => ({ m, bpm: second.bpm! * m }));
    const nearest = octaves.reduce((x, y) => (Math.abs(Math.log(y.bpm / first.bpm!)) < Math.abs(Math.log(x.bpm / first.bpm!)) ? y : x));
    second.beatsPerBar = BEATS_PER_BAR / nearest.m;
    if (Math.abs(Math.log(nearest.bpm / first.bpm)) <= Math.log(1 + NEAR_TEMPO)) {
      bpm = Math.sqrt(nearest.bpm * first.bpm);
      tempoRule = 'mean';
    }
    first.ratio = first.bpm / bpm;
    second.ratio = nearest.bpm / bpm;
  }
  let key: Plan['key'] = first.key && { pitchClass: first.key.pitchClass, mode: first.key.mode };
  if (first.key && second.key) {
    const target = second.key.mode === first.key.mode ? first.key : { ...relativeOf(first.key.pitchClass, first.key.mode) };
    second.semitones = nearestShift(second.key.pitchClass, target.pitchClass);
    key = { pitchClass: first.key.pitchClass, mode: first.key.mode };
  }
  return { bpm, a: first, b: second, key, tempoRule };
}

/**
 * Downbeats (in seconds of the changed song) covering [0, durationS]: the measured beats smoothed,
 * every `beatsPerBar`-th from the bar phase, stretched by the song's ratio and continued at the
 * bar period before the first and after the last. A song without a pulse gets a steady grid from 0.
 */
function downbeatsOf(analysis: MusicAnalysis, song: SongPlan, bpm: number, durationS: number): number[] {
  const tempo = analysis.tempo;
  const steadyBar = (60 / bpm) * BEATS_PER_BAR;
  let bars: number[] = [];
  if (song.bpm !== null && tempo) {
    const beats = smoothBeats(tempo.beats);
    const step = song.beatsPerBar;
    // The bar phase counts in the tracker's beats; at half-time reading a bar is two beats, at double time eight.
    const phase = step >= 1 ? tempo.barPhase % step : tempo.barPhase;
    for (let i = phase; i < beats.length; i += step) {
      const index = Math.floor(i);
      const frac = i - index;
      const at = frac === 0 ? beats[index]! : beats[index]! + frac * ((beats[index + 1] ?? beats[index]! + 60 / song.bpm) - beats[index]!);
      bars.push(at * song.ratio);
    }
  }
  if (bars.length < 2) bars = [0, steadyBar];
  const firstBar = bars[1]! - bars[0]!;
  const lastBar = bars[bars.length - 1]! - bars[bars.length - 2]!;
  while (bars[0]! > 0) bars.unshift(bars[0]! - firstBar);
  while (bars[bars.length - 1]! < durationS) bars.push(bars[bars.length - 1]! + lastBar);
  return bars;
}

/** Which song plays each phrase: variant 0 opens with the first song, variant 1 with the second; every third phrase has both. */
export function phraseParts(phrases: number, variant: number): Part[] {
  const cycle: Part[] = variant === 0 ? ['A', 'B', 'AB'] : ['B', 'A', 'AB'];
  if (phrases <= 2) return cycle.slice(0, phrases);
  return Array.from({ length: phrases }, (_, k) => cycle[k % cycle.length]!);
}

/** Phrase boundaries in frames: [0, downbeat of bar P, of bar 2P, …, length]. */
function phraseBounds(downbeats: readonly number[], barsPerPhrase: number, rate: number, length: number): { bounds: number[]; firstBars: number[] } {
  // The first bar that starts at or after 0; what comes before it (a pickup) belongs to the first phrase.
  const first = downbeats.findIndex((t) => t >= -1e-6);
  const bounds = [0];
  const firstBars = [first];
  for (let bar = first + barsPerPhrase; bar < downbeats.length; bar += barsPerPhrase) {
    const frame = Math.round(downbeats[bar]! * rate);
    if (frame >= length - Math.round(rate)) break; // no phrase shorter than a second at the very end
    bounds.push(frame);
    firstBars.push(bar);
  }
  bounds.push(length);
  return { bounds, firstBars };
}

/**
 * One channel of the second song laid on the first's bar grid, into `out`: each phrase copies
 * the second song from its bar with the same number (counted from each song's first whole bar,
 * wrapping where the second song is shorter), so every phrase's downbeat lands on the first
 * song's downbeat. Where one phrase's copy meets the next, a short linear crossfade before the
 * bar line joins them.
 */
function layOnGrid(
  channel: Float32Array,
  out: Float32Array,
  bDownbeats: readonly number[],
  aDownbeats: readonly number[],
  phrases: { bounds: readonly number[]; firstBars: readonly number[] },
  rate: number,
  fade: number,
): void {
  const { bounds, firstBars } = phrases;
  const bLength = channel.length;
  const bFirstWhole = bDownbeats.findIndex((t) => t >= -1e-6);
  const bWholeBars = bDownbeats.filter((t, i) => i >= bFirstWhole && t < bLength / rate).length - 1;
  for (let k = 0; k + 1 < bounds.length; k++) {
    const start = bounds[k]!;
    const end = bounds[k + 1]!;
    const barNumber = firstBars[k]! - firstBars[0]!;
    const bBar = bFirstWhole + (bWholeBars > 0 ? barNumber % bWholeBars : 0);
    // Output frame `anchor` (the phrase's first downbeat; the first phrase also holds the pickup before it) is B's bar start.
    const anchor = Math.round(aDownbeats[firstBars[k]!]! * rate);
    const offset = Math.round(bDownbeats[bBar]! * rate) - anchor;
    const from = Math.max(0, start - (k === 0 ? 0 : fade));
    for (let i = from; i < end; i++) {
      const j = i + offset;
      const v = j >= 0 && j < bLength ? channel[j]! : 0;
      if (i < start) {
        const t = (i - from + 0.5) / (start - from);
        out[i] = out[i]! * (1 - t) + v * t;
      } else out[i] = v;
    }
  }
}

/**
 * `work` on each channel in turn, each input channel's memory handed back as soon as no channel
 * after it shares it (a mono song's two channels are one array), so a song being changed into
 * new arrays is held whole only at the start.
 */
async function eachChannelReleasing(channels: readonly Float32Array[], work: (channel: Float32Array, c: number) => void): Promise<void> {
  for (const [c, channel] of channels.entries()) {
    work(channel, c);
    if (!channels.slice(c + 1).some((later) => later.buffer === channel.buffer)) await releaseNow(channel);
  }
}

/** The song changed by `plan` into channels from `allocate`, its own channels freed one by one as they are done, and the scratch at the end. */
async function changed(channels: readonly Float32Array[], plan: ChangePlan, allocate: ChannelAllocator): Promise<Float32Array[]> {
  const out = allocate(channels.length, plan.outputLength);
  const changer = channelChanger(plan);
  await eachChannelReleasing(channels, (channel, c) => changer.change(channel, out[c]!));
  const scratch = changer.scratch();
  if (scratch) await releaseNow(scratch);
  return out;
}

/**
 * Both weaves mixed at once, each in one song's memory: weave 0 into `a`, weave 1 into `b`
 * (each laid out as a float WAV's samples, so a mix becomes its track's master in place and no
 * third song is held). Per weave, each song's gain phrase by phrase, with an equal-power
 * crossfade ending on each phrase's first frame. Each frame of the outputs is computed from the
 * songs' samples at that frame alone, read before either is written.
 */
export function mixWeaves(
  a: Float32Array[],
  b: Float32Array[],
  bounds: readonly number[],
  weaves: readonly [readonly Part[], readonly Part[]],
  fade: number,
): void {
  const gains = (part: Part): [number, number] => (part === 'A' ? [1, 0] : part === 'B' ? [0, 1] : [BOTH_GAIN, BOTH_GAIN]);
  const fadeFromOf = (k: number) => (k > 0 ? Math.max(bounds[k - 1]!, bounds[k]! - fade) : bounds[k]!);
  const [first, second] = weaves;
  for (let k = 0; k < first.length; k++) {
    // Weave 0's gains (g: this phrase, p: the previous one), then weave 1's.
    const [ga, gb] = gains(first[k]!);
    const [pa, pb] = k > 0 ? gains(first[k - 1]!) : [ga, gb];
    const [ha, hb] = gains(second[k]!);
    const [qa, qb] = k > 0 ? gains(second[k - 1]!) : [ha, hb];
    const start = bounds[k]!;
    // Up to the next phrase's crossfade, which that phrase writes: every frame is written once.
    const end = k + 1 < first.length ? fadeFromOf(k + 1) : bounds[k + 1]!;
    const fadeFrom = fadeFromOf(k);
    for (let c = 0; c < a.length; c++) {
      const left = a[c]!;
      const right = b[c]!;
      for (let i = fadeFrom; i < start; i++) {
        const t = ((i - fadeFrom + 0.5) / (start - fadeFrom)) * (Math.PI / 2);
        const [inGain, outGain] = [Math.sin(t), Math.cos(t)];
        const x = left[i]!;
        const y = right[i]!;
        left[i] = (pa * outGain + ga * inGain) * x + (pb * outGain + gb * inGain) * y;
        right[i] = (qa * outGain + ha * inGain) * x + (qb * outGain + hb * inGain) * y;
      }
      for (let i = start; i < end; i++) {
        const x = left[i]!;
        const y = right[i]!;
        left[i] = ga * x + gb * y;
        right[i] = ha * x + hb * y;
      }
    }
  }
}

function describePlan(plan: Plan, barsPerPhrase: number, weaves: readonly (readonly Part[])[], seconds: number): string {
  const song = (name: string, s: SongPlan) =>
    `${name}: ${s.bpm === null ? 'no steady pulse' : `${s.bpm.toFixed(1)} BPM (confidence ${s.confidence.toFixed(2)})`}, ` +
    `${keyName(s.key)}${s.key ? ` (confidence ${s.key.confidence.toFixed(2)})` : ''}, ${s.durationS.toFixed(1)} s`;
  const tempo =
    plan.tempoRule === 'mean'
      ? `${plan.bpm.toFixed(1)} BPM, between the two (each stretched: song A ×${plan.a.ratio.toFixed(3)}, song B ×${plan.b.ratio.toFixed(3)})`
      : plan.tempoRule === 'first'
        ? `${plan.bpm.toFixed(1)} BPM, song A's (song B stretched ×${plan.b.ratio.toFixed(3)}${plan.b.bpm === null ? ', as it has no pulse to follow: laid unaligned' : ''})`
        : plan.tempoRule === 'second'
          ? `${plan.bpm.toFixed(1)} BPM, song B's (song A has no steady pulse; neither is stretched)`
          : 'neither song has a steady pulse: phrases are laid every 8 s, unaligned';
  const octave = plan.b.beatsPerBar !== BEATS_PER_BAR ? ` (song B counted in ${plan.b.beatsPerBar > BEATS_PER_BAR ? 'double' : 'half'} time)` : '';
  const key =
    plan.b.semitones !== 0
      ? `${keyName(plan.key)}: song B shifted ${plan.b.semitones > 0 ? '+' : ''}${plan.b.semitones} semitones`
      : plan.key
        ? `${keyName(plan.key)}: song B kept at its pitch`
        : 'not read: no pitch shift';
  const weave = weaves.map((parts, v) => `  variant ${v + 1}: ${parts.map((p) => (p === 'AB' ? 'A+B' : p)).join(' | ')}`);
  return [
    'Mashup (measured, stretched, shifted and spliced; every sound is from the two sources)',
    song('Song A', plan.a),
    song('Song B', plan.b),
    `Tempo: ${tempo}${octave}`,
    `Key: ${key}`,
    `Weave: ${barsPerPhrase}-bar phrases on song A's downbeats, ${Math.round(FADE_S * 1000)} ms crossfades ending on the bar lines, ${seconds.toFixed(1)} s:`,
    ...weave,
  ].join('\n');
}

/** `next` once the memory of `previous` (which it replaces) is freed. */
async function superseded(previous: readonly Float32Array[], next: Float32Array[]): Promise<Float32Array[]> {
  await releaseAllNow(previous);
  return next;
}

export async function mashup(context: ProceduralContext, input: MashupInput, signal: AbortSignal, onProgress: OnProgress): Promise<RenderedTrack[]> {
  signal.throwIfAborted();
  const [sourceA, sourceB] = input.sources;
  const rate = SONG_RATE;
  // At most two songs' samples are held at once. The first song is measured and let go while the
  // second is worked on, then decoded again for the mix. A song that is changed (stretched,
  // shifted, laid on the grid) is decoded into one array per channel, and each of its channels is
  // freed as soon as its changed version is made.
  const prepareA = async (allocate?: ChannelAllocator) => prepare(await decodeSource(sourceA.bytes, sourceA.name, allocate), rate, MAX_MASHUP_S);
  const first = await prepareA();
  const analysisA = analyseMusic({ sampleRate: rate, channels: first });
  const framesA = first[0]!.length;
  // Kept in its place (half its size) for the stretch it may need, which only the second song's tempo decides.
  const searchA = stretchSearchSignal(first, rate);
  await releaseAllNow(first);
  signal.throwIfAborted();
  // The second song may be stretched up to a third longer, and loops if it is still shorter.
  let b = prepare(await decodeSource(sourceB.bytes, sourceB.name, silence), rate, MAX_MASHUP_S * 1.5);
  // Their loudness is measured after the stretch, on what is woven (below).
  const analysisB = analyseMusic({ sampleRate: rate, channels: b });
  const plan = planMashup(analysisA, analysisB, [framesA / rate, b[0]!.length / rate]);
  const changeA = plan.a.ratio !== 1 ? planChange(() => searchA, framesA, rate, { ratio: plan.a.ratio, semitones: 0 }) : null;
  await releaseNow(searchA);
  signal.throwIfAborted();

  if (plan.b.ratio !== 1 || plan.b.semitones !== 0) {
    const searchB = stretchSearchSignal(b, rate);
    const changeB = planChange(() => searchB, b[0]!.length, rate, { ratio: plan.b.ratio, semitones: plan.b.semitones });
    await releaseNow(searchB);
    b = await changed(b, changeB, silence);
  }
  signal.throwIfAborted();
  // As long as the first song once changed (below).
  const length = Math.min(changeA ? changeA.outputLength : framesA, Math.round(MAX_MASHUP_S * rate));
  const seconds = length / rate;
  const downbeatsA = downbeatsOf(analysisA, plan.a, plan.bpm, seconds);
  const downbeatsB = downbeatsOf(analysisB, plan.b, plan.bpm, b[0]!.length / rate);
  const barsInSong = downbeatsA.filter((t) => t >= 0 && t < seconds).length;
  const barsPerPhrase = barsInSong >= 24 ? 8 : 4;
  const phrases = phraseBounds(downbeatsA, barsPerPhrase, rate, length);
  const fade = Math.round(FADE_S * rate);
  // Laid out for a master: the second variant is mixed in this memory.
  const laidB = floatWavChannels(b.length, length);
  await eachChannelReleasing(b, (channel, c) => layOnGrid(channel, laidB[c]!, downbeatsB, downbeatsA, phrases, rate, fade));
  b = [];

  // Unchanged, the first song is decoded where its mix becomes a master; changed, the changed version is.
  let a = changeA ? await changed(await prepareA(silence), changeA, floatWavChannels) : await prepareA();
  signal.throwIfAborted();
  const songA = a.map((channel) => channel.subarray(0, length));
  a = [];

  // The second song at the first one's loudness, so a phrase change is a change of song, not of level.
  const loudA = integratedLoudness(songA, rate);
  const loudB = integratedLoudness(laidB, rate);
  if (Number.isFinite(loudA) && Number.isFinite(loudB)) applyGain(laidB, 10 ** (Math.max(-MAX_GAIN_DB, Math.min(MAX_GAIN_DB, loudA - loudB)) / 20));

  const { bounds } = phrases;
  const weaves = [phraseParts(bounds.length - 1, 0), phraseParts(bounds.length - 1, 1)] as const;
  await onProgress({ stage: 'text', sheet: describePlan(plan, barsPerPhrase, weaves, seconds) });
  // Weave 0 is mixed in the first song's memory where that can become a master in place; a song
  // cut short, resampled or mono (its two channels one array, which must not be written twice) is copied first.
  const mixA = inFloatWavLayout(songA) ? songA : await superseded(songA, copyChannels(songA));
  mixWeaves(mixA, laidB, bounds, weaves, fade);
  const tracks: RenderedTrack[] = [];
  for (const [index, mixed] of [mixA, laidB].entries()) {
    signal.throwIfAborted();
    limitTruePeak(mixed, { sampleRate: rate });
    const track = await finishTrack(
      context,
      { sampleRate: rate, channels: mixed },
      { title: input.title || 'Mashup', tags: input.style, variant: String(index) },
      signal,
    );
    tracks.push(track);
    if (index === 0) await onProgress({ stage: 'first', track, index });
  }
  return tracks;
}
