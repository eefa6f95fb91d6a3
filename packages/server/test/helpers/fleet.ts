import { type ChildProcess, spawn } from 'node:child_process';
import { CLI } from './process.js';

/** The commands that run a reprise process: all the roles REPRISE_ROLES names, or one of them. */
export type ServeCommand = 'serve' | 'api' | 'worker' | 'dispatcher';

/**
 * `reprise <command>` in a child process, resolved once /readyz answers on `port`: every role
 * listens there, the API's or only health and metrics. Its stderr is the test's.
 */
export async function startReprise(command: ServeCommand, env: Record<string, string>, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, command], { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`reprise ${command} exited with ${child.exitCode}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (response.ok) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`reprise ${command} did not become ready`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** SIGTERM, and the exit code the process then chose (null if a signal ended it). */
export async function stopGracefully(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

/**
 * The value of one series in a Prometheus text exposition, e.g.
 * `metricValue(text, 'reprise_process_role', { role: 'api' })`; undefined when the series is absent.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = match[2] ? match[2].split(',') : [];
    if (wanted.every((label) => present.includes(label))) return Number(match[3]);
  }
  return undefined;
}

/** How an attempt to start a process ended: ready (the child, still running) or exited first. */
export type StartOutcome = { ready: true; child: ChildProcess } | { ready: false; code: number | null; stderr: string };

/**
 * `reprise <command>` that may be refused: resolves once /readyz answers on `port` (the child) or
 * once the process exits first (its code and everything it wrote on stderr).
 */
export async function startOrExit(command: ServeCommand, env: Record<string, string>, port: number): Promise<StartOutcome> {
  const child = spawn(process.execPath, [CLI, command], { env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  // 'close', not 'exit': by then all of stderr has been read.
  const exited = new Promise<StartOutcome>((resolve) => child.once('close', (code) => resolve({ ready: false, code, stderr })));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (response.ok) return { ready: true, child };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`reprise ${command} neither became ready nor exited`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
