// Helpers shared by the benchmarks: child servers, autocannon runs, RSS readings.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
export const cli = path.join(root, 'packages/server/dist/cli.js');

export function tempDir(label) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `reprise-bench-${label}-`));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Starts a Node child that prints `LISTENING <port>` when ready. `line(predicate)` waits for a
 * later line of its stdout (lines already printed count too).
 */
export function startChild(args, env = {}) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let buffered = '';
  const line = (predicate) =>
    new Promise((resolve) => {
      const check = () => {
        const found = buffered.split('\n').find(predicate);
        if (found === undefined) return false;
        child.stdout.off('data', check);
        resolve(found);
        return true;
      };
      if (!check()) child.stdout.on('data', check);
    });
  child.stdout.on('data', (chunk) => (buffered += chunk));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before listening`)));
    line((l) => l.startsWith('LISTENING ')).then((l) => resolve({ child, port: Number(l.split(' ')[1]), line }));
  });
}

export async function stopChild(child) {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

export function runCannon(options) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: 32, duration: 8, ...options }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/**
 * CPU time (user + system) a process has used so far, in microseconds, from /proc. Per request
 * it is a figure that other load on the machine hardly changes, unlike requests per second.
 */
export function cpuMicros(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

/** Resident set size of a process in MB, from /proc. */
export function rssMb(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

export function runCli(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`reprise ${args.join(' ')} exited ${code}`))));
  });
}
