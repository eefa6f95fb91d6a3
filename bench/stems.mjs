// bench/stems: the `separate` operation on a 3-minute song reprise generated (sung, 44.1 kHz
// stereo), as the service would run it: through the worker's render pool (one render thread),
// each stem handed to the main thread as it is finished and dropped there once "stored". Four
// rows: separate_vocal and split_stem, each exact (the recipe given: the song rendered again part
// by part) and estimated (no recipe: signal processing on the track's audio). For each: the
// real-time factor (seconds of track per second of work, on one core; goal ≥ 20×), the peak RSS
// of a process running one job (goal ≤ 250 MB), and how far the stems' sum is from the audio they
// were cut from (the track's master for exact stems, the audio given for estimated ones), lossless
// and as decoded MP3. The machine's load moves every time; one load-independent yardstick is
// timed in the same job process: encoding the track itself to MP3 once (what each stem costs at
// least), and the job's time is also given in those units.
//
//   npm run build && node bench/stems.mjs      (BENCH_RUNS, default 3 timed runs of each;
//                                                BENCH_CASES, default all, e.g. BENCH_CASES=0,2)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { dist, median, ONE_THREAD_ENV, oneCore, peakRssMb, pinnedWords, sungSongRecipe } from './jobs.mjs';

const SONG_S = 180;
const runs = Number(process.env.BENCH_RUNS ?? 3);

/** The song: what a generate task with these words makes; its first track is the one separated. */
const RECIPE = sungSongRecipe('bench-stems', SONG_S);
/** `audio`: what the job is handed as the track, its MP3 (4 MB) or its float master (64 MB). */
const CASES = [
  { name: 'separate_vocal, exact, from the MP3', type: 'separate_vocal', recipe: true, audio: 'mp3' },
  { name: 'separate_vocal, exact, from the master', type: 'separate_vocal', recipe: true, audio: 'wav' },
  { name: 'split_stem, exact, from the MP3', type: 'split_stem', recipe: true, audio: 'mp3' },
  { name: 'separate_vocal, estimated, from the MP3', type: 'separate_vocal', recipe: false, audio: 'mp3' },
  { name: 'split_stem, estimated, from the MP3', type: 'split_stem', recipe: false, audio: 'mp3' },
];

/** One case in a process of its own (so its peak RSS is the job's): `timed` warm runs after a cold one. */
async function job(caseIndex, dir, timed, outDir) {
  const { createRenderPool } = await import(dist('worker/render-pool.js'));
  const { releaseNow } = await import(dist('memory.js'));
  const spec = CASES[caseIndex];
  const idleRssMb = process.memoryUsage().rss / 1e6;
  const pool = createRenderPool();
  const times = [];
  let made = null;
  for (let i = 0; i <= timed; i++) {
    const stems = [];
    const keep = (stem) => {
      stems.push({ name: stem.name, exact: stem.exact, mp3Bytes: stem.mp3.byteLength });
      if (i === 0 && outDir) {
        fs.writeFileSync(path.join(outDir, `${caseIndex}-${stem.name}.wav`), stem.master);
        fs.writeFileSync(path.join(outDir, `${caseIndex}-${stem.name}.mp3`), stem.mp3);
      }
      releaseNow(stem.master);
    };
    // Read for each job, as the service reads a track from its blob store: the pool moves it to the render thread.
    const bytes = new Uint8Array(fs.readFileSync(path.join(dir, `track.${spec.audio}`)));
    const input = { type: spec.type, audio: { bytes }, ...(spec.recipe ? { origin: { operation: RECIPE, trackIndex: 0 } } : {}) };
    const started = performance.now();
    const result = await pool.separate({ name: 'procedural' }, input, new AbortController().signal, async (stem) => keep(stem));
    for (const stem of result.stems) if (stem) keep(stem);
    times.push((performance.now() - started) / 1000);
    made = { stems, absent: result.absent, method: result.method };
  }
  await pool.close();
  const peak = peakRssMb();
  // The yardstick, after the runs (so it adds nothing to their memory): the track to MP3, warm, twice.
  const a = await import(dist('audio/index.js'));
  const track = a.decodeWav(new Uint8Array(fs.readFileSync(path.join(dir, 'track.wav'))));
  const encodes = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    await a.encodeMp3(track, { bitrate: 192 });
    if (i > 0) encodes.push((performance.now() - started) / 1000);
  }
  console.log(JSON.stringify({ coldS: times[0], warmS: times.slice(1), maxRssMb: peak, idleRssMb, encodeS: median(encodes), ...made }));
}

