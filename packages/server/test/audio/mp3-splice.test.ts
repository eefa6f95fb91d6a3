import { beforeAll, describe, expect, it } from 'vitest';
import { type DecodedMp3, decodeMp3, encodeMp3 } from '../../src/audio/codecs/mp3.js';
import { mainDataBegin, readFrameHeader, readMp3Layout } from '../../src/audio/codecs/mp3-frames.js';
import { type FrameSpliceRequest, spliceMp3Frames } from '../../src/audio/codecs/mp3-splice.js';
import { probeAudio } from '../../src/audio/codecs/probe.js';
import { differingFrames, lagByCrossCorrelation, snrDb, worstBlockSnrDb } from '../helpers/signal.js';
import { tones } from './wav-fixtures.js';

const RATE = 44_100;

/** A 12 s test signal with some movement (a tone, a chord stab every half second) so that frames differ. */
function music(seconds: number): Float32Array[] {
  const base = tones(seconds, RATE, 2, 0.3);
  return base.map((channel, c) => {
    for (let i = 0; i < channel.length; i++) {
      const beat = (i % (RATE / 2)) / RATE;
      channel[i]! += 0.25 * Math.exp(-beat * 12) * Math.sin(2 * Math.PI * (330 + 110 * c) * (i / RATE));
    }
    return channel;
  });
}

/** `original` with [from, to) replaced by a different signal. */
function edit(original: readonly Float32Array[], from: number, to: number): Float32Array[] {
  return original.map((channel) => {
    const out = Float32Array.from(channel);
    for (let i = from; i < to; i++) out[i] = 0.4 * Math.sin((2 * Math.PI * 523.25 * i) / RATE);
    return out;
  });
}

describe('keeping an MP3 source’s own frames around a replaced section', () => {
  let source: Uint8Array;
  let decoded: DecodedMp3;
  const from = 4 * RATE;
  const to = 8 * RATE;
  const window = Math.round(0.7 * RATE);
  const request = (overrides: Partial<FrameSpliceRequest> = {}): FrameSpliceRequest => ({
    source,
    layout: readMp3Layout(source)!,
    edited: edit(decoded.channels, from, to),
    changedFrom: from,
    changedTo: to,
    window,
    ...overrides,
  });
  beforeAll(async () => {
    source = await encodeMp3({ sampleRate: RATE, channels: music(12) });
    decoded = await decodeMp3(source);
  });

  it('decodes to the source’s very samples outside the junctions, which lie within the window', async () => {
    const result = (await spliceMp3Frames(request()))!;
    expect(result).not.toBeNull();
    expect(result.keptBefore).toBeGreaterThanOrEqual(from - window);
    expect(result.keptBefore).toBeLessThan(from);
    expect(result.keptFrom).toBeGreaterThan(to);
    expect(result.keptFrom).toBeLessThanOrEqual(to + window);
    const out = await decodeMp3(result.mp3);
    expect(out.channels[0]!.length).toBe(12 * RATE);
    expect(probeAudio(result.mp3).durationS).toBe(12);
    const total = 12 * RATE;
    expect(
      differingFrames(decoded.channels, out.channels, [
        [0, result.keptBefore],
        [result.keptFrom, total],
      ]),
    ).toBe(0);
    // The new frames carry the edit, aligned to the sample and decodable (a wrong reservoir byte would be loud noise).
    const wanted = edit(decoded.channels, from, to);
    expect(Math.abs(lagByCrossCorrelation(wanted[0]!, out.channels[0]!, [from + RATE, to - RATE], 256))).toBeLessThan(0.1);
    expect(snrDb(wanted, out.channels, [[from, to]])).toBeGreaterThan(15);
    // The junction zones are coding noise of unchanged audio, frame by frame: no click, no broken frame
    // (one whose borrowed bytes were wrong measures about 4 dB here; a plain re-encode about 30 dB).
    expect(worstBlockSnrDb(decoded.channels, out.channels, [result.keptBefore, from], 1152)).toBeGreaterThan(20);
    expect(worstBlockSnrDb(decoded.channels, out.channels, [to, result.keptFrom], 1152)).toBeGreaterThan(20);
  });

  it('keeps every source frame byte for byte before the first junction', async () => {
    const result = (await spliceMp3Frames(request()))!;
    const layout = readMp3Layout(source)!;
    const outLayout = readMp3Layout(result.mp3)!;
    expect(outLayout.frames).toBe(layout.frames);
    expect(outLayout.skip).toBe(layout.skip);
    const keptFrames = Math.floor((result.keptBefore + layout.skip) / 1152);
    let length = 0;
    for (let k = 0, at = layout.firstFrame; k < keptFrames - 1; k++) {
      const header = readFrameHeader(source, at)!;
      length += header.length;
      at += header.length;
    }
    // (The last kept frame's tail may hold the first new frame's borrowed bytes, so it is left out.)
    const before = source.subarray(layout.firstFrame, layout.firstFrame + length);
    const after = result.mp3.subarray(outLayout.firstFrame, outLayout.firstFrame + length);
    expect(Buffer.from(before).equals(Buffer.from(after))).toBe(true);
    expect(mainDataBegin(result.mp3, outLayout.firstFrame, outLayout.header)).toBe(mainDataBegin(source, layout.firstFrame, layout.header));
  });

  it('is deterministic', async () => {
    const a = (await spliceMp3Frames(request()))!;
    const b = (await spliceMp3Frames(request()))!;
    expect(Buffer.from(a.mp3).equals(Buffer.from(b.mp3))).toBe(true);
  });

  it('declines what it cannot do cleanly, so the caller re-encodes', async () => {
    // Too close to the start for a junction, or to the end.
    expect(await spliceMp3Frames(request({ changedFrom: 1000, edited: edit(decoded.channels, 1000, to) }))).toBeNull();
    expect(await spliceMp3Frames(request({ changedTo: 12 * RATE - 1000, edited: edit(decoded.channels, from, 12 * RATE - 1000) }))).toBeNull();
    // No LAME tag: the encoder delay, and so the frame grid, is a guess.
    const untagged = source.subarray(readFrameHeader(source, 0)!.length);
    expect(await spliceMp3Frames(request({ source: untagged, layout: readMp3Layout(untagged)! }))).toBeNull();
    // Below 192 kbps: the kept frames would be below the output's floor.
    const low = await encodeMp3({ sampleRate: RATE, channels: music(12) }, { bitrate: 128 as 192 });
    const lowDecoded = await decodeMp3(low);
    expect(await spliceMp3Frames(request({ source: low, layout: readMp3Layout(low)!, edited: edit(lowDecoded.channels, from, to) }))).toBeNull();
    // A channel count that does not match the source.
    expect(await spliceMp3Frames(request({ edited: [edit(decoded.channels, from, to)[0]!] }))).toBeNull();
  });
});
