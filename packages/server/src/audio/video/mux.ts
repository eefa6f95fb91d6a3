import type { EncodedAudioPacketSource } from 'mediabunny';
import { avcCodecString, nalLengthSize, retagAvcConfig, scanFrame } from './avc.js';
import { failure, MusicVideoError } from './errors.js';
import type { TrackAudio } from './track-audio.js';

/**
 * The final MP4, written as the video is made: the coded frames of each segment that the H.264
 * encoder finishes (a short MP4 of the video alone, see h264.ts) and the AAC packets of the same
 * stretch of time, written together by mediabunny (pure TypeScript) with the index at the front
 * of the file ("fast start"), so a browser can start playing before the whole file has arrived.
 *
 * The sound is encoded first, whole: AAC-LC by FFmpeg's encoder compiled to WebAssembly
 * (`@mediabunny/aac-encoder`), which runs on a worker thread of its own. That thread collects its
 * garbage late (tens of MB for a 3-minute song) and is gone once the sound is done, so its memory
 * and the picture's are never needed at the same time; the packets it leaves are 4–5 MB.
 *
 * AAC and not the track's MP3 frames (which would cost no encoding): Chromium plays MP3 in MP4,
 * but Firefox's `canPlayType` answers "" for it, AAC is what every player, phone and upload site
 * takes, and from the lossless master it is a single lossy step.
 */

export interface MuxRequest {
  aac: AacTrack;
  fps: number;
  /** Frames in the whole video; the last one ends with the audio. */
  frames: number;
  /** The H.264 level of the video (avc.ts). */
  level: number;
  /** The length of the sound: the last frame ends there. */
  durationS: number;
  title?: string;
  artist?: string;
  signal?: AbortSignal;
}

export interface Muxed {
  mp4: Uint8Array;
  videoCodec: string;
  audioCodec: string;
}

export interface MusicVideoMuxer {
  /**
   * Adds the frames of `segment` (an MP4 of the video alone, as h264.ts writes it), which start at
   * frame `firstFrame` of the video, and the sound up to the end of them.
   */
  addVideo(segment: Uint8Array, firstFrame: number): Promise<void>;
  /** Adds the rest of the sound and returns the file. */
  finish(): Promise<Muxed>;
  /** Drops everything after a failure elsewhere. */
  cancel(): Promise<void>;
}

/**
 * FFmpeg's AAC encoder starts every stream with 1024 samples of encoder delay. The audio is
 * stamped as starting this much before time zero, so that the delay falls before the start and
 * the MP4 says so with an edit list: the sound then lines up with the picture to the sample.
 */
export const AAC_PRIMING = 1024;

/** The colours yuv.ts writes, declared in the MP4 as a `colr` box, which browsers honour. */
const BT709 = { primaries: 'bt709', transfer: 'bt709', matrix: 'bt709', fullRange: false } as const;

let aacRegistered: Promise<void> | null = null;

/** mediabunny and its AAC encoder are loaded on first use, as sharp is: only a render thread needs them. */
async function media() {
  const mediabunny = await import('mediabunny');
  aacRegistered ??= import('@mediabunny/aac-encoder').then(({ registerAacEncoder }) => registerAacEncoder());
  await aacRegistered;
  return mediabunny;
}

type AudioPacketMeta = Parameters<EncodedAudioPacketSource['add']>[1];

/**
 * The encoded sound, kept as plain arrays (the packets' bytes back to back, their times apart)
 * rather than an object and a buffer per packet: a 3-minute song is ~7800 packets, which as
 * objects would live through the whole video and grow the collector's young generation.
 */
export interface AacTrack {
  count: number;
  data: Uint8Array;
  /** Where packet i ends in `data` (it starts where packet i − 1 ends). */
  ends: Uint32Array;
  timestamps: Float64Array;
  durations: Float64Array;
  /** What a decoder needs to know, given with the first packet. */
  meta: AudioPacketMeta;
}

/** AAC-LC codes 1024 samples per packet. */
const AAC_FRAME = 1024;

/**
 * The whole track encoded to AAC-LC at `bitrate` bits per second. The encoder must feed an
 * output: a throwaway one that discards what it is given, fragmented so that it keeps no table
 * of every packet either. Each packet is copied out as it comes. `onProgress` is told the fraction
 * done once per second of sound.
 */
