import { describe, expect, it } from 'vitest';
import { analyse, analysisWindow } from '../../src/audio/analysis/index.js';
import { gridTimeline, renderFittedSection, smoothBeats } from '../../src/audio/synthesis/fit.js';
import { renderedSong, sameOrRelative } from './analysis/songs.js';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('grid timeline', () => {
  it('passes through the beats, interpolates between them and extends at the local period', () => {
    const timeline = gridTimeline([1, 1.5, 2, 2.6], 4);
    expect(timeline.timeOf(4)).toBe(1);
    expect(timeline.timeOf(5.5)).toBeCloseTo(1.75, 9);
    expect(timeline.timeOf(2)).toBeCloseTo(0, 9);
    expect(timeline.timeOf(9)).toBeCloseTo(3.8, 9);
    for (const beat of [0, 4.2, 6.7, 12]) expect(timeline.beatAt(timeline.timeOf(beat))).toBeCloseTo(beat, 9);
  });

  it('smooths jitter but keeps a steady grid as it is', () => {
    const steady = Array.from({ length: 20 }, (_, i) => 3 + i * 0.5);
    for (const [i, t] of smoothBeats(steady).entries()) expect(t).toBeCloseTo(steady[i]!, 9);
    const jittered = steady.map((t, i) => t + (i % 2 ? 0.006 : -0.006));
    const smoothed = smoothBeats(jittered);
    expect(Math.max(...smoothed.slice(4, -4).map((t, i) => Math.abs(t - steady[i + 4]!)))).toBeLessThan(0.003);
  });
});

describe('a section fitted to its song', () => {
  const cases = [
    { style: 'pop', bpm: 96, tonic: 'D', mode: 'minor', tags: 'folk' },
    { style: 'electronic', bpm: 140, tonic: 'A', mode: 'minor', tags: 'pop' },
    { style: 'folk', bpm: 76, tonic: 'F', mode: 'major', tags: 'pop' },
  ] as const;
  for (const c of cases) {
    it(`follows a ${c.style} song's tempo, key and beats (${c.bpm} BPM, ${c.tonic} ${c.mode}) in another style`, () => {
      const rate = 44_100;
      const song = renderedSong(c.style, c.bpm, c.tonic, c.mode, 60, rate);
      const startS = 25.3;
      const endS = 45.1;
      const source = analyse(song, analysisWindow(60, startS, endS, 20));
      const preRoll = Math.round(1 * rate);
      const section = renderFittedSection({
        seed: 'fit',
        texts: [c.tags],
        analysis: source,
        sampleRate: rate,
        channels: 2,
        from: Math.round(startS * rate),
        to: Math.round(endS * rate),
        preRoll,
        postRoll: preRoll,
      });
      expect(section.followed).toEqual({ tempo: true, key: true });
      expect(section.channels[0]!.length).toBe(Math.round(endS * rate) - Math.round(startS * rate) + 2 * preRoll);
      const own = analyse({ sampleRate: rate, channels: section.channels });
      expect(Math.abs(own.tempo!.bpm / source.tempo!.bpm - 1)).toBeLessThan(0.02);
      expect(Math.abs(own.tempo!.bpm / c.bpm - 1)).toBeLessThan(0.02);
      expect(sameOrRelative(own.key!, c.tonic, c.mode)).toBe(true);
      // Its beats, moved to song time, land on the song's beats.
      const period = 60 / c.bpm;
      const offsets = own.tempo!.beats.map((b) => {
        const t = b + section.startFrame / rate;
        return Math.abs(t - Math.round(t / period) * period);
      });
      expect(median(offsets)).toBeLessThan(0.025);
      // And the piece's bars start on the song's bars (the synthesiser's bars start at multiples of four beats).
      const firstLoopBar = section.timeline.timeOf(section.arrangement.sections[0]!.bars * 4);
      const bar = 4 * period;
      expect(Math.abs(firstLoopBar - Math.round(firstLoopBar / bar) * bar)).toBeLessThan(0.03);
      expect(Math.abs(firstLoopBar - startS)).toBeLessThanOrEqual(bar / 2 + 0.03);
    });
  }

  it('falls back to its own tempo and key when the analysis found none', () => {
    const rate = 16_000;
    const silence = { sampleRate: rate, channels: [new Float32Array(rate * 20)] };
    const section = renderFittedSection({
      seed: 's',
      texts: ['jazz'],
      analysis: analyse(silence),
      sampleRate: rate,
      channels: 1,
      from: rate * 5,
      to: rate * 10,
      preRoll: rate,
      postRoll: rate,
    });
    expect(section.followed).toEqual({ tempo: false, key: false });
    expect(section.channels[0]!.length).toBe(rate * 7);
    expect(section.channels[0]!.some((v) => v !== 0)).toBe(true);
  });

  it('is deterministic', () => {
    const rate = 16_000;
    const song = renderedSong('pop', 110, 'G', 'major', 30, rate, 1);
    const request = {
      seed: 'same',
      texts: ['funk'],
      analysis: analyse(song),
      sampleRate: rate,
      channels: 1,
      from: rate * 10,
      to: rate * 15,
      preRoll: 800,
      postRoll: 800,
    };
    const a = renderFittedSection(request).channels[0]!;
    const b = renderFittedSection(request).channels[0]!;
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });
});
