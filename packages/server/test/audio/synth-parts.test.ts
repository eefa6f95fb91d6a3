import { describe, expect, it } from 'vitest';
import { energy, sdr, sumOf } from '../../src/audio/separation/quality.js';
import { planArrangement } from '../../src/audio/synthesis/arrangement.js';
import { arrangementParts, finishSong, mixParts, renderSong, renderWindow, type SynthPart, softClipChannels } from '../../src/audio/synthesis/synth.js';

/**
 * The synthesiser's parts rendered apart, for exact stems: each part alone is what it plays in
 * the whole mix, so the parts add up to the mix, and the whole-mix renders are unchanged by it.
 */

const RATE = 22_050;
const SECONDS = 24;
const same = (a: readonly Float32Array[], b: readonly Float32Array[]) =>
  a.length === b.length &&
  a.every((c, i) => Buffer.from(c.buffer, c.byteOffset, c.byteLength).equals(Buffer.from(b[i]!.buffer, b[i]!.byteOffset, b[i]!.byteLength)));
const window = { sampleRate: RATE, startFrame: 0, frames: RATE * SECONDS };

describe('parts of an arrangement', () => {
  // Latin plays two harmony parts, a bass, a lead and drums with the rim click: every role.
  const plan = planArrangement({ seed: 'parts', texts: ['latin'], form: 'song', durationS: SECONDS });
  const parts = arrangementParts(plan);

  it('lists every part the style calls for', () => {
    expect(parts).toContain('drums:perc');
    expect(parts.some((part) => part.startsWith('bass:'))).toBe(true);
    expect(parts.some((part) => part.startsWith('lead:'))).toBe(true);
    expect(parts.filter((part) => part.startsWith('harmony:')).length).toBeGreaterThanOrEqual(2);
  });

  it('sum, rendered one at a time, to the whole raw mix', () => {
    const whole = mixParts(plan, window, () => true);
    const alone = parts.map((part) => mixParts(plan, window, (p) => p === part));
    // Only the order of the additions differs: float rounding, far under any audible level.
    expect(sdr(whole, sumOf(alone))).toBeGreaterThan(100);
    // Each part plays where its sections' energy lets it: in a short song the lead may wait for a chorus that never comes.
    expect(alone.filter((channels) => energy(channels) > 0).length).toBeGreaterThanOrEqual(parts.length - 1);
    // A part the style does not have renders nothing.
    expect(energy(mixParts(plan, window, (part: SynthPart) => part === 'harmony:organ'))).toBe(0);
  });

  it('leaves the whole-mix renders as they were: renderSong and renderWindow are the raw mix through their own stages', () => {
    const song = mixParts(plan, window, () => true);
    finishSong(song, RATE, SECONDS);
    expect(same(song, renderSong(plan, RATE, 2, SECONDS))).toBe(true);
    const stretch = { sampleRate: RATE, startFrame: 12_345, frames: RATE * 5 };
    const clipped = mixParts(plan, stretch, () => true);
    softClipChannels(clipped);
    expect(same(clipped, renderWindow(plan, { ...stretch, channels: 2 }))).toBe(true);
  });
});
