import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/audio/analysis/index.js';
import { chordRoots, keyOfChroma, PITCH_NAMES } from '../../../src/audio/analysis/key.js';
import { planArrangement } from '../../../src/audio/synthesis/arrangement.js';
import { GENRES } from '../../../src/audio/synthesis/genres.js';
import type { Mode } from '../../../src/audio/synthesis/style.js';
import { renderWindow } from '../../../src/audio/synthesis/synth.js';
import { renderedSong, sameOrRelative } from './songs.js';

const pc = (name: string) => PITCH_NAMES.indexOf(name as (typeof PITCH_NAMES)[number]);

/** A chroma vector from pitch-class weights, e.g. { C: 1, E: 0.5 }. */
function chromaOf(weights: Record<string, number>): number[] {
  const chroma = new Array<number>(12).fill(0);
  for (const [name, weight] of Object.entries(weights)) chroma[pc(name)] = weight;
  return chroma;
}

/** Chroma frames, `count` of each chord given as its tones (the root first carries the most). */
function frames(...chords: [tones: string[], count: number][]): Float32Array {
  const rows = chords.flatMap(([tones, count]) => Array.from({ length: count }, () => chromaOf(Object.fromEntries(tones.map((t, i) => [t, 1 - 0.2 * i])))));
  return Float32Array.from(rows.flat());
}

/** One key in every style of the genre table, major and minor, the tonics spread over all twelve. */
function everyStyle(): { style: string; tonic: string; mode: Mode }[] {
  return GENRES.flatMap((genre, i) => (['major', 'minor'] as const).map((mode, m) => ({ style: genre.name, tonic: PITCH_NAMES[(i * 7 + m * 5) % 12]!, mode })));
}

