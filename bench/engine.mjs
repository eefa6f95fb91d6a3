// bench/engine: each engine operation on a 3-minute 44.1 kHz stereo MP3, end to end as the
// service runs it (the worker's render pool: decode, analyse, render, splice, encode, cover,
// master on a render thread, each track handed over when finished). One row per operation:
// replace-section, extend, cover, add-instrumental, add-vocals, mashup (and mashupNear: a second
// song whose tempo meets the first's in the middle, so both are stretched). Two baselines from the
// same run: ffmpeg on the same audio (decoding the source(s) and encoding every track the
// operation made, which is the goal's) and ffmpeg transcoding the source(s) once (the older
// figure: for operations that make two songs it holds half the encoding they must do). Both run
// on one core (taskset, ffmpeg -threads 1, one libuv and libvips thread for reprise). Also: the
// real-time factor and the peak RSS of the process that runs the job.
//
//   npm run build && node bench/engine.mjs            (BENCH_RUNS, default 3 timed runs of each;
//                                                       BENCH_OPS, default all, e.g. BENCH_OPS=replaceSection,extend;
//                                                       BENCH_IN_A_ROW=100: also the peak over 100 jobs in one process)
//
// ffmpeg is a dependency of this benchmark only: installed from Debian here when missing (jobs.mjs).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { dist, ensureFfmpeg, timeFfmpeg as ffmpegRun, median, ONE_THREAD_ENV, oneCore, peakRssMb, pinnedWords } from './jobs.mjs';

const SONG_S = 180;
const RATE = 44_100;
/** A 30 s section in the middle of the song: a typical request (the rules allow 6–60 s). */
const SECTION = { startS: 75.3, endS: 105.3 };
const runs = Number(process.env.BENCH_RUNS ?? 3);
const audio = dist('audio/index.js');
const renderPoolModule = dist('worker/render-pool.js');
const memoryModule = dist('memory.js');

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
  // The same with a second song 3 % slower than the first: the tempos meet in the middle, so both songs are stretched.
  mashupNear: (a, b) => ({ sources: [a, b], prompt: '', style: 'electronic', title: 'Bench', negativeTags: '', instrumental: true }),
};
/** The engine operation each row runs. */
const engineOp = (op) => (op === 'mashupNear' ? 'mashup' : op);
const opNames = (process.env.BENCH_OPS ?? Object.keys(OPERATIONS).join(',')).split(',');

/**
 * The job itself, in a child process of its own so its peak RSS is the job's alone. It runs as
 * the service runs it: through the worker's render pool (one render thread), each track handed
 * to the main thread when it is finished and dropped there once "stored" — the first run, which
 * is not timed, writes each track's master into `outDir` for the baseline.
 */
