import { beforeAll, describe, expect, it } from 'vitest';
import { decodeMp3, encodeMp3, type Mp3Bitrate, mp3BitrateAtLeast } from '../../src/audio/codecs/mp3.js';
import { readFrameHeader } from '../../src/audio/codecs/mp3-frames.js';
import { probeAudio } from '../../src/audio/codecs/probe.js';
import { decodeWav } from '../../src/audio/codecs/wav.js';
import { createProceduralEngine, type RenderedTrack, type ReplaceSectionInput } from '../../src/engine/index.js';
import { buildWav, type WavSpec } from '../audio/wav-fixtures.js';
import { masterBytes, replaceRequest } from '../helpers/audio.js';
import { differingFrames, lagByCrossCorrelation, outside, type Span, snrDb } from '../helpers/signal.js';

/**
 * What a section replacement must keep: outside the section (±1.5 s) the song is the song,
 * sample for sample where the source is lossless; the duration; byte-identical results for
 * identical inputs; and no drift over chains of edits. The test songs are reprise's own.
 */

const live = () => new AbortController().signal;
const RATE = 44_100;
const SONG_S = 30;
const MARGIN = Math.round(1.5 * RATE);
const engine = createProceduralEngine();

const request = (bytes: Uint8Array, startS: number, endS: number, seed = 'quality'): ReplaceSectionInput => replaceRequest(bytes, startS, endS, seed);

const framesOf = ([startS, endS]: readonly [number, number]): Span => [Math.round(startS * RATE), Math.round(endS * RATE)];
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const masterOf = (track: RenderedTrack) => decodeWav(masterBytes(track));

