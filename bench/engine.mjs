// bench/engine: each engine operation on a 3-minute 44.1 kHz stereo MP3, end to end in-process
// (decode, analyse, render, splice, encode, cover, master), as a ratio to ffmpeg decoding and
// re-encoding the same source file(s) in the same run. One row per operation: replace-section,
// extend, cover, add-instrumental, add-vocals, mashup (whose baseline is both songs). Both run on one core (taskset, ffmpeg -threads 1,
// one libuv and libvips thread for reprise). Also: the real-time factor and the peak RSS of the
// process that runs the job.
//
//   npm run build && node bench/engine.mjs            (BENCH_RUNS, default 3 timed runs of each;
//                                                       BENCH_OPS, default all, e.g. BENCH_OPS=replaceSection,extend)
//
// ffmpeg is a dependency of this benchmark only: installed from Debian here when missing.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// The job runs in a child process of this script, which must then hold only Node, reprise and the
// job: lib.mjs brings autocannon along (for the HTTP benchmarks), so only the parent loads it.
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const SONG_S = 180;
const RATE = 44_100;
/** A 30 s section in the middle of the song: a typical request (the rules allow 6–60 s). */
const SECTION = { startS: 75.3, endS: 105.3 };
const runs = Number(process.env.BENCH_RUNS ?? 3);
const audio = path.join(root, 'packages/server/dist/audio/index.js');
const engineModule = path.join(root, 'packages/server/dist/engine/index.js');

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const hasCommand = (name) => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
/** The command pinned to the first core, where `taskset` exists. */
const oneCore = (command, args) => (hasCommand('taskset') ? ['taskset', ['-c', '0', command, ...args]] : [command, args]);

function ensureFfmpeg() {
  if (hasCommand('ffmpeg')) return;
  console.log('ffmpeg is missing: installing it from Debian (apt-get install -y ffmpeg)');
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'ffmpeg'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  if (install().status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    if (install().status !== 0) throw new Error('could not install ffmpeg');
  }
}

/**
 * Each operation's request on the bench songs: `a` is the 3-minute song, `b` a second one (mashup).
 * Every operation asks for what a typical task asks: a 30 s section, a 60 s extension, a whole song.
 */
const OPERATIONS = {
  replaceSection: (a) => ({ source: a, ...SECTION, prompt: 'a new bridge', tags: 'jazz piano', negativeTags: '', title: 'Bench' }),
  extend: (a) => ({ source: a, continueAtS: 120, addS: 60, prompt: '', style: 'folk', title: 'Bench', negativeTags: '', instrumental: true }),
  cover: (a) => ({ source: a, prompt: '', style: 'jazz', title: 'Bench', negativeTags: '', instrumental: true }),
  addInstrumental: (a) => ({ source: a, prompt: '', style: 'soul, organ', title: 'Bench', negativeTags: '' }),
  addVocals: (a) => ({
    source: a,
    prompt: '[Verse]\nLights along the water\nCalling me back home\n[Chorus]\nHold on, hold on',
    style: 'soul',
    title: 'Bench',
    negativeTags: '',
  }),
  mashup: (a, b) => ({ sources: [a, b], prompt: '', style: 'electronic', title: 'Bench', negativeTags: '', instrumental: true }),
};
const opNames = (process.env.BENCH_OPS ?? Object.keys(OPERATIONS).join(',')).split(',');

/** The job itself, in a child process of its own so its peak RSS is the job's alone. */
async function job(op, inputs, timed) {
  const { createProceduralEngine, runOperation } = await import(engineModule);
  const [a, b] = inputs.map((input) => ({ bytes: new Uint8Array(fs.readFileSync(input)), name: path.basename(input) }));
  const engine = createProceduralEngine();
  // What the process holds before any work: Node, reprise's modules, the source bytes.
  const idleRssMb = process.memoryUsage().rss / 1e6;
  const times = [];
  let tracks;
  // The first run is cold (JIT, WebAssembly compilation); a render thread of the service is long-lived, so the warm runs are what a task costs.
  for (let i = 0; i <= timed; i++) {
    const started = performance.now();
    tracks = await runOperation(engine, { op, input: { ...OPERATIONS[op](a, b), seed: `bench-${i}` } }, new AbortController().signal, async () => {});
    times.push((performance.now() - started) / 1000);
  }
  const [track] = tracks;
  console.log(
    JSON.stringify({
      coldS: times[0],
      warmS: times.slice(1),
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      idleRssMb,
      tracks: tracks.length,
      durationS: track.durationS,
      appliedRange: track.appliedRange,
      mp3Bytes: track.mp3.byteLength,
    }),
  );
}

