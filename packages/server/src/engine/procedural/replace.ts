import {
  analyse,
  analysisWindow,
  applyGain,
  bandEnergies,
  COVER_BARS,
  canSpliceFrames,
  correlation,
  DEFAULT_CEILING,
  DEFAULT_MAX_SHIFT_S,
  decodeMp3Window,
  type FadeShape,
  FloatWavFileWriter,
  type FrameSpan,
  fadeShapeFor,
  limitTruePeak,
  loudnessOfSpans,
  type Mp3Layout,
  matchTilt,
  measureLoudness,
  mp3BitrateAtLeast,
  type Pcm,
  planSeams,
  quietCrossfades,
  readMp3Layout,
  renderCover,
  renderFittedSection,
  type Seams,
  type SectionRules,
  seamsAt,
  snapToBeats,
  spliceInto,
  spliceMp3Frames,
  streamMp3Rest,
  truePeakDbtp,
  WaveformMeter,
} from '../../audio/index.js';
import { releaseAllNow } from '../../memory.js';
import { scratchPath } from '../scratch.js';
import { EngineError, type RenderedTrack, type ReplaceSectionInput, SourceAudioError } from '../types.js';
import { decodeSource, describeSource, finishTrack, type ProceduralContext } from './common.js';

/** Source audio analysed on each side of the section for tempo, beats and key: enough for a steady reading, far less than a whole song. */
const ANALYSIS_CONTEXT_S = 10;
/** Source audio on each side of the section whose loudness and tone colour the new section is matched to. */
const CONTEXT_S = 5;
/** SPEC §2, checked by the API before a task exists: a range moved onto the beats must still keep them. */
const SECTION_RULES: SectionRules = { minS: 6, maxS: 60, maxShareOfSong: 0.5 };
/** Crossfade where the new material continues the old (correlated): short and linear, as a model's repaint is joined. */
const SHORT_FADE_S = 0.03;
/** A long crossfade may be shortened to this share of its length to keep its ends clear of attacks. */
const MIN_FADE_SHARE = 0.5;
/** Largest loudness correction either way: a near-silent context must not mute the section, nor a quiet section be blown up. */
const MAX_GAIN_DB = 12;
/** Close enough to the context's loudness (the goal is ±1 LU). */
const LOUDNESS_TOLERANCE_LU = 0.2;
/** How far into the section the final limiter pass over each crossfade reaches, so its gain is back at 1 where it stops. */
const LIMITER_MARGIN_S = 0.3;
/** How far beyond the crossfades (in seconds) an MP3 source's own frames may be cut and rejoined. */
const JUNCTION_WINDOW_S = 0.7;
/** Room (in seconds) the decoded window keeps beyond the farthest frame the edit is planned to read: snapping the edges onto beats, interpolators, the splice's frames. */
const WINDOW_SLACK_S = 1;
/** Frames a splice keeps between a seam and its junction window's edge, and between the junction and the song's ends. */
const SPLICE_FRAMES = 4;

const clampDb = (db: number) => Math.max(-MAX_GAIN_DB, Math.min(MAX_GAIN_DB, db));
const sectionLoudness = (channels: readonly Float32Array[], sampleRate: number, [from, to]: FrameSpan) =>
  measureLoudness(channels, sampleRate, { from, to }).integratedLufs;

/**
 * Brings the new material (`fresh`, whose frames [inner) are the replaced range) to the
 * loudness and spectral tilt of the source around the section, under a true-peak ceiling.
 * The limiter can take back some of a gain, so gain and limiter are iterated until the
 * limited section reaches the context's loudness (or the gain is at its bound).
 */
