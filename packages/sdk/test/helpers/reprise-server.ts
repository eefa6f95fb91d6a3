import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The real server, built by `npm test` / `npm run build` before vitest runs. Loopback only. */
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../server/dist/cli.js');

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

export interface RepriseServer {
  baseUrl: string;
  apiKey: string;
  secret: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** A fresh data dir, an account with 100 credits and a webhook key, and `reprise serve` once /readyz answers. */
export async function startReprise(): Promise<RepriseServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'reprise-sdk-e2e-'));
  const env = {
    REPRISE_DATA_DIR: dir,
    DATABASE_URL: `sqlite:${dir}/r.sqlite`,
    REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8',
    REPRISE_GENERATE_DURATION_S: '20',
    LOG_LEVEL: 'error',
  };
  const created = await runCli(['accounts', 'create', '--name', 'x', '--credits', '100', '--webhook-key'], env);
  if (created.code !== 0) throw new Error(`accounts create failed: ${created.stderr}`);
  const account = JSON.parse(created.stdout) as { apiKey: string; webhookHmacKey: string };
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [CLI, 'serve'], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`reprise serve exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${baseUrl}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('reprise serve did not become ready');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    baseUrl,
    apiKey: account.apiKey,
    secret: account.webhookHmacKey,
    env: { ...env, PORT: String(port) },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A 16-bit PCM mono WAV: a quiet chord, enough for the engine to find a tempo and key in. */
export function tinyWav(seconds: number, sampleRate = 8000): Buffer {
  const frames = Math.round(seconds * sampleRate);
  const buffer = Buffer.alloc(44 + frames * 2);
  buffer.write('RIFF', 0, 'ascii');
  buffer.writeUInt32LE(36 + frames * 2, 4);
  buffer.write('WAVE', 8, 'ascii');
  buffer.write('fmt ', 12, 'ascii');
  buffer.writeUInt32LE(16, 16);
  buffer.writeUInt16LE(1, 20); // PCM
  buffer.writeUInt16LE(1, 22); // mono
  buffer.writeUInt32LE(sampleRate, 24);
  buffer.writeUInt32LE(sampleRate * 2, 28);
  buffer.writeUInt16LE(2, 32);
  buffer.writeUInt16LE(16, 34);
  buffer.write('data', 36, 'ascii');
  buffer.writeUInt32LE(frames * 2, 40);
  for (let i = 0; i < frames; i++) {
    const t = i / sampleRate;
    const sample = 0.2 * Math.sin(2 * Math.PI * 220 * t) + 0.1 * Math.sin(2 * Math.PI * 277.18 * t) + 0.1 * Math.sin(2 * Math.PI * 329.63 * t);
    buffer.writeInt16LE(Math.round(sample * 32767), 44 + i * 2);
  }
  return buffer;
}
