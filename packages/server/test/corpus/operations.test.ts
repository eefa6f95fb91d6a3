import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyse, measureLoudness } from '../../src/audio/analysis/index.js';
import { decodeMp3, encodeMp3 } from '../../src/audio/codecs/mp3.js';
import { decodeWav } from '../../src/audio/codecs/wav.js';
import type { Pcm } from '../../src/audio/pcm.js';
import { createEngine } from '../../src/engine/index.js';
import { coverTake } from '../../src/engine/procedural/cover.js';
import type { CoverInput, SourceAudio } from '../../src/engine/types.js';
import { masterBytes } from '../helpers/audio.js';
import { type CorpusTrack, corpusFile, fromGrid, installedTracks } from './corpus.js';

/**
 * replace-section, extend and cover on produced songs (a 60 s excerpt of each corpus track with a
 * grid fact, cut where its beat is steady): the new material on the song's grid across both
 * seams (tempo within 2 %, beats within 20 ms of the grid), at the loudness the engine matched
 * it to within 1.5 LU, and no click where old and new meet.
 */

const RATE = 44_100;
const EXCERPT_S = 60;
const engine = createEngine('procedural');
const live = () => new AbortController().signal;
const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface Grid {
  bpm: number;
  /** A beat of the excerpt's grid (s from the excerpt's start). */
  offsetS: number;
}

/** Tempo and the beats' median distance from the grid, read by the analysis over [fromS, toS). */
function onGrid(pcm: Pcm, fromS: number, toS: number, grid: Grid): { bpm: number; phaseMs: number } | null {
  const { tempo } = analyse(pcm, { fromS, toS });
  if (!tempo) return null;
  const periodS = 60 / grid.bpm;
  return { bpm: tempo.bpm, phaseMs: 1000 * median(tempo.beats.map((t) => fromGrid(t, grid.offsetS, periodS))) };
}

function expectOnGrid(reading: { bpm: number; phaseMs: number } | null, grid: Grid, where: string): void {
  expect(reading, `${where}: no tempo read`).not.toBeNull();
  expect(Math.abs(reading!.bpm - grid.bpm) / grid.bpm, `${where}: ${reading!.bpm.toFixed(1)} BPM against ${grid.bpm}`).toBeLessThanOrEqual(0.02);
  expect(Math.abs(reading!.phaseMs), `${where}: beats ${reading!.phaseMs.toFixed(1)} ms from the grid`).toBeLessThanOrEqual(20);
}

const frame = (s: number) => Math.round(s * RATE);

/** Integrated loudness of the spans laid end to end (LUFS). */
function loudnessOf(pcm: Pcm, spans: readonly (readonly [number, number])[]): number {
  const channels = pcm.channels.map((channel) => {
    const parts = spans.map(([from, to]) => channel.subarray(frame(from), frame(to)));
    const joined = new Float32Array(parts.reduce((n, part) => n + part.length, 0));
    let at = 0;
    for (const part of parts) {
      joined.set(part, at);
      at += part.length;
    }
    return joined;
  });
  return measureLoudness(channels, RATE).integratedLufs;
}

/** Largest second difference of any channel over [fromS, toS): what a click raises. */
function sharpest(pcm: Pcm, fromS: number, toS: number): number {
  let max = 0;
  for (const c of pcm.channels) for (let i = Math.max(2, frame(fromS)); i < frame(toS); i++) max = Math.max(max, Math.abs(c[i]! - 2 * c[i - 1]! + c[i - 2]!));
  return max;
}

/** The sharpest change within 0.8 s of a seam, against the sharpest of the music 1–5 s either side (1: no sharper than the song itself). */
const clickRatio = (pcm: Pcm, seamS: number) =>
  sharpest(pcm, seamS - 0.8, seamS + 0.8) / Math.max(sharpest(pcm, seamS - 5, seamS - 1), sharpest(pcm, seamS + 1, seamS + 5));

const figures: string[] = [];
const withGrid = installedTracks.filter((track) => track.tempo.gridOffsetS !== undefined);