function matchToContext(fresh: Float32Array[], source: readonly Float32Array[], sampleRate: number, context: readonly FrameSpan[], inner: FrameSpan): void {
  if (context.length > 0) matchTilt(fresh, sampleRate, bandEnergies(source, sampleRate, context), inner);
  const target = context.length > 0 ? loudnessOfSpans(source, sampleRate, context) : Number.NEGATIVE_INFINITY;
  const own = sectionLoudness(fresh, sampleRate, inner);
  if (!(Number.isFinite(target) && Number.isFinite(own))) {
    limitTruePeak(fresh, { sampleRate });
    return;
  }
  const unlimited = fresh.map((channel) => Float32Array.from(channel));
  let gainDb = clampDb(target - own);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt > 0) for (const [c, channel] of fresh.entries()) channel.set(unlimited[c]!);
    applyGain(fresh, 10 ** (gainDb / 20));
    const limited = limitTruePeak(fresh, { sampleRate });
    if (limited.passes === 0) break;
    const missing = target - sectionLoudness(fresh, sampleRate, inner);
    const next = clampDb(gainDb + missing);
    if (Math.abs(missing) <= LOUDNESS_TOLERANCE_LU || next === gainDb) break;
    gainDb = next;
  }
  void releaseAllNow(unlimited);
}

/**
 * The crossfade at each seam: equal-power and up to `fadeFrames` long where the new material
 * is other music than the old (the usual case here), short and linear where it continues it.
 * The shape is measured over the long fade, where both exist (`fresh` covers [longest.from,
 * longest.to)); then each fade is placed inside that room so that neither signal has an
 * attack near its ends (audio/seams.ts), shortened to no less than half its length if need be.
 */
function chooseSeams(source: readonly Float32Array[], fresh: readonly Float32Array[], longest: Seams, sampleRate: number): Seams {
  const { start, end, fadeIn, fadeOut, from } = longest;
  const shapeIn = fadeShapeFor(correlation(source, start - fadeIn, fresh, 0, fadeIn));
  const shapeOut = fadeShapeFor(correlation(source, end, fresh, end - from, fadeOut));
  const short = Math.round(SHORT_FADE_S * sampleRate);
  const lengths = (shape: FadeShape, room: number) =>
    shape === 'linear' ? { shortest: Math.min(short, room), longest: Math.min(short, room) } : { shortest: Math.round(MIN_FADE_SHARE * room), longest: room };
  const fades = quietCrossfades(source, fresh, from, {
    sampleRate,
    start,
    end,
    roomIn: fadeIn,
    roomOut: fadeOut,
    lengthIn: lengths(shapeIn, fadeIn),
    lengthOut: lengths(shapeOut, fadeOut),
  });
  return seamsAt(source[0]!.length, start, end, fades, { in: shapeIn, out: shapeOut });
}

/**
 * A last true-peak pass over each crossfade (and a little into the section, so the gain is
 * back at 1 where the pass stops): two signals each under the ceiling can sum above it. In a
 * fade the ceiling is no lower than the source's own peak there, so a hot source is never
 * turned down where it is still nearly all of the mix.
 */
function limitSeams(song: Float32Array[], original: { in: number; out: number }, seams: Seams, sampleRate: number): void {
  const margin = Math.round(LIMITER_MARGIN_S * sampleRate);
  const [inEnd, outStart] = [seams.from + seams.fadeIn, seams.to - seams.fadeOut];
  const ceilingAt = (frame: number) =>
    frame < inEnd ? Math.max(DEFAULT_CEILING, original.in) : frame >= outStart ? Math.max(DEFAULT_CEILING, original.out) : DEFAULT_CEILING;
  const inTo = Math.min(seams.end, seams.start + margin);
  const outFrom = Math.max(seams.start, seams.end - margin);
  const spans: FrameSpan[] =
    inTo >= outFrom
      ? [[seams.from, seams.to]]
      : [
          [seams.from, inTo],
          [outFrom, seams.to],
        ];
  for (const [from, to] of spans) limitTruePeak(song, { sampleRate, from, to, ceiling: ceilingAt });
}

/** Linear true peak of [from, to) of the source (0 for an empty span). */
const peakOf = (channels: readonly Float32Array[], sampleRate: number, from: number, to: number) =>
  to > from ? 10 ** (truePeakDbtp(channels, sampleRate, from, to) / 20) : 0;

