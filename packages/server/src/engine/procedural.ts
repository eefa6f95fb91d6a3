import {
  AudioFormatError,
  applyGain,
  barSeconds,
  type DecodedAudio,
  decodeAudio,
  describeArrangement,
  encodeMp3,
  encodeWav,
  loudnessMatchGain,
  type Mp3Bitrate,
  mp3BitrateAtLeast,
  type Pcm,
  planArrangement,
  planSeams,
  readMp3Layout,
  renderCover,
  renderSong,
  renderWindow,
  rms,
  type Seams,
  splice,
  spliceMp3Frames,
} from '../audio/index.js';
import { type Engine, EngineError, type GenerateInput, type RenderedTrack, type ReplaceSectionInput, SourceAudioError } from './types.js';

/**
 * The CPU engine: an algorithmic arrangement chosen from the words of the
 * request and rendered by our own synthesiser. Deterministic (same seed and
 * inputs, same bytes) and honest about what it is: not a neural model, and it
 * does not sing the lyrics.
 */

export interface ProceduralOptions {
  /** Reported as `model_name` (default "reprise-procedural-1"). */
  modelName?: string;
  /** Crossfade at each seam, in seconds (default 0.75). */
  fadeS?: number;
}

const DEFAULT_MODEL_NAME = 'reprise-procedural-1';
/** Generated songs are CD-rate stereo. */
const SONG_RATE = 44_100;
/** The longest song `generate` renders, in seconds (the API's limits are lower). */
const MAX_SONG_S = 900;
/** Source audio around the seams whose level the new section is matched to. */
const CONTEXT_S = 3;
/** How far beyond the crossfades (in seconds) an MP3 source's own frames may be cut and rejoined. */
const JUNCTION_WINDOW_S = 0.7;

/**
 * An MP3 source keeps its own frames outside the section, so the rest of the song is not
 * re-encoded at all (see audio/mp3-splice.ts). Null where that cannot be done cleanly; the
 * caller then encodes the whole song.
 */
async function keepingSourceFrames(bytes: Uint8Array, source: DecodedAudio, edited: Float32Array[], seams: Seams): Promise<Uint8Array | null> {
  if (source.format !== 'mp3') return null;
  const layout = readMp3Layout(bytes);
  if (!layout) return null;
  const window = Math.round(JUNCTION_WINDOW_S * source.sampleRate);
  const result = await spliceMp3Frames({ source: bytes, layout, original: source.channels, edited, changedFrom: seams.from, changedTo: seams.to, window });
  return result?.mp3 ?? null;
}

async function decodeSource(bytes: Uint8Array, name: string | undefined): Promise<DecodedAudio> {
  const what = name ? `the source audio "${name}"` : 'the source audio';
  try {
    const pcm = await decodeAudio(bytes);
    if ((pcm.channels[0]?.length ?? 0) === 0) throw new AudioFormatError('it contains no samples');
    return pcm;
  } catch (error) {
    if (error instanceof AudioFormatError) throw new SourceAudioError(`${what} is not readable MP3 or WAV: ${error.message}`);
    throw error;
  }
}

