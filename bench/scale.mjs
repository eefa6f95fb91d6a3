// bench/scale: how reprise grows with processes on one PostgreSQL.
// 1. Tasks accepted per second by 1, 2 and 3 `reprise api` processes (autocannon, 32 connections
//    per process, POST /api/v1/generate), each as a ratio to the 1-process figure of the same run.
// 2. Callbacks delivered per second by 1, 2 and 3 `reprise dispatcher` processes draining the same
//    BENCH_SCALE_CALLBACKS owed callbacks to a loopback receiver, as ratios the same way.
// Process i is pinned to core i mod (cores) with taskset where there is one, so on a machine of
// 2 cores the third process shares a core with the first; the load generator, the receiver and the
// database server are not pinned and share the same cores. The server CPU per accepted task or
// delivered callback (reprise processes and database backends, from /proc) is printed beside each
// figure: it says what more cores would have to supply.
// Needs BENCH_DATABASE_URL or TEST_DATABASE_URL (a database this bench may create a schema in).

import { execFileSync, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { cli, cpuMicros, root, runCannon, runCli, startChild, stopChild, tempDir } from './lib.mjs';

const baseUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (!baseUrl) {
  console.log('bench/scale needs PostgreSQL: set BENCH_DATABASE_URL=postgres://…');
  process.exit(0);
}
const PROCESSES = (process.env.BENCH_PROCESSES ?? '1,2,3').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CALLBACKS = Number(process.env.BENCH_SCALE_CALLBACKS ?? 6000);
const cores = os.availableParallelism();
const canPin = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return true;
  } catch {
    return false;
  }
})();

// A schema of its own, so tests using the same database at the same time are not disturbed.
const schema = `bench_scale_${Date.now().toString(36)}`;
const admin = new pg.Client({ connectionString: baseUrl });
await admin.connect();
await admin.query(`create schema ${schema}`);
const databaseUrl = (() => {
  const url = new URL(baseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  url.searchParams.set('application_name', schema);
  return url.toString();
})();
const dataDir = tempDir('scale');
const env = {
  DATABASE_URL: databaseUrl,
  REPRISE_DATA_DIR: dataDir,
  REPRISE_PUBLIC_URL: 'http://127.0.0.1:3000',
  REPRISE_RATE_LIMIT: '1000000/1ms',
  REPRISE_HTTP_STATUS_MIRRORS_CODE: 'true',
  REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8',
  REPRISE_WORKERS: '0',
  // The receiver stands for the many hosts of real callbacks: one host may take all 32 attempts in flight.
  REPRISE_CALLBACK_PER_HOST: '32',
  LOG_LEVEL: 'info',
  PORT: '0',
  HOST: '127.0.0.1',
};

/** CPU (µs) used so far by this schema's database backends that are connected now. */
async function backendMicros() {
  const { rows } = await admin.query('select pid from pg_stat_activity where application_name = $1', [schema]);
  let total = 0;
  for (const { pid } of rows) {
    try {
      total += cpuMicros(pid);
    } catch {
      // the backend ended meanwhile
    }
  }
  return total;
}

/** Starts `reprise <role>` pinned to a core; resolves with the child and its URL once it listens. */
function startReprise(role, index) {
  const args = [cli, role];
  const child = canPin
    ? spawn('taskset', ['-c', String(index % cores), process.execPath, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk) => {
      buffered += chunk;
      for (const line of buffered.split('\n')) {
        if (!line.includes('"reprise is listening"')) continue;
        child.stdout.off('data', onData);
        child.stdout.resume(); // later log lines are read and dropped
        resolve({ child, url: JSON.parse(line).url });
        return;
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`reprise ${role} exited with ${code} before listening`)));
  });
}

const stopAll = (children) => Promise.all(children.map((child) => stopChild(child)));
const cpuOf = (children) => children.reduce((sum, child) => sum + cpuMicros(child.pid), 0);

// ---- tasks accepted -------------------------------------------------------------------------
const account = await runCli(['accounts', 'create', '--name', 'scale', '--credits', '1000000000', '--webhook-key'], env);
const generate = JSON.stringify({
  prompt: 'jazz piano, brushed drums',
  customMode: false,
  instrumental: true,
  model: 'V4_5',
  // Never called: API processes render nothing, so these tasks owe no callback during the bench.
  callBackUrl: 'http://127.0.0.1:9/cb',
});

async function acceptedPerSecond(count) {
  const servers = await Promise.all(Array.from({ length: count }, (_, i) => startReprise('api', i)));
  const children = servers.map((s) => s.child);
  const load = (duration) =>
    Promise.all(
      servers.map(({ url }) =>
        runCannon({
          url: `${url}/api/v1/generate`,
          method: 'POST',
          headers: { authorization: `Bearer ${account.apiKey}`, 'content-type': 'application/json' },
          body: generate,
          duration,
        }),
      ),
    );
  await load(1); // warm-up, not counted
  const [cpuBefore, backendBefore] = [cpuOf(children), await backendMicros()];
  const results = await load(SECONDS);
  const [cpuAfter, backendAfter] = [cpuOf(children), await backendMicros()];
  await stopAll(children);
  const refused = results.reduce((sum, r) => sum + r.non2xx, 0);
  if (refused > 0) throw new Error(`${refused} submissions were refused`);
  const accepted = results.reduce((sum, r) => sum + r['2xx'], 0);
  return { rate: accepted / SECONDS, cpu: (cpuAfter - cpuBefore) / accepted, backend: (backendAfter - backendBefore) / accepted };
}

