import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ALL_FORMATS, BufferSource, EncodedPacketSink, Input } from 'mediabunny';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMp3 } from '../../src/audio/codecs/mp3.js';
import { encodeWav } from '../../src/audio/codecs/wav.js';
import { MUSIC_VIDEO_DEFAULTS, type MusicVideo, MusicVideoError, renderMusicVideo } from '../../src/audio/index.js';
import type { Pcm } from '../../src/audio/pcm.js';
import { mulberry32 } from '../../src/audio/prng.js';
import { avcCodecString, avcLevel, retagAvcConfig, scanFrame } from '../../src/audio/video/avc.js';
import { videoLayout } from '../../src/audio/video/backdrop.js';
import { barFrames } from '../../src/audio/video/bars.js';
import { trackAudio } from '../../src/audio/video/track-audio.js';
import { blendRect, rgbToI420, rgbToYuv } from '../../src/audio/video/yuv.js';

/**
 * The music video, checked by reading it back: its structure with mediabunny (pure TypeScript,
 * always), its pictures and sound by decoding them with ffmpeg, which the service does not need
 * but these checks do (`apt-get install ffmpeg`); without it on PATH those checks are skipped,
 * and say so.
 */
const hasFfmpeg = ['ffmpeg', 'ffprobe'].every((tool) => spawnSync(tool, ['-version'], { stdio: 'ignore' }).status === 0);
if (!hasFfmpeg) console.warn('video.test: ffmpeg/ffprobe are not on PATH: the checks that decode the video are SKIPPED (install ffmpeg to run them)');

const RATE = 44_100;
const FPS = MUSIC_VIDEO_DEFAULTS.fps;
const SIZE = MUSIC_VIDEO_DEFAULTS.size;

/** Stereo test music: a chord of tones with a little noise, at `level` (linear) within each section and silent elsewhere. */
function music(seconds: number, sections: ReadonlyArray<{ from: number; to: number; level: number }>): Pcm {
  const frames = Math.round(seconds * RATE);
  const left = new Float32Array(frames);
  const right = new Float32Array(frames);
  const random = mulberry32(7);
  const tones = [110, 220, 330, 440, 880, 1760, 3520, 7040];
  for (const { from, to, level } of sections) {
    for (let i = Math.round(from * RATE); i < Math.min(frames, Math.round(to * RATE)); i++) {
      const t = i / RATE;
      let v = 0;
      for (const [k, hz] of tones.entries()) v += Math.sin(2 * Math.PI * hz * t + k) / tones.length;
      const noise = (random() * 2 - 1) * 0.15;
      left[i] = level * (v + noise);
      right[i] = level * (0.8 * v + noise);
    }
  }
  return { sampleRate: RATE, channels: [left, right] };
}

interface Streams {
  duration: number;
  videoCodec: string;
  audioCodec: string;
  packets: { key: boolean; timestamp: number; duration: number }[];
  boxes: string[];
}

/** What a pure-TypeScript demuxer reads in the file: tracks, length, the video's frames and the top-level boxes. */
async function readBack(mp4: Uint8Array): Promise<Streams> {
  const input = new Input({ source: new BufferSource(mp4), formats: ALL_FORMATS });
  const video = await input.getPrimaryVideoTrack();
  const audio = await input.getPrimaryAudioTrack();
  if (!video || !audio) throw new Error('a track is missing');
  const packets = [];
  for await (const packet of new EncodedPacketSink(video).packets()) {
    packets.push({ key: packet.type === 'key', timestamp: packet.timestamp, duration: packet.duration });
  }
  const boxes: string[] = [];
  const view = new DataView(mp4.buffer, mp4.byteOffset, mp4.byteLength);
  for (let at = 0; at + 8 <= mp4.length; ) {
    const size = view.getUint32(at);
    boxes.push(String.fromCharCode(...mp4.subarray(at + 4, at + 8)));
    if (size < 8) break;
    at += size;
  }
  const result = {
    duration: await input.computeDuration(),
    videoCodec: (await video.getCodecParameterString()) ?? '',
    audioCodec: (await audio.getCodecParameterString()) ?? '',
    packets,
    boxes,
  };
  input.dispose();
  return result;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reprise-video-test-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function saved(name: string, mp4: Uint8Array): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, mp4);
  return file;
}

