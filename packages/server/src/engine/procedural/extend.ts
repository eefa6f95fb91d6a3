import {
  type AudioSource,
  analyseMusic,
  bandEnergies,
  type ContinuationPlan,
  continueMp3Frames,
  correlation,
  DEFAULT_CEILING,
  describeContinuation,
  fadeInOver,
  fadeOutEnd,
  fadeShapeFor,
  floatWavChannels,
  followedTempo,
  limitTruePeak,
  loudnessOfSpans,
  matchLoudness,
  matchTilt,
  mp3BitrateAtLeast,
  planContinuation,
  readMp3Layout,
  renderContinuation,
  silence,
  snapJoin,
  TRUE_PEAK_HALF,
  truePeakDbtp,
} from '../../audio/index.js';
import { releaseAllNow } from '../../memory.js';
import { EngineError, type ExtendInput, type OnProgress, type RenderedTrack, SourceAudioError } from '../types.js';
import { decodeSourceRange, describeSource, finishTrack, MAX_SONG_S, type ProceduralContext } from './common.js';

/** Source audio before the join analysed for tempo, beats and key: enough for a steady reading. */
const ANALYSIS_BEFORE_S = 30;
/** And after it: the beat tracker is unsure at a window's edge, and the source's next beats are still its grid. */
const ANALYSIS_AFTER_S = 2;
/** Source audio before the join whose loudness and tone colour the new music is matched to. */
const CONTEXT_S = 6;
/** The crossfade into the new music ends on the join's beat; short, so the beat itself is the new music's. */
const JOIN_FADE_S = 0.12;
/** The new music ends with a fade-out of this share of its length, no longer than the cap. */
const FADE_OUT_SHARE = 0.25;
const MAX_FADE_OUT_S = 4;
/** How far past the join the limiter pass over the crossfade reaches, so its gain is back at 1 where it stops. */
const LIMITER_MARGIN_S = 0.3;
/** How far before the crossfade an MP3 source's own frames may end. */
const JUNCTION_WINDOW_S = 0.7;

/** The words that choose the style (a persona's words are already in the style: tasks/kinds/rules.ts). */
function textsOf(input: ExtendInput): string[] {
  return [input.style, input.prompt, input.title];
}

/** Where the new music goes in the song, in frames. */
interface Layout {
  /** The new music alone from here on, on a beat of the source. */
  join: number;
  /** Crossfade frames before the join: the output is the source's samples before `join - fade`. */
  fade: number;
  /** Length of the extended song. */
  end: number;
}

/**
 * One variant's new music, in place: `song` holds the source's very samples up to the join (and
 * a little past it, the interpolator's reach). What the new music needs of the source is read
 * first: the tone colour and loudness of its last seconds, which the new music is matched to,
 * and the crossfade's old audio and its peak, kept aside. The new music is then rendered straight
 * into the song from the crossfade on (no second buffer of its length), faded in over the old
 * audio there, and fades out at its end.
 */
function addNewMusic(plan: ContinuationPlan, song: Float32Array[], sampleRate: number, layout: Layout): void {
  const { join, fade, end } = layout;
  const from = join - fade;
  const context = [[Math.max(0, join - Math.round(CONTEXT_S * sampleRate)), join] as const];
  const tone = bandEnergies(song, sampleRate, context);
  const loudness = loudnessOfSpans(song, sampleRate, context);
  // Two signals each under the ceiling can sum above it; in the fade the ceiling is no lower than the source's own peak there.
  const sourcePeak = fade > 0 ? 10 ** (truePeakDbtp(song, sampleRate, from, join) / 20) : 0;
  const outgoing = song.map((channel) => channel.slice(from, join));
  for (const channel of song) channel.fill(0, from, end);

  const window = renderContinuation(
    plan,
    { sampleRate, channels: song.length, startFrame: from, frames: end - from },
    song.map((channel) => channel.subarray(from, end)),
  );
  const alone = [fade, end - from] as const;
  matchTilt(window, sampleRate, tone, alone);
  matchLoudness(window, sampleRate, loudness, alone);
  fadeOutEnd(window, Math.round(Math.min(MAX_FADE_OUT_S, FADE_OUT_SHARE * ((end - join) / sampleRate)) * sampleRate));

  // Usually other music than the old (equal-power); a continuation that happens to correlate adds as amplitudes.
  const shape = fadeShapeFor(correlation(outgoing, 0, window, 0, fade));
  fadeInOver(
    window.map((channel) => channel.subarray(0, fade)),
    outgoing,
    shape,
  );
  const ceiling = (frame: number) => (frame < join ? Math.max(DEFAULT_CEILING, sourcePeak) : DEFAULT_CEILING);
  limitTruePeak(song, { sampleRate, from, to: Math.min(end, join + Math.round(LIMITER_MARGIN_S * sampleRate)), ceiling });
}