/** Where the time goes: each stage of the job timed alone (warm), on the same file. */
async function stages(input) {
  const a = await import(audio);
  const bytes = new Uint8Array(fs.readFileSync(input));
  const lap = async (name, work) => {
    await work();
    const started = performance.now();
    const result = await work();
    console.log(`  ${name.padEnd(34)} ${((performance.now() - started) / 1000).toFixed(3)} s`);
    return result;
  };
  const source = await lap('decode MP3 (3 min)', () => a.decodeAudio(bytes));
  const analysis = await lap('analyse (section ± 10 s)', () => a.analyse(source, a.analysisWindow(SONG_S, SECTION.startS, SECTION.endS, 10)));
  const from = Math.round(SECTION.startS * RATE);
  const to = Math.round(SECTION.endS * RATE);
  const fade = Math.round(0.75 * RATE);
  const fitted = await lap('render the section (30 s + fades)', () =>
    a.renderFittedSection({ seed: 's', texts: ['jazz piano'], analysis, sampleRate: RATE, channels: 2, from, to, preRoll: fade, postRoll: fade }),
  );
  await lap('loudness of the section', () => a.measureLoudness(fitted.channels, RATE));
  await lap('true-peak limiter (section, 2 dB hot)', () =>
    a.limitTruePeak(
      fitted.channels.map((c) => c.map((v) => v * 1.26)),
      { sampleRate: RATE },
    ),
  );
  const layout = a.readMp3Layout(bytes);
  const edited = source.channels.map((c) => Float32Array.from(c));
  await lap('MP3 frame splice (encode + check)', () =>
    a.spliceMp3Frames({ source: bytes, layout, edited, changedFrom: from - fade, changedTo: to + fade, window: Math.round(0.7 * RATE) }),
  );
  await lap('master (32-bit float WAV)', () => a.encodeWav(source, { encoding: 'float32' }));
  await lap('cover', () => a.renderCover({ title: 'Bench', tags: 'jazz piano', channels: source.channels }));
}

function timeFfmpeg(input, dir) {
  const out = path.join(dir, 'ffmpeg-out.mp3');
  const [command, args] = oneCore('ffmpeg', [
    '-nostdin',
    '-y',
    '-hide_banner',
    '-loglevel',
    'error',
    '-threads',
    '1',
    '-i',
    input,
    '-c:a',
    'libmp3lame',
    '-b:a',
    '192k',
    out,
  ]);
  const started = performance.now();
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) throw new Error('ffmpeg failed');
  return (performance.now() - started) / 1000;
}

function runJob(op, inputs, timed) {
  const [command, args] = oneCore(process.execPath, [new URL(import.meta.url).pathname, '--job', op, inputs.join(','), String(timed)]);
  const output = execFileSync(command, args, { env: { ...process.env, UV_THREADPOOL_SIZE: '1', VIPS_CONCURRENCY: '1' }, encoding: 'utf8' });
  return JSON.parse(output.trim().split('\n').at(-1));
}

