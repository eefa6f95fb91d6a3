import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TempoAnalysis } from '../../src/audio/analysis/index.js';
import { truePeakDbtp } from '../../src/audio/analysis/loudness.js';
import { DEFAULT_CEILING, limitTruePeak } from '../../src/audio/mixing/limiter.js';
import { bandEnergies, loudnessOfSpans, matchTilt, tiltMatchGain } from '../../src/audio/mixing/match.js';
import { correlation, fadeShapeFor, quietCrossfades, snapToBeats } from '../../src/audio/mixing/seams.js';
import { planSeams, splice } from '../../src/audio/mixing/splice.js';
import { tones } from './wav-fixtures.js';

const RATE = 8000;

/** A steady tempo reading: beats every 60/bpm s from `firstS`, downbeats every fourth from `barPhase`. */
function steady(bpm: number, firstS: number, count: number, confidence = 0.8, barPhase = 0): TempoAnalysis {
  const beats = Array.from({ length: count }, (_, i) => firstS + (i * 60) / bpm);
  return { bpm, confidence, beats, beatsPerBar: 4, barPhase, barConfidence: 0.5, downbeats: beats.filter((_, b) => b % 4 === barPhase) };
}
const rules = { minS: 6, maxS: 60, maxShareOfSong: 0.5 };

describe('snapToBeats', () => {
  const tempo = steady(120, 0, 240); // beats every 0.5 s, downbeats every 2 s
  it('moves each edge to the downbeat within a beat, else to the nearest beat', () => {
    const a = snapToBeats(10.3, 20.9, tempo, { durationS: 120, rules });
    expect(a).toMatchObject({ start: 'downbeat', end: 'beat' });
    expect(a.startS).toBeCloseTo(10, 9);
    expect(a.endS).toBeCloseTo(21, 9);
    const b = snapToBeats(9.8, 22.3, tempo, { durationS: 120, rules });
    expect(b).toMatchObject({ start: 'downbeat', end: 'downbeat' });
    expect(b.endS).toBeCloseTo(22, 9);
    // At 60 BPM a downbeat a beat away is a second away: too far; the nearest beat is taken instead.
    const slow = snapToBeats(10.7, 20.2, steady(60, 0, 120), { durationS: 120, rules });
    expect(slow).toMatchObject({ start: 'beat', end: 'downbeat' });
    expect(slow.startS).toBeCloseTo(11, 9);
    expect(slow.endS).toBeCloseTo(20, 9);
  });
  it('leaves the range as asked when the tempo is unsure, missing, or the range breaks the rules', () => {
    expect(snapToBeats(10.3, 20.9, { ...tempo, confidence: 0.1 }, { durationS: 120, rules })).toMatchObject({ startS: 10.3, endS: 20.9, start: 'asked' });
    expect(snapToBeats(10.3, 20.9, null, { durationS: 120, rules })).toMatchObject({ startS: 10.3, endS: 20.9 });
    expect(snapToBeats(10.3, 13.9, tempo, { durationS: 120, rules })).toMatchObject({ startS: 10.3, endS: 13.9 });
  });
  it('never moves an edge by more than half a second, and keeps the SPEC rules', () => {
    // Found by a CI run: 8.000000000141704 + 60 − 8.000000000141704 is a hair over 60 s, a
    // range that breaks the rules already, which the property below must not ask for.
    const startS = 8.000000000141704;
    expect(snapToBeats(startS, startS + 60, steady(60, 0.05, 130), { durationS: 130, rules })).toMatchObject({ start: 'asked', end: 'asked' });
    const cases = fc.record({
      bpm: fc.double({ min: 60, max: 200, noNaN: true }),
      startS: fc.double({ min: 0, max: 50, noNaN: true }),
      length: fc.double({ min: 6, max: 60, noNaN: true }),
    });
    fc.assert(
      fc.property(cases, ({ bpm, startS, length }) => {
        const durationS = 130;
        const endS = Math.min(durationS, startS + length);
        // A range that breaks the rules already is left alone (tested above); startS + length
        // can land a rounding error past 60 s, so the filter is on the range as computed.
        if (endS - startS < 6 || endS - startS > Math.min(60, 0.5 * durationS)) return true;
        const snapped = snapToBeats(startS, endS, steady(bpm, 0.05, Math.ceil((durationS * bpm) / 60)), { durationS, rules });
        const span = snapped.endS - snapped.startS;
        return (
          Math.abs(snapped.startS - startS) <= 0.5 + 1e-9 &&
          Math.abs(snapped.endS - endS) <= 0.5 + 1e-9 &&
          snapped.startS >= 0 &&
          snapped.endS <= durationS &&
          span >= 6 &&
          span <= Math.min(60, durationS / 2)
        );
      }),
    );
  });
});

