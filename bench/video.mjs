// bench/video: the music video (KIE "Create Music Video") of a 3-minute 44.1 kHz stereo song,
// made by reprise's renderMusicVideo from the song's float WAV master (as the service usually has
// it) and from its MP3, on one core. Prints the wall time, the real-time factor (seconds of video
// per second of work; goal ≥ 2×) and the peak RSS of the process making it (goal ≤ 250 MB), and,
// when ffmpeg is on PATH, the ratio to ffmpeg making the same kind of video (cover picture with a
// spectrum display, same size, frame rate and length, H.264 + AAC) on one thread, measured in the
// same run.
//
//   npm run build && node bench/video.mjs     (BENCH_RUNS, default 3: timed runs, fresh processes
//                                               for the peak RSS, and ffmpeg runs; BENCH_CPU, the
//                                               core to pin to, default 0)
//
// The job runs in a child process pinned to one core with `taskset` where it exists, with one
// libuv and one libvips thread, as bench/engine.mjs runs its jobs. The peak RSS of a fresh
// process varies by ±15 MB from run to run (when the collector runs, how far V8 grows its young
// generation): it is measured in BENCH_RUNS fresh processes and given as median and maximum.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dist, hasCommand, median, ONE_THREAD_ENV, oneCore, peakRssMb, pinnedWords } from './jobs.mjs';

const audioModule = dist('audio/index.js');

const SONG_S = 180;
const RATE = 44_100;
const TITLE = 'Lights Along the Water';
const runs = Number(process.env.BENCH_RUNS ?? 3);

/**
 * The job, in a child process of its own so that its peak RSS is the job's alone: the audio file
 * and the cover are read, then the video is made `timed + 1` times (the first is cold: module
 * loading and WebAssembly compilation; a render thread of the service is long-lived).
 */
async function job(audioFile, coverFile, timed, outFile) {
  const { renderMusicVideo } = await import(audioModule);
  // Buffers are Uint8Arrays: no copy (a 3-minute master is 64 MB).
  const audio = fs.readFileSync(audioFile);
  const cover = fs.readFileSync(coverFile);
  const idleRssMb = process.memoryUsage().rss / 1e6;
  const times = [];
  let made = null;
  for (let i = 0; i <= timed; i++) {
    made = null; // the previous video is garbage before the next one starts, as it would be once stored
    const started = performance.now();
    made = await renderMusicVideo({ audio, cover, title: TITLE, author: 'Reprise Bench', domainName: 'music.example.com' });
    times.push((performance.now() - started) / 1000);
  }
  if (outFile) fs.writeFileSync(outFile, made.mp4);
  console.log(
    JSON.stringify({
      coldS: times[0],
      warmS: times.slice(1),
      maxRssMb: peakRssMb(),
      idleRssMb,
      durationS: made.durationS,
      bytes: made.mp4.byteLength,
      size: made.width,
      fps: made.fps,
      frames: made.frames,
      codecs: `${made.videoCodec}, ${made.audioCodec}`,
    }),
  );
}

function runJob(audioFile, coverFile, timed, outFile = '') {
  const [command, args] = oneCore(process.execPath, [new URL(import.meta.url).pathname, '--job', audioFile, coverFile, String(timed), outFile]);
  const output = execFileSync(command, args, { env: ONE_THREAD_ENV, encoding: 'utf8' });
  return JSON.parse(output.trim().split('\n').at(-1));
}

/**
 * ffmpeg making the same kind of video on one thread: the cover scaled to the frame, a spectrum
 * display of the audio (showfreqs, log frequency, bars) laid over it, libx264 at `preset` with its
 * default quality (crf 23), AAC-LC at 192 kbps, index first. Seconds.
 */
function timeFfmpeg(audioFile, coverFile, size, fps, preset, outFile) {
  const filter = [
    `[0:v]scale=${size}:${size},format=yuv420p[bg]`,
    `[1:a]showfreqs=s=${Math.round(size * 0.75)}x${Math.round(size * 0.15)}:mode=bar:fscale=log:ascale=log:win_size=4096:rate=${fps}[bars]`,
    `[bg][bars]overlay=(W-w)/2:H*0.76:shortest=1,format=yuv420p[v]`,
  ].join(';');
  const args = [
    ...['-nostdin', '-y', '-hide_banner', '-loglevel', 'error', '-threads', '1', '-filter_threads', '1', '-filter_complex_threads', '1'],
    ...['-loop', '1', '-framerate', String(fps), '-i', coverFile, '-i', audioFile, '-filter_complex', filter],
    ...['-map', '[v]', '-map', '1:a', '-c:v', 'libx264', '-preset', preset, '-crf', '23', '-pix_fmt', 'yuv420p', '-r', String(fps)],
    ...['-c:a', 'aac', '-b:a', '192k', '-t', String(SONG_S), '-movflags', '+faststart', outFile],
  ];
  const [command, pinned] = oneCore('ffmpeg', args);
  const started = performance.now();
  const result = spawnSync(command, pinned, { stdio: 'inherit' });
  if (result.status !== 0) throw new Error('ffmpeg failed');
  return (performance.now() - started) / 1000;
}