async function main() {
  ensureFfmpeg();
  const { tempDir } = await import('./lib.mjs');
  const dir = tempDir('engine');
  const input = path.join(dir, 'song.mp3');
  const a = await import(audio);
  const plan = a.planArrangement({ seed: 'bench-engine', texts: ['pop', 'piano'], form: 'song', durationS: SONG_S });
  const song = { sampleRate: RATE, channels: a.renderSong(plan, RATE, 2, SONG_S) };
  fs.writeFileSync(input, await a.encodeMp3(song, { bitrate: 192 }));
  const version = execFileSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' }).split('\n')[0];
  console.log(
    `song: ${SONG_S} s, ${RATE} Hz stereo MP3 at 192 kbps (${(fs.statSync(input).size / 1e6).toFixed(2)} MB); section ${SECTION.startS}–${SECTION.endS} s`,
  );
  console.log(`${version}; Node ${process.version}; ${hasCommand('taskset') ? 'pinned to core 0' : 'not pinned (no taskset)'}`);

  const second = path.join(dir, 'second.mp3');
  const otherPlan = a.planArrangement({ seed: 'bench-engine-b', texts: ['rock', 'guitar'], form: 'song', durationS: 150 });
  fs.writeFileSync(second, await a.encodeMp3({ sampleRate: RATE, channels: a.renderSong(otherPlan, RATE, 2, 150) }, { bitrate: 192 }));

  const rows = [];
  for (const op of opNames) {
    const inputs = op === 'mashup' ? [input, second] : [input];
    // ffmpeg before and after the job, so a change of load during the run shows as spread rather than bias.
    const ffmpeg = [];
    const baselineRun = () => inputs.reduce((sum, file) => sum + timeFfmpeg(file, dir), 0);
    for (let i = 0; i < runs; i++) ffmpeg.push(baselineRun());
    const result = runJob(op, inputs, runs);
    for (let i = 0; i < runs; i++) ffmpeg.push(baselineRun());
    // The peak RSS of one job alone, in a fresh process (the timed child's would add up several jobs' garbage).
    const single = runJob(op, inputs, 0);
    const reprise = median(result.warmS);
    const baseline = median(ffmpeg);
    rows.push({ op, reprise, baseline, result, single });
    console.log(`\n${op}: ${result.tracks} track(s) of ${result.durationS.toFixed(1)} s`);
    console.log(`  ffmpeg decode + encode of the source(s) (192k, 1 thread): median ${baseline.toFixed(3)} s of ${ffmpeg.map((t) => t.toFixed(2)).join(', ')}`);
    console.log(
      `  reprise: median ${reprise.toFixed(3)} s of ${result.warmS.map((t) => t.toFixed(2)).join(', ')} (cold first run ${result.coldS.toFixed(2)} s)`,
    );
    if (result.appliedRange) console.log(`  applied range ${result.appliedRange.startS.toFixed(3)}–${result.appliedRange.endS.toFixed(3)} s`);
    console.log(`  ratio to ffmpeg: ${(reprise / baseline).toFixed(2)}× (goal ≤ 2.0×)`);
    // Seconds of music made per second of work: every track the operation returns counts.
    console.log(`  real-time factor: ${((result.durationS * result.tracks) / reprise).toFixed(1)}× (goal ≥ 20×)`);
    console.log(
      `  peak RSS of a process running one job: ${single.maxRssMb.toFixed(1)} MB (goal ≤ 250 MB), of which ${single.idleRssMb.toFixed(1)} MB before the job; after ${runs + 1} jobs: ${result.maxRssMb.toFixed(1)} MB`,
    );
  }
  console.log('\n| operation | tracks × s | ratio to ffmpeg | real-time factor | peak RSS, one job |');
  console.log('|---|---|---|---|---|');
  for (const { op, reprise, baseline, result, single } of rows) {
    console.log(
      `| ${op} | ${result.tracks} × ${result.durationS.toFixed(1)} | ${(reprise / baseline).toFixed(2)}× | ${((result.durationS * result.tracks) / reprise).toFixed(1)}× | ${single.maxRssMb.toFixed(0)} MB |`,
    );
  }
  if (!opNames.includes('replaceSection')) return;
  console.log('stages, each alone (warm):');
  const [command, args] = oneCore(process.execPath, [new URL(import.meta.url).pathname, '--stages', input]);
  execFileSync(command, args, { stdio: 'inherit', env: { ...process.env, UV_THREADPOOL_SIZE: '1', VIPS_CONCURRENCY: '1' } });
}

const mode = process.argv[2];
if (mode === '--job') await job(process.argv[3], process.argv[4].split(','), Number(process.argv[5]));
else if (mode === '--stages') await stages(process.argv[3]);
else await main();