describe('crossfade shape', () => {
  const [a] = tones(2, RATE, 1, 0.5);
  const [b] = tones(2, RATE, 1, 0.5).map((c, i) => c.map((_, n) => Math.sin(n * 0.37 + i) * 0.5));
  it('is linear for material that continues the old and equal-power for other music', () => {
    expect(correlation([a!], 0, [a!], 0, 4000)).toBeCloseTo(1, 6);
    expect(fadeShapeFor(correlation([a!], 0, [a!], 0, 4000))).toBe('linear');
    expect(Math.abs(correlation([a!], 0, [b!], 0, 4000))).toBeLessThan(0.2);
    expect(fadeShapeFor(correlation([a!], 0, [b!], 0, 4000))).toBe('equal-power');
  });
  it('keeps the level of correlated material with a linear fade (equal-power would bulge by 3 dB)', () => {
    const seams = (shape: 'linear' | 'equal-power') => planSeams(a!.length, 6000, 10_000, 4000, { in: shape, out: shape });
    const copy = (s: ReturnType<typeof seams>) => [a!.subarray(s.from, s.to)];
    const linear = splice([a!], copy(seams('linear')), seams('linear'))[0]!;
    for (let i = 2000; i < 6000; i += 37) expect(linear[i]).toBeCloseTo(a![i]!, 5);
    const bulged = splice([a!], copy(seams('equal-power')), seams('equal-power'))[0]!;
    expect(Math.max(...Array.from(bulged.subarray(3900, 4100), (v, i) => Math.abs(v / (a![3900 + i]! || 1))))).toBeGreaterThan(1.3);
  });
});

describe('quietCrossfades', () => {
  /** A soft tone with drum-like hits: bursts of a loud alternating signal, decaying within a few ms. */
  function withHits(seconds: number, hitsS: readonly number[]): Float32Array[] {
    const [tone] = tones(seconds, RATE, 1, 0.1);
    for (const t of hitsS) {
      const at = Math.round(t * RATE);
      for (let k = 0; k < 0.03 * RATE && at + k < tone!.length; k++) tone![at + k]! += 0.8 * Math.exp(-k / (0.002 * RATE)) * (k % 2 ? 1 : -1);
    }
    return [tone!];
  }
  const grid = (from: number, to: number, every: number, offset: number) =>
    Array.from({ length: Math.floor((to - from) / every) + 1 }, (_, k) => from + offset + k * every);
  const largestStep = (channels: readonly Float32Array[], from: number, to: number) => {
    let max = 0;
    for (const c of channels) for (let i = Math.max(1, from); i < Math.min(to, c.length); i++) max = Math.max(max, Math.abs(c[i]! - c[i - 1]!));
    return max;
  };

  it('lays the fade ends between the hits of both signals, never on the beat at the range edge', () => {
    // Range 4–7 s, its edges on beats. The old music hits on every beat (250 ms); the new one, on the same
    // grid, hits on every beat and 100 ms after it: between them, gaps of 100 and 150 ms.
    const [start, end, room] = [4 * RATE, 7 * RATE, 0.75 * RATE];
    const freshFrom = start - room;
    const source = withHits(10, grid(0, 9.9, 0.25, 0));
    const fresh = withHits(4.5, [...grid(0, 4.4, 0.25, 0), ...grid(0, 4.4, 0.25, 0.1)]);
    const lengths = { shortest: room / 2, longest: room };
    const fades = quietCrossfades(source, fresh, freshFrom, {
      sampleRate: RATE,
      start,
      end,
      roomIn: room,
      roomOut: room,
      lengthIn: lengths,
      lengthOut: lengths,
    });
    const [inFrom, inTo] = fades.in;
    const [outFrom, outTo] = fades.out;
    expect(inFrom).toBeGreaterThanOrEqual(start - room);
    expect(inTo).toBeLessThanOrEqual(start);
    expect(outFrom).toBeGreaterThanOrEqual(end);
    expect(outTo).toBeLessThanOrEqual(end + room);
    for (const [from, to] of [fades.in, fades.out]) {
      expect(to - from).toBeGreaterThanOrEqual(lengths.shortest);
      expect(to - from).toBeLessThanOrEqual(lengths.longest);
    }
    const toneStep = largestStep(tones(1, RATE, 1, 0.1), 0, RATE);
    const hitStep = largestStep(source, start - 10, start + 10);
    expect(hitStep).toBeGreaterThan(20 * toneStep);
    const window = Math.round(0.02 * RATE);
    for (const p of [inFrom, inTo, outFrom, outTo]) {
      // Near each end, either signal does no more than its soft tone: no hit is there.
      expect(largestStep(source, p - window, p + window), `source at ${p / RATE} s`).toBeLessThanOrEqual(2 * toneStep);
      const q = p - freshFrom;
      expect(largestStep(fresh, q - window, q + window), `new material at ${p / RATE} s`).toBeLessThanOrEqual(2 * toneStep);
    }
  });

  it('keeps every fade inside its room and within its lengths', () => {
    const cases = fc.record({
      roomIn: fc.integer({ min: 0, max: 3000 }),
      roomOut: fc.integer({ min: 0, max: 3000 }),
      shortShare: fc.double({ min: 0, max: 1, noNaN: true }),
      seed: fc.integer({ min: 1, max: 1000 }),
    });
    fc.assert(
      fc.property(cases, ({ roomIn, roomOut, shortShare, seed }) => {
        const [start, end] = [4000, 9000];
        const noise = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 * k + seed) * Math.sin(i * 0.013 * seed));
        const source = [noise(13_000, 1)];
        const fresh = [noise(end - start + roomIn + roomOut, 2)];
        const lengthOf = (room: number) => ({ shortest: Math.round(shortShare * room), longest: room });
        const fades = quietCrossfades(source, fresh, start - roomIn, {
          sampleRate: RATE,
          start,
          end,
          roomIn,
          roomOut,
          lengthIn: lengthOf(roomIn),
          lengthOut: lengthOf(roomOut),
        });
        const fits = ([from, to]: readonly [number, number], lo: number, hi: number, room: number) =>
          from >= lo && to <= hi && to - from <= room && to - from >= Math.min(lengthOf(room).shortest, room);
        return fits(fades.in, start - roomIn, start, roomIn) && fits(fades.out, end, end + roomOut, roomOut);
      }),
      { numRuns: 40 },
    );
  });
});