describe('key', () => {
  it('reads a profile-shaped chroma as its key', () => {
    // The C major scale with the tonic triad stressed.
    const cMajor = [1, 0, 0.5, 0, 0.8, 0.5, 0, 0.9, 0, 0.5, 0, 0.4];
    expect(keyOfChroma(cMajor)).toMatchObject({ tonic: 'C', mode: 'major' });
    // A minor (harmonic: with the leading tone G♯), its tonic triad stressed.
    const minorShape = [1, 0, 0.5, 0.8, 0, 0.5, 0, 0.9, 0.5, 0, 0, 0.4];
    const aMinor = Array.from({ length: 12 }, (_, pc) => minorShape[(pc - 9 + 12) % 12]!);
    expect(keyOfChroma(aMinor)).toMatchObject({ tonic: 'A', mode: 'minor' });
    // A natural minor (the subtonic G instead of the leading tone): still A minor, not G or C major's neighbour.
    expect(keyOfChroma(chromaOf({ A: 1, B: 0.4, C: 0.8, D: 0.5, E: 0.9, F: 0.5, G: 0.6 }))).toMatchObject({ tonic: 'A', mode: 'minor' });
    expect(keyOfChroma(new Array(12).fill(0))).toBeNull();
  });

  it('counts chord roots frame by frame, a held chord by its duration', () => {
    const roots = chordRoots(frames([['C', 'E', 'G'], 6], [['Bb', 'D', 'F'], 2], [['F', 'A', 'C'], 3], [['A', 'C', 'E'], 1]));
    expect(roots[pc('C')]).toBe(6);
    expect(roots[pc('F')]).toBe(3);
    expect(roots[pc('Bb')]).toBe(2);
    expect(roots[pc('A')]).toBe(1);
    expect(roots.reduce((s, n) => s + n, 0)).toBe(12);
    // A silent frame has no chord.
    expect(chordRoots(new Float32Array(24)).every((n) => n === 0)).toBe(true);
  });

  // Chroma (C first, normalised to its maximum) and chord-root counts (per cent of frames) measured on rendered songs.
  const MEASURED = {
    /** A blues in D major (D7, G7, A7; the dominant sevenths bring C natural): its notes are G major's. */
    bluesInD: {
      chroma: [0.35, 0.09, 1.0, 0.06, 0.14, 0.2, 0.43, 0.47, 0.09, 0.6, 0.1, 0.31],
      roots: [0, 0, 66, 0, 1, 0, 0, 32, 1, 0, 0, 0],
    },
    /** Funk in G minor (Gm7, C7, F7: dorian, with E natural): its notes are those of F major and D minor. */
    funkInGMinor: {
      chroma: [0.66, 0.25, 0.85, 0.28, 0.41, 0.62, 0.37, 1.0, 0.41, 0.91, 0.71, 0.55],
      roots: [16, 0, 25, 3, 1, 8, 0, 36, 0, 5, 4, 0],
    },
    /** Power-chord rock in A major (A5, D5, E5, G5): no thirds but the overtones' C♯, a little above C. */
    powerChordsInA: {
      chroma: [0.12, 0.17, 0.68, 0.14, 0.61, 0.11, 0.22, 0.34, 0.22, 1.0, 0.17, 0.41],
      roots: [0, 0, 32, 0, 12, 0, 0, 18, 0, 37, 0, 0],
    },
  };

  it('takes the tonic of modal music from the chord it returns to', () => {
    // The profiles alone read the key whose scale the music uses…
    expect(keyOfChroma(MEASURED.bluesInD.chroma)).toMatchObject({ tonic: 'G', mode: 'major' });
    expect(keyOfChroma(MEASURED.funkInGMinor.chroma)).toMatchObject({ tonic: 'D', mode: 'minor' });
    // …the chord roots say where home is.
    expect(keyOfChroma(MEASURED.bluesInD.chroma, MEASURED.bluesInD.roots)).toMatchObject({ tonic: 'D', mode: 'major' });
    expect(keyOfChroma(MEASURED.funkInGMinor.chroma, MEASURED.funkInGMinor.roots)).toMatchObject({ tonic: 'G', mode: 'minor' });
  });

  it('lets the third decide the mode', () => {
    const { chroma, roots } = MEASURED.powerChordsInA;
    expect(keyOfChroma(chroma, roots)).toMatchObject({ tonic: 'A', mode: 'major' });
    // The same with the two thirds swapped: A minor.
    const minorThird = [...chroma];
    [minorThird[pc('C')], minorThird[pc('Db')]] = [chroma[pc('Db')]!, chroma[pc('C')]!];
    expect(keyOfChroma(minorThird, roots)).toMatchObject({ tonic: 'A', mode: 'minor' });
  });

  it('finds the key (or its relative) of rendered songs of every style in ≥ 90 % of cases, major and minor', () => {
    const misses: string[] = [];
    const cases = everyStyle();
    for (const { style, tonic, mode } of cases) {
      const key = analyse(renderedSong(style, undefined, tonic, mode, 30, 22_050, 1)).key!;
      if (!sameOrRelative(key, tonic, mode)) misses.push(`${style} ${tonic} ${mode} → ${key.tonic} ${key.mode}`);
    }
    console.info(
      `songs: ${cases.length - misses.length} of ${cases.length} in their key or its relative${misses.length ? ` (not: ${misses.join('; ')})` : ''}`,
    );
    expect(misses.length / cases.length, misses.join('; ')).toBeLessThanOrEqual(0.1);
  });

  it('finds the key of a section rendered in a given key (as a replaced section is) in ≥ 90 % of cases, every style', () => {
    const rate = 22_050;
    const misses: string[] = [];
    const cases = everyStyle();
    for (const { style, tonic, mode } of cases) {
      const plan = planArrangement({ seed: `key-section:${style}:${tonic}:${mode}`, texts: [style], form: 'section', durationS: 12, fixed: { tonic, mode } });
      const channels = renderWindow(plan, { sampleRate: rate, channels: 1, startFrame: 0, frames: 12 * rate });
      const key = analyse({ sampleRate: rate, channels }).key!;
      if (!sameOrRelative(key, tonic, mode)) misses.push(`${style} ${tonic} ${mode} → ${key.tonic} ${key.mode}`);
    }
    console.info(
      `sections: ${cases.length - misses.length} of ${cases.length} in their key or its relative${misses.length ? ` (not: ${misses.join('; ')})` : ''}`,
    );
    expect(misses.length / cases.length, misses.join('; ')).toBeLessThanOrEqual(0.1);
  });

  it('is confident on a clear song and reports no key for silence', () => {
    const key = analyse(renderedSong('folk', 100, 'G', 'major', 20, 22_050, 1)).key!;
    expect(sameOrRelative(key, 'G', 'major')).toBe(true);
    expect(key.confidence).toBeGreaterThan(0.2);
    expect(analyse({ sampleRate: 22_050, channels: [new Float32Array(22_050 * 5)] }).key).toBeNull();
  });
});