export async function encodeAac(audio: TrackAudio, bitrate: number, signal?: AbortSignal, onProgress?: (fraction: number) => void): Promise<AacTrack> {
  const mb = await media();
  const rate = audio.sampleRate;
  const channels = audio.channelCount;
  let capacity = Math.ceil((audio.frames + AAC_PRIMING) / AAC_FRAME) + 4;
  let data = new Uint8Array(Math.ceil((bitrate / 8) * (audio.frames / rate + 1) * 1.2) + 65_536);
  let ends = new Uint32Array(capacity);
  let timestamps = new Float64Array(capacity);
  let durations = new Float64Array(capacity);
  let count = 0;
  let size = 0;
  let meta: AudioPacketMeta;
  const keep = (bytes: Uint8Array, timestamp: number, duration: number) => {
    // Sized from the bitrate and length, so growing is for a rate far off the one asked for.
    if (size + bytes.length > data.length) data = grown(data, size + bytes.length);
    if (count === capacity) {
      capacity *= 2;
      ends = grown(ends, capacity);
      timestamps = grown(timestamps, capacity);
      durations = grown(durations, capacity);
    }
    data.set(bytes, size);
    size += bytes.length;
    ends[count] = size;
    timestamps[count] = timestamp;
    durations[count] = duration;
    count++;
  };
  const output = new mb.Output({ format: new mb.Mp4OutputFormat({ fastStart: 'fragmented' }), target: new mb.NullTarget() });
  const source = new mb.AudioSampleSource({
    codec: 'aac',
    quality: new mb.Quality({ bitrate }),
    onEncodedPacket: (packet, packetMeta) => {
      if (count === 0) meta = packetMeta;
      keep(packet.data, packet.timestamp, packet.duration);
    },
  });
  output.addAudioTrack(source);
  try {
    await output.start();
    // A second at a time. A float WAV is handed over where it lies; anything else gets a new
    // buffer each time (the encoder may still hold the last one when `add` returns).
    for (let from = 0; from < audio.frames; from += rate) {
      signal?.throwIfAborted();
      const length = Math.min(rate, audio.frames - from);
      let samples = audio.interleavedBytes?.(from, length);
      if (!samples) {
        const floats = new Float32Array(length * channels);
        audio.interleaved(from, length, floats);
        samples = new Uint8Array(floats.buffer);
      }
      const sample = new mb.AudioSample({ data: samples, format: 'f32', numberOfChannels: channels, sampleRate: rate, timestamp: (from - AAC_PRIMING) / rate });
      await source.add(sample);
      sample.close();
      onProgress?.(from / audio.frames);
    }
    await output.finalize();
  } catch (error) {
    await output.cancel().catch(() => undefined);
    throw failure('audio', 'AAC encoding', error, signal);
  }
  if (count === 0 || !meta?.decoderConfig) throw new MusicVideoError('audio', 'the AAC encoder gave no packets');
  return {
    count,
    data: data.subarray(0, size),
    ends: ends.subarray(0, count),
    timestamps: timestamps.subarray(0, count),
    durations: durations.subarray(0, count),
    meta,
  };
}

/** A copy of `array` with room for `length` elements (at least twice as many as it had). */
function grown<T extends Uint8Array | Uint32Array | Float64Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(Math.max(length, 2 * array.length));
  bigger.set(array);
  return bigger;
}

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