// ---- callbacks delivered --------------------------------------------------------------------
const { child: receiver, port: receiverPort } = await startChild([path.join(root, 'bench/receiver.mjs')]);
const callbackUrl = `http://127.0.0.1:${receiverPort}/callback`;
const payload = JSON.stringify({
  code: 200,
  msg: 'All generated successfully.',
  data: {
    callbackType: 'complete',
    task_id: 'x',
    data: [{ id: 'a', audio_url: 'http://127.0.0.1:3000/files/a.mp3', prompt: 'jazz piano', title: 'T', tags: 'Jazz', duration: 180 }],
  },
});
const FAR = 4_000_000_000_000;

/** Owes CALLBACKS callbacks, due far in the future (tasks and callbacks written in bulk, as the outbox would). */
async function oweCallbacks(round) {
  const now = Date.now();
  await admin.query(`set search_path = ${schema}`);
  await admin.query(
    `insert into tasks (id, account_id, type, status, param, input, parent_music_id, callback_url, price, model, created_at, updated_at, deadline_at, finished_at)
     select 'scale' || $1 || '_' || i, $2, 'GENERATE', 'SUCCESS', '{}', '{}', '', $3, 0, 'V4_5', $4::bigint, $4::bigint, $4::bigint + 600000, $4::bigint from generate_series(1, $5) i`,
    [round, account.accountId, callbackUrl, now, CALLBACKS],
  );
  await admin.query(
    `insert into callbacks (id, task_id, account_id, stage, url, payload, status, attempts, round_attempts, last_error, created_at, updated_at, delivered_at, due_at, leased_by)
     select 'msg_scale' || $1 || '_' || i, 'scale' || $1 || '_' || i, $2, 'complete', $3, $4, 'pending', 0, 0, null, $5, $5, null, $6, null from generate_series(1, $7) i`,
    [round, account.accountId, callbackUrl, payload, now, FAR, CALLBACKS],
  );
}

let round = 0;
async function deliveredPerSecond(count) {
  round++;
  await oweCallbacks(round);
  const servers = await Promise.all(Array.from({ length: count }, (_, i) => startReprise('dispatcher', i)));
  const children = servers.map((s) => s.child);
  await sleep(500);
  const [cpuBefore, backendBefore] = [cpuOf(children), await backendMicros()];
  const started = performance.now();
  // Everything due at once, and every dispatcher told (LISTEN/NOTIFY) rather than left to its poll.
  await admin.query(`update callbacks set due_at = $1 where status = 'pending' and due_at = $2`, [Date.now(), FAR]);
  await admin.query(`select pg_notify('reprise_callbacks', '')`);
  for (;;) {
    await sleep(100);
    const { rows } = await admin.query(`select count(*)::int as left from callbacks where status = 'pending' and id like $1`, [`msg_scale${round}\\_%`]);
    if (rows[0].left === 0) break;
  }
  const seconds = (performance.now() - started) / 1000;
  const [cpuAfter, backendAfter] = [cpuOf(children), await backendMicros()];
  await stopAll(children);
  return { rate: CALLBACKS / seconds, cpu: (cpuAfter - cpuBefore) / CALLBACKS, backend: (backendAfter - backendBefore) / CALLBACKS };
}

// ---- runs -----------------------------------------------------------------------------------
console.log(
  `${cores} cores; ${canPin ? `process i pinned to core i mod ${cores}` : 'taskset not available: processes not pinned'}; load generator, receiver and PostgreSQL unpinned`,
);
const rows = { tasks: new Map(), callbacks: new Map() };
for (let r = 0; r < ROUNDS; r++) {
  // Alternating order within the run, so that a drift of the machine's other load favours no count.
  const order = r % 2 === 0 ? PROCESSES : [...PROCESSES].reverse();
  for (const count of order) {
    const tasks = await acceptedPerSecond(count);
    const callbacks = await deliveredPerSecond(count);
    for (const [kind, figure] of [
      ['tasks', tasks],
      ['callbacks', callbacks],
    ]) {
      if (!rows[kind].has(count)) rows[kind].set(count, []);
      rows[kind].get(count).push(figure);
    }
    console.log(
      `round ${r + 1}, ${count} process(es): ${tasks.rate.toFixed(0)} tasks/s (reprise ${tasks.cpu.toFixed(0)} µs + database ${tasks.backend.toFixed(0)} µs CPU per task); ` +
        `${callbacks.rate.toFixed(0)} callbacks/s (reprise ${callbacks.cpu.toFixed(0)} µs + database ${callbacks.backend.toFixed(0)} µs CPU per callback)`,
    );
  }
}
const mean = (figures, key) => figures.reduce((sum, f) => sum + f[key], 0) / figures.length;
for (const kind of ['tasks', 'callbacks']) {
  const one = mean(rows[kind].get(1), 'rate');
  const line = PROCESSES.map(
    (count) => `${count}: ${mean(rows[kind].get(count), 'rate').toFixed(0)}/s (×${(mean(rows[kind].get(count), 'rate') / one).toFixed(2)})`,
  );
  console.log(`SCALE ${kind} (mean of ${ROUNDS} rounds): ${line.join(', ')}`);
}
await stopChild(receiver);
await admin.query('set search_path = public');
await admin.query(`drop schema ${schema} cascade`);
await admin.end();
