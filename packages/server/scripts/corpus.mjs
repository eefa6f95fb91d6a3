#!/usr/bin/env node
// The real-music corpus: produced songs from freely licensed Debian packages (game soundtracks),
// which the analysis tests measure reprise against. Nothing of it is in the repository: this
// script fetches the packages, checks each source file against the checksum the facts were
// established on, and converts it to what a user uploads (a 44.1 kHz stereo MP3 at 192 kbps).
//
//   node packages/server/scripts/corpus.mjs fetch    install the corpus into the cache (idempotent)
//   node packages/server/scripts/corpus.mjs facts    re-establish the tempo facts (needs aubio-tools)
//
// The cache is REPRISE_CORPUS_DIR, default ~/.cache/reprise-corpus. Needs apt-get, dpkg-deb and ffmpeg.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const factsFile = path.join(here, '../test/corpus/tracks.json');
const corpus = JSON.parse(fs.readFileSync(factsFile, 'utf8'));
export const corpusDir = process.env.REPRISE_CORPUS_DIR || path.join(os.homedir(), '.cache', 'reprise-corpus');

const sha256 = (file) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const trackFile = (track) => path.join(corpusDir, `${track.id}.mp3`);

const convert = (source, target) =>
  new Promise((resolve, reject) => {
    const args = ['-nostdin', '-y', '-loglevel', 'error', '-i', source, '-ar', '44100', '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '192k', target];
    execFile('ffmpeg', args, (error) => (error ? reject(error) : resolve()));
  });

async function fetchCorpus() {
  fs.mkdirSync(corpusDir, { recursive: true });
  const missing = corpus.tracks.filter((track) => !fs.existsSync(trackFile(track)));
  if (missing.length === 0) {
    console.log(`corpus: all ${corpus.tracks.length} tracks are in ${corpusDir}`);
    return 0;
  }
  let failed = 0;
  for (const pkg of [...new Set(missing.map((track) => track.package))]) {
    const work = fs.mkdtempSync(path.join(corpusDir, 'work-'));
    fs.chmodSync(work, 0o777); // apt-get download hands the fetch to its own user where it can
    try {
      // apt-get download needs no root; it fetches the .deb of the version apt knows.
      execFileSync('apt-get', ['download', pkg], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
      const deb = fs.readdirSync(work).find((name) => name.endsWith('.deb'));
      if (!deb) throw new Error(`apt-get download ${pkg} left no .deb`);
      const root = path.join(work, 'root');
      execFileSync('dpkg-deb', ['-x', path.join(work, deb), root]);
      const wanted = missing.filter((t) => t.package === pkg);
      const usable = wanted.filter((track) => {
        const source = path.join(root, track.path);
        if (fs.existsSync(source) && sha256(source) === track.sha256) return true;
        // Another version of the file: the facts were established on a different recording.
        console.warn(`corpus: ${track.id}: ${track.path} in ${deb} is not the file the facts describe; skipped`);
        failed++;
        return false;
      });
      // One conversion per core at a time.
      const queue = [...usable];
      const convertNext = async () => {
        for (let track = queue.shift(); track; track = queue.shift()) {
          const partial = `${trackFile(track)}.partial.mp3`;
          await convert(path.join(root, track.path), partial);
          fs.renameSync(partial, trackFile(track));
          console.log(`corpus: ${track.id} (${track.title}, ${track.author})`);
        }
      };
      await Promise.all(Array.from({ length: os.availableParallelism() }, convertNext));
    } catch (error) {
      console.warn(`corpus: ${pkg} could not be installed: ${error instanceof Error ? error.message : String(error)}`);
      failed += missing.filter((t) => t.package === pkg).length;
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  return failed === 0 ? 0 : 1;
}

/**
 * The beat line of a track: the period T and offset t0 for which aubio's beats (an independent
 * beat tracker) line up best, searched finely around their median spacing. The strength is the
 * length of the mean of e^(2πi·t/T) over the beats (1: every beat on one grid).
 */
export function beatLine(beats) {
  const gaps = beats
    .slice(1)
    .map((t, i) => t - beats[i])
    .sort((a, b) => a - b);
  const guess = gaps[Math.floor(gaps.length / 2)];
  let best = { strength: 0, period: guess, offset: 0 };
  // A 4 µs step drifts less than 4 ms over the 1,000 beats of a long track.
  for (let period = guess * 0.96; period < guess * 1.04; period += 4e-6) {
    let re = 0;
    let im = 0;
    for (const t of beats) {
      const angle = (2 * Math.PI * t) / period;
      re += Math.cos(angle);
      im += Math.sin(angle);
    }
    const strength = Math.hypot(re, im) / beats.length;
    if (strength > best.strength) best = { strength, period, offset: (((Math.atan2(im, re) / (2 * Math.PI)) % 1) + 1) % 1 * period };
  }
  return best;
}

/** Distance of `t` from the nearest line beat, signed, in seconds. */
const fromLine = (t, { period, offset }) => ((((t - offset) % period) + period * 1.5) % period) - period / 2;

/**
 * Where the beats' attacks lie, measured on the audio itself: the rise of a 1 ms energy envelope
 * (of the first difference, which favours attacks), folded at the beat period over the whole
 * track into 1 ms bins. Returns the strongest bin within 40 ms of `nearS` (the tracker's line:
 * which of the bar's attacks are the beats is the tracker's call; where in time they are is the
 * audio's) and how far it stands above the profile's mean.
 */
function foldedAttack(file, periodS, nearS) {
  const raw = execFileSync('ffmpeg', ['-loglevel', 'quiet', '-i', file, '-ac', '1', '-ar', '44100', '-f', 'f32le', '-'], { maxBuffer: 1 << 29 });
  const x = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const frame = 44; // ~1 ms at 44.1 kHz
  const bins = Math.round(periodS * 1000); // 1 ms bins
  const profile = new Float64Array(bins);
  let previous = 0;
  for (let f = 1; f * frame + frame < x.length; f++) {
    let energy = 0;
    for (let i = f * frame; i < f * frame + frame; i++) energy += (x[i] - x[i - 1]) ** 2;
    const level = Math.log(Math.sqrt(energy / frame) + 1e-6);
    const rise = Math.max(0, level - previous);
    previous = level;
    const t = (f * frame) / 44100;
    profile[Math.floor(((t % periodS) / periodS) * bins) % bins] += rise;
  }
  const mean = profile.reduce((a, b) => a + b, 0) / bins;
  let best = null;
  for (let b = 0; b < bins; b++) {
    const at = (b / bins) * periodS;
    if (Math.abs(fromLine(at, { period: periodS, offset: nearS })) > 0.04) continue;
    if (!best || profile[b] > profile[best.bin]) best = { bin: b, at };
  }
  const offsetS = best.at > periodS / 2 ? best.at - periodS : best.at;
  return { offsetS, prominence: profile[best.bin] / mean };
}

function establishFacts() {
  if (spawnSync('aubio', ['--help'], { stdio: 'ignore' }).error) throw new Error('aubio is not installed (apt-get install aubio-tools)');
  const facts = [];
  for (const track of corpus.tracks) {
    const file = trackFile(track);
    if (!fs.existsSync(file)) throw new Error(`${track.id} is not in the cache: run "fetch" first`);
    const beats = execFileSync('aubio', ['beat', '-i', file], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'ignore'] })
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    const line = beatLine(beats);
    const onLine = beats.filter((t) => Math.abs(fromLine(t, line)) < 0.025).length / beats.length;
    // A 20 s window is steady when at least 80 % of aubio's beats in it lie within 25 ms of the line.
    const windows = [];
    for (let from = 0; from + 20 <= beats.at(-1); from += 20) {
      const inside = beats.filter((t) => t >= from && t < from + 20);
      const steady = inside.length > 4 && inside.filter((t) => Math.abs(fromLine(t, line)) < 0.025).length / inside.length >= 0.8;
      windows.push(steady ? 1 : 0);
    }
    const attack = foldedAttack(file, line.period, line.offset);
    facts.push({
      id: track.id,
      // The grid is a fact only where the attacks stand out (1.75 × the profile's mean; the tracks
      // without a clear attack read 1.2–1.6, those with one 1.97–5.7).
      ...(attack.prominence >= 1.75 ? { gridOffsetS: Number(attack.offsetS.toFixed(3)) } : {}),
      attackProminence: Number(attack.prominence.toFixed(2)),
      aubioLine: {
        bpm: Number((60 / line.period).toFixed(3)),
        offsetS: Number(line.offset.toFixed(3)),
        strength: Number(line.strength.toFixed(2)),
        onLine: Number(onLine.toFixed(2)),
      },
      steadyWindows: windows.join(''),
    });
  }
  console.log(JSON.stringify(facts, null, 2));
}

const command = process.argv[2] ?? 'fetch';
if (command === 'fetch') process.exitCode = await fetchCorpus();
else if (command === 'facts') establishFacts();
else {
  console.error('usage: corpus.mjs fetch | facts');
  process.exitCode = 2;
}