export async function openMuxer(request: MuxRequest): Promise<MusicVideoMuxer> {
  const { aac, fps, frames, level, durationS, signal } = request;
  const mb = await media();
  const target = new mb.BufferTarget();
  // The index goes in space kept for it at the start, sized from the packet counts (known
  // exactly), so the media is written as it comes rather than all held until the end. The space
  // is an estimate and what the index does not use stays as a `free` box, 3–4 % of the file.
  const output = new mb.Output({ format: new mb.Mp4OutputFormat({ fastStart: 'reserve' }), target });
  const videoSource = new mb.EncodedVideoPacketSource('avc');
  output.addVideoTrack(videoSource, { frameRate: fps, maximumPacketCount: frames });
  const audioSource = new mb.EncodedAudioPacketSource('aac');
  output.addAudioTrack(audioSource, { maximumPacketCount: aac.count });
  output.setMetadataTags({ ...(request.title ? { title: request.title } : {}), ...(request.artist ? { artist: request.artist } : {}) });
  await output.start();

  /** The decoder configuration of the first segment; every later one must be the same stream. */
  let config: { record: Uint8Array; codec: string; width: number; height: number } | null = null;
  let framesAdded = 0;
  let audioAdded = 0;

  /** Adds the audio packets that start before `untilS` (and after those already added). */
  const addAudio = async (untilS: number) => {
    for (; audioAdded < aac.count && aac.timestamps[audioAdded]! < untilS; audioAdded++) {
      const i = audioAdded;
      const bytes = aac.data.subarray(i === 0 ? 0 : aac.ends[i - 1], aac.ends[i]);
      await audioSource.add(new mb.EncodedPacket(bytes, 'key', aac.timestamps[i]!, aac.durations[i]!), i === 0 ? aac.meta : undefined);
    }
  };

  const addVideo = async (segment: Uint8Array, firstFrame: number) => {
    if (firstFrame !== framesAdded) throw new MusicVideoError('mux', `video segment starts at frame ${firstFrame}, expected ${framesAdded}`);
    const input = new mb.Input({ source: new mb.BufferSource(segment), formats: [mb.MP4] });
    try {
      const track = await input.getPrimaryVideoTrack();
      const decoderConfig = track ? await track.getDecoderConfig() : null;
      const raw = decoderConfig?.description;
      if (!track || !decoderConfig || !raw) throw new MusicVideoError('video', 'an encoded segment has no H.264 track');
      const record = retagAvcConfig(ArrayBuffer.isView(raw) ? new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) : new Uint8Array(raw), level);
      const first = config === null;
      if (config === null) config = { record, codec: avcCodecString(record), width: decoderConfig.codedWidth ?? 0, height: decoderConfig.codedHeight ?? 0 };
      else if (!equalBytes(config.record, record)) throw new MusicVideoError('video', 'the encoder changed its stream parameters between segments');
      const lengthSize = nalLengthSize(record);
      const offsetS = firstFrame / fps;
      for await (const packet of new mb.EncodedPacketSink(track).packets()) {
        // minih264's MP4 has no sync-sample table, which marks every frame a key frame: mark only the IDR frames.
        const { idr } = scanFrame(packet.data, lengthSize, level);
        if (framesAdded === firstFrame && !idr) throw new MusicVideoError('video', 'an encoded segment does not start with a key frame');
        const index = framesAdded++;
        // Frame times from the frame count (not summed durations, which drift); the last frame ends with the sound.
        const timestamp = index / fps;
        const duration = index === frames - 1 ? Math.max(1 / (4 * fps), durationS - timestamp) : 1 / fps;
        if (Math.abs(packet.timestamp + offsetS - timestamp) > 0.5 / fps)
          throw new MusicVideoError('video', `frame ${index} is stamped ${packet.timestamp + offsetS} s`);
        const meta =
          first && index === 0
            ? { decoderConfig: { codec: config.codec, codedWidth: config.width, codedHeight: config.height, description: config.record, colorSpace: BT709 } }
            : undefined;
        await videoSource.add(new mb.EncodedPacket(packet.data, idr ? 'key' : 'delta', timestamp, duration), meta);
      }
    } finally {
      input.dispose();
    }
    await addAudio(framesAdded / fps);
  };

  const cancel = () => output.cancel().catch(() => undefined);

  return {
    async addVideo(segment, firstFrame) {
      try {
        signal?.throwIfAborted();
        await addVideo(segment, firstFrame);
      } catch (error) {
        await cancel();
        throw failure('mux', 'adding the video', error, signal);
      }
    },
    async finish() {
      try {
        if (framesAdded !== frames || !config) throw new MusicVideoError('mux', `the video has ${framesAdded} frames, expected ${frames}`);
        await addAudio(Number.POSITIVE_INFINITY);
        await output.finalize();
      } catch (error) {
        await cancel();
        throw failure('mux', 'writing the MP4', error, signal);
      }
      if (!target.buffer) throw new MusicVideoError('mux', 'the MP4 writer produced no file');
      return { mp4: new Uint8Array(target.buffer), videoCodec: config.codec, audioCodec: 'mp4a.40.2' };
    },
    cancel,
  };
}