describe('limitTruePeak', () => {
  it('streams the same gain as the whole-range formula: held over ±lookahead, released, averaged', () => {
    // The limiter written out over whole arrays, one pass: what the streaming pass must equal.
    const onePass = (channels: Float32Array[], lookahead: number, decay: number): Float32Array[] => {
      const n = channels[0]!.length;
      const peaks = Float64Array.from({ length: n }, (_, i) => 10 ** (truePeakDbtp(channels, RATE, i, i + 1) / 20));
      const reduction = Array.from(peaks, (peak) => (peak > DEFAULT_CEILING ? 1 - (DEFAULT_CEILING / peak) * 0.9999 : 0));
      const held = reduction.map((_, i) => Math.max(...reduction.slice(Math.max(0, i - lookahead), i + lookahead + 1)));
      for (let i = 1; i < n; i++) held[i] = Math.max(held[i]!, held[i - 1]! * decay);
      const gains = held.map((_, i) => {
        const window = held.slice(Math.max(0, i - lookahead), Math.min(n, i + lookahead + 1));
        return 1 - window.reduce((a, b) => a + b, 0) / window.length;
      });
      return channels.map((c) => c.map((v, i) => v * gains[i]!));
    };
    const signals = fc.record({
      frames: fc.integer({ min: 100, max: 600 }),
      gain: fc.double({ min: 0.8, max: 1.6, noNaN: true }),
      seed: fc.integer({ min: 1, max: 100 }),
    });
    let compared = 0;
    fc.assert(
      fc.property(signals, ({ frames, gain, seed }) => {
        const channels = [0, 1].map((c) =>
          Float32Array.from({ length: frames }, (_, n) => gain * Math.sin(n * 0.07 * (1 + c) + seed) * Math.cos(n * 0.011 * seed)),
        );
        const expected = onePass(channels, 16, Math.exp(-1 / (0.06 * RATE)));
        const result = limitTruePeak(channels, { sampleRate: RATE });
        if (result.passes !== 1) return true;
        compared++;
        return channels.every((c, k) => c.every((v, i) => Math.abs(v - expected[k]![i]!) < 1e-5));
      }),
      { numRuns: 60 },
    );
    expect(compared).toBeGreaterThan(10);
  });

  it('holds any signal under the ceiling, touches nothing outside its range and nothing that is already under', () => {
    const signals = fc.record({
      frames: fc.integer({ min: 200, max: 3000 }),
      gain: fc.double({ min: 0.1, max: 8, noNaN: true }),
      seed: fc.integer({ min: 1, max: 1000 }),
    });
    fc.assert(
      fc.property(signals, ({ frames, gain, seed }) => {
        const channels = [0, 1].map((c) =>
          Float32Array.from({ length: frames }, (_, n) => gain * Math.sin(n * 0.05 * (1 + c) + seed) * Math.cos(n * 0.013 * seed)),
        );
        const before = channels.map((c) => Float32Array.from(c));
        const from = 50;
        const to = frames - 50;
        limitTruePeak(channels, { sampleRate: RATE, from, to });
        const untouched = channels.every((c, k) => c.every((v, n) => (n >= from && n < to) || v === before[k]![n]));
        const peak = truePeakDbtp(channels, RATE, from + 12, to - 12);
        return untouched && peak <= -1 + 0.01;
      }),
      // The example is one the passes alone left 0.01 dB over.
      { numRuns: 40, examples: [[{ frames: 2992, gain: 4.846743574005896, seed: 478 }]] },
    );
    const quiet = tones(1, RATE, 2, 0.3);
    const copy = quiet.map((c) => Float32Array.from(c));
    expect(limitTruePeak(quiet, { sampleRate: RATE })).toEqual({ maxReductionDb: 0, passes: 0 });
    expect(quiet).toEqual(copy);
  });

  it('catches peaks between samples, and follows a ceiling per frame', () => {
    // A tone at a quarter of the rate, phased so that every sample misses the crest: samples at 0.707, true peak 1.
    const [tone] = [Float32Array.from({ length: 4000 }, (_, n) => Math.sin((Math.PI / 2) * n + Math.PI / 4))];
    expect(Math.max(...tone!.map(Math.abs))).toBeLessThan(DEFAULT_CEILING);
    expect(truePeakDbtp([tone!], RATE)).toBeGreaterThan(-0.1);
    limitTruePeak([tone!], { sampleRate: RATE });
    expect(truePeakDbtp([tone!], RATE, 100, 3900)).toBeLessThanOrEqual(-1 + 0.01);
    const loud = [Float32Array.from({ length: 4000 }, (_, n) => 1.5 * Math.sin(n * 0.1))];
    limitTruePeak(loud, { sampleRate: RATE, ceiling: (n) => (n < 2000 ? 1.2 : 0.5) });
    expect(10 ** (truePeakDbtp(loud, RATE, 100, 1900) / 20)).toBeLessThanOrEqual(1.2 * 1.001);
    expect(10 ** (truePeakDbtp(loud, RATE, 2100, 3900) / 20)).toBeLessThanOrEqual(0.5 * 1.001);
  });
});

