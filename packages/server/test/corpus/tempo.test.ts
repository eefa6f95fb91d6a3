import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { analyse } from '../../src/audio/analysis/index.js';
import { decodeMp3 } from '../../src/audio/codecs/mp3.js';
import { type CorpusTrack, corpusFile, corpusTracks, fromGrid, installedTracks, steadyWindowStarts, WINDOW_S } from './corpus.js';

/**
 * Tempo and beat phase on produced music, window by window (20 s, as a section's context is),
 * against the corpus's facts (tracks.json). Each window's reading is printed per track; the goals
 * are asserted over the whole corpus: tempo within 2 % on at least 95 % of the steady windows, and
 * on every window read at the right tempo, the beats' median distance from the grid within 20 ms.
 */

interface WindowReading {
  fromS: number;
  bpm: number | null;
  /** Median signed distance of the analysis's beats from the track's grid, when it has one. */
  phaseS: number | null;
}

const readings = new Map<string, WindowReading[]>();

async function readTrack(track: CorpusTrack): Promise<WindowReading[]> {
  const pcm = await decodeMp3(new Uint8Array(fs.readFileSync(corpusFile(track))));
  const periodS = 60 / track.tempo.bpm;
  return steadyWindowStarts(track).map((fromS) => {
    const { tempo } = analyse(pcm, { fromS, toS: fromS + WINDOW_S });
    const gridOffsetS = track.tempo.gridOffsetS;
    let phaseS: number | null = null;
    if (tempo && gridOffsetS !== undefined) {
      const distances = tempo.beats.map((t) => fromGrid(t, gridOffsetS, periodS)).sort((a, b) => a - b);
      phaseS = distances[Math.floor(distances.length / 2)] ?? null;
    }
    return { fromS, bpm: tempo?.bpm ?? null, phaseS };
  });
}

const within = (bpm: number | null, fact: number, tolerance = 0.02) => bpm !== null && Math.abs(bpm - fact) / fact <= tolerance;
const octaveOff = (bpm: number | null, fact: number) => !within(bpm, fact) && [0.5, 2, 2 / 3, 1.5].some((m) => within(bpm === null ? null : bpm * m, fact));

describe.skipIf(installedTracks.length === 0)('tempo and beat phase on the real-music corpus', () => {
  for (const track of installedTracks) {
    it(`reads ${track.id} (${track.title}, ${track.author}; ${track.tempo.bpm} BPM)`, async () => {
      const windows = await readTrack(track);
      readings.set(track.id, windows);
      expect(windows.length).toBeGreaterThan(0);
    });
  }

  afterAll(() => {
    const rows = installedTracks.flatMap((track) => {
      const windows = readings.get(track.id);
      if (!windows) return [];
      const onTempo = windows.filter((w) => within(w.bpm, track.tempo.bpm));
      const phased = onTempo.filter((w) => w.phaseS !== null);
      return [
        {
          track,
          windows: windows.length,
          onTempo: onTempo.length,
          octave: windows.filter((w) => octaveOff(w.bpm, track.tempo.bpm)).length,
          phased: phased.length,
          inPhase: phased.filter((w) => Math.abs(w.phaseS!) <= 0.02).length,
          medianPhaseMs: phased.length ? 1000 * phased.map((w) => w.phaseS!).sort((a, b) => a - b)[Math.floor(phased.length / 2)]! : null,
        },
      ];
    });
    console.log('corpus tempo: track | windows | tempo within 2 % | off by 2×, ½, 3:2 | beat phase within 20 ms | median phase');
    for (const r of rows) {
      console.log(
        `  ${r.track.id} | ${r.windows} | ${r.onTempo} | ${r.octave} | ${r.phased ? `${r.inPhase}/${r.phased}` : '–'} | ${r.medianPhaseMs === null ? '–' : `${r.medianPhaseMs.toFixed(1)} ms`}`,
      );
    }
    const sum = (key: 'windows' | 'onTempo' | 'phased' | 'inPhase') => rows.reduce((total, r) => total + r[key], 0);
    console.log(
      `  all: tempo within 2 % on ${sum('onTempo')}/${sum('windows')} windows (goal ≥ 95 %), phase within 20 ms on ${sum('inPhase')}/${sum('phased')} (goal: all)`,
    );
  });

  it.skipIf(installedTracks.length < corpusTracks.length)(
    'meets the goals on the whole corpus: tempo within 2 % on ≥ 95 % of windows, beat phase within 20 ms',
    async () => {
      for (const track of installedTracks) if (!readings.has(track.id)) readings.set(track.id, await readTrack(track));
      const all = installedTracks.flatMap((track) => readings.get(track.id)!.map((w) => ({ track, w })));
      const onTempo = all.filter(({ track, w }) => within(w.bpm, track.tempo.bpm));
      const phased = onTempo.filter(({ w }) => w.phaseS !== null);
      expect(onTempo.length / all.length).toBeGreaterThanOrEqual(0.95);
      expect(
        phased.filter(({ w }) => Math.abs(w.phaseS!) > 0.02).map(({ track, w }) => `${track.id} at ${w.fromS} s: ${(1000 * w.phaseS!).toFixed(1)} ms`),
      ).toEqual([]);
    },
  );
});
