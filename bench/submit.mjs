// bench/submit: accepted replace-section submissions per second (auth + validation + one
// transaction writing task, debit and job), as a ratio to a bare Fastify JSON route measured
// in the same run, on SQLite and (when BENCH_DATABASE_URL or TEST_DATABASE_URL is set) PostgreSQL.
// Also: idle RSS of `reprise serve`. The server's CPU time per request is printed beside each
// figure: unlike requests per second, other load on the machine hardly changes it.

import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { cli, cpuMicros, root, rssMb, runCannon, startChild, stopChild, tempDir } from './lib.mjs';

// The machine is shared: load from elsewhere comes and goes within seconds. So the baseline and
// reprise run side by side as child servers and are measured in alternating short rounds; each
// round's figure is compared with the baseline rounds around it, and the median is reported.
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const roundSeconds = Number(process.env.BENCH_SECONDS ?? 3);

/** A server under test: its URL, request options, and the child process. */
async function bareTarget() {
  const { child, port } = await startChild([path.join(root, 'bench/bare-server.mjs')]);
  return {
    child,
    options: {
      url: `http://127.0.0.1:${port}/api/v1/generate/replace-section`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'jazz piano', tags: 'Jazz', title: 'Bench', infillStartS: 12, infillEndS: 24 }),
    },
  };
}

async function repriseTarget(env) {
  const { child, port, line } = await startChild([path.join(root, 'bench/reprise-api-server.mjs')], env);
  const fixture = JSON.parse(await line((l) => l.startsWith('{')));
  const body = JSON.stringify({
    taskId: fixture.taskId,
    audioId: fixture.audioId,
    prompt: 'jazz piano',
    tags: 'Jazz',
    title: 'Bench',
    infillStartS: 12,
    infillEndS: 24,
    callBackUrl: 'https://example.com/cb',
  });
  return {
    child,
    options: {
      url: `http://127.0.0.1:${port}/api/v1/generate/replace-section`,
      method: 'POST',
      headers: { authorization: `Bearer ${fixture.apiKey}`, 'content-type': 'application/json' },
      body,
    },
  };
}

/** One round: accepted requests per second and server CPU per accepted request (µs). */
async function round(target) {
  const cpuBefore = cpuMicros(target.child.pid);
  const result = await runCannon({ ...target.options, duration: roundSeconds });
  const ok = result['2xx'];
  if (result.non2xx > 0) throw new Error(`${result.non2xx} requests were refused`);
  return { rate: ok / roundSeconds, cpuPerRequest: (cpuMicros(target.child.pid) - cpuBefore) / ok, p99: result.latency.p99 };
}

const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Alternates baseline and reprise rounds; each reprise round is divided by the mean of the baseline rounds beside it. */
async function compare(label, env) {
  const baseline = await bareTarget();
  const reprise = await repriseTarget(env);
  await round(baseline); // warm-up of both, not counted
  await round(reprise);
  const bareRounds = [await round(baseline)];
  const repriseRounds = [];
  for (let i = 0; i < rounds; i++) {
    repriseRounds.push(await round(reprise));
    bareRounds.push(await round(baseline));
  }
  await stopChild(baseline.child);
  await stopChild(reprise.child);
  const ratios = repriseRounds.map((r, i) => r.rate / ((bareRounds[i].rate + bareRounds[i + 1].rate) / 2));
  const cpuRatios = repriseRounds.map((r, i) => (bareRounds[i].cpuPerRequest + bareRounds[i + 1].cpuPerRequest) / 2 / r.cpuPerRequest);
  const fmt = (rows, key, digits = 0) => rows.map((r) => r[key].toFixed(digits)).join(' ');
  console.log(`bare Fastify rounds: ${fmt(bareRounds, 'rate')} req/s; server CPU ${fmt(bareRounds, 'cpuPerRequest')} µs/request`);
  console.log(
    `${label} rounds: ${fmt(repriseRounds, 'rate')} accepted/s; server CPU ${fmt(repriseRounds, 'cpuPerRequest')} µs/accepted; p99 ${fmt(repriseRounds, 'p99')} ms`,
  );
  console.log(`${label}: per-round ratios ${ratios.map((r) => r.toFixed(3)).join(' ')}; server-CPU ratios ${cpuRatios.map((r) => r.toFixed(3)).join(' ')}`);
  return { ratio: median(ratios), cpuRatio: median(cpuRatios) };
}

async function freshPgSchema(url) {
  const schema = `bench_${Date.now().toString(36)}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  const withPath = new URL(url);
  withPath.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: withPath.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    },
  };
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

const sqlite = await compare('reprise on SQLite', {
  DATABASE_URL: `sqlite:${path.join(tempDir('sqlite'), 'bench.sqlite')}`,
  REPRISE_DATA_DIR: tempDir('data'),
});
console.log(
  `RATIO sqlite submit/bare = ${sqlite.ratio.toFixed(3)} (median of ${rounds} rounds; goal >= 0.35); server CPU per request, bare/reprise = ${sqlite.cpuRatio.toFixed(3)}`,
);
const pgUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (pgUrl) {
  const schema = await freshPgSchema(pgUrl);
  const postgres = await compare('reprise on PostgreSQL', { DATABASE_URL: schema.url, REPRISE_DATA_DIR: tempDir('data') });
  await schema.drop();
  console.log(
    `RATIO postgres submit/bare = ${postgres.ratio.toFixed(3)} (median of ${rounds} rounds); server CPU per request, bare/reprise = ${postgres.cpuRatio.toFixed(3)}`,
  );
} else {
  console.log('PostgreSQL skipped: set BENCH_DATABASE_URL=postgres://… to measure it');
}
console.log(`idle RSS of reprise serve: ${(await idleRss()).toFixed(1)} MB (goal <= 120 MB)`);