describe('matching the context', () => {
  it('measures several stretches as one programme', () => {
    const song = tones(20, RATE, 2, 0.3);
    const whole = loudnessOfSpans(song, RATE, [[0, 20 * RATE]]);
    const halves = loudnessOfSpans(song, RATE, [
      [0, 10 * RATE],
      [10 * RATE, 20 * RATE],
    ]);
    expect(Math.abs(whole - halves)).toBeLessThan(0.1);
    expect(loudnessOfSpans(song, RATE, [])).toBe(Number.NEGATIVE_INFINITY);
  });

  it("gives material the context's balance of low and high energy with a first-order shelf", () => {
    const noise = (seed: number) => {
      let state = seed;
      return Float32Array.from({ length: 4 * RATE }, () => {
        state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
        return state / 2_147_483_648 - 0.5;
      });
    };
    const context = [noise(1)];
    // Duller material: the same kind of noise, low-passed a little.
    const material = [noise(2)];
    for (let i = 1; i < material[0]!.length; i++) material[0]![i] = 0.3 * material[0]![i - 1]! + 0.7 * material[0]![i]!;
    const want = bandEnergies(context, RATE, [[0, 4 * RATE]]);
    expect(tiltMatchGain(want, bandEnergies(material, RATE, [[0, 4 * RATE]]))).toBeGreaterThan(1);
    expect(matchTilt(material, RATE, want, [0, 4 * RATE])).toBeGreaterThan(1);
    const got = bandEnergies(material, RATE, [[0, 4 * RATE]]);
    const tiltDb = (e: { low: number; high: number }) => 10 * Math.log10(e.high / e.low);
    console.info(`tilt: context ${tiltDb(want).toFixed(2)} dB, matched ${tiltDb(got).toFixed(2)} dB`);
    expect(Math.abs(tiltDb(got) - tiltDb(want))).toBeLessThan(1);
    expect(tiltMatchGain(want, { low: 1, high: 0 })).toBe(1);
  });
});
