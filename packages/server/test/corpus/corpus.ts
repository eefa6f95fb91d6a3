import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The real-music corpus (tracks.json): produced songs fetched into a cache by
 * `packages/server/scripts/corpus.mjs fetch`, with the facts established on them. Tests that need
 * it skip, with a notice, where it is not installed.
 */
export interface CorpusTrack {
  id: string;
  package: string;
  path: string;
  sha256: string;
  durationS: number;
  title: string;
  author: string;
  licence: string;
  tempo: {
    /** The track's tempo: the beat line an independent tracker's beats fit best (aubio). */
    bpm: number;
    /** Where the beat grid lies (a beat at this time, and every 60/bpm s from it), when established. */
    gridOffsetS?: number;
    /** One digit per 20 s window from 0 s: 1 where at least 80 % of aubio's beats lie on the line. */
    steadyWindows: string;
  };
}

const facts = JSON.parse(fs.readFileSync(new URL('./tracks.json', import.meta.url), 'utf8')) as { tracks: CorpusTrack[] };

export const CORPUS_DIR = process.env.REPRISE_CORPUS_DIR || path.join(os.homedir(), '.cache', 'reprise-corpus');
export const WINDOW_S = 20;

export const corpusFile = (track: CorpusTrack): string => path.join(CORPUS_DIR, `${track.id}.mp3`);
export const corpusTracks: readonly CorpusTrack[] = facts.tracks;
export const installedTracks: readonly CorpusTrack[] = corpusTracks.filter((track) => fs.existsSync(corpusFile(track)));

if (installedTracks.length < corpusTracks.length) {
  console.warn(
    `NOTICE: ${corpusTracks.length - installedTracks.length} of ${corpusTracks.length} corpus tracks are not installed in ${CORPUS_DIR}: ` +
      'their tests are SKIPPED (run "node packages/server/scripts/corpus.mjs fetch" to install them)',
  );
}

/** The start (s) of every steady 20 s window of a track. */
export const steadyWindowStarts = (track: CorpusTrack): number[] =>
  [...track.tempo.steadyWindows].flatMap((digit, index) => (digit === '1' ? [index * WINDOW_S] : []));

/** Signed distance (s) of `t` from the nearest beat of a grid with a beat at `offsetS` every `periodS`. */
export function fromGrid(t: number, offsetS: number, periodS: number): number {
  const phase = (((t - offsetS) % periodS) + periodS) % periodS;
  return phase > periodS / 2 ? phase - periodS : phase;
}