export function createProceduralEngine(options: ProceduralOptions = {}): Engine {
  const modelName = options.modelName ?? DEFAULT_MODEL_NAME;
  const fadeS = options.fadeS ?? 0.75;

  /**
   * The served MP3 and the lossless master: a 32-bit float WAV of exactly the samples
   * rendered (unclipped; the MP3 encoder clamps), so editing the master later is exact.
   */
  async function finish(
    pcm: Pcm,
    meta: { title: string; tags: string; variant?: string },
    signal: AbortSignal,
    encoded: { bitrate?: Mp3Bitrate; mp3?: Uint8Array | null } = {},
  ): Promise<RenderedTrack> {
    const mp3 = encoded.mp3 ?? (await encodeMp3(pcm, { bitrate: encoded.bitrate ?? 192 }));
    signal.throwIfAborted();
    const master = encodeWav(pcm, { encoding: 'float32' });
    const cover = await renderCover({ title: meta.title, tags: meta.tags, variant: meta.variant, channels: pcm.channels });
    return { mp3, master, cover, durationS: (pcm.channels[0]?.length ?? 0) / pcm.sampleRate, modelName };
  }

  return {
    name: 'procedural',

    async replaceSection(input: ReplaceSectionInput, signal: AbortSignal): Promise<RenderedTrack> {
      signal.throwIfAborted();
      const source = await decodeSource(input.source.bytes, input.source.name);
      const { sampleRate } = source;
      const total = source.channels[0]!.length;
      const durationS = total / sampleRate;
      if (!(Number.isFinite(input.startS) && Number.isFinite(input.endS) && input.startS >= 0 && input.endS > input.startS)) {
        throw new EngineError(`invalid section ${input.startS}–${input.endS} s`);
      }
      // The API checked the range against a probe; a decoded length a few ms shorter must not fail the task.
      const start = Math.round(input.startS * sampleRate);
      const end = Math.min(total, Math.round(input.endS * sampleRate));
      if (end <= start) throw new SourceAudioError(`the section ${input.startS}–${input.endS} s lies outside the ${durationS.toFixed(2)} s of source audio`);
      const seams = planSeams(total, start, end, fadeS * sampleRate);
      signal.throwIfAborted();

      const arrangement = planArrangement({
        seed: input.seed,
        texts: [input.tags, input.prompt, input.title],
        negative: input.negativeTags,
        form: 'section',
        durationS: (end - start) / sampleRate,
      });
      // The new material starts on the first bar of its loop exactly at the section's start; one
      // loop of lead-in before it (of which only the crossfade is heard) gives the first seam something to fade into.
      const loopBars = arrangement.sections[0]!.bars;
      const leadIn = Math.round(loopBars * barSeconds(arrangement) * sampleRate);
      const section = renderWindow(arrangement, {
        sampleRate,
        channels: source.channels.length,
        startFrame: leadIn - seams.fadeIn,
        frames: seams.to - seams.from,
      });
      const context = Math.round(CONTEXT_S * sampleRate);
      applyGain(section, loudnessMatchGain(section, rms(source.channels, seams.from - context, seams.to + context)));
      const channels = splice(source.channels, section, seams);
      signal.throwIfAborted();
      // An MP3 source keeps its own frames outside the section where it can; otherwise it is
      // re-encoded at no lower a bitrate than its own (and never below 192 kbps).
      const mp3 = await keepingSourceFrames(input.source.bytes, source, channels, seams);
      signal.throwIfAborted();
      const bitrate = source.bitrateKbps === null ? 192 : mp3BitrateAtLeast(source.bitrateKbps);
      return finish({ sampleRate, channels }, { title: input.title, tags: input.tags }, signal, { bitrate, mp3 });
    },

    async generate(input: GenerateInput, signal: AbortSignal, onProgress): Promise<RenderedTrack[]> {
      signal.throwIfAborted();
      if (!(Number.isFinite(input.durationS) && input.durationS > 0 && input.durationS <= MAX_SONG_S)) {
        throw new EngineError(`song length must be between 0 and ${MAX_SONG_S} s, got ${input.durationS}`);
      }
      const plans = [0, 1].map((index) =>
        planArrangement({
          seed: `${input.seed}:${index}`,
          texts: [input.style, input.prompt, input.title],
          negative: input.negativeTags,
          form: 'song',
          durationS: input.durationS,
        }),
      );
      const sheets = plans.map((plan, index) => `Song ${index + 1}: ${describeArrangement(plan, input.title || undefined)}`);
      if (!input.instrumental) sheets.push('Vocals: this engine plays instrumental arrangements; the lyrics are kept as text, not sung.');
      await onProgress({ stage: 'text', sheet: sheets.join('\n\n') });
      const tracks: RenderedTrack[] = [];
      for (const [index, plan] of plans.entries()) {
        signal.throwIfAborted();
        const channels = renderSong(plan, SONG_RATE, 2, input.durationS);
        signal.throwIfAborted();
        const track = await finish({ sampleRate: SONG_RATE, channels }, { title: input.title, tags: input.style, variant: String(index) }, signal);
        tracks.push(track);
        if (index === 0) await onProgress({ stage: 'first', track, index });
      }
      return tracks;
    },
  };
}