function ffprobe(file: string): { streams: Record<string, string | number>[]; format: { duration: string } } {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream:format=duration', '-of', 'json', file], { encoding: 'utf8' });
  return JSON.parse(out);
}

/** Luma of the spectrum display's area in every frame, decoded by ffmpeg: one byte per pixel, frame after frame. */
function barAreaLuma(file: string): { frames: Uint8Array[]; mean: number[] } {
  const { bars } = videoLayout(SIZE);
  const width = bars.count * bars.slot;
  const height = bars.maxHeight;
  const raw = execFileSync(
    'ffmpeg',
    ['-v', 'error', '-i', file, '-vf', `crop=${width}:${height}:${bars.x}:${bars.baseline - height},format=gray`, '-f', 'rawvideo', '-'],
    { maxBuffer: 1 << 30 },
  );
  const frames: Uint8Array[] = [];
  for (let at = 0; at + width * height <= raw.length; at += width * height) frames.push(raw.subarray(at, at + width * height));
  return { frames, mean: frames.map((f) => f.reduce((sum, v) => sum + v, 0) / f.length) };
}

/** One frame at `seconds`, decoded by ffmpeg, as gray bytes of the whole picture. */
function frameAt(file: string, seconds: number): Uint8Array {
  return execFileSync('ffmpeg', ['-v', 'error', '-ss', String(seconds), '-i', file, '-frames:v', '1', '-vf', 'format=gray', '-f', 'rawvideo', '-'], {
    maxBuffer: 1 << 26,
  });
}

/** The sound of the file, decoded by ffmpeg: interleaved stereo floats. */
function decodedAudio(file: string): Float32Array {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a', '-f', 'f32le', '-ac', '2', '-ar', String(RATE), '-'], { maxBuffer: 1 << 30 });
  return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
}

const meanAbsDiff = (a: Uint8Array, b: Uint8Array): number => a.reduce((sum, v, i) => sum + Math.abs(v - b[i]!), 0) / a.length;

