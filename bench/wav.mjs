// bench/wav: KIE's "Convert to WAV" of a 3-minute 44.1 kHz stereo track, as the WAV task does it
// (audio/codecs/float-wav.ts toFloatWav): from the track's float master (what reprise keeps of its
// own tracks: the samples pass through unchanged) and from its MP3 (decoded, encoder delay and
// padding removed). Baseline, in the same run and on the same core: ffmpeg writing the same
// 32-bit float WAV from the same file (`-c:a pcm_f32le`). Prints the ratio to ffmpeg, the
// real-time factor (seconds of track per second of work; goal ≥ 20×) and the peak RSS of a
// process converting once (goal ≤ 250 MB).
//
//   npm run build && node bench/wav.mjs      (BENCH_RUNS, default 5 timed runs of each)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { dist, ensureFfmpeg, median, ONE_THREAD_ENV, oneCore, peakRssMb, pinnedWords, timeFfmpeg } from './jobs.mjs';

const SONG_S = 180;
const RATE = 44_100;
const runs = Number(process.env.BENCH_RUNS ?? 5);
const SOURCES = ['master.wav', 'track.mp3'];

/** Converts `file` `timed + 1` times (the first is cold) in this process; prints times and peak RSS. */
async function job(file, timed) {
  const { toFloatWav } = await import(dist('audio/index.js'));
  const bytes = fs.readFileSync(file);
  const times = [];
  let made = null;
  for (let i = 0; i <= timed; i++) {
    made = null;
    const started = performance.now();
    made = await toFloatWav(bytes);
    times.push((performance.now() - started) / 1000);
  }
  console.log(
    JSON.stringify({ coldS: times[0], warmS: times.slice(1), maxRssMb: peakRssMb(), bytes: made.wav.byteLength, durationS: made.frames / made.sampleRate }),
  );
}

function runJob(file, timed) {
  const [command, args] = oneCore(process.execPath, [new URL(import.meta.url).pathname, '--job', file, String(timed)]);
  return JSON.parse(execFileSync(command, args, { env: ONE_THREAD_ENV, encoding: 'utf8' }).trim().split('\n').at(-1));
}

async function main() {
  ensureFfmpeg();
  const a = await import(dist('audio/index.js'));
  const { tempDir } = await import('./lib.mjs');
  const dir = tempDir('wav');
  const plan = a.planArrangement({ seed: 'bench-wav', texts: ['pop', 'piano'], form: 'song', durationS: SONG_S });
  const song = { sampleRate: RATE, channels: a.renderSong(plan, RATE, 2, SONG_S) };
  fs.writeFileSync(path.join(dir, 'track.mp3'), await a.encodeMp3(song, { bitrate: 192 }));
  fs.writeFileSync(path.join(dir, 'master.wav'), a.encodeWav(song, { encoding: 'float32' }));
  const version = execFileSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' }).split('\n')[0];
  console.log(`track: ${SONG_S} s, ${RATE} Hz stereo; ${version}; Node ${process.version}; ${pinnedWords()}`);
  const rows = [];
  for (const name of SOURCES) {
    const file = path.join(dir, name);
    const out = path.join(dir, 'ffmpeg-out.wav');
    const ffmpeg = [];
    // ffmpeg before and after the job, so a change of load during the run shows as spread rather than bias.
    for (let i = 0; i < runs; i++) ffmpeg.push(timeFfmpeg(file, ['-c:a', 'pcm_f32le', out]));
    const result = runJob(file, runs);
    for (let i = 0; i < runs; i++) ffmpeg.push(timeFfmpeg(file, ['-c:a', 'pcm_f32le', out]));
    const single = runJob(file, 0);
    const reprise = median(result.warmS);
    const row = { name, reprise, ffmpeg: median(ffmpeg), result, single };
    rows.push(row);
    console.log(`\nfrom ${name}: ${(result.bytes / 1e6).toFixed(1)} MB of WAV, ${result.durationS.toFixed(2)} s`);
    console.log(`  ffmpeg to 32-bit float WAV: median ${row.ffmpeg.toFixed(3)} s of ${ffmpeg.map((t) => t.toFixed(3)).join(', ')}`);
    console.log(`  reprise: median ${reprise.toFixed(3)} s of ${result.warmS.map((t) => t.toFixed(3)).join(', ')} (cold ${result.coldS.toFixed(3)} s)`);
  }
  console.log('\n| from | ÷ ffmpeg, same WAV | real-time factor | peak RSS, one conversion |');
  console.log('|---|---|---|---|');
  for (const { name, reprise, ffmpeg, result, single } of rows) {
    console.log(`| ${name} | ${(reprise / ffmpeg).toFixed(2)}× | ${(result.durationS / reprise).toFixed(0)}× | ${single.maxRssMb.toFixed(0)} MB |`);
  }
}

if (process.argv[2] === '--job') await job(process.argv[3], Number(process.argv[4]));
else await main();