async function job(op, inputs, timed, outDir) {
  const { createRenderPool } = await import(renderPoolModule);
  const { releaseNow } = await import(memoryModule);
  // Read for each job, as the service reads sources from its blob store: the pool moves them to the render thread.
  const read = () => inputs.map((input) => ({ bytes: new Uint8Array(fs.readFileSync(input)), name: path.basename(input) }));
  // What the process holds before any work: Node and reprise's modules.
  const idleRssMb = process.memoryUsage().rss / 1e6;
  const pool = createRenderPool();
  const times = [];
  // The process's peak after each job: flat once the job's own memory is all that comes and goes.
  const peaks = [];
  let made = null;
  // The first run is cold (JIT, WebAssembly compilation); a render thread of the service is long-lived, so the warm runs are what a task costs.
  for (let i = 0; i <= timed; i++) {
    const outputs = [];
    const keep = (track, index) => {
      outputs.push({ durationS: track.durationS, appliedRange: track.appliedRange, mp3Bytes: track.mp3.byteLength });
      const masterPath = path.join(outDir, `${op}-${index}.wav`);
      if (i === 0 && outDir && track.master) fs.writeFileSync(masterPath, track.master);
      // As the service does once a track is stored (tasks/kinds/music.ts): its MP3 and a master in memory released, a master written as it was made moved.
      releaseNow(track.mp3);
      if (track.master) releaseNow(track.master);
      if (track.masterFile) {
        if (i === 0 && outDir) fs.copyFileSync(track.masterFile.path, masterPath);
        fs.rmSync(track.masterFile.path);
      }
    };
    const sources = read();
    const started = performance.now();
    const rest = await pool.run(
      { name: 'procedural' },
      { op: engineOp(op), input: { ...OPERATIONS[op](...sources), seed: `bench-${i}` } },
      new AbortController().signal,
      async (progress) => {
        if (progress.stage === 'first') keep(progress.track, progress.index);
      },
    );
    for (const [index, track] of rest.entries()) if (track) keep(track, index);
    times.push((performance.now() - started) / 1000);
    peaks.push(peakRssMb());
    made = outputs;
  }
  await pool.close();
  const [track] = made;
  console.log(
    JSON.stringify({
      coldS: times[0],
      warmS: times.slice(1),
      maxRssMb: peakRssMb(),
      peaksMb: peaks,
      idleRssMb,
      tracks: made.length,
      durationS: track.durationS,
      totalS: made.reduce((sum, t) => sum + t.durationS, 0),
      appliedRange: track.appliedRange,
      mp3Bytes: track.mp3Bytes,
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
  // As replace-section decodes an MP3 it can splice: as far as 11 s past the section (the samples
  // before the window going to the master file, timed below), then the rest from just before the window's end.
  const layout = a.readMp3Layout(bytes);
  const total = layout.samples;
  const [w0, w1] = [Math.round((SECTION.startS - 11) * RATE), Math.round((SECTION.endS + 11) * RATE)];
  const song = [new Float32Array(total), new Float32Array(total)];
  const masterPath = path.join(path.dirname(input), 'stages-master.wav');
  const writeMaster = async (work) => {
    const writer = new a.FloatWavFileWriter(masterPath, { sampleRate: RATE, count: 2, frames: total });
    await work(writer);
    return writer;
  };
  await lap("decode MP3 up to the window's end", () => a.decodeMp3Window(bytes, layout, w0, w1, song, () => {}));
  await lap('decode MP3 after the window', () => a.streamMp3Rest(bytes, layout, w1, { channels: song, from: w1 - 20_000 }, () => {}));
  const source = await a.decodeAudio(bytes);
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
  const edited = source.channels.map((c) => Float32Array.from(c));
  await lap('MP3 frame splice (encode + check)', () =>
    a.spliceMp3Frames({ source: bytes, layout, edited, changedFrom: from - fade, changedTo: to + fade, window: Math.round(0.7 * RATE) }),
  );
  await lap('master written to a file (float WAV)', () =>
    writeMaster((w) => w.append(source.channels)).then((w) => {
      w.finish();
      fs.rmSync(masterPath);
    }),
  );
  await lap('cover', () => a.renderCover({ title: 'Bench', tags: 'jazz piano', channels: source.channels }));
}

/** ffmpeg on one core: `input` decoded, and encoded to MP3 at 192 kbps unless `decodeOnly`. Seconds. */
const timeFfmpeg = (input, dir, { decodeOnly = false } = {}) =>
  ffmpegRun(input, decodeOnly ? ['-f', 'null', '-'] : ['-c:a', 'libmp3lame', '-b:a', '192k', path.join(dir, 'ffmpeg-out.mp3')]);

/**
 * The codec work of the same audio in and out: ffmpeg decoding every source and encoding every
 * track the operation made (from its lossless master, whose reading costs next to nothing).
 */
function timeSameAudio(inputs, outputs, dir) {
  return inputs.reduce((sum, file) => sum + timeFfmpeg(file, dir, { decodeOnly: true }), 0) + outputs.reduce((sum, file) => sum + timeFfmpeg(file, dir), 0);
}

function runJob(op, inputs, timed, outDir = '') {
  const [command, args] = oneCore(process.execPath, [new URL(import.meta.url).pathname, '--job', op, inputs.join(','), String(timed), outDir]);
  const output = execFileSync(command, args, { env: ONE_THREAD_ENV, encoding: 'utf8' });
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
  console.log(`${version}; Node ${process.version}; ${pinnedWords()}`);

  const second = path.join(dir, 'second.mp3');
  const otherPlan = a.planArrangement({ seed: 'bench-engine-b', texts: ['rock', 'guitar'], form: 'song', durationS: 150 });
  fs.writeFileSync(second, await a.encodeMp3({ sampleRate: RATE, channels: a.renderSong(otherPlan, RATE, 2, 150) }, { bitrate: 192 }));

  const near = path.join(dir, 'near.mp3');
  const nearPlan = a.planArrangement({ seed: 'bench-engine-b', texts: ['rock', 'guitar'], form: 'song', durationS: 150, fixed: { bpm: plan.bpm * 0.97 } });
  fs.writeFileSync(near, await a.encodeMp3({ sampleRate: RATE, channels: a.renderSong(nearPlan, RATE, 2, 150) }, { bitrate: 192 }));

  const inputsOf = (op) => (op === 'mashup' ? [input, second] : op === 'mashupNear' ? [input, near] : [input]);
  const rows = [];
  for (const op of opNames) {
    const inputs = inputsOf(op);
    // ffmpeg before and after the job, so a change of load during the run shows as spread rather than bias.
    const transcode = [];
    const sameAudio = [];
    const transcodeRun = () => inputs.reduce((sum, file) => sum + timeFfmpeg(file, dir), 0);
    for (let i = 0; i < runs; i++) transcode.push(transcodeRun());
    const result = runJob(op, inputs, runs, dir);
    const outputs = Array.from({ length: result.tracks }, (_, index) => path.join(dir, `${op}-${index}.wav`));
    for (let i = 0; i < runs; i++) transcode.push(transcodeRun());
    for (let i = 0; i < runs; i++) sameAudio.push(timeSameAudio(inputs, outputs, dir));
    for (const file of outputs) fs.rmSync(file);
    // The peak RSS of one job alone, in a fresh process (the timed child's would add up several jobs' garbage).
    const single = runJob(op, inputs, 0);
    const reprise = median(result.warmS);
    const row = { op, reprise, transcode: median(transcode), same: median(sameAudio), result, single };
    rows.push(row);
    console.log(`\n${op}: ${result.tracks} track(s), ${result.totalS.toFixed(1)} s of music`);
    console.log(
      `  ffmpeg transcoding the source(s) (decode + encode at 192k, 1 thread): median ${row.transcode.toFixed(3)} s of ${transcode.map((t) => t.toFixed(2)).join(', ')}`,
    );
    console.log(
      `  ffmpeg on the same audio (decode the source(s), encode every track made): median ${row.same.toFixed(3)} s of ${sameAudio.map((t) => t.toFixed(2)).join(', ')}`,
    );
    console.log(
      `  reprise: median ${reprise.toFixed(3)} s of ${result.warmS.map((t) => t.toFixed(2)).join(', ')} (cold first run ${result.coldS.toFixed(2)} s)`,
    );
    if (result.appliedRange) console.log(`  applied range ${result.appliedRange.startS.toFixed(3)}–${result.appliedRange.endS.toFixed(3)} s`);
    console.log(
      `  ratio to ffmpeg on the same audio: ${(reprise / row.same).toFixed(2)}× (goal ≤ 2.0×); to transcoding the source(s): ${(reprise / row.transcode).toFixed(2)}×`,
    );
    // Seconds of music made per second of work: every track the operation returns counts.
    console.log(`  real-time factor: ${(result.totalS / reprise).toFixed(1)}× (goal ≥ 20×)`);
    console.log(
      `  peak RSS of a process running one job: ${single.maxRssMb.toFixed(1)} MB (goal ≤ 250 MB), of which ${single.idleRssMb.toFixed(1)} MB before the job; after ${runs + 1} jobs: ${result.maxRssMb.toFixed(1)} MB`,
    );
  }
  console.log('\n| operation | tracks, s of music | ÷ ffmpeg, same audio | ÷ ffmpeg, transcoding the source(s) | real-time factor | peak RSS, one job |');
  console.log('|---|---|---|---|---|---|');
  for (const { op, reprise, transcode, same, result, single } of rows) {
    console.log(
      `| ${op} | ${result.tracks}, ${result.totalS.toFixed(1)} | ${(reprise / same).toFixed(2)}× | ${(reprise / transcode).toFixed(2)}× | ${(result.totalS / reprise).toFixed(1)}× | ${single.maxRssMb.toFixed(0)} MB |`,
    );
  }
  // BENCH_IN_A_ROW=N: N jobs of each operation in one process, its peak after each (a long-lived worker's memory).
  const inARow = Number(process.env.BENCH_IN_A_ROW ?? 0);
  for (const op of inARow > 0 ? opNames : []) {
    const { peaksMb } = runJob(op, inputsOf(op), inARow - 1);
    const shown = [1, 2, 5, 10, 25, 50, 100, 200, inARow].filter((n, i, all) => n <= inARow && all.indexOf(n) === i);
    console.log(`${op}, ${inARow} jobs in one process: peak RSS after ${shown.map((n) => `${n}: ${peaksMb[n - 1].toFixed(0)} MB`).join(', ')}`);
  }
  if (!opNames.includes('replaceSection')) return;
  console.log('stages, each alone (warm):');
  const [command, args] = oneCore(process.execPath, [new URL(import.meta.url).pathname, '--stages', input]);
  execFileSync(command, args, { stdio: 'inherit', env: ONE_THREAD_ENV });
}

const mode = process.argv[2];
if (mode === '--job') await job(process.argv[3], process.argv[4].split(','), Number(process.argv[5]), process.argv[6]);
else if (mode === '--stages') await stages(process.argv[3]);
else await main();
