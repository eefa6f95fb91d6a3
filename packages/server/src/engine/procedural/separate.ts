import {
  AudioFormatError,
  type EstimatedStemName,
  encodeFloatWavInPlace,
  encodeMp3,
  energy,
  estimateStems,
  matchAudio,
  multiplyInto,
  probeAudio,
  readWavLayout,
  type StemEstimate,
} from '../../audio/index.js';
import { fullCollection } from '../../memory.js';
import {
  EngineError,
  type OnStem,
  type Operation,
  type RenderedStem,
  type SeparatedStems,
  type SeparateInput,
  SourceAudioError,
  SPLIT_STEM_NAMES,
  type StemName,
} from '../types.js';
import { traceAddVocals } from './add-vocals.js';
import { decodeSource, MAX_SONG_S, type ProceduralContext } from './common.js';
import { traceCover } from './cover.js';
import { traceGenerated } from './generate.js';
import { OPERATION_WORDS, readRecipe } from './recipe.js';
import { STEM_OF_PART } from './stem-map.js';
import type { TrackTrace } from './trace.js';

/**
 * Separate: a track cut into stems (docs/stems.md). A track reprise synthesised whole (generate,
 * cover) is rendered again from its own recipe, instrument group by instrument group, each group
 * through the very gains its samples went through in the track: the stems are exactly what each
 * group contributed, and they sum to the track's master. An add-vocals track's voice is exact the
 * same way. Any other track (one holding a user's audio, one made elsewhere, one the recipe no
 * longer renders the same) is separated by signal processing (audio/separation/estimate.ts), and
 * says so.
 */

/**
 * How close the track's audio must be to the recipe rendered again for the stems to be called
 * exact, in dB of SNR. A float master is the render to the last bit (+∞); an integer WAV of it is
 * off by its quantisation only; an MP3 of reprise's songs at 192 kbps measures 16–30 dB, any other
 * song about −3 dB.
 */
const MATCH_DB = { floatWav: 90, wav: 50, mp3: 10 } as const;
/** A stem this far under the track (−60 dB in energy) holds nothing worth a file: its instruments are called absent. */
const SILENT_SHARE = 1e-6;
const STEM_BITRATE = 192;
/**
 * A stem whose channels differ by less than this (side energy over mid energy, −60 dB, far under
 * the MP3's own coding noise) is a centred source (the voice, a bass): its MP3 is encoded mono
 * from one channel, in half the time, and plays the same on both sides. Its master keeps both.
 */
const MONO_SIDE_SHARE = 1e-6;

/** The channels as the MP3 encoder should take them: one where the stem is centred. */
function forMp3(channels: Float32Array[]): Float32Array[] {
  const [left, right] = channels;
  if (!left || !right) return channels;
  let mid = 0;
  let side = 0;
  for (let i = 0; i < left.length; i++) {
    const m = left[i]! + right[i]!;
    const d = left[i]! - right[i]!;
    mid += m * m;
    side += d * d;
  }
  return side > MONO_SIDE_SHARE * mid ? channels : [left];
}

export async function separate(context: ProceduralContext, input: SeparateInput, signal: AbortSignal, onStem: OnStem): Promise<SeparatedStems> {
  signal.throwIfAborted();
  if (input.type !== 'separate_vocal' && input.type !== 'split_stem') throw new EngineError(`unknown separation type "${String(input.type)}"`);
  const stems = new StemList(context, input, signal, onStem);
  const exact = input.origin ? await exactIfRecipeMatches(stems, input.origin, input.audio) : (input.noOrigin ?? 'nothing says how the track was made');
  return typeof exact === 'string' ? estimatedStems(stems, input, exact) : exact;
}

/**
 * Exact stems where the recipe renders the audio given; otherwise why not. The trace (a song or
 * two of samples) lives only in here, so a trace that did not match is gone before an estimate starts.
 */
