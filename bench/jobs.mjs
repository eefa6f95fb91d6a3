// What the engine benchmarks share: running a job in a child process pinned to one core, its own
// peak RSS, medians, and ffmpeg as the baseline. Kept apart from lib.mjs, which brings autocannon
// along: a job's process must hold only Node, reprise and the job.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
/** A module of the built server. */
export const dist = (file) => path.join(root, 'packages/server/dist', file);

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
export const hasCommand = (name) => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;

/** The command pinned to one core (BENCH_CPU, default 0), where `taskset` exists. */
export function oneCore(command, args) {
  return hasCommand('taskset') ? ['taskset', ['-c', process.env.BENCH_CPU ?? '0', command, ...args]] : [command, args];
}
export const pinnedWords = () => (hasCommand('taskset') ? `pinned to core ${process.env.BENCH_CPU ?? '0'}` : 'not pinned (no taskset)');

/**
 * A job's environment: glibc's allocator set as the service is started (`npm start`, the systemd
 * units; see docs/deployment.md), one libuv thread and one libvips thread, as on one core.
 */
export const ONE_THREAD_ENV = {
  ...process.env,
  MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072',
  GLIBC_TUNABLES: process.env.GLIBC_TUNABLES ?? 'glibc.malloc.hugetlb=1',
  UV_THREADPOOL_SIZE: '1',
  VIPS_CONCURRENCY: '1',
};

/**
 * This process's own peak RSS in MB (Linux's VmHWM). Not `resourceUsage().maxRSS`: across exec
 * Linux keeps in it the high-water mark of the process that spawned this one (the bench, holding
 * its songs), which would be reported instead of the job's.
 */
export function peakRssMb() {
  try {
    const line = fs
      .readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmHWM:'));
    if (line) return Number(line.replace(/\D+/g, '')) / 1024;
  } catch {
    // Not Linux: getrusage's figure, with the caveat above.
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** ffmpeg is a dependency of the benchmarks only: installed from Debian when missing. */
export function ensureFfmpeg() {
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

/** ffmpeg on one core and one thread with `args` after the input; its wall time in seconds. */
export function timeFfmpeg(input, args) {
  const [command, full] = oneCore('ffmpeg', ['-nostdin', '-y', '-hide_banner', '-loglevel', 'error', '-threads', '1', '-i', input, ...args]);
  const started = performance.now();
  const result = spawnSync(command, full, { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed`);
  return (performance.now() - started) / 1000;
}

/**
 * The 3-minute sung song the stems and MIDI benches work on: what a generate task with these
 * words makes (its first track), rendered again from this same operation for exact results.
 */
export function sungSongRecipe(seed, durationS = 180) {
  return {
    op: 'generate',
    input: {
      prompt: 'lanterns over the harbour, we sail at dawn',
      style: 'pop, piano, upbeat',
      title: 'Harbour',
      negativeTags: '',
      instrumental: false,
      durationS,
      seed,
    },
  };
}