/**
 * An MP3 source keeps its own frames outside the section, so the rest of the song is not
 * re-encoded at all (see audio/mp3-splice.ts). Null where that cannot be done cleanly; the
 * caller then encodes the whole song. `edited` is the source's decoded song with only
 * [seams.from, seams.to) changed (only the frames around the change are read).
 */
async function keepingSourceFrames(
  bytes: Uint8Array,
  layout: Mp3Layout | null,
  sampleRate: number,
  edited: Float32Array[],
  seams: Seams,
): Promise<Uint8Array | null> {
  if (!layout) return null;
  const window = Math.round(JUNCTION_WINDOW_S * sampleRate);
  const result = await spliceMp3Frames({ source: bytes, layout, edited, changedFrom: seams.from, changedTo: seams.to, window });
  return result?.mp3 ?? null;
}

/** The section's edges as asked, checked against the source's length (in seconds). */
function askedRange(input: ReplaceSectionInput, durationS: number): { startS: number; endS: number } {
  if (!(Number.isFinite(input.startS) && Number.isFinite(input.endS) && input.startS >= 0 && input.endS > input.startS)) {
    throw new EngineError(`invalid section ${input.startS}–${input.endS} s`);
  }
  // The API checked the range against a probe; a decoded length a few ms shorter must not fail the task.
  const endS = Math.min(durationS, input.endS);
  return { startS: input.startS, endS };
}

/** What an edit did to the song, and which of its frames it read or wrote. */
interface Edit {
  start: number;
  end: number;
  seams: Seams;
  fadeIn: FrameSpan;
  fadeOut: FrameSpan;
  /** Every frame of the song the edit read or wrote lies in here. */
  reach: FrameSpan;
}

/**
 * The edit itself, in place on `channels` (the song, of `total` frames; only the frames around
 * the section are read): new material in the source's tempo and key on its beat grid, matched
 * to the loudness and tone of the music around it, spliced in with crossfades placed clear of
 * attacks.
 */
function editSong(context: ProceduralContext, input: ReplaceSectionInput, song: Pcm, asked: { startS: number; endS: number }, signal: AbortSignal): Edit {
  const { sampleRate, channels } = song;
  const total = channels[0]!.length;
  const durationS = total / sampleRate;
  if (Math.round(asked.endS * sampleRate) <= Math.round(asked.startS * sampleRate)) {
    throw new SourceAudioError(`the section ${input.startS}–${input.endS} s lies outside the ${durationS.toFixed(2)} s of source audio`);
  }

  // Tempo, beats and key of the music around the section; the section's edges move onto its beats.
  const window = analysisWindow(durationS, asked.startS, asked.endS, ANALYSIS_CONTEXT_S);
  const analysis = analyse(song, window);
  const snapped = snapToBeats(asked.startS, asked.endS, analysis.tempo, { durationS, rules: SECTION_RULES });
  const start = Math.round(snapped.startS * sampleRate);
  const end = Math.min(total, Math.round(snapped.endS * sampleRate));
  const longest = planSeams(total, start, end, context.fadeS * sampleRate);
  signal.throwIfAborted();

  // New material in the source's tempo and key on its beat grid, with enough before and after for the longest fades.
  const fitted = renderFittedSection({
    seed: input.seed,
    texts: [input.tags, input.prompt, input.title],
    negative: input.negativeTags,
    analysis,
    sampleRate,
    channels: channels.length,
    from: start,
    to: end,
    preRoll: longest.fadeIn,
    postRoll: longest.fadeOut,
  });
  const fresh = fitted.channels;
  const around = (
    [
      [Math.max(0, start - CONTEXT_S * sampleRate), start],
      [end, Math.min(total, end + CONTEXT_S * sampleRate)],
    ] as const
  ).filter(([from, to]) => to > from);
  matchToContext(fresh, channels, sampleRate, around, [start - longest.from, end - longest.from]);
  signal.throwIfAborted();

  const seams = chooseSeams(channels, fresh, longest, sampleRate);
  const section = fresh.map((channel) => channel.subarray(seams.from - longest.from, seams.to - longest.from));
  const fadeIn: FrameSpan = [seams.from, seams.from + seams.fadeIn];
  const fadeOut: FrameSpan = [seams.to - seams.fadeOut, seams.to];
  const original = { in: peakOf(channels, sampleRate, ...fadeIn), out: peakOf(channels, sampleRate, ...fadeOut) };
  // In place: outside [seams.from, seams.to) the song is the source's very samples, and a second copy of a long song is not needed.
  spliceInto(channels, section, seams);
  void releaseAllNow(fresh);
  limitSeams(channels, original, seams, sampleRate);
  signal.throwIfAborted();
  const reach: FrameSpan = [
    Math.min(Math.round(window.fromS * sampleRate), ...around.map(([from]) => from), longest.from),
    Math.max(Math.round(window.toS * sampleRate), ...around.map(([, to]) => to), longest.to),
  ];
  return { start, end, seams, fadeIn, fadeOut, reach };
}

