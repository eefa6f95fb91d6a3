// bench/submit: accepted replace-section submissions per second (auth + validation + one
// transaction writing task, debit and job), as a ratio to a bare Fastify JSON route measured
// in the same run, on SQLite and (when BENCH_DATABASE_URL or TEST_DATABASE_URL is set) PostgreSQL.
// Also: idle RSS of `reprise serve`.
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import pg from 'pg';
import { cli, cpuMicros, root, rssMb, runCannon, startChild, stopChild, tempDir } from './lib.mjs';

const duration = Number(process.env.BENCH_SECONDS ?? 8);

async function measure(label, env) {
  const { child, port, line } = await startChild([path.join(root, 'bench/reprise-api-server.mjs')], env);
  const fixture = JSON.parse(await line((l) => l.startsWith('{')));
  const body = JSON.stringify({ taskId: fixture.taskId, audioId: fixture.audioId, prompt: 'jazz piano', tags: 'Jazz', title: 'Bench', infillStartS: 12, infillEndS: 24, callBackUrl: 'https://example.com/cb' });
  const cpuBefore = cpuMicros(child.pid);
  const result = await runCannon({
    url: `http://127.0.0.1:${port}/api/v1/generate/replace-section`,
    method: 'POST',
    duration,
    headers: { authorization: `Bearer ${fixture.apiKey}`, 'content-type': 'application/json' },
    body,
  });
  const cpu = cpuMicros(child.pid) - cpuBefore;
  await stopChild(child);
  const ok = result['2xx'];
  const non2xx = result.non2xx;
  console.log(`${label}: ${(ok / duration).toFixed(0)} accepted/s (p99 ${result.latency.p99} ms, ${non2xx} non-2xx; server CPU ${(cpu / ok).toFixed(0)} µs per accepted)`);
  return ok / duration;
}

async function bare() {
  const { child, port } = await startChild([path.join(root, 'bench/bare-server.mjs')]);
  const cpuBefore = cpuMicros(child.pid);
  const result = await runCannon({
    url: `http://127.0.0.1:${port}/api/v1/generate/replace-section`,
    method: 'POST',
    duration,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'jazz piano', tags: 'Jazz', title: 'Bench', infillStartS: 12, infillEndS: 24 }),
  });
  const cpu = cpuMicros(child.pid) - cpuBefore;
  await stopChild(child);
  console.log(`bare Fastify: ${(result['2xx'] / duration).toFixed(0)} req/s (p99 ${result.latency.p99} ms; server CPU ${(cpu / result['2xx']).toFixed(0)} µs per request)`);
  return result['2xx'] / duration;
}

async function freshPgSchema(url) {
  const schema = `bench_${Date.now().toString(36)}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  const withPath = new URL(url);
  withPath.searchParams.set('options', `-c search_path=${schema}`);
  return { url: withPath.toString(), drop: async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`drop schema ${schema} cascade`);
    await c.end();
  } };
}

async function idleRss() {
  const dataDir = tempDir('rss');
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [cli, 'serve'], { env: { ...process.env, PORT: '0', REPRISE_DATA_DIR: dataDir, LOG_LEVEL: 'warn' }, stdio: 'ignore' });
  await sleep(5000);
  const rss = rssMb(child.pid);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  return rss;
}

const baseline = await bare();
const sqlite = await measure('reprise on SQLite', { DATABASE_URL: `sqlite:${path.join(tempDir('sqlite'), 'bench.sqlite')}`, REPRISE_DATA_DIR: tempDir('data') });
console.log(`RATIO sqlite submit/bare = ${(sqlite / baseline).toFixed(3)} (goal >= 0.35)`);
const pgUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (pgUrl) {
  const schema = await freshPgSchema(pgUrl);
  const postgres = await measure('reprise on PostgreSQL', { DATABASE_URL: schema.url, REPRISE_DATA_DIR: tempDir('data') });
  await schema.drop();
  console.log(`RATIO postgres submit/bare = ${(postgres / baseline).toFixed(3)}`);
} else {
  console.log('PostgreSQL skipped: set BENCH_DATABASE_URL=postgres://… to measure it');
}
console.log(`idle RSS of reprise serve: ${(await idleRss()).toFixed(1)} MB (goal <= 120 MB)`);
