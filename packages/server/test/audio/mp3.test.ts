import { describe, expect, it } from 'vitest';
import { decodeMp3, encodeMp3, mp3SampleRate } from '../../src/audio/codecs/mp3.js';
import { readFrameHeader, readMp3Layout } from '../../src/audio/codecs/mp3-frames.js';
import { probeAudio } from '../../src/audio/codecs/probe.js';
import { encodeFloatWavInPlace, floatWavChannels } from '../../src/audio/codecs/wav.js';
import { tones } from './wav-fixtures.js';

function loudestIndex(channel: Float32Array): number {
  let best = 0;
  for (let i = 1; i < channel.length; i++) if (Math.abs(channel[i]!) > Math.abs(channel[best]!)) best = i;
  return best;
}

function click(frames: number, at: number, channels: number): Float32Array[] {
  return Array.from({ length: channels }, () => {
    const out = new Float32Array(frames);
    out[at] = 0.9;
    return out;
  });
}

describe('MP3', () => {
  for (const [rate, count] of [
    [44_100, 2],
    [48_000, 1],
    [32_000, 2],
  ] as const) {
    it(`round-trips sample-aligned and length-exact at ${rate} Hz, ${count} channel(s)`, async () => {
      const frames = rate + 1234; // not a whole number of MP3 frames
      const at = 20_000;
      const mp3 = await encodeMp3({ sampleRate: rate, channels: click(frames, at, count) });
      const header = readFrameHeader(mp3, 0);
      expect(header).toMatchObject({ sampleRate: rate, bitrateKbps: 192, channels: count });
      const pcm = await decodeMp3(mp3);
      expect(pcm.sampleRate).toBe(rate);
      expect(pcm.channels).toHaveLength(count);
      expect(pcm.channels[0]!.length).toBe(frames);
      expect(loudestIndex(pcm.channels[0]!)).toBe(at);
      expect(probeAudio(mp3)).toEqual({ format: 'mp3', durationS: frames / rate, sampleRate: rate, channels: count });
    });
  }

  it('resamples rates MP3 lacks to the nearest MPEG-1 rate, keeping the duration', async () => {
    expect([22_050, 11_025, 16_000, 8000, 24_000, 96_000].map(mp3SampleRate)).toEqual([44_100, 44_100, 32_000, 32_000, 48_000, 48_000]);
    const mp3 = await encodeMp3({ sampleRate: 22_050, channels: click(22_050, 11_025, 1) });
    const pcm = await decodeMp3(mp3);
    expect(pcm.sampleRate).toBe(44_100);
    expect(pcm.channels[0]!.length).toBe(44_100);
    expect(loudestIndex(pcm.channels[0]!)).toBe(22_050);
  });

  it('is deterministic: the same PCM gives the same bytes', async () => {
    const channels = tones(1, 44_100, 2);
    const a = await encodeMp3({ sampleRate: 44_100, channels });
    const b = await encodeMp3({ sampleRate: 44_100, channels });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('writes a LAME tag that declares the encoder delay and padding', async () => {
    const mp3 = await encodeMp3({ sampleRate: 44_100, channels: tones(0.5, 44_100, 2) });
    expect(String.fromCharCode(...mp3.subarray(36, 40))).toBe('Info');
    const layout = readMp3Layout(mp3)!;
    expect(layout.samples).toBe(22_050);
    expect(layout.skip).toBe(576 + 529);
  });

  it('decodes untagged MP3 and MP3 behind an ID3v2 tag, as probed', async () => {
    const clicked = await encodeMp3({ sampleRate: 44_100, channels: click(44_100, 12_345, 2) });
    const untagged = clicked.subarray(readFrameHeader(clicked, 0)!.length); // drop the Info frame
    const untaggedProbe = probeAudio(untagged);
    const untaggedPcm = await decodeMp3(untagged);
    expect(untaggedPcm.channels[0]!.length).toBe(Math.round(untaggedProbe.durationS * 44_100));
    // Without the tag, LAME's signature in the frames still tells its delay: the start stays aligned and
    // only the padding (less than a frame) stays in at the end.
    expect(readMp3Layout(untagged)).toMatchObject({ gapless: false, skip: 1105 });
    expect(loudestIndex(untaggedPcm.channels[0]!)).toBe(12_345);
    expect(untaggedProbe.durationS - 1).toBeGreaterThanOrEqual(0);
    expect(untaggedProbe.durationS - 1).toBeLessThan(1152 / 44_100);
    // Frames without LAME's signature (another encoder): only the decoder's delay is known.
    const unsigned = Uint8Array.from(untagged);
    for (let at = unsigned.indexOf(0x4c); at >= 0; at = unsigned.indexOf(0x4c, at + 1)) {
      if (String.fromCharCode(...unsigned.subarray(at, at + 4)) === 'LAME') unsigned[at] = 0x55;
    }
    expect(readMp3Layout(unsigned)).toMatchObject({ gapless: false, skip: 529 });

    const tagged = await encodeMp3({ sampleRate: 44_100, channels: tones(1, 44_100, 2) });

    const id3 = new Uint8Array(10 + 300);
    id3.set([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 2, 44]); // "ID3" v2.4, size 300 (syncsafe 2·128 + 44)
    const withId3 = new Uint8Array(id3.length + tagged.length);
    withId3.set(id3);
    withId3.set(tagged, id3.length);
    expect(probeAudio(withId3).durationS).toBe(1);
    expect((await decodeMp3(withId3)).channels[0]!.length).toBe(44_100);
  });

  it('decodes into the channels it is given, a truncated file too', async () => {
    const mp3 = await encodeMp3({ sampleRate: 44_100, channels: tones(3, 44_100, 2) });
    const plain = await decodeMp3(mp3);
    const given: [number, number][] = [];
    const allocate = (count: number, frames: number) => {
      given.push([count, frames]);
      return floatWavChannels(count, frames);
    };
    const same = (a: readonly Float32Array[], b: readonly Float32Array[]) =>
      a.length === b.length &&
      a.every((channel, c) =>
        Buffer.from(channel.buffer, channel.byteOffset, channel.byteLength).equals(Buffer.from(b[c]!.buffer, b[c]!.byteOffset, b[c]!.byteLength)),
      );
    const laidOut = await decodeMp3(mp3, allocate);
    expect(given).toEqual([[2, 3 * 44_100]]);
    expect(same(laidOut.channels, plain.channels)).toBe(true);
    // A truncated file is as long as what it holds, still in channels from the allocator.
    const truncated = mp3.subarray(0, Math.floor(mp3.length * 0.6));
    const short = await decodeMp3(truncated, allocate);
    expect(given).toHaveLength(3);
    expect(given[2]![1]).toBe(short.channels[0]!.length);
    expect(short.channels[0]!.length).toBeLessThan(3 * 44_100);
    expect(same(short.channels, (await decodeMp3(truncated)).channels)).toBe(true);
    expect(encodeFloatWavInPlace(short).buffer).toBe(short.channels[0]!.buffer);
  });
});
