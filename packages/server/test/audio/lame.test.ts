import { describe, expect, it } from 'vitest';
import { encodeWithLame, type Mp3EncoderName, mp3Encoder, nativeLame, resolveMp3Encoder } from '../../src/audio/codecs/lame.js';
import { decodeRawFrames } from '../../src/audio/codecs/mp3.js';
import { DECODER_DELAY, LAME_ENCODER_DELAY, readFrameHeader } from '../../src/audio/codecs/mp3-frames.js';
import { tones } from './wav-fixtures.js';

const native = nativeLame();
/** The native build is there wherever the install found libmp3lame-dev (CI installs it); the WebAssembly one always. */
const ENCODERS: Mp3EncoderName[] = native.version ? ['native', 'wasm'] : ['wasm'];
if ('why' in native) console.warn(`native LAME: ${native.why}; only the WebAssembly encoder is tested`);

/** Frame offsets of bare CBR frames, each checked to be a whole frame. */
function frameOffsets(audio: Uint8Array): number[] {
  const offsets: number[] = [];
  for (let at = 0; at < audio.length; ) {
    const header = readFrameHeader(audio, at);
    if (!header) throw new Error(`not a frame at byte ${at}`);
    offsets.push(at);
    at += header.length;
  }
  return offsets;
}

/** The encoded frames decoded, with the encoder's and decoder's delays dropped, against the input: signal-to-noise ratio in dB. */
async function snrDb(input: readonly Float32Array[], audio: Uint8Array): Promise<number> {
  let signal = 0;
  let noise = 0;
  await decodeRawFrames(audio, input.length, (piece, at) => {
    for (const [c, decoded] of piece.entries()) {
      for (let i = 0; i < decoded.length; i++) {
        const source = at + i - LAME_ENCODER_DELAY - DECODER_DELAY;
        if (source < 0 || source >= input[c]!.length) continue;
        const x = input[c]![source]!;
        signal += x * x;
        noise += (decoded[i]! - x) ** 2;
      }
    }
  });
  return 10 * Math.log10(signal / noise);
}

describe('LAME encoders', () => {
  for (const encoder of ENCODERS) {
    it(`${encoder}: whole CBR frames at the asked rate and bitrate, aligned at LAME's delay, close to the input, deterministic`, async () => {
      for (const [rate, count, kbps] of [
        [44_100, 2, 192],
        [48_000, 1, 256],
        [32_000, 2, 320],
      ] as const) {
        const input = tones(1.3, rate, count);
        const audio = await encodeWithLame(input, rate, kbps, { encoder });
        const offsets = frameOffsets(audio);
        expect(readFrameHeader(audio, 0)).toMatchObject({ sampleRate: rate, bitrateKbps: kbps, channels: count });
        // Enough frames for the input, its delay and LAME's flush, and no more than one spare.
        const needed = Math.ceil((input[0]!.length + LAME_ENCODER_DELAY) / 1152);
        expect(offsets.length).toBeGreaterThanOrEqual(needed);
        expect(offsets.length).toBeLessThanOrEqual(needed + 2);
        expect(await snrDb(input, audio)).toBeGreaterThan(20);
        // Gathered in the buffer sized up front (it never had to grow), with the asked room before the frames.
        const reserved = await encodeWithLame(input, rate, kbps, { encoder, reserve: 500 });
        expect(reserved.byteOffset).toBe(500);
        expect(reserved.buffer.byteLength).toBe(500 + (Math.ceil((input[0]!.length + 576) / 1152) + 4) * (Math.floor((144_000 * kbps) / rate) + 1));
        expect(Buffer.from(reserved).equals(Buffer.from(audio))).toBe(true);
        const again = await encodeWithLame(input, rate, kbps, { encoder });
        expect(Buffer.from(again).equals(Buffer.from(audio))).toBe(true);
      }
    });

    it(`${encoder}: clamps samples beyond full scale instead of wrapping them`, async () => {
      const rate = 44_100;
      const loud = [new Float32Array(rate).map((_, i) => 3 * Math.sin((2 * Math.PI * 440 * i) / rate))];
      const clipped = [loud[0]!.map((v) => Math.max(-1, Math.min(1, v)))];
      const [a, b] = [await encodeWithLame(loud, rate, 192, { encoder }), await encodeWithLame(clipped, rate, 192, { encoder })];
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    });
  }

  it.runIf(ENCODERS.length === 2)('the two builds write the same bytes (the same LAME 3.100, configured alike)', async () => {
    // Not promised by LAME across compilers, but so here: tracks do not depend on which build a process has.
    for (const [seconds, rate, count] of [
      [2, 44_100, 2],
      [0.7, 48_000, 1],
    ] as const) {
      const input = tones(seconds, rate, count, 0.9);
      const [fromNative, fromWasm] = await Promise.all(ENCODERS.map((encoder) => encodeWithLame(input, rate, 192, { encoder })));
      expect(Buffer.from(fromNative!).equals(Buffer.from(fromWasm!))).toBe(true);
    }
  });

  it('REPRISE_MP3_ENCODER: wasm is always there; native only where built, and auto takes it then', () => {
    expect(resolveMp3Encoder('wasm')).toBe('wasm');
    expect(resolveMp3Encoder('auto')).toBe(native.version ? 'native' : 'wasm');
    if (native.version) expect(resolveMp3Encoder('native')).toBe('native');
    else expect(() => resolveMp3Encoder('native')).toThrow(/REPRISE_MP3_ENCODER=native, but the native LAME addon is not built/);
    expect(ENCODERS).toContain(mp3Encoder());
  });
});
