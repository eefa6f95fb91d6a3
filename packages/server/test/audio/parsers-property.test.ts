import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeAudio } from '../../src/audio/codecs/decode.js';
import { AudioFormatError } from '../../src/audio/codecs/errors.js';
import { decodeMp3, encodeMp3 } from '../../src/audio/codecs/mp3.js';
import { readFrameHeader, readMp3Layout, readXingTag } from '../../src/audio/codecs/mp3-frames.js';
import { probeAudio } from '../../src/audio/codecs/probe.js';
import { decodeWav, encodeWav, readWavLayout } from '../../src/audio/codecs/wav.js';
import { buildWav, tones, type WavSpec } from './wav-fixtures.js';

/**
 * The parsers meet bytes from anyone: on any input they either answer or throw
 * AudioFormatError (never another error, never a hang), and what they answer is
 * self-consistent. Loops over chunks and frames must always advance; these runs
 * would time out if one did not.
 */

/** Runs `parse`; true if it returned or threw AudioFormatError, and then whatever `check` says of the result. */
function onlyFormatErrors<T>(parse: () => T, check: (value: T) => boolean = () => true): boolean {
  let value: T;
  try {
    value = parse();
  } catch (error) {
    if (error instanceof AudioFormatError) return true;
    throw error;
  }
  return check(value);
}

async function onlyFormatErrorsAsync<T>(parse: () => Promise<T>, check: (value: T) => boolean = () => true): Promise<boolean> {
  let value: T;
  try {
    value = await parse();
  } catch (error) {
    if (error instanceof AudioFormatError) return true;
    throw error;
  }
  return check(value);
}

/** Byte edits and a truncation applied to a copy of `original`. */
interface Mutation {
  edits: [number, number][];
  focus: number;
  cut: number;
}
const mutation: fc.Arbitrary<Mutation> = fc.record({
  edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 24 }),
  /** Edits land in the first `focus` bytes (headers and tags), or anywhere when 0. */
  focus: fc.constantFrom(0, 64, 256),
  cut: fc.nat({ max: 400 }),
});
function mutate(original: Uint8Array, { edits, focus, cut }: Mutation): Uint8Array {
  const bytes = original.slice(0, Math.max(0, original.length - cut));
  const span = focus > 0 ? Math.min(focus, bytes.length) : bytes.length;
  for (const [at, value] of edits) if (span > 0) bytes[at % span] = value;
  return bytes;
}

const wavSpec: fc.Arbitrary<WavSpec> = fc
  .record({
    depth: fc.constantFrom<['int', 8 | 16 | 24 | 32] | ['float', 32]>(['int', 8], ['int', 16], ['int', 24], ['int', 32], ['float', 32]),
    channels: fc.integer({ min: 1, max: 2 }),
    frames: fc.integer({ min: 0, max: 64 }),
    extensible: fc.boolean(),
    junkChunk: fc.boolean(),
    sampleRate: fc.constantFrom(8000, 22_050, 44_100, 48_000, 96_000),
  })
  .map(({ depth, channels, frames, extensible, junkChunk, sampleRate }) => ({
    bits: depth[1],
    float: depth[0] === 'float',
    extensible,
    junkChunk,
    sampleRate,
    channels: tones(frames / sampleRate, sampleRate, channels),
  }));

/** A decoded WAV is consistent: channels as declared, all of one length that the bytes can hold. */
function consistentWav(bytes: Uint8Array): boolean {
  return onlyFormatErrors(
    () => ({ layout: readWavLayout(bytes), pcm: decodeWav(bytes) }),
    ({ layout, pcm }) =>
      pcm.channels.length === layout.channels &&
      pcm.channels.every((channel) => channel.length === layout.frames) &&
      layout.dataOffset + layout.frames * layout.channels * (layout.bitsPerSample / 8) <= bytes.length &&
      probeAudio(bytes).durationS === layout.frames / layout.sampleRate,
  );
}