describe('music video: a short track', () => {
  // Silence, 2 s of loud music, silence: the display must light up for the music and only then.
  const SECONDS = 6;
  const pcm = music(SECONDS, [{ from: 2, to: 4, level: 0.5 }]);
  let video: MusicVideo;
  let file = '';
  const listenersBefore = { uncaught: 0, rejected: 0 };

  beforeAll(async () => {
    listenersBefore.uncaught = process.listenerCount('uncaughtException');
    listenersBefore.rejected = process.listenerCount('unhandledRejection');
    video = await renderMusicVideo({
      audio: encodeWav(pcm, { encoding: 'float32' }),
      title: 'Short Test Song',
      author: 'Test Author',
      domainName: 'music.example.com',
    });
    file = saved('short.mp4', video.mp4);
  }, 120_000);

  it('is an H.264 + AAC MP4 as long as the track, index first, key frames where decoding can start', async () => {
    expect(video).toMatchObject({ width: SIZE, height: SIZE, fps: FPS, frames: SECONDS * FPS, durationS: SECONDS, audioCodec: 'mp4a.40.2' });
    // Constrained Baseline (42 C0), level 3.0 (1E) for 640×640 at 24 fps.
    expect(video.videoCodec).toBe('avc1.42C01E');
    const back = await readBack(video.mp4);
    expect(back.videoCodec.toUpperCase()).toBe(video.videoCodec.toUpperCase()); // RFC 6381 hex is case-blind
    expect(back.audioCodec).toBe('mp4a.40.2');
    expect(Math.abs(back.duration - SECONDS)).toBeLessThan(0.1);
    expect(back.packets).toHaveLength(SECONDS * FPS);
    const last = back.packets.at(-1)!;
    expect(last.timestamp + last.duration).toBeCloseTo(SECONDS, 6);
    // A key frame every 2 s and only there: the encoder's own MP4 marked every frame as one.
    const keys = back.packets.flatMap((p, i) => (p.key ? [i] : []));
    expect(keys).toEqual([0, 48, 96]);
    expect(back.boxes.indexOf('moov')).toBeGreaterThan(-1);
    expect(back.boxes.indexOf('moov')).toBeLessThan(back.boxes.indexOf('mdat'));
  });

  it('leaves the process-wide error listeners as they were', () => {
    expect(process.listenerCount('uncaughtException')).toBe(listenersBefore.uncaught);
    expect(process.listenerCount('unhandledRejection')).toBe(listenersBefore.rejected);
  });

  it.skipIf(!hasFfmpeg)('decodes as a browser-playable video and sound of the track’s length (ffprobe)', () => {
    const { streams, format } = ffprobe(file);
    const video = streams.find((s) => s.codec_type === 'video')!;
    const audio = streams.find((s) => s.codec_type === 'audio')!;
    expect(video).toMatchObject({ codec_name: 'h264', profile: 'Constrained Baseline', level: 30, width: SIZE, height: SIZE, pix_fmt: 'yuv420p' });
    expect(video.r_frame_rate).toBe(`${FPS}/1`);
    expect(audio).toMatchObject({ codec_name: 'aac', profile: 'LC', sample_rate: String(RATE), channels: 2 });
    expect(Math.abs(Number(format.duration) - SECONDS)).toBeLessThan(0.1);
    // Every frame and audio packet decodes without a complaint.
    const check = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
    expect(check.status).toBe(0);
    expect(check.stderr).toBe('');
  });

  it.skipIf(!hasFfmpeg)('shows the spectrum moving with the music, in time with it', () => {
    const { frames, mean } = barAreaLuma(file);
    expect(frames).toHaveLength(SECONDS * FPS);
    const quiet = mean[FPS]!; // 1 s: silence
    const loud = mean[3 * FPS]!; // 3 s: the music
    expect(loud - quiet).toBeGreaterThan(25);
    expect(meanAbsDiff(frames[FPS]!, frames[3 * FPS]!)).toBeGreaterThan(25);
    // The bars rise when the music starts at 2 s (frame 48), to a frame either way...
    const firstLit = mean.findIndex((m) => m > quiet + 5);
    expect(Math.abs(firstLit - 2 * FPS)).toBeLessThanOrEqual(1);
    // ...stay up while it plays, are down (but for the slower caps) half a second after it stops
    // at 4 s, and the caps are down too 1.7 s after.
    expect(mean[Math.round(3.9 * FPS)]! - quiet).toBeGreaterThan(25);
    expect(mean[Math.round(4.5 * FPS)]! - quiet).toBeLessThan((loud - quiet) / 4);
    expect(Math.abs(mean[Math.round(5.75 * FPS)]! - quiet)).toBeLessThan(1);
  });

  it.skipIf(!hasFfmpeg)('carries the track’s sound, lined up with the picture to the sample', () => {
    const sound = decodedAudio(file);
    const frames = sound.length / 2;
    // AAC ends on a whole packet: no shorter than the track, at most one packet (23 ms) longer.
    expect(frames).toBeGreaterThanOrEqual(SECONDS * RATE);
    expect(frames - SECONDS * RATE).toBeLessThanOrEqual(1024);
    const onset = Array.from({ length: frames }, (_, i) => i).find((i) => Math.abs(sound[2 * i]!) > 0.05)!;
    const sourceOnset = pcm.channels[0]!.findIndex((v) => Math.abs(v) > 0.05);
    expect(Math.abs(onset - sourceOnset)).toBeLessThanOrEqual(2);
    // The same sound: over the music, left channel against the source.
    let dot = 0;
    let a2 = 0;
    let b2 = 0;
    for (let i = 2 * RATE; i < 4 * RATE; i++) {
      const a = sound[2 * i]!;
      const b = pcm.channels[0]![i]!;
      dot += a * b;
      a2 += a * a;
      b2 += b * b;
    }
    expect(dot / Math.sqrt(a2 * b2)).toBeGreaterThan(0.98);
    expect(Math.abs(10 * Math.log10(a2 / b2))).toBeLessThan(0.5);
  });
});