/** What ffprobe says of the file's streams and length, to show that the video is what it claims. */
function probe(file) {
  if (!hasCommand('ffprobe')) return null;
  const out = execFileSync(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'stream=codec_name,profile,level,width,height,r_frame_rate,bit_rate,sample_rate:format=duration', '-of', 'json', file],
    { encoding: 'utf8' },
  );
  return JSON.parse(out);
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reprise-bench-video-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const a = await import(audioModule);
  const plan = a.planArrangement({ seed: 'bench-video', texts: ['pop', 'piano'], form: 'song', durationS: SONG_S });
  const song = { sampleRate: RATE, channels: a.renderSong(plan, RATE, 2, SONG_S) };
  const master = path.join(dir, 'master.wav');
  const mp3 = path.join(dir, 'song.mp3');
  const cover = path.join(dir, 'cover.jpg');
  fs.writeFileSync(master, a.encodeWav(song, { encoding: 'float32' }));
  fs.writeFileSync(mp3, await a.encodeMp3(song, { bitrate: 192 }));
  fs.writeFileSync(cover, await a.renderCover({ title: TITLE, tags: 'pop piano', channels: song.channels }));
  const ffmpeg = hasCommand('ffmpeg');
  console.log(
    `song: ${SONG_S} s, ${RATE} Hz stereo; master ${(fs.statSync(master).size / 1e6).toFixed(1)} MB (32-bit float WAV), MP3 ${(fs.statSync(mp3).size / 1e6).toFixed(2)} MB (192 kbps)`,
  );
  console.log(
    `Node ${process.version}; ${os.cpus()[0]?.model ?? 'unknown CPU'}; ${pinnedWords()}; ${ffmpeg ? execFileSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' }).split('\n')[0] : 'ffmpeg not on PATH: no baseline'}`,
  );

  const rows = [];
  for (const [name, input] of [
    ['from the float WAV master', master],
    ['from the MP3', mp3],
  ]) {
    const out = path.join(dir, 'reprise.mp4');
    const timed = runJob(input, cover, runs, out);
    const facts = probe(out);
    // The peak RSS of one job alone, in fresh processes.
    const singles = Array.from({ length: runs }, () => runJob(input, cover, 0));
    const peaks = singles.map((s) => s.maxRssMb);
    const single = { maxRssMb: median(peaks), worstRssMb: Math.max(...peaks), idleRssMb: median(singles.map((s) => s.idleRssMb)) };
    const reprise = median(timed.warmS);
    rows.push({ name, reprise, timed, single });
    console.log(
      `\nreprise ${name}: ${timed.frames} frames, ${timed.size}×${timed.size} at ${timed.fps} fps, ${timed.codecs}, ${(timed.bytes / 1e6).toFixed(2)} MB`,
    );
    console.log(`  median ${reprise.toFixed(2)} s of ${timed.warmS.map((t) => t.toFixed(2)).join(', ')} (cold first run ${timed.coldS.toFixed(2)} s)`);
    console.log(`  real-time factor: ${(timed.durationS / reprise).toFixed(2)}× (goal ≥ 2×)`);
    console.log(
      `  peak RSS of a process making one video: median ${single.maxRssMb.toFixed(1)} MB, most ${single.worstRssMb.toFixed(1)} MB of ${peaks.map((p) => p.toFixed(0)).join(', ')} (goal ≤ 250 MB), of which ${single.idleRssMb.toFixed(1)} MB before (Node, reprise, the input files); after ${runs + 1} videos: ${timed.maxRssMb.toFixed(1)} MB`,
    );
    if (facts) {
      const streams = facts.streams.map((s) =>
        s.width ? `${s.codec_name} ${s.profile} L${s.level} ${s.width}×${s.height} ${s.r_frame_rate}` : `${s.codec_name} ${s.profile} ${s.sample_rate} Hz`,
      );
      console.log(`  ffprobe: ${streams.join('; ')}; ${Number(facts.format.duration).toFixed(3)} s`);
    }
  }

  const baselines = [];
  if (ffmpeg) {
    const size = rows[0].timed.size;
    const fps = rows[0].timed.fps;
    for (const preset of ['medium', 'veryfast']) {
      const out = path.join(dir, `ffmpeg-${preset}.mp4`);
      const times = Array.from({ length: runs }, () => timeFfmpeg(master, cover, size, fps, preset, out));
      baselines.push({ preset, seconds: median(times), bytes: fs.statSync(out).size });
      console.log(
        `\nffmpeg, libx264 preset ${preset} (crf 23) + AAC 192k, showfreqs over the cover, ${size}×${size} at ${fps} fps, 1 thread: median ${median(times).toFixed(2)} s of ${times.map((t) => t.toFixed(2)).join(', ')}; ${(fs.statSync(out).size / 1e6).toFixed(2)} MB`,
      );
    }
  }

  const header = [
    'input',
    'wall time (median)',
    'real-time factor (goal ≥ 2×)',
    'peak RSS, one video: median, most (goal ≤ 250 MB)',
    ...baselines.map((b) => `÷ ffmpeg (x264 ${b.preset})`),
  ];
  console.log(`\n| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const { name, reprise, timed, single } of rows) {
    const ratios = baselines.map((b) => `${(reprise / b.seconds).toFixed(2)}×`);
    console.log(
      `| ${name} | ${reprise.toFixed(2)} s | ${(timed.durationS / reprise).toFixed(2)}× | ${single.maxRssMb.toFixed(0)}, ${single.worstRssMb.toFixed(0)} MB | ${ratios.join(' | ')} |`,
    );
  }
}

if (process.argv[2] === '--job') await job(process.argv[3], process.argv[4], Number(process.argv[5]), process.argv[6]);
else await main();