describe('WAV parser properties', () => {
  it('decodes every layout it writes, exactly as built, and probes the same length', () => {
    fc.assert(
      fc.property(wavSpec, (spec) => {
        const bytes = buildWav(spec);
        const pcm = decodeWav(bytes);
        expect(pcm.sampleRate).toBe(spec.sampleRate);
        expect(pcm.channels).toHaveLength(spec.channels.length);
        expect(pcm.channels[0]!.length).toBe(spec.channels[0]!.length);
        return consistentWav(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws anything but AudioFormatError on mutated or truncated WAV files', () => {
    fc.assert(
      fc.property(wavSpec, mutation, (spec, change) => consistentWav(mutate(buildWav(spec), change))),
      { numRuns: 1500 },
    );
  });

  it('never throws anything but AudioFormatError on random bytes after a RIFF/WAVE header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (rest) => {
        const bytes = new Uint8Array(12 + rest.length);
        bytes.set([...'RIFF\0\0\0\0WAVE'].map((c) => c.charCodeAt(0)));
        bytes.set(rest, 12);
        return consistentWav(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('round-trips float32 masters bit-exactly, whatever the values (unclipped, −0, subnormal)', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 2 })
          .chain((count) => fc.array(fc.float32Array({ noNaN: true, minLength: 0, maxLength: 200 }), { minLength: count, maxLength: count })),
        (raw) => {
          const frames = Math.min(...raw.map((channel) => channel.length));
          const channels = raw.map((channel) => channel.slice(0, frames));
          const bytes = encodeWav({ sampleRate: 44_100, channels }, { encoding: 'float32' });
          const back = decodeWav(bytes);
          return back.channels.every((channel, c) => Buffer.from(channel.buffer).equals(Buffer.from(channels[c]!.buffer)));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('MP3 frame and tag parser properties', () => {
  let tagged: Uint8Array;
  let mono: Uint8Array;
  beforeAll(async () => {
    tagged = await encodeMp3({ sampleRate: 44_100, channels: tones(0.4, 44_100, 2) });
    mono = await encodeMp3({ sampleRate: 32_000, channels: tones(0.3, 32_000, 1) }, { bitrate: 256 });
  });

  it('reads any four bytes as a Layer III header or nothing; a header always spans more than itself', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) => {
        const header = readFrameHeader(bytes, 0);
        return header === null || (header.length > header.sideInfoEnd && header.sampleRate >= 8000 && header.samplesPerFrame > 0);
      }),
      { numRuns: 3000 },
    );
  });

  it('lays out mutated MP3s consistently or refuses them, and reads any tag without throwing', () => {
    fc.assert(
      fc.property(fc.boolean(), mutation, (stereo, change) => {
        const bytes = mutate(stereo ? tagged : mono, change);
        const header = readFrameHeader(bytes, 0);
        if (header) readXingTag(bytes, 0, header); // must not throw on any bytes
        const layout = readMp3Layout(bytes);
        if (!layout) return onlyFormatErrors(() => probeAudio(bytes));
        return (
          layout.firstFrame < bytes.length &&
          layout.frames >= 0 &&
          layout.skip >= 0 &&
          layout.samples >= 0 &&
          layout.samples <= layout.frames * layout.header.samplesPerFrame &&
          onlyFormatErrors(() => probeAudio(bytes))
        );
      }),
      { numRuns: 1500 },
    );
  });

  it('decodes mutated MP3s or throws AudioFormatError, with channels of one length', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), mutation, async (stereo, change) => {
        const bytes = mutate(stereo ? tagged : mono, change);
        return onlyFormatErrorsAsync(
          () => decodeMp3(bytes),
          (pcm) => pcm.channels.length >= 1 && pcm.channels.every((channel) => channel.length === pcm.channels[0]!.length && channel.length > 0),
        );
      }),
      { numRuns: 120 },
    );
  });

  it('reads a Xing frame count of 0 as no count, not as an empty file (a counterexample the property above found)', async () => {
    const bytes = mono.slice();
    const header = readFrameHeader(bytes, 0)!;
    // The frame count follows "Xing"/"Info" and its 4 flag bytes.
    new DataView(bytes.buffer).setUint32(header.sideInfoEnd + 8, 0, false);
    expect(readXingTag(bytes, 0, header)?.frames).toBeNull();
    const pcm = await decodeMp3(bytes);
    expect(pcm.channels[0]!.length).toBe((await decodeMp3(mono)).channels[0]!.length);
  });

  it('decodeAudio refuses arbitrary bytes with AudioFormatError only', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), async (bytes) => onlyFormatErrorsAsync(() => decodeAudio(bytes))),
      { numRuns: 300 },
    );
  });

  it('probes exactly the length that decoding returns for intact files of each layout', async () => {
    for (const bytes of [tagged, mono, tagged.subarray(readFrameHeader(tagged, 0)!.length)]) {
      const probe = probeAudio(bytes);
      const pcm = await decodeMp3(bytes);
      expect(pcm.channels[0]!.length).toBe(Math.round(probe.durationS * probe.sampleRate));
    }
  });
});