async function exactIfRecipeMatches(
  stems: StemList,
  origin: NonNullable<SeparateInput['origin']>,
  audio: SeparateInput['audio'],
): Promise<SeparatedStems | string> {
  const traced = await traceOrigin(origin.operation, origin.trackIndex);
  // Rendering the trace leaves tens of MB of dead buffers (the voice's, the limiter's) that V8
  // would collect only later; matching the audio then adds a decoder's memory on top of them.
  fullCollection();
  stems.signal.throwIfAborted();
  if (typeof traced === 'string') return traced;
  const match = await matchTrack(traced, audio);
  return match.exact ? exactStems(stems, traced, origin.operation.op, origin.trackIndex) : match.why;
}

/** The recipe's track told back, or why a recipe of this kind has none. */
const traceOrigin = (operation: Operation, index: number): Promise<TrackTrace | string> =>
  readRecipe(operation, index, { generate: traceGenerated, cover: traceCover, addVocals: traceAddVocals });

/** Whether the audio given is the trace's master (see MATCH_DB). */
async function matchTrack(trace: TrackTrace, audio: SeparateInput['audio']): Promise<{ exact: true } | { exact: false; why: string }> {
  try {
    const needed = probeAudio(audio.bytes).format === 'mp3' ? MATCH_DB.mp3 : readWavLayout(audio.bytes).float ? MATCH_DB.floatWav : MATCH_DB.wav;
    const snr = await matchAudio(trace.master, trace.sampleRate, audio.bytes);
    if (snr !== null && snr >= needed) return { exact: true };
    const measured = snr === null ? 'of another length or rate' : `${snr.toFixed(1)} dB from it`;
    return { exact: false, why: `the track's audio is not what its recipe renders now (${measured}; made by another engine or version)` };
  } catch (error) {
    if (error instanceof AudioFormatError) throw new SourceAudioError(`the track's audio is not readable MP3 or WAV: ${error.message}`);
    throw error;
  }
}

/** Stems from the trace: each instrument group rendered alone through the band's gain, the voice as heard. */
async function exactStems(stems: StemList, trace: TrackTrace, op: Operation['op'], index: number): Promise<SeparatedStems> {
  const what = `${OPERATION_WORDS[op]}, track ${index + 1}`;
  const over = op === 'addVocals' ? 'the uploaded instrumental as it sounds in the track' : 'the rest of the master';
  const { sampleRate } = trace;
  if (stems.type === 'separate_vocal') {
    const { vocal, rest } = trace.vocalAndRest();
    if (vocal) await stems.add('vocal', vocal, true, sampleRate);
    await stems.add('instrumental', rest, true, sampleRate);
    return stems.result(
      `Exact: the ${what} rendered again from its recipe; the vocal is the synthesised voice as it sounds in the track, the instrumental ${over}.`,
    );
  }
  const total = energy(trace.master);
  const { band, layers } = trace.split();
  for (const name of SPLIT_STEM_NAMES) {
    if (name === 'vocal') {
      const vocal = layers.find((layer) => layer.role === 'vocal');
      if (vocal) await stems.add('vocal', vocal.channels, true, sampleRate);
      continue;
    }
    const parts = band?.parts.filter((part) => STEM_OF_PART[part] === name) ?? [];
    if (!band || parts.length === 0) continue;
    const channels = band.render((part) => parts.includes(part));
    multiplyInto(channels, band.gain, channels);
    if (energy(channels) > SILENT_SHARE * total) await stems.add(name, channels, true, sampleRate);
  }
  const instrumental = layers.find((layer) => layer.role === 'instrumental');
  if (instrumental) {
    // An uploaded instrumental under the voice: its own instruments can only be estimated (it holds no voice to find).
    await addEstimated(stems, estimateStems({ sampleRate, channels: instrumental.channels }, 'instruments'), sampleRate, 'other');
    return stems.result(
      `Exact vocal: the ${what} rendered again from its recipe, the synthesised voice as it sounds in the track. The uploaded instrumental under it is split by signal processing (drums: percussive part; bass: tonal centred part below ~200 Hz; other: the rest). The stems sum to the track's master.`,
    );
  }
  return stems.result(
    `Exact: the ${what} rendered again from its own plan and seed, each instrument group alone through the gains the track's samples went through (normalisation, soft clip, limiter, fades); the stems sum to the track's master.`,
  );
}