describe('music video: a 3-minute track', () => {
  // Loud and quiet passages in turn: 20 s at full level, then 10 s at −30 dB, six times.
  const SECONDS = 180;
  const pcm = music(
    SECONDS,
    Array.from({ length: 6 }, (_, k) => [
      { from: 30 * k, to: 30 * k + 20, level: 0.5 },
      { from: 30 * k + 20, to: 30 * k + 30, level: 0.5 * 10 ** (-30 / 20) },
    ]).flat(),
  );
  let video: MusicVideo;
  let file = '';

  beforeAll(async () => {
    // From decoded PCM this time (the other tests give bytes).
    video = await renderMusicVideo({ audio: pcm, title: 'A Three Minute Song With A Longer Title Than Fits On One Line', author: 'A'.repeat(50) });
    file = saved('long.mp4', video.mp4);
  }, 400_000);

  it('has every frame and the whole sound: duration within 0.1 s of the audio', async () => {
    expect(video.frames).toBe(SECONDS * FPS);
    const back = await readBack(video.mp4);
    expect(Math.abs(back.duration - SECONDS)).toBeLessThan(0.1);
    expect(back.packets).toHaveLength(SECONDS * FPS);
    expect(back.packets.filter((p) => p.key)).toHaveLength(SECONDS / MUSIC_VIDEO_DEFAULTS.keyframeS);
    // A still picture with moving bars costs little: well under 1 MB per minute of video.
    expect(video.mp4.length).toBeLessThan(SECONDS * 60_000);
  });

  it.skipIf(!hasFfmpeg)('decodes whole, its pictures differ between loud and quiet passages, its sound is the track’s length', () => {
    const { format, streams } = ffprobe(file);
    expect(Math.abs(Number(format.duration) - SECONDS)).toBeLessThan(0.1);
    expect(streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    // Frames in loud passages differ from those in quiet ones; two loud ones a minute apart look alike.
    const loud = frameAt(file, 10);
    const quiet = frameAt(file, 27);
    const loudLater = frameAt(file, 70);
    expect(loud.length).toBe(SIZE * SIZE);
    const { bars } = videoLayout(SIZE);
    const area = (frame: Uint8Array) => {
      const rows: number[] = [];
      for (let y = bars.baseline - bars.maxHeight; y < bars.baseline; y++)
        for (let x = bars.x; x < bars.x + bars.count * bars.slot; x++) rows.push(frame[y * SIZE + x]!);
      return Uint8Array.from(rows);
    };
    expect(meanAbsDiff(area(loud), area(quiet))).toBeGreaterThan(10);
    expect(meanAbsDiff(area(loud), area(loudLater))).toBeLessThan(meanAbsDiff(area(loud), area(quiet)));
    const sound = decodedAudio(file);
    expect(Math.abs(sound.length / 2 / RATE - SECONDS)).toBeLessThan(0.1);
    // Loud where the track is loud, 30 dB down where it is quiet.
    const rmsDb = (from: number, to: number) => {
      let sum = 0;
      for (let i = from * RATE; i < to * RATE; i++) sum += sound[2 * i]! ** 2;
      return 10 * Math.log10(sum / ((to - from) * RATE));
    };
    expect(rmsDb(5, 15) - rmsDb(22, 28)).toBeCloseTo(30, 0);
  });
});

describe('music video: inputs and failures', () => {
  const pcm = music(2.5, [{ from: 0.5, to: 2, level: 0.4 }]);

  it('takes an MP3 and draws a cover when there is none', async () => {
    const mp3 = await encodeMp3(pcm, { bitrate: 192 });
    const video = await renderMusicVideo({ audio: mp3, title: 'From the MP3', tags: 'jazz' });
    const back = await readBack(video.mp4);
    // The MP3 decoder removes the encoder's delay and padding: the same length as the source.
    expect(Math.abs(back.duration - 2.5)).toBeLessThan(0.1);
    expect(back.packets).toHaveLength(Math.ceil(2.5 * FPS));
  });

  it('reports progress up to 1 and stops when aborted, throwing the abort reason', async () => {
    const seen: number[] = [];
    await renderMusicVideo({ audio: pcm, title: 'Progress' }, { onProgress: (p) => seen.push(p) });
    expect(seen.at(-1)).toBe(1);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const made = renderMusicVideo(
      { audio: pcm, title: 'Aborted' },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (p > 0) controller.abort(reason);
        },
      },
    );
    await expect(made).rejects.toBe(reason);
  });

  it('fails with a MusicVideoError of stage "input" for audio or a cover it cannot read', async () => {
    const noise = new Uint8Array(4000).map((_, i) => (i * 7919) % 251);
    const bad = renderMusicVideo({ audio: noise, title: 'Bad' });
    await expect(bad).rejects.toBeInstanceOf(MusicVideoError);
    await expect(bad).rejects.toMatchObject({ name: 'MusicVideoError', stage: 'input' });
    await expect(renderMusicVideo({ audio: { sampleRate: RATE, channels: [new Float32Array(0)] }, title: 'Empty' })).rejects.toMatchObject({ stage: 'input' });
    await expect(renderMusicVideo({ audio: pcm, title: 'Bad cover', cover: new Uint8Array([1, 2, 3, 4]) })).rejects.toMatchObject({
      name: 'MusicVideoError',
      stage: 'input',
    });
  });

  it('makes other sizes and rates, at the H.264 level they need, and a track shorter than a frame', async () => {
    const small = await renderMusicVideo({ audio: pcm, title: 'Small' }, { size: 320, fps: 15 });
    expect(small).toMatchObject({ width: 320, height: 320, fps: 15, frames: Math.ceil(2.5 * 15) });
    // 20×20 macroblocks at 15 fps: more than level 1.2 holds per frame, so level 2.1.
    expect(small.videoCodec).toBe('avc1.42C015');
    const back = await readBack(small.mp4);
    expect(back.packets).toHaveLength(Math.ceil(2.5 * 15));
    expect(Math.abs(back.duration - 2.5)).toBeLessThan(0.1);
    const blip = await renderMusicVideo({ audio: { sampleRate: RATE, channels: [new Float32Array(441).fill(0.1)] }, title: 'Blip' });
    expect(blip.frames).toBe(1);
    expect((await readBack(blip.mp4)).packets).toHaveLength(1);
  });

  it('refuses sizes and frame rates it does not make', async () => {
    await expect(renderMusicVideo({ audio: pcm, title: 'x' }, { size: 650 })).rejects.toBeInstanceOf(RangeError);
    await expect(renderMusicVideo({ audio: pcm, title: 'x' }, { fps: 120 })).rejects.toBeInstanceOf(RangeError);
  });

  it('reads a float WAV master in place and resamples a rate AAC has no code for', async () => {
    const wav = encodeWav(pcm, { encoding: 'float32' });
    const fromWav = await trackAudio(wav);
    const out = new Float32Array(20);
    fromWav.interleaved(RATE, 10, out);
    expect(Array.from(out)).toEqual(Array.from({ length: 20 }, (_, i) => pcm.channels[i % 2]![RATE + (i >> 1)]!));
    // Frames before the start and past the end read as silence.
    fromWav.mono(-5, 10, out);
    expect(Array.from(out.subarray(0, 5))).toEqual([0, 0, 0, 0, 0]);
    const odd = await trackAudio({ sampleRate: 37_000, channels: [new Float32Array(37_000)] });
    expect(odd.sampleRate).toBe(48_000);
    expect(odd.frames).toBe(48_000);
  });
});