describe('section replacement quality', () => {
  /** A generated 30 s song, as reprise stores it: MP3 plus lossless master. */
  let song: RenderedTrack;
  let songPcm: Float32Array[];
  beforeAll(async () => {
    const tracks = await engine.generate(
      {
        prompt: 'late night',
        style: 'jazz, piano, upright bass',
        title: 'Test Song',
        negativeTags: '',
        instrumental: true,
        durationS: SONG_S,
        seed: 'quality-song',
      },
      live(),
      async () => {},
    );
    song = tracks[0]!;
    songPcm = masterOf(song).channels;
  }, 120_000);

  const section = [10, 18.5] as const;
  const keep = () => outside(SONG_S * RATE, [framesOf(section)], MARGIN);

  it('stores a master that is exactly the samples the MP3 was made from, at the same length', async () => {
    const master = masterOf(song);
    expect(master.sampleRate).toBe(RATE);
    expect(master.channels).toHaveLength(2);
    expect(master.channels[0]!.length).toBe(SONG_S * RATE);
    expect(probeAudio(song.mp3).durationS).toBe(SONG_S);
    // The MP3 is that master, encoded: aligned to the sample.
    const decoded = await decodeMp3(song.mp3);
    expect(lagByCrossCorrelation(master.channels[0]!, decoded.channels[0]!, [RATE, 3 * RATE], 512)).toBeCloseTo(0, 2);
  });

  const layouts: Array<[string, Omit<WavSpec, 'channels'>, number]> = [
    ['16-bit stereo', { bits: 16 }, 2],
    ['24-bit mono', { bits: 24 }, 1],
    ['32-bit float stereo (extensible)', { bits: 32, float: true, extensible: true }, 2],
    ['16-bit mono (extensible)', { bits: 16, extensible: true }, 1],
  ];
  for (const [name, spec, channels] of layouts) {
    it(`keeps a ${name} WAV source sample-for-sample outside the section, and its duration`, async () => {
      const wav = buildWav({ ...spec, sampleRate: RATE, channels: songPcm.slice(0, channels) });
      const source = decodeWav(wav);
      const track = await engine.replaceSection(request(wav, ...section), live());
      const out = masterOf(track);
      expect(out.channels).toHaveLength(channels);
      expect(out.channels[0]!.length).toBe(source.channels[0]!.length);
      expect(track.durationS).toBe(SONG_S);
      expect(probeAudio(track.mp3).durationS).toBe(SONG_S);
      expect(differingFrames(source.channels, out.channels, keep())).toBe(0);
      // And the section did change.
      expect(differingFrames(source.channels, out.channels, [framesOf([11, 17])])).toBeGreaterThan(5 * RATE);
    });
  }

  it("edits reprise's own track through its master: sample-for-sample equal outside the section (mode 1)", async () => {
    const track = await engine.replaceSection(request(song.master!, ...section), live());
    const out = masterOf(track);
    expect(out.channels[0]!.length).toBe(SONG_S * RATE);
    expect(probeAudio(track.mp3).durationS).toBe(SONG_S);
    expect(differingFrames(songPcm, out.channels, keep())).toBe(0);
    expect(differingFrames(songPcm, out.channels, [framesOf([11, 17])])).toBeGreaterThan(5 * RATE);
  });

  // 192 and 320 kbps sources keep their own frames outside the section; a 128 kbps one cannot
  // (the output must be at least 192 kbps), so it is re-encoded whole.
  for (const [sourceKbps, keepsFrames] of [
    [192, true],
    [320, true],
    [128, false],
  ] as const) {
    it(`an MP3 source (${sourceKbps} kbps) loses no more outside the section than a plain decode → encode round trip`, async () => {
      // (reprise never writes 128 kbps, but LAME does: hence the cast)
      const sourceMp3 = sourceKbps === 192 ? song.mp3 : await encodeMp3({ sampleRate: RATE, channels: songPcm }, { bitrate: sourceKbps as Mp3Bitrate });
      const source = await decodeMp3(sourceMp3);
      const track = await engine.replaceSection(request(sourceMp3, ...section), live());
      const bitrate = mp3BitrateAtLeast(sourceKbps);
      expect(readFrameHeader(track.mp3, 0)!.bitrateKbps).toBe(bitrate);
      expect(bitrate).toBeGreaterThanOrEqual(192);
      expect(probeAudio(track.mp3).durationS).toBe(SONG_S);
      const out = await decodeMp3(track.mp3);
      // The same encoder at the same bitrate, on the decoded source as it is.
      const roundTrip = await decodeMp3(await encodeMp3(source, { bitrate }));
      // Aligned already (gapless trimming), so "after alignment" is a check that the lag is 0.
      const lag = lagByCrossCorrelation(source.channels[0]!, out.channels[0]!, framesOf([22, 28]), 512);
      expect(Math.abs(lag)).toBeLessThan(0.1);
      const spans = keep();
      const edited = snrDb(source.channels, out.channels, spans);
      const plain = snrDb(source.channels, roundTrip.channels, spans);
      console.info(
        `MP3 ${sourceKbps} kbps source, ${bitrate} kbps out: SNR outside the section ${edited.toFixed(2)} dB, plain round trip ${plain.toFixed(2)} dB`,
      );
      expect(edited).toBeGreaterThanOrEqual(plain - 1);
      // Kept frames decode to the source's very samples: outside the section the SNR is unlimited.
      expect(differingFrames(source.channels, out.channels, spans) === 0).toBe(keepsFrames);
      // The new master holds the decoded source untouched outside the section: later edits of this track lose nothing more.
      expect(differingFrames(source.channels, masterOf(track).channels, spans)).toBe(0);
    });
  }

  it('gives byte-identical outputs for identical inputs (WAV, MP3 and master sources)', async () => {
    const wav = buildWav({ bits: 24, sampleRate: RATE, channels: songPcm });
    for (const bytes of [wav, song.mp3, song.master!]) {
      const a = await engine.replaceSection(request(bytes, 4, 9), live());
      const b = await engine.replaceSection(request(bytes, 4, 9), live());
      expect(sameBytes(a.mp3, b.mp3)).toBe(true);
      expect(sameBytes(masterBytes(a), masterBytes(b))).toBe(true);
      expect(sameBytes(a.cover, b.cover)).toBe(true);
    }
  });

  describe('a chain of 5 edits', () => {
    const edits: ReadonlyArray<readonly [number, number]> = [
      [2, 4],
      [7.5, 9.5],
      [13, 15],
      [18.5, 20.5],
      [24, 26],
    ];
    const untouched = () => outside(SONG_S * RATE, edits.map(framesOf), MARGIN);
    // Outside every edit and its margin, with room for the lag search on both sides.
    const probeSpan = framesOf([28, 29]);
    const MAX_LAG = 2048; // ±46 ms: wider than an untrimmed MP3 delay (1105 samples, 25 ms)
    const MS = RATE / 1000;

    it('decode → edit → encode → decode through MP3 drifts by less than 1 ms', async () => {
      const reference = (await decodeMp3(song.mp3)).channels[0]!;
      let bytes = song.mp3;
      const drifts: number[] = [];
      for (const [index, edit] of edits.entries()) {
        const track = await engine.replaceSection(request(bytes, ...edit, `chain-${index}`), live());
        expect(probeAudio(track.mp3).durationS).toBe(SONG_S);
        bytes = track.mp3;
        const decoded = (await decodeMp3(bytes)).channels[0]!;
        expect(decoded.length).toBe(SONG_S * RATE);
        drifts.push(lagByCrossCorrelation(reference, decoded, probeSpan, MAX_LAG));
      }
      console.info(`MP3 chain: drift after each edit ${drifts.map((d) => `${(d / MS).toFixed(3)} ms`).join(', ')}`);
      for (const drift of drifts) expect(Math.abs(drift)).toBeLessThan(MS);
      // Each edit kept the frames it did not touch: outside all five, the song is still the original's samples.
      expect(differingFrames([reference], [(await decodeMp3(bytes)).channels[0]!], untouched())).toBe(0);
    });

    it("through reprise's masters (mode 1) is lossless outside the edits and does not drift at all", async () => {
      let bytes = song.master!;
      let last: RenderedTrack | null = null;
      for (const [index, edit] of edits.entries()) {
        last = await engine.replaceSection(request(bytes, ...edit, `chain-${index}`), live());
        expect(last.durationS).toBe(SONG_S);
        bytes = last.master!;
      }
      const final = decodeWav(bytes).channels;
      expect(final[0]!.length).toBe(SONG_S * RATE);
      expect(differingFrames(songPcm, final, untouched())).toBe(0);
      const served = (await decodeMp3(last!.mp3)).channels[0]!;
      const drift = lagByCrossCorrelation(songPcm[0]!, served, probeSpan, MAX_LAG);
      console.info(`master chain: drift of the served MP3 after 5 edits ${(drift / MS).toFixed(3)} ms`);
      expect(Math.abs(drift)).toBeLessThan(0.1); // samples: the peak is at 0, the fraction is coding noise
    });
  });
});