/** The estimate's stems that hold something, then what they leave as `restName`. */
async function addEstimated(stems: StemList, estimate: StemEstimate, sampleRate: number, restName: StemName): Promise<void> {
  const taken: EstimatedStemName[] = [];
  for (const name of estimate.names) {
    const channels = estimate.render(name);
    // A stem with nothing in it stays in the rest (what the stems taken leave).
    if (energy(channels) <= SILENT_SHARE * estimate.energy) continue;
    taken.push(name);
    await stems.add(name, channels, false, sampleRate);
  }
  await stems.add(restName, estimate.takeRest(taken), false, sampleRate);
}

/** Stems estimated by signal processing from the track's audio, one pass over it per stem. */
async function estimatedStems(stems: StemList, input: SeparateInput, why: string): Promise<SeparatedStems> {
  // Decoded laid out as a float WAV: the rest is written over it and becomes its master in place.
  const pcm = await decodeSource(input.audio.bytes, input.audio.name);
  const seconds = (pcm.channels[0]?.length ?? 0) / pcm.sampleRate;
  if (seconds > MAX_SONG_S) throw new EngineError(`the track is ${seconds.toFixed(0)} s long; stems are made of tracks up to ${MAX_SONG_S} s`);
  stems.signal.throwIfAborted();
  const estimate = estimateStems(pcm, stems.type === 'separate_vocal' ? 'vocal' : 'stems');
  if (stems.type === 'separate_vocal' && !estimate.names.includes('vocal')) {
    throw new EngineError('the track has no stereo image to find a vocal in (it is mono); its vocal cannot be estimated');
  }
  await addEstimated(stems, estimate, pcm.sampleRate, stems.type === 'separate_vocal' ? 'instrumental' : 'other');
  const how =
    stems.type === 'separate_vocal'
      ? 'the vocal is the tonal, centred part of the mix above the bass (a soft spectral mask), the instrumental the rest'
      : 'drums are the percussive part (median-filter harmonic/percussive split), bass the tonal centred part below ~200 Hz, the vocal the tonal centred part above it, other the rest; the other instruments cannot be told apart this way';
  return stems.result(`Estimated by signal processing, because ${why}: ${how}. The stems sum to the track.`);
}

/**
 * The stems of one separation as they are made: each encoded (MP3 and float-WAV master, written
 * in the stem's own memory), handed to `onStem` and kept for the result.
 */
class StemList {
  readonly type: SeparateInput['type'];
  readonly signal: AbortSignal;
  private readonly stems: RenderedStem[] = [];

  constructor(
    private readonly context: ProceduralContext,
    input: SeparateInput,
    signal: AbortSignal,
    private readonly onStem: OnStem,
  ) {
    this.type = input.type;
    this.signal = signal;
  }

  async add(name: StemName, channels: Float32Array[], exact: boolean, sampleRate: number): Promise<void> {
    this.signal.throwIfAborted();
    const pcm = { sampleRate, channels };
    const mp3 = await encodeMp3({ sampleRate, channels: forMp3(channels) }, { bitrate: STEM_BITRATE });
    const durationS = (channels[0]?.length ?? 0) / sampleRate;
    // Consumes the channels: they become the master's samples.
    const master = encodeFloatWavInPlace(pcm);
    const stem: RenderedStem = { name, mp3, master, durationS, exact };
    this.stems.push(stem);
    await this.onStem(stem, this.stems.length - 1);
  }

  result(method: string): SeparatedStems {
    const made = new Set(this.stems.map((stem) => stem.name));
    const offered: readonly StemName[] = this.type === 'separate_vocal' ? ['vocal', 'instrumental'] : SPLIT_STEM_NAMES;
    return { stems: this.stems, absent: offered.filter((name) => !made.has(name)), method, modelName: this.context.modelName };
  }
}