/** What the track tells of the edit: the range replaced and the crossfades, in seconds. */
function editFacts(edit: Edit, sampleRate: number): Pick<RenderedTrack, 'appliedRange' | 'crossfades'> {
  const seconds = ([from, to]: FrameSpan) => ({ startS: from / sampleRate, endS: to / sampleRate });
  return { appliedRange: seconds([edit.start, edit.end]), crossfades: { in: seconds(edit.fadeIn), out: seconds(edit.fadeOut) } };
}

/**
 * Replace-section: new material in the source's tempo and key on its beat grid, matched to the
 * loudness and tone of the music around it, spliced in with crossfades placed clear of attacks.
 * An MP3 whose frames can be spliced is decoded only around the section and its master written
 * to disk as it is made (`replaceInWindow`); any other source is edited whole in memory.
 */
export async function replaceSection(context: ProceduralContext, input: ReplaceSectionInput, signal: AbortSignal): Promise<RenderedTrack> {
  signal.throwIfAborted();
  const described = await describeSource(input.source);
  const layout = described.format === 'mp3' ? readMp3Layout(input.source.bytes) : null;
  const windowed = layout && canSpliceFrames(layout) && roomToSplice(context, input, layout) ? await replaceInWindow(context, input, layout, signal) : null;
  return windowed ?? (await replaceInWholeSong(context, input, signal));
}

/**
 * Whether the source's frames can be kept on both sides of the section: the seams, wherever
 * snapping and the fades put them, stay a junction window (and a few frames) inside the song.
 * A section at the song's very start or end is re-encoded whole.
 */
function roomToSplice(context: ProceduralContext, input: ReplaceSectionInput, layout: Mp3Layout): boolean {
  const roomS = DEFAULT_MAX_SHIFT_S + context.fadeS + JUNCTION_WINDOW_S + SPLICE_FRAMES * (layout.header.samplesPerFrame / layout.header.sampleRate);
  return input.startS >= roomS && input.endS <= layout.samples / layout.header.sampleRate - roomS;
}

/** The edit on the whole song decoded in memory, which becomes the master in place. */
export async function replaceInWholeSong(context: ProceduralContext, input: ReplaceSectionInput, signal: AbortSignal): Promise<RenderedTrack> {
  const source = await decodeSource(input.source.bytes, input.source.name);
  const { sampleRate, channels } = source;
  const asked = askedRange(input, channels[0]!.length / sampleRate);
  const edit = editSong(context, input, source, asked, signal);
  // An MP3 source keeps its own frames outside the section where it can; otherwise it is
  // re-encoded at no lower a bitrate than its own (and never below 192 kbps).
  const layout = source.format === 'mp3' ? readMp3Layout(input.source.bytes) : null;
  const mp3 = await keepingSourceFrames(input.source.bytes, layout, sampleRate, channels, edit.seams);
  signal.throwIfAborted();
  const bitrate = source.bitrateKbps === null ? 192 : mp3BitrateAtLeast(source.bitrateKbps);
  const track = await finishTrack(context, { sampleRate, channels }, { title: input.title, tags: input.tags }, signal, { bitrate, mp3 });
  return { ...track, ...editFacts(edit, sampleRate) };
}

