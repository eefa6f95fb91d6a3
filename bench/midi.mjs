// bench/midi: the `transcribe` operation (MIDI from audio) on a 3-minute song reprise generated
// (sung, 44.1 kHz stereo), as the service would run it: through the worker's render pool (one
// render thread). Two rows: exact (the recipe given: the notes read from the plan, no audio
// rendered) and estimated (no recipe: signal processing on each stem's 192 kbps MP3, the stems an
// exact split_stem of the song made). For each: the real-time factor (seconds of song per second
// of work, on one core; goal ≥ 20× for the exact path), the peak RSS of a process running one job
// (goal ≤ 250 MB), and the job's time in units of a load-independent yardstick timed in the same
// process: one decode of the song's MP3 with the audio library.
//
//   npm run build && node bench/midi.mjs      (BENCH_RUNS, default 3 timed runs of each)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { dist, median, ONE_THREAD_ENV, oneCore, peakRssMb, pinnedWords, sungSongRecipe } from './jobs.mjs';

const SONG_S = 180;
const runs = Number(process.env.BENCH_RUNS ?? 3);

/** The song: what a generate task with these words makes; its first track is the one transcribed. */
const RECIPE = sungSongRecipe('bench-midi', SONG_S);
const CASES = [
  { name: 'exact, from the recipe', recipe: true },
  { name: 'estimated, from the stem MP3s', recipe: false },
];

/** One case in a process of its own (so its peak RSS is the job's): `timed` warm runs after a cold one. */
async function job(caseIndex, dir, timed) {
  const { createRenderPool } = await import(dist('worker/render-pool.js'));
  const spec = CASES[caseIndex];
  const stemNames = JSON.parse(fs.readFileSync(path.join(dir, 'stems.json'), 'utf8'));
  const stems = stemNames.map((name) =>
    spec.recipe ? { name } : { name, audio: { bytes: new Uint8Array(fs.readFileSync(path.join(dir, `${name}.mp3`))), name: `${name}.mp3` } },
  );
  const input = { stems, ...(spec.recipe ? { origin: { operation: RECIPE, trackIndex: 0 } } : {}) };
  const idleRssMb = process.memoryUsage().rss / 1e6;
  const pool = createRenderPool();
  const times = [];
  let made = null;
  for (let i = 0; i <= timed; i++) {
    const started = performance.now();
    const result = await pool.transcribe({ name: 'procedural' }, input, new AbortController().signal);
    times.push((performance.now() - started) / 1000);
    made = {
      exact: result.exact,
      instruments: result.instruments.map((instrument) => ({ name: instrument.name, stem: instrument.stem, notes: instrument.notes.length })),
    };
  }
  await pool.close();
  const peak = peakRssMb();
  // The yardstick, after the runs (so it adds nothing to their memory): the song's MP3 decoded, warm.
  const a = await import(dist('audio/index.js'));
  const mp3 = new Uint8Array(fs.readFileSync(path.join(dir, 'track.mp3')));
  const decodes = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    await a.decodeAudio(mp3);
    if (i > 0) decodes.push((performance.now() - started) / 1000);
  }
  console.log(JSON.stringify({ coldS: times[0], warmS: times.slice(1), maxRssMb: peak, idleRssMb, decodeS: median(decodes), ...made }));
}

function runJob(caseIndex, dir, timed) {
  const [command, args] = oneCore(process.execPath, [new URL(import.meta.url).pathname, '--job', String(caseIndex), dir, String(timed)]);
  const output = execFileSync(command, args, { env: ONE_THREAD_ENV, encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(output.trim().split('\n').at(-1));
}

async function main() {
  const { createProceduralEngine } = await import(dist('engine/procedural/index.js'));
  const { tempDir } = await import('./lib.mjs');
  const dir = tempDir('midi');
  const engine = createProceduralEngine();
  const signal = new AbortController().signal;
  const [track] = await engine.generate(RECIPE.input, signal, async () => {});
  fs.writeFileSync(path.join(dir, 'track.mp3'), track.mp3);
  // The stems the estimated case transcribes: an exact split of the song, each as its served MP3.
  const names = [];
  // Called directly (not through the pool), the engine hands each stem to onStem and keeps it in its result too: taken once.
  await engine.separate({ type: 'split_stem', audio: { bytes: track.master }, origin: { operation: RECIPE, trackIndex: 0 } }, signal, async (stem) => {
    fs.writeFileSync(path.join(dir, `${stem.name}.mp3`), stem.mp3);
    names.push(stem.name);
  });
  fs.writeFileSync(path.join(dir, 'stems.json'), JSON.stringify(names));
  console.log(`track: ${SONG_S} s, 44.1 kHz stereo, sung ("${RECIPE.input.style}"), stems: ${names.join(', ')}; Node ${process.version}; ${pinnedWords()}`);
  const rows = [];
  for (const [index, spec] of CASES.entries()) {
    const result = runJob(index, dir, runs);
    const single = runJob(index, dir, 0);
    const seconds = median(result.warmS);
    const notes = result.instruments.reduce((n, instrument) => n + instrument.notes, 0);
    rows.push({ spec, result, single, seconds, notes });
    console.log(`\n${spec.name}: ${result.instruments.map((i) => `${i.stem}/${i.name} ${i.notes}`).join(', ')} (exact: ${result.exact})`);
    console.log(
      `  time: median ${seconds.toFixed(3)} s of ${result.warmS.map((t) => t.toFixed(3)).join(', ')} (cold ${result.coldS.toFixed(3)} s); real-time factor ${(SONG_S / seconds).toFixed(1)}× (goal ≥ 20×)`,
    );
    console.log(`  = ${(seconds / result.decodeS).toFixed(2)} × the time of one decode of the song's MP3 (${result.decodeS.toFixed(3)} s in the same process)`);
    console.log(`  peak RSS of a process running one job: ${single.maxRssMb.toFixed(0)} MB (goal ≤ 250 MB), ${single.idleRssMb.toFixed(0)} MB before it`);
  }
  console.log("\n| case | instruments | notes | real-time factor | ÷ one decode of the song's MP3 | peak RSS, one job |");
  console.log('|---|---|---|---|---|---|');
  for (const { spec, result, single, seconds, notes } of rows) {
    console.log(
      `| ${spec.name} | ${result.instruments.length} | ${notes} | ${(SONG_S / seconds).toFixed(1)}× | ${(seconds / result.decodeS).toFixed(2)} | ${single.maxRssMb.toFixed(0)} MB |`,
    );
  }
}

if (process.argv[2] === '--job') await job(Number(process.argv[3]), process.argv[4], Number(process.argv[5]));
else await main();
