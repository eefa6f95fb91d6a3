import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AudioFormatError } from '../../src/audio/codecs/errors.js';
import { encodeMp3 } from '../../src/audio/codecs/mp3.js';
import { readFrameHeader } from '../../src/audio/codecs/mp3-frames.js';
import { probeAudio } from '../../src/audio/codecs/probe.js';
import { buildWav, tones } from './wav-fixtures.js';

const text = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));

function probeOrFormatError(bytes: Uint8Array): boolean {
  try {
    const probe = probeAudio(bytes);
    return Number.isFinite(probe.durationS) && probe.durationS >= 0 && probe.sampleRate > 0 && probe.channels > 0;
  } catch (error) {
    return error instanceof AudioFormatError;
  }
}

describe('probeAudio', () => {
  it('reads a WAV header', () => {
    const bytes = buildWav({ sampleRate: 22_050, channels: tones(2.5, 22_050, 1), bits: 24, extensible: true });
    expect(probeAudio(bytes)).toEqual({ format: 'wav', durationS: 2.5, sampleRate: 22_050, channels: 1 });
  });

  it('reads an MP3 from its tag, and counts the frames of an untagged 3-minute MP3', async () => {
    const tagged = await encodeMp3({ sampleRate: 44_100, channels: tones(2, 44_100, 2) });
    expect(probeAudio(tagged).durationS).toBe(2);
    // 3 minutes of CBR frames without a tag: copies of the encoder's frames (headers are all a probe reads).
    const first = readFrameHeader(tagged, 0)!.length;
    const frames = tagged.subarray(first);
    const copies = Math.ceil((180 * 44_100) / 1152 / Math.floor(frames.length / 626));
    const long = new Uint8Array(frames.length * copies);
    for (let i = 0; i < copies; i++) long.set(frames, i * frames.length);
    const probe = probeAudio(long);
    let count = 0;
    for (let at = 0; at < long.length; count++) at += readFrameHeader(long, at)!.length;
    // Without a tag the delays of the decoder (529) and, as the frames are signed by LAME, of the encoder (576) are dropped.
    expect(probe.durationS).toBeCloseTo((count * 1152 - 1105) / 44_100, 9);
    expect(probe.durationS).toBeGreaterThan(180);
  });

  it('tells what a non-audio file looks like', () => {
    expect(() => probeAudio(text('fLaC\0\0\0\x22 and some more bytes'))).toThrow(/FLAC file is neither MP3 nor WAV/);
    expect(() => probeAudio(text('<html><body>not found</body></html>'))).toThrow(/text document/);
    expect(() => probeAudio(new Uint8Array(5000))).toThrow(AudioFormatError);
    expect(() => probeAudio(text('RIFF\0\0\0\0AVI LIST'))).toThrow(AudioFormatError);
    expect(() => probeAudio(new Uint8Array(3))).toThrow(/too short/);
  });

  it('never crashes on random bytes: it probes or throws AudioFormatError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => probeOrFormatError(bytes)),
      { numRuns: 500 },
    );
  });

  it('never crashes on random bytes behind audio-looking headers', () => {
    const prefixes = [
      text('RIFF\0\0\0\0WAVEfmt '),
      text('ID3\x04\0\0\0\0\0\x10'),
      Uint8Array.from([0xff, 0xfb, 0xb0, 0x64]),
      buildWav({ channels: tones(0.001, 8000, 1), bits: 16 }).subarray(0, 40),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 2048 }), (prefix, rest) => {
        const bytes = new Uint8Array(prefix.length + rest.length);
        bytes.set(prefix);
        bytes.set(rest, prefix.length);
        return probeOrFormatError(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('survives mutations of a real MP3 and WAV', async () => {
    const mp3 = await encodeMp3({ sampleRate: 44_100, channels: tones(0.3, 44_100, 1) });
    const wav = buildWav({ channels: tones(0.05, 8000, 2), bits: 16 });
    fc.assert(
      fc.property(
        fc.constantFrom(mp3, wav),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 20 }),
        fc.nat(),
        (original, edits, cut) => {
          const bytes = original.slice(0, Math.max(0, original.length - (cut % 200)));
          for (const [at, value] of edits) if (bytes.length > 0) bytes[at % bytes.length] = value;
          return probeOrFormatError(bytes);
        },
      ),
      { numRuns: 300 },
    );
  });
});