/**
 * The edit of an MP3 whose frames can be spliced, holding only the section and the music
 * around it: the song is decoded as far as the window's end (what comes before the window
 * going straight into the master file), edited, spliced into the source's own frames, and the
 * rest decoded from just before the window's end into the master file (audio/mp3-seek.ts). The
 * song's arrays are allocated at its full length, so the edit reads the very frame indices it
 * reads in a whole song, but only the window's pages are ever written: the rest of them is
 * never resident. Null (nothing left behind) where the edit reached past the window or the
 * frames would not splice; the caller then edits the song whole.
 */
export async function replaceInWindow(
  context: ProceduralContext,
  input: ReplaceSectionInput,
  layout: Mp3Layout,
  signal: AbortSignal,
): Promise<RenderedTrack | null> {
  const { bytes } = input.source;
  const { sampleRate, channels: count } = layout.header;
  const total = layout.samples;
  const asked = askedRange(input, total / sampleRate);
  const reachS = Math.max(ANALYSIS_CONTEXT_S, CONTEXT_S + context.fadeS + JUNCTION_WINDOW_S) + WINDOW_SLACK_S;
  const w0 = Math.max(0, Math.round((asked.startS - reachS) * sampleRate));
  const w1 = Math.min(total, Math.round((asked.endS + reachS) * sampleRate));
  const song = Array.from({ length: count }, () => new Float32Array(total));
  const master = new FloatWavFileWriter(scratchPath(context.scratchDir, '.master.wav'), { sampleRate, count, frames: total });
  const meter = new WaveformMeter(total, count, COVER_BARS);
  try {
    const before = await decodeMp3Window(bytes, layout, w0, w1, song, (piece, at, n) => {
      master.append(piece, 0, n);
      meter.add(piece, at, 0, n);
    });
    if (before !== w0) return discard(master);
    signal.throwIfAborted();
    const edit = editSong(context, input, { sampleRate, channels: song }, asked, signal);
    // The splice reads the song up to its junction window (and a few frames) beyond the seams.
    const margin = Math.round((JUNCTION_WINDOW_S + WINDOW_SLACK_S) * sampleRate);
    const needed: FrameSpan = [Math.min(edit.reach[0], edit.seams.from - margin), Math.max(edit.reach[1], edit.seams.to + margin)];
    const inWindow = (w0 === 0 || needed[0] >= w0) && (w1 === total || needed[1] <= w1);
    const mp3 = inWindow ? await keepingSourceFrames(bytes, layout, sampleRate, song, edit.seams) : null;
    if (!mp3) return discard(master);
    signal.throwIfAborted();
    master.append(song, w0, w1);
    meter.add(song, 0, w0, w1);
    await streamMp3Rest(bytes, layout, w1, { channels: song, from: needed[1] }, (piece, at) => {
      master.append(piece);
      meter.add(piece, at);
    });
    // The window's memory goes back now rather than at some later collection, which may come after the next job has begun.
    void releaseAllNow(song);
    if (master.frames !== total) return discard(master);
    signal.throwIfAborted();
    const cover = await renderCover({ title: input.title, tags: input.tags, levels: meter.levels() });
    const masterFile = master.finish();
    return { mp3, masterFile, cover, durationS: total / sampleRate, modelName: context.modelName, ...editFacts(edit, sampleRate) };
  } catch (error) {
    master.discard();
    throw error;
  }
}

/** Removes what a windowed edit wrote, for the caller to edit the song whole instead. */
function discard(master: FloatWavFileWriter): null {
  master.discard();
  return null;
}
