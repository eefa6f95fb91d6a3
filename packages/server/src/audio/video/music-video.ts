import { coverSvg } from '../art/cover.js';
import type { Pcm } from '../pcm.js';
import { avcLevel } from './avc.js';
import { drawBackdrop, videoLayout } from './backdrop.js';
import { barFrames } from './bars.js';
import { during, failure, type MusicVideoStage } from './errors.js';
import { framePainter } from './frames.js';
import { openH264 } from './h264.js';
import { encodeAac, type Muxed, openMuxer } from './mux.js';
import { type TrackAudio, trackAudio } from './track-audio.js';

/**
 * KIE's "Create Music Video" on the engine side: an MP4 of a track that plays in any browser.
 * The picture is the cover art with the title, the author signed on it and the domain name as a
 * watermark, over a blurred copy of itself, with a spectrum display of the track's own audio
 * moving frame by frame in time with it, and a progress line. The sound is the whole track.
 *
 * H.264 (Constrained Baseline) and AAC-LC, in an MP4 with its index first. Everything runs in
 * this process from npm packages (WebAssembly and TypeScript): no ffmpeg or other program is
 * needed on the machine. Frames are drawn one at a time into one buffer and handed to the
 * encoder, so memory does not grow with the number of frames; see docs/music-video.md.
 */

export interface MusicVideoInput {
  /**
   * The track's audio: the bytes of its 32-bit float WAV master (best: lossless, and read where
   * it lies, without a copy), of any other WAV or of its MP3; or decoded PCM.
   */
  audio: Pcm | Uint8Array;
  title: string;
  /** The track's cover art (JPEG, PNG, WebP or SVG). Without it, one is drawn from the title and tags as for a new track. */
  cover?: Uint8Array;
  /** Used only to draw a cover when there is none. */
  tags?: string;
  /** KIE `author` (up to 50 characters): signed on the cover. */
  author?: string;
  /** KIE `domainName` (up to 50 characters): a watermark at the bottom. */
  domainName?: string;
}

export interface MusicVideoOptions {
  /** Edge of the square picture in pixels, a multiple of 16 (default 640). */
  size?: number;
  /** Frames per second (default 24). */
  fps?: number;
  /** Stops the work between seconds of video; the signal's reason is thrown as it is. */
  signal?: AbortSignal;
  /** Told the fraction done (0–1) as the video is drawn and encoded, about once per second of video. */
  onProgress?: (fraction: number) => void;
}

export interface MusicVideo {
  mp4: Uint8Array;
  /** Length of the video and of its sound: the track's length. */
  durationS: number;
  width: number;
  height: number;
  fps: number;
  frames: number;
  /** RFC 6381 codec strings, e.g. for a `<source type>`: "avc1.42C01E" and "mp4a.40.2". */
  videoCodec: string;
  audioCodec: string;
}

/**
 * The defaults and why. 640×640: the cover art is square, and at this size minih264 encodes
 * about 150 frames a second on one core, several times real time at 24 fps. 24 fps is enough
 * for bars that rise at once and fall over half a second (film's rate), and a fifth less work
 * than 30. A constant quantiser of 26 keeps the cover's detail and the text's edges clean; the
 * picture is mostly still, so the bitrate stays low anyway. A key frame every 2 seconds is where a
 * player can start when seeking.
 */
export const MUSIC_VIDEO_DEFAULTS = {
  size: 640,
  fps: 24,
  bars: 40,
  qp: 26,
  keyframeS: 2,
  /**
   * The H.264 encoder's output is taken every this many key frames (one: every 2 s). Its
   * in-memory file grows by copying, so short segments keep that garbage small and short-lived.
   */
  segmentKeyframes: 1,
  speed: 10,
  aacStereo: 192_000,
  aacMono: 96_000,
} as const;

/** A mono copy of the track at a sixteenth of its rate: enough for the waveform of a drawn cover. */
function envelope(audio: TrackAudio): Float32Array {
  const step = 16;
  const out = new Float32Array(Math.ceil(audio.frames / step));
  const chunk = new Float32Array(step * 4096);
  for (let from = 0; from < audio.frames; from += chunk.length) {
    audio.mono(from, chunk.length, chunk);
    for (let i = 0; i < chunk.length && from + i < audio.frames; i += step) out[(from + i) / step] = chunk[i]!;
  }
  return out;
}