function runJob(caseIndex, dir, timed, outDir = '') {
  const [command, args] = oneCore(process.execPath, [new URL(import.meta.url).pathname, '--job', String(caseIndex), dir, String(timed), outDir]);
  const output = execFileSync(command, args, { env: ONE_THREAD_ENV, encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(output.trim().split('\n').at(-1));
}

/** SNR (dB) of the stems' sum against `reference`, from the stem files a run wrote: lossless, and as their MP3s decode. */
async function sumSnr(a, reference, dir, caseIndex, stems) {
  const stereo = (channels) => (channels.length === 1 ? [channels[0], channels[0]] : channels);
  const read = (name, ext) => new Uint8Array(fs.readFileSync(path.join(dir, `${caseIndex}-${name}.${ext}`)));
  const lossless = a.sumOf(stems.map((stem) => a.decodeWav(read(stem.name, 'wav')).channels));
  const decoded = [];
  for (const stem of stems) decoded.push(stereo((await a.decodeAudio(read(stem.name, 'mp3'))).channels));
  return { lossless: a.sdr(reference, lossless), mp3: a.sdr(reference, a.sumOf(decoded)) };
}

async function main() {
  const a = await import(dist('audio/index.js'));
  const { createProceduralEngine } = await import(dist('engine/procedural/index.js'));
  const { tempDir } = await import('./lib.mjs');
  const dir = tempDir('stems');
  const [track] = await createProceduralEngine().generate(RECIPE.input, new AbortController().signal, async () => {});
  fs.writeFileSync(path.join(dir, 'track.wav'), track.master);
  fs.writeFileSync(path.join(dir, 'track.mp3'), track.mp3);
  console.log(`track: ${SONG_S} s, 44.1 kHz stereo, sung ("${RECIPE.input.style}"); Node ${process.version}; ${pinnedWords()}`);
  const rows = [];
  const chosen = (process.env.BENCH_CASES ?? CASES.map((_, index) => index).join(',')).split(',').map(Number);
  for (const [index, spec] of CASES.entries()) {
    if (!chosen.includes(index)) continue;
    const result = runJob(index, dir, runs, dir);
    const single = runJob(index, dir, 0);
    // Exact stems are cut from the recipe's render, the master; estimated ones from the audio given.
    const reference = spec.recipe || spec.audio === 'wav' ? a.decodeWav(track.master).channels : (await a.decodeAudio(track.mp3)).channels;
    const snr = await sumSnr(a, reference, dir, index, result.stems);
    const seconds = median(result.warmS);
    rows.push({ spec, result, single, snr, seconds });
    console.log(`\n${spec.name}: ${result.stems.map((s) => `${s.name}${s.exact ? '' : '~'}`).join(', ')} (absent: ${result.absent.join(', ') || 'none'})`);
    console.log(`  ${result.method}`);
    console.log(
      `  time: median ${seconds.toFixed(2)} s of ${result.warmS.map((t) => t.toFixed(2)).join(', ')} (cold ${result.coldS.toFixed(2)} s); real-time factor ${(SONG_S / seconds).toFixed(1)}× (goal ≥ 20×)`,
    );
    console.log(`  = ${(seconds / result.encodeS).toFixed(1)} × the time of one MP3 encode of the track (${result.encodeS.toFixed(2)} s in the same process)`);
    console.log(`  peak RSS of a process running one job: ${single.maxRssMb.toFixed(0)} MB (goal ≤ 250 MB), ${single.idleRssMb.toFixed(0)} MB before it`);
    console.log(
      `  the stems' sum against the ${spec.recipe ? 'master' : 'audio given'}: ${snr.lossless.toFixed(1)} dB SNR lossless, ${snr.mp3.toFixed(1)} dB as MP3`,
    );
  }
  console.log('\n| case | stems | real-time factor | ÷ one MP3 encode of the track | peak RSS, one job | Σ stems vs what they were cut from, lossless / MP3 |');
  console.log('|---|---|---|---|---|---|');
  for (const { spec, result, single, snr, seconds } of rows) {
    console.log(
      `| ${spec.name} | ${result.stems.length} | ${(SONG_S / seconds).toFixed(1)}× | ${(seconds / result.encodeS).toFixed(1)} | ${single.maxRssMb.toFixed(0)} MB | ${snr.lossless.toFixed(1)} / ${snr.mp3.toFixed(1)} dB |`,
    );
  }
}

if (process.argv[2] === '--job') await job(Number(process.argv[3]), process.argv[4], Number(process.argv[5]), process.argv[6]);
else await main();
