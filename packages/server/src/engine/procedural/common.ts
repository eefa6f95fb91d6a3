import {
  AudioFormatError,
  type AudioSource,
  type ChannelAllocator,
  type DecodedAudio,
  decodeAudio,
  decodeAudioRange,
  describeAudio,
  encodeFloatWavInPlace,
  encodeMp3,
  floatWavChannels,
  type Mp3Bitrate,
  type Pcm,
  renderCover,
} from '../../audio/index.js';
import { type RenderedTrack, type SourceAudio, SourceAudioError } from '../types.js';

/** What every procedural operation shares: its settings, and how a rendered song becomes a track. */
export interface ProceduralContext {
  /** Reported as `model_name`. */
  modelName: string;
  /** Crossfade at each seam, in seconds. */
  fadeS: number;
  /** Where a master made piece by piece is written until it is stored (engine/scratch.ts). */
  scratchDir: string;
}

/** Generated songs are CD-rate stereo. */
export const SONG_RATE = 44_100;
/** The longest song an operation renders, in seconds (the API's limits are lower). */
export const MAX_SONG_S = 900;

/**
 * The served MP3 and the lossless master: a 32-bit float WAV of exactly the samples
 * rendered (unclipped; the MP3 encoder clamps), so editing the master later is exact.
 * The master is made last and consumes `pcm`: where the channels were laid out for it
 * (floatWavChannels), it is written in their memory, so a long song is never held twice.
 */
export async function finishTrack(
  context: ProceduralContext,
  pcm: Pcm,
  meta: { title: string; tags: string; variant?: string },
  signal: AbortSignal,
  encoded: { bitrate?: Mp3Bitrate; mp3?: Uint8Array | null } = {},
): Promise<RenderedTrack> {
  const mp3 = encoded.mp3 ?? (await encodeMp3(pcm, { bitrate: encoded.bitrate ?? 192 }));
  signal.throwIfAborted();
  const cover = await renderCover({ title: meta.title, tags: meta.tags, variant: meta.variant, channels: pcm.channels });
  const durationS = (pcm.channels[0]?.length ?? 0) / pcm.sampleRate;
  const master = encodeFloatWavInPlace(pcm);
  return { mp3, master, cover, durationS, modelName: context.modelName };
}

/** A source song as samples; unreadable audio is the task's code 400 (SourceAudioError). */
export function decodeSource(bytes: Uint8Array, name: string | undefined, allocate: ChannelAllocator = floatWavChannels): Promise<DecodedAudio> {
  return readable(name, async () => {
    // Laid out by default so that the master is later written in the song's own memory (see finish).
    const pcm = await decodeAudio(bytes, allocate);
    if ((pcm.channels[0]?.length ?? 0) === 0) throw new AudioFormatError('it contains no samples');
    return pcm;
  });
}

/** A source's format, rate, channels and length, from its headers alone; unreadable audio is code 400. */
export function describeSource(source: SourceAudio): Promise<AudioSource> {
  return readable(source.name, async () => {
    const described = describeAudio(source.bytes);
    if (described.frames === 0) throw new AudioFormatError('it contains no samples');
    return described;
  });
}

/** Frames [from, to) of a source decoded into `into` (see `decodeAudioRange`); unreadable audio is code 400. */
export function decodeSourceRange(source: SourceAudio, from: number, to: number, into: readonly Float32Array[]): Promise<number> {
  return readable(source.name, () => decodeAudioRange(source.bytes, from, to, into));
}

/** Runs a reading of source audio, its AudioFormatError turned into the task's SourceAudioError. */
async function readable<T>(name: string | undefined, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    const what = name ? `the source audio "${name}"` : 'the source audio';
    if (error instanceof AudioFormatError) throw new SourceAudioError(`${what} is not readable MP3 or WAV: ${error.message}`);
    throw error;
  }
}