describe('music video: parts', () => {
  it('picks the lowest H.264 level for the picture size and rate', () => {
    expect(avcLevel(640, 640, 24)).toBe(30);
    expect(avcLevel(640, 640, 30)).toBe(31);
    expect(avcLevel(1280, 720, 30)).toBe(31);
    expect(avcLevel(1920, 1088, 30)).toBe(40);
  });

  it('retags the encoder’s configuration as Constrained Baseline at the level, in the record and its SPS', () => {
    // The record minih264's muxer writes for 640×640: Baseline (66), no constraint flags, level 2.2.
    const record = Uint8Array.from(Buffer.from('01420016ffe1000967420016a680a0146401000468ce09c8', 'hex'));
    const retagged = retagAvcConfig(record, 30);
    expect(Buffer.from(retagged).toString('hex')).toBe('0142c01effe100096742c01ea680a0146401000468ce09c8');
    expect(avcCodecString(retagged)).toBe('avc1.42C01E');
    expect(Buffer.from(record).toString('hex')).toBe('01420016ffe1000967420016a680a0146401000468ce09c8');
    // In a coded frame: an IDR slice (type 5) is a key frame, a non-IDR slice (type 1) is not.
    expect(scanFrame(Uint8Array.from([0, 0, 0, 2, 0x65, 0x88]), 4, 30).idr).toBe(true);
    expect(scanFrame(Uint8Array.from([0, 0, 0, 2, 0x41, 0x9a]), 4, 30).idr).toBe(false);
  });

  it('converts colours to limited-range BT.709 and blends on whole chroma samples', () => {
    expect(rgbToYuv(255, 255, 255)).toEqual({ y: 235, u: 128, v: 128 });
    expect(rgbToYuv(0, 0, 0)).toEqual({ y: 16, u: 128, v: 128 });
    expect(rgbToYuv(255, 0, 0)).toEqual({ y: 63, u: 102, v: 240 });
    const black = rgbToI420(new Uint8Array(4 * 4 * 3), 4, 4, 3);
    blendRect(black, 1, 1, 2, 2, rgbToYuv(255, 255, 255), 1);
    // Widened to the 2×2 block [0, 2) × [0, 2): four luma samples and one chroma sample.
    expect(Array.from(black.data.subarray(0, 16))).toEqual([235, 235, 16, 16, 235, 235, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16]);
  });

  it('shows nothing for silence and the bar of a tone’s frequency highest', async () => {
    const frames = 48;
    const silent = barFrames(await trackAudio({ sampleRate: RATE, channels: [new Float32Array(2 * RATE)] }), { fps: FPS, frames, bars: 40 });
    expect(silent.heights.every((h) => h === 0)).toBe(true);
    const tone = Float32Array.from({ length: 2 * RATE }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / RATE));
    const bars = barFrames(await trackAudio({ sampleRate: RATE, channels: [tone] }), { fps: FPS, frames, bars: 40 });
    const row = Array.from(bars.heights.subarray(24 * 40, 25 * 40));
    const tallest = row.indexOf(Math.max(...row));
    // 40 bands from 40 Hz to 16 kHz: 1 kHz falls in band floor(40 · log(1000/40) / log(400)) = 21.
    expect(tallest).toBe(Math.floor((40 * Math.log(1000 / 40)) / Math.log(400)));
    expect(row[tallest]).toBeGreaterThan(0.9);
    expect(row[0]).toBeLessThan(0.2);
  });
});