describe.skipIf(withGrid.length === 0)('engine operations on the real-music corpus', () => {
  for (const track of withGrid) {
    describe(`${track.id} (${track.title}, ${track.tempo.bpm} BPM)`, () => {
      let excerpt: Pcm;
      let source: SourceAudio;
      let grid: Grid;

      beforeAll(async () => {
        ({ excerpt, source, grid } = await excerptOf(track));
      });

      it('replace-section: the new section on the grid across both seams, at the context’s loudness, no click', async () => {
        const track0 = await engine.replaceSection(
          { source, startS: 20, endS: 40, prompt: 'a new part', tags: 'electronic', negativeTags: '', title: 'Corpus', seed: 'corpus' },
          live(),
        );
        const out = decodeWav(masterBytes(track0));
        const { startS, endS } = track0.appliedRange!;
        expectOnGrid(onGrid(out, startS - 8, startS + 8, grid), grid, 'first seam');
        expectOnGrid(onGrid(out, endS - 8, endS + 8, grid), grid, 'second seam');
        expectOnGrid(onGrid(out, startS, endS, grid), grid, 'section');
        // The engine matches the section to 5 s of the song on each side.
        const delta =
          loudnessOf(out, [[startS, endS]]) -
          loudnessOf(out, [
            [startS - 5, startS],
            [endS, endS + 5],
          ]);
        expect(Math.abs(delta)).toBeLessThanOrEqual(1.5);
        const clicks = [clickRatio(out, startS), clickRatio(out, endS)];
        for (const ratio of clicks) expect(ratio).toBeLessThanOrEqual(1.1);
        figures.push(`${track.id} replace: ${delta.toFixed(2)} LU, seams ${clicks.map((r) => r.toFixed(2)).join('/')} × the song's sharpest`);
        expect(excerpt.channels[0]!.length).toBe(frame(EXCERPT_S));
      });

      it('extend: the continuation on the grid from the join, at the loudness before it, no click', async () => {
        const [first] = await engine.extend!(
          { source, continueAtS: 40, addS: 20, prompt: '', style: 'electronic', title: 'Corpus', negativeTags: '', instrumental: true, seed: 'corpus' },
          live(),
          async () => {},
        );
        const out = decodeWav(masterBytes(first!));
        expectOnGrid(onGrid(out, 32, 48, grid), grid, 'join');
        expectOnGrid(onGrid(out, 40, 56, grid), grid, 'continuation');
        // Matched to the 6 s before the join; its last quarter fades out.
        const delta = loudnessOf(out, [[40, 55]]) - loudnessOf(out, [[34, 40]]);
        expect(Math.abs(delta)).toBeLessThanOrEqual(1.5);
        expect(clickRatio(out, 40)).toBeLessThanOrEqual(1.1);
        figures.push(`${track.id} extend: ${delta.toFixed(2)} LU, join ${clickRatio(out, 40).toFixed(2)} ×`);
      });

      it('cover: the takes played on the song’s beats (exactly, from the plan) and heard there (measured, a rock take)', async () => {
        const input: CoverInput = { source, prompt: '', style: 'rock', title: 'Corpus', negativeTags: '', instrumental: true, seed: 'corpus' };
        const { window } = await coverTake(input, 0);
        const timeline = window.timeline;
        if (!timeline) throw new Error('a cover plays on the upload’s beats: its window has a timeline');
        const beats = Array.from({ length: 400 }, (_, k) => timeline.timeOf(k)).filter((t) => t >= 0 && t < EXCERPT_S);
        const spacing = median(beats.slice(1).map((t, k) => t - beats[k]!));
        expect(Math.abs(60 / spacing - grid.bpm) / grid.bpm).toBeLessThanOrEqual(0.02);
        const planPhaseMs = 1000 * median(beats.map((t) => fromGrid(t, grid.offsetS, 60 / grid.bpm)));
        expect(Math.abs(planPhaseMs)).toBeLessThanOrEqual(20);
        const [take] = await engine.cover!(input, live(), async () => {});
        const heard = onGrid(decodeWav(masterBytes(take!)), 5, 55, grid);
        expectOnGrid(heard, grid, 'cover');
        figures.push(`${track.id} cover: plan ${planPhaseMs.toFixed(1)} ms, heard ${heard!.phaseMs.toFixed(1)} ms from the grid`);
      });
    });
  }

  afterAll(() => {
    if (figures.length) console.log(`corpus operations:\n  ${figures.join('\n  ')}`);
  });
});

/** 60 s of the track from its first run of three steady windows, as an MP3 upload, and its grid in the excerpt's time. */
async function excerptOf(track: CorpusTrack): Promise<{ excerpt: Pcm; source: SourceAudio; grid: Grid }> {
  const full = await decodeMp3(new Uint8Array(fs.readFileSync(corpusFile(track))));
  const run = track.tempo.steadyWindows.indexOf('111');
  const startS = 20 * Math.max(0, run);
  const excerpt: Pcm = { sampleRate: RATE, channels: full.channels.map((c) => c.slice(frame(startS), frame(startS + EXCERPT_S))) };
  const bytes = await encodeMp3(excerpt);
  return { excerpt, source: { bytes, name: `${track.id}.mp3` }, grid: { bpm: track.tempo.bpm, offsetS: track.tempo.gridOffsetS! - startS } };
}
