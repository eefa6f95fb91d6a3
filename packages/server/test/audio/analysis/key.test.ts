import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/audio/analysis/index.js';
import { keyOfChroma } from '../../../src/audio/analysis/key.js';
import type { Mode } from '../../../src/audio/style.js';
import { renderedSong, sameOrRelative } from './songs.js';

describe('key', () => {
  it('reads a profile-shaped chroma as its key', () => {
    // The C major scale with the tonic triad stressed.
    const cMajor = [1, 0, 0.5, 0, 0.8, 0.5, 0, 0.9, 0, 0.5, 0, 0.4];
    expect(keyOfChroma(cMajor)).toMatchObject({ tonic: 'C', mode: 'major' });
    // A minor (harmonic: with the leading tone G♯), its tonic triad stressed.
    const minorShape = [1, 0, 0.5, 0.8, 0, 0.5, 0, 0.9, 0.5, 0, 0, 0.4];
    const aMinor = Array.from({ length: 12 }, (_, pc) => minorShape[(pc - 9 + 12) % 12]!);
    expect(keyOfChroma(aMinor)).toMatchObject({ tonic: 'A', mode: 'minor' });
    expect(keyOfChroma(new Array(12).fill(0))).toBeNull();
  });

  it('finds the key (or its relative) of rendered songs in ≥ 90 % of cases, major and minor', () => {
    const tonics = ['C', 'Db', 'D', 'Eb', 'E', 'F', 'Gb', 'G', 'Ab', 'A', 'Bb', 'B'];
    const misses: string[] = [];
    let cases = 0;
    let i = 0;
    for (const style of ['pop', 'rock', 'jazz', 'electronic', 'hiphop', 'folk', 'piano', 'ambient', 'classical']) {
      for (const mode of ['major', 'minor'] as Mode[]) {
        for (let n = 0; n < 2; n++) {
          const tonic = tonics[(i++ * 5) % 12]!;
          const key = analyse(renderedSong(style, undefined, tonic, mode, 30, 22_050, 1)).key!;
          cases++;
          if (!sameOrRelative(key, tonic, mode)) misses.push(`${style} ${tonic} ${mode} → ${key.tonic} ${key.mode}`);
        }
      }
    }
    expect(misses.length / cases, misses.join('; ')).toBeLessThanOrEqual(0.1);
  });

  it('is confident on a clear song and reports no key for silence', () => {
    const key = analyse(renderedSong('folk', 100, 'G', 'major', 20, 22_050, 1)).key!;
    expect(sameOrRelative(key, 'G', 'major')).toBe(true);
    expect(key.confidence).toBeGreaterThan(0.2);
    expect(analyse({ sampleRate: 22_050, channels: [new Float32Array(22_050 * 5)] }).key).toBeNull();
  });
});