/** An MP3 source keeps its own frames before the join where it can (see codecs/mp3-continue.ts); null where not. */
async function keepingSourceFrames(bytes: Uint8Array, source: AudioSource, song: readonly Float32Array[], changedFrom: number): Promise<Uint8Array | null> {
  if (source.format !== 'mp3') return null;
  const layout = readMp3Layout(bytes);
  if (!layout) return null;
  const window = Math.round(JUNCTION_WINDOW_S * source.sampleRate);
  return (await continueMp3Frames({ source: bytes, layout, edited: song, changedFrom, window }))?.mp3 ?? null;
}

/**
 * Extend (and upload-extend): the source up to a beat at or just before `continueAtS`, then
 * `addS` seconds of new bars in its tempo, beat grid, key and mode, in the style the words ask
 * for, at the loudness of the source's last seconds, ending in a fade-out. Two variants.
 *
 * Only the music before the join is decoded, and never held twice: the seconds around the join
 * once, for the analysis; then, for each variant, the source's beginning straight into the
 * extended song's own memory (decoding it again for the second variant costs less time than
 * holding a second copy of a long song costs memory).
 */
export async function extend(context: ProceduralContext, input: ExtendInput, signal: AbortSignal, onProgress: OnProgress): Promise<RenderedTrack[]> {
  signal.throwIfAborted();
  if (!(Number.isFinite(input.addS) && input.addS > 0)) throw new EngineError(`the extension must be longer than 0 s, got ${input.addS}`);
  const source = await describeSource(input.source);
  if (source.channels > 2) throw new SourceAudioError(`the source audio has ${source.channels} channels; mono or stereo is needed`);
  const { sampleRate } = source;
  const { continueAtS } = input;
  const outside = (durationS: number) => new EngineError(`continueAt must lie inside the ${durationS.toFixed(2)} s of source audio, got ${continueAtS}`);
  const declaredS = source.frames / sampleRate;
  if (!(Number.isFinite(continueAtS) && continueAtS > 0 && continueAtS < declaredS)) throw outside(declaredS);
  if (continueAtS + input.addS > MAX_SONG_S) throw new EngineError(`an extended song may last at most ${MAX_SONG_S} s`);

  // The source's tempo, beat grid and key before the join, from those seconds alone; the join moves back onto its beats.
  const excerptFrom = Math.round(Math.max(0, continueAtS - ANALYSIS_BEFORE_S) * sampleRate);
  const excerptTo = Math.round(Math.min(declaredS, continueAtS + ANALYSIS_AFTER_S) * sampleRate);
  const excerpt = silence(source.channels, excerptTo - excerptFrom);
  const held = await decodeSourceRange(input.source, excerptFrom, excerptTo, excerpt);
  // A file that ends before its declared length (truncated) may end before continueAt.
  if (excerptFrom + held <= Math.round(continueAtS * sampleRate)) throw outside((excerptFrom + held) / sampleRate);
  const analysis = analyseMusic({ sampleRate, channels: excerpt.map((c) => c.subarray(0, held)) }, undefined, { startS: excerptFrom / sampleRate });
  await releaseAllNow(excerpt);
  const fadeS = Math.min(JOIN_FADE_S, context.fadeS);
  const joinS = snapJoin(continueAtS, followedTempo(analysis), { minS: fadeS }).atS;
  const joinAt = Math.max(1, Math.round(joinS * sampleRate));
  const layout: Layout = { join: joinAt, fade: Math.min(joinAt, Math.round(fadeS * sampleRate)), end: joinAt + Math.round(input.addS * sampleRate) };
  signal.throwIfAborted();

  const texts = textsOf(input);
  const plans = [0, 1].map((variant) =>
    planContinuation({ seed: input.seed, texts, negative: input.negativeTags, variant, analysis, joinS: joinAt / sampleRate, endS: layout.end / sampleRate }),
  );
  const lyrics = input.instrumental ? undefined : input.lyrics;
  await onProgress({ stage: 'text', sheet: describeContinuation(plans, { title: input.title || undefined, lyrics }) });

  const bitrate = source.bitrateKbps === null ? 192 : mp3BitrateAtLeast(source.bitrateKbps);
  // The source past the join, as far as the true-peak interpolator reads, so the crossfade's ceiling is measured as on the whole song.
  const prefix = Math.min(layout.end, excerptFrom + held, joinAt + TRUE_PEAK_HALF);
  const tracks: RenderedTrack[] = [];
  for (const [index, plan] of plans.entries()) {
    signal.throwIfAborted();
    // Laid out for the master (floatWavChannels), so it is written in place.
    const song = floatWavChannels(source.channels, layout.end);
    if ((await decodeSourceRange(input.source, 0, prefix, song)) < prefix) throw new SourceAudioError('the source audio changed while it was read');
    addNewMusic(plan, song, sampleRate, layout);
    signal.throwIfAborted();
    const mp3 = await keepingSourceFrames(input.source.bytes, source, song, layout.join - layout.fade);
    signal.throwIfAborted();
    const meta = { title: input.title, tags: input.style, variant: String(index) };
    const track = await finishTrack(context, { sampleRate, channels: song }, meta, signal, { bitrate, mp3 });
    tracks.push({ ...track, continuedAtS: joinAt / sampleRate });
    if (index === 0) await onProgress({ stage: 'first', track: tracks[0]!, index });
  }
  return tracks;
}
