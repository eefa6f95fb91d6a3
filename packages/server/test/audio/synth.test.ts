import { describe, expect, it } from 'vitest';
import { rms } from '../../src/audio/mixing/splice.js';
import { barSeconds, describeArrangement, planArrangement } from '../../src/audio/synthesis/arrangement.js';
import { chooseStyle } from '../../src/audio/synthesis/style.js';
import { renderSong, renderWindow } from '../../src/audio/synthesis/synth.js';

const same = (a: Float32Array[], b: Float32Array[]) =>
  a.length === b.length &&
  a.every((c, i) => Buffer.from(c.buffer, c.byteOffset, c.byteLength).equals(Buffer.from(b[i]!.buffer, b[i]!.byteOffset, b[i]!.byteLength)));

describe('style', () => {
  it('follows the words, the tags first, and honours vetoes', () => {
    expect(chooseStyle(['jazz, smooth']).style.name).toBe('jazz');
    expect(chooseStyle(['Hard Rock']).style.name).toBe('rock');
    expect(chooseStyle(['piano'], 'piano').style.harmony.map((p) => p.voice)).not.toContain('piano');
    expect(chooseStyle(['rock', 'jazz']).style.name).toBe('rock');
    expect(chooseStyle(['', 'a jazz tune with soul']).style.name).toBe('jazz');
    expect(chooseStyle(['', 'nothing to see']).style.name).toBe('pop');
    expect(chooseStyle(['rock'], 'drums').style.drums).toBeNull();
    expect(chooseStyle(['sad pop']).mode).toBe('minor');
    expect(chooseStyle(['slow pop']).intensity).toBeLessThan(chooseStyle(['pop']).intensity);
  });
});

describe('arrangement', () => {
  it('fills the song with sections and describes itself', () => {
    const plan = planArrangement({ seed: 's', texts: ['jazz'], form: 'song', durationS: 120 });
    const bars = plan.sections.reduce((n, s) => n + s.bars, 0);
    expect(bars * barSeconds(plan)).toBeGreaterThanOrEqual(120);
    expect((bars - 1) * barSeconds(plan)).toBeLessThan(120);
    expect(plan.sections.every((s) => s.bars >= 2)).toBe(true);
    expect(plan.sections[0]!.name).toBe('intro');
    const sheet = describeArrangement(plan, 'Title');
    expect(sheet).toContain(`${plan.bpm} BPM`);
    expect(sheet).toContain(`${plan.tonic} ${plan.mode}`);
    expect(sheet).toMatch(/chorus \d+ bars \[/);
  });

  it('depends only on the seed and words', () => {
    const request = { seed: 'abc', texts: ['rock'], form: 'song', durationS: 60 } as const;
    expect(planArrangement(request)).toEqual(planArrangement(request));
    const others = ['a', 'b', 'c', 'd', 'e'].map((seed) => planArrangement({ ...request, seed }));
    expect(new Set(others.map((p) => `${p.bpm} ${p.tonic} ${p.mode}`)).size).toBeGreaterThan(1);
  });
});

describe('synth', () => {
  const plan = planArrangement({ seed: 'synth', texts: ['jazz piano'], form: 'song', durationS: 20 });

  it('renders the same samples for the same plan, different ones for another seed', () => {
    const a = renderSong(plan, 22_050, 2, 5);
    const b = renderSong(plan, 22_050, 2, 5);
    expect(same(a, b)).toBe(true);
    const other = renderSong(planArrangement({ seed: 'other', texts: ['jazz piano'], form: 'song', durationS: 20 }), 22_050, 2, 5);
    expect(same(a, other)).toBe(false);
  });

  it('renders a window exactly like the same stretch of the whole', () => {
    const whole = renderWindow(plan, { sampleRate: 16_000, channels: 2, startFrame: 0, frames: 16_000 * 12 });
    const part = renderWindow(plan, { sampleRate: 16_000, channels: 2, startFrame: 16_000 * 7 + 123, frames: 16_000 * 3 });
    expect(
      same(
        part,
        whole.map((c) => c.subarray(16_000 * 7 + 123, 16_000 * 10 + 123)),
      ),
    ).toBe(true);
  });

  it('renders mono and stereo at any rate, exactly as long as asked, at a sane level', () => {
    const mono = renderSong(plan, 48_000, 1, 2.5);
    expect(mono).toHaveLength(1);
    expect(mono[0]!.length).toBe(120_000);
    const level = rms(mono);
    expect(level).toBeGreaterThan(0.05);
    expect(level).toBeLessThan(0.4);
    expect(mono[0]!.every((v) => Math.abs(v) <= 1)).toBe(true);
  });

  it('renders 60 s of stereo 44.1 kHz in every genre, with sound in every section and no clipping', () => {
    for (const tags of ['rock', 'jazz', 'electronic']) {
      const song = planArrangement({ seed: 'speed', texts: [tags], form: 'song', durationS: 60 });
      const [left, right] = renderSong(song, 44_100, 2, 60);
      expect(left!.length).toBe(60 * 44_100);
      expect(right!.length).toBe(60 * 44_100);
      let bar = 0;
      for (const section of song.sections) {
        const from = Math.round(bar * barSeconds(song) * 44_100);
        bar += section.bars;
        const to = Math.min(left!.length, Math.round(bar * barSeconds(song) * 44_100));
        if (to > from) expect(rms([left!], from, to), `${tags} ${section.name}`).toBeGreaterThan(0.01);
      }
      expect(left!.every((v) => Math.abs(v) <= 1)).toBe(true);
    }
  });
});