/** About the share of the work that encoding the sound takes, for progress. */
const AUDIO_SHARE = 0.2;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Makes the MP4. Returns its bytes or throws; it never writes a file. A failure is a
 * MusicVideoError whose `stage` says where ('input': the audio or cover cannot be read;
 * 'picture', 'video', 'audio', 'mux': drawing, H.264, AAC, writing the file); an abort throws
 * the signal's reason. Options out of range are a RangeError.
 */
export async function renderMusicVideo(input: MusicVideoInput, options: MusicVideoOptions = {}): Promise<MusicVideo> {
  const size = options.size ?? MUSIC_VIDEO_DEFAULTS.size;
  const fps = options.fps ?? MUSIC_VIDEO_DEFAULTS.fps;
  const { signal, onProgress } = options;
  if (!Number.isInteger(size) || size % 16 !== 0 || size < 256 || size > 1920)
    throw new RangeError(`size must be a multiple of 16 from 256 to 1920, not ${size}`);
  if (!Number.isInteger(fps) || fps < 10 || fps > 60) throw new RangeError(`fps must be a whole number from 10 to 60, not ${fps}`);
  signal?.throwIfAborted();

  const audio = await during('input', 'reading the audio', () => trackAudio(input.audio), signal);
  const durationS = audio.frames / audio.sampleRate;
  const frames = Math.max(1, Math.ceil(durationS * fps - 1e-9));
  // The sound first, whole (see mux.ts): its encoder's thread is gone before the picture's work starts.
  const bitrate = audio.channelCount === 1 ? MUSIC_VIDEO_DEFAULTS.aacMono : MUSIC_VIDEO_DEFAULTS.aacStereo;
  const aac = await encodeAac(audio, bitrate, signal, (done) => onProgress?.(AUDIO_SHARE * done));

  const layout = videoLayout(size, MUSIC_VIDEO_DEFAULTS.bars);
  const cover = input.cover ?? new TextEncoder().encode(coverSvg({ title: input.title, tags: input.tags ?? '', channels: [envelope(audio)] }));
  const backdrop = await during('picture', 'drawing the backdrop', () => drawBackdrop(cover, input, layout), signal);
  const bars = await during('picture', 'analysing the spectrum', () => barFrames(audio, { fps, frames, bars: layout.bars.count }), signal);
  const painter = framePainter(backdrop, layout, bars, frames);
  const level = avcLevel(size, size, fps);
  const muxer = await during(
    'mux',
    'starting the MP4',
    () =>
      openMuxer({
        aac,
        fps,
        frames,
        level,
        durationS,
        title: input.title,
        ...(input.author ? { artist: input.author } : {}),
        ...(signal ? { signal } : {}),
      }),
    signal,
  );
  const keyframeEvery = MUSIC_VIDEO_DEFAULTS.keyframeS * fps;
  const segmentFrames = MUSIC_VIDEO_DEFAULTS.segmentKeyframes * keyframeEvery;

  /** Draws and encodes frames [first, end) into a short MP4 of their own. */
  const encodeSegment = async (first: number, end: number): Promise<Uint8Array> => {
    const encoder = await openH264({ width: size, height: size, fps, qp: MUSIC_VIDEO_DEFAULTS.qp, keyframeEvery, speed: MUSIC_VIDEO_DEFAULTS.speed });
    let step: MusicVideoStage = 'picture';
    let f = first;
    try {
      for (; f < end; f++) {
        if (f % fps === 0) {
          // Once per second of video: let other work on this thread run, and stop if asked to.
          await nextTurn();
          signal?.throwIfAborted();
          onProgress?.(AUDIO_SHARE + ((0.99 - AUDIO_SHARE) * f) / frames);
        }
        step = 'picture';
        const frame = painter.paint(f);
        step = 'video';
        encoder.add(frame);
      }
      return encoder.finish();
    } catch (error) {
      throw failure(step, f < end ? `${step === 'picture' ? 'drawing' : 'encoding'} frame ${f} of ${frames}` : 'finishing the H.264 stream', error, signal);
    } finally {
      encoder.close();
    }
  };

  let muxed: Muxed;
  try {
    // In segments (see segmentKeyframes): each goes into the MP4, with the sound of the same
    // stretch, as soon as it is done.
    for (let first = 0; first < frames; first += segmentFrames) {
      const end = Math.min(frames, first + segmentFrames);
      await muxer.addVideo(await encodeSegment(first, end), first);
    }
    muxed = await muxer.finish();
  } catch (error) {
    await muxer.cancel();
    throw error;
  }
  onProgress?.(1);
  return { mp4: muxed.mp4, durationS, width: size, height: size, fps, frames, videoCodec: muxed.videoCodec, audioCodec: muxed.audioCodec };
}
