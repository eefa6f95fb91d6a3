import {
  analyse,
  analysisWindow,
  applyGain,
  bandEnergies,
  correlation,
  DEFAULT_CEILING,
  type DecodedAudio,
  type FadeShape,
  type FrameSpan,
  fadeShapeFor,
  limitTruePeak,
  loudnessOfSpans,
  matchTilt,
  measureLoudness,
  mp3BitrateAtLeast,
  planSeams,
  quietCrossfades,
  readMp3Layout,
  renderFittedSection,
  type Seams,
  type SectionRules,
  seamsAt,
  snapToBeats,
  spliceInto,
  spliceMp3Frames,
  truePeakDbtp,
} from '../../audio/index.js';
import { EngineError, type RenderedTrack, type ReplaceSectionInput, SourceAudioError } from '../types.js';
import { decodeSource, finishTrack, type ProceduralContext } from './common.js';

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
    if (limited.passes === 0) return;
    const missing = target - sectionLoudness(fresh, sampleRate, inner);
    const next = clampDb(gainDb + missing);
    if (Math.abs(missing) <= LOUDNESS_TOLERANCE_LU || next === gainDb) return;
    gainDb = next;
  }
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
 * [seams.from, seams.to) changed.
 */
async function keepingSourceFrames(bytes: Uint8Array, source: DecodedAudio, edited: Float32Array[], seams: Seams): Promise<Uint8Array | null> {
  if (source.format !== 'mp3') return null;
  const layout = readMp3Layout(bytes);
  if (!layout) return null;
  const window = Math.round(JUNCTION_WINDOW_S * source.sampleRate);
  const result = await spliceMp3Frames({ source: bytes, layout, edited, changedFrom: seams.from, changedTo: seams.to, window });
  return result?.mp3 ?? null;
}

/**
 * Replace-section: new material in the source's tempo and key on its beat grid, matched to the
 * loudness and tone of the music around it, spliced in with crossfades placed clear of attacks.
 */
export async function replaceSection(context: ProceduralContext, input: ReplaceSectionInput, signal: AbortSignal): Promise<RenderedTrack> {
  signal.throwIfAborted();
  const source = await decodeSource(input.source.bytes, input.source.name);
  const { sampleRate } = source;
  const total = source.channels[0]!.length;
  const durationS = total / sampleRate;
  if (!(Number.isFinite(input.startS) && Number.isFinite(input.endS) && input.startS >= 0 && input.endS > input.startS)) {
    throw new EngineError(`invalid section ${input.startS}–${input.endS} s`);
  }
  // The API checked the range against a probe; a decoded length a few ms shorter must not fail the task.
  const askedEndS = Math.min(durationS, input.endS);
  if (Math.round(askedEndS * sampleRate) <= Math.round(input.startS * sampleRate)) {
    throw new SourceAudioError(`the section ${input.startS}–${input.endS} s lies outside the ${durationS.toFixed(2)} s of source audio`);
  }

  // Tempo, beats and key of the music around the section; the section's edges move onto its beats.
  const analysis = analyse(source, analysisWindow(durationS, input.startS, askedEndS, ANALYSIS_CONTEXT_S));
  const snapped = snapToBeats(input.startS, askedEndS, analysis.tempo, { durationS, rules: SECTION_RULES });
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
    channels: source.channels.length,
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
  matchToContext(fresh, source.channels, sampleRate, around, [start - longest.from, end - longest.from]);
  signal.throwIfAborted();

  const seams = chooseSeams(source.channels, fresh, longest, sampleRate);
  const section = fresh.map((channel) => channel.subarray(seams.from - longest.from, seams.to - longest.from));
  const fadeIn: FrameSpan = [seams.from, seams.from + seams.fadeIn];
  const fadeOut: FrameSpan = [seams.to - seams.fadeOut, seams.to];
  const original = { in: peakOf(source.channels, sampleRate, ...fadeIn), out: peakOf(source.channels, sampleRate, ...fadeOut) };
  // In place: outside [seams.from, seams.to) the song is the source's very samples, and a second copy of a long song is not needed.
  const channels = source.channels;
  spliceInto(channels, section, seams);
  limitSeams(channels, original, seams, sampleRate);
  signal.throwIfAborted();
  // An MP3 source keeps its own frames outside the section where it can; otherwise it is
  // re-encoded at no lower a bitrate than its own (and never below 192 kbps).
  const mp3 = await keepingSourceFrames(input.source.bytes, source, channels, seams);
  signal.throwIfAborted();
  const bitrate = source.bitrateKbps === null ? 192 : mp3BitrateAtLeast(source.bitrateKbps);
  const track = await finishTrack(context, { sampleRate, channels }, { title: input.title, tags: input.tags }, signal, { bitrate, mp3 });
  const seconds = ([from, to]: FrameSpan) => ({ startS: from / sampleRate, endS: to / sampleRate });
  return { ...track, appliedRange: { startS: start / sampleRate, endS: end / sampleRate }, crossfades: { in: seconds(fadeIn), out: seconds(fadeOut) } };
}
