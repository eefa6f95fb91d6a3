// bench/hostile: the attacks of issue 15 against one `reprise` API process, with its peak RSS and
// open file descriptors sampled from /proc throughout.
//   1. 50 parallel 100 MB multipart uploads (one per account), then 10 at once from one account:
//      the bodies are WAV files generated on the fly, never held whole in this process either.
//   2. Slow bodies: 20 requests whose body comes one byte every 2 s.
//   3. 200 event streams (SSE) opened by one account.
// Goals (issue 15): peak ≤ 300 MB for the whole process under the 50 uploads, and back to
// idle + 20 MB afterwards. Usage: `npm run build && node bench/hostile.mjs`.
// The server runs as a child of this script (`node bench/hostile.mjs serve`), on SQLite and local
// blob storage in a temporary directory.

import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { startChild, stopChild, tempDir } from './lib.mjs';

const UPLOAD_BYTES = Number(process.env.BENCH_UPLOAD_MB ?? 100) * 1024 * 1024;
const PARALLEL_UPLOADS = Number(process.env.BENCH_UPLOADS ?? 50);
const ACCOUNTS = PARALLEL_UPLOADS + 1;
const SLOW_BODIES = 20;
const SSE_STREAMS = 200;
// Shorter than the default (300 s) for a quicker run, long enough for every upload here to finish.
const REQUEST_TIMEOUT_S = 60;

/** The child: reprise's API (no worker), accounts and one pending task for the event streams. */
async function serve() {
  const { createAccount } = await import('../packages/server/dist/accounts/index.js');
  const { buildApp } = await import('../packages/server/dist/api/app.js');
  const { loadConfig } = await import('../packages/server/dist/config.js');
  const { createServices } = await import('../packages/server/dist/server.js');
  const { submitTask } = await import('../packages/server/dist/tasks/index.js');
  const config = loadConfig({ ...process.env, REPRISE_WORKERS: '0', LOG_LEVEL: 'silent' });
  const services = await createServices(config);
  const app = await buildApp(services, { logger: false });
  const keys = [];
  const ids = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const account = await createAccount(services.store.db, { name: `hostile-${i}`, credits: 1000, webhookKey: false });
    keys.push(account.apiKey);
    ids.push(account.accountId);
  }
  const taskId = await submitTask(
    services.store,
    {
      accountId: ids[0],
      type: 'GENERATE',
      param: '{}',
      input: { kind: 'generate', prompt: 'p', style: 'jazz', title: 'T', negativeTags: '', instrumental: true, customMode: false, durationS: 60 },
      parentMusicId: '',
      callbackUrl: undefined,
      model: 'V4_5',
      price: 0,
    },
    { rateLimit: { max: 10, windowMs: 1000 }, taskTimeoutMs: 3_600_000 },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`LISTENING ${app.server.address().port}\n${JSON.stringify({ keys, taskId })}\n`);
}

/** VmRSS, VmHWM (MB) and open descriptors of a process. */
function sample(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  return { rss: mb('VmRSS'), hwm: mb('VmHWM'), fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

/** Samples every 50 ms until stopped; keeps the peaks. */
function sampler(pid) {
  const peak = { rss: 0, fds: 0 };
  const timer = setInterval(() => {
    try {
      const now = sample(pid);
      peak.rss = Math.max(peak.rss, now.rss);
      peak.fds = Math.max(peak.fds, now.fds);
    } catch {}
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** A 16-bit mono 44.1 kHz WAV of `size` bytes in all, made 64 KiB at a time. */
function* wavChunks(size) {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(size - 8, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(44_100, 24);
  header.writeUInt32LE(88_200, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(size - 44, 40);
  yield header;
  const block = Buffer.alloc(64 * 1024);
  for (let i = 0; i < block.length / 2; i++) block.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 44_100)), i * 2);
  for (let left = size - 44; left > 0; left -= block.length) yield left >= block.length ? block : block.subarray(0, left);
}

/** POSTs a multipart upload of a generated WAV; resolves with the envelope's code. */
function upload(port, apiKey, size) {
  const boundary = `----hostile${Math.random().toString(16).slice(2)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="uploadPath"\r\n\r\nbench\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\nContent-Type: audio/wav\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise((resolve) => {
    const request = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/file-stream-upload',
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': head.length + size + tail.length,
      },
    });
    request.on('response', (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => {
        try {
          resolve(JSON.parse(text).code ?? `HTTP ${response.statusCode}`);
        } catch {
          resolve(response.statusCode);
        }
      });
    });
    // A refusal answered before the body was sent ends the exchange early: that is no failure here.
    request.on('error', () => resolve('closed'));
    Readable.from(
      (function* () {
        yield head;
        yield* wavChunks(size);
        yield tail;
      })(),
    )
      .on('error', () => undefined)
      .pipe(request);
  });
}

/** A request whose body trickles in a byte every 2 s; resolves with how long the server let it live. */
function slowBody(port, apiKey) {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write(
        `POST /api/file-base64-upload HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${apiKey}\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n`,
      ),
    );
    const timer = setInterval(() => socket.writable && socket.write('A'), 2000);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve((Date.now() - started) / 1000);
    });
  });
}

/** Opens an event stream; resolves with 'open' (and keeps it) or the envelope's code. */
function openStream(port, apiKey, taskId, open) {
  return new Promise((resolve) => {
    const request = http.get(
      { host: '127.0.0.1', port, path: `/api/v1/tasks/${taskId}/events`, headers: { authorization: `Bearer ${apiKey}` } },
      (response) => {
        if (response.headers['content-type'] === 'text/event-stream') {
          open.push(request);
          response.resume();
          return resolve('open');
        }
        let text = '';
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolve(JSON.parse(text).code));
      },
    );
    request.on('error', () => resolve('error'));
  });
}

function count(values) {
  const counts = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
const fmt = (mb) => `${mb.toFixed(0)} MB`;

async function settle(pid) {
  // Let the collector and the allocator give back what they will, then read.
  await sleep(5000);
  return sample(pid);
}

/** Where the server's memory is, from its own /metrics: V8 heap (used / total) and memory outside it. */
async function heapOf(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const mb = (name) => Number(new RegExp(`^reprise_${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN) / 1024 / 1024;
  return `V8 heap ${fmt(mb('nodejs_heap_size_used_bytes'))} used of ${fmt(mb('nodejs_heap_size_total_bytes'))}, external ${fmt(mb('nodejs_external_memory_bytes'))}`;
}

async function main() {
  const dataDir = tempDir('hostile');
  const { child, port, line } = await startChild([new URL(import.meta.url).pathname, 'serve'], {
    REPRISE_DATA_DIR: dataDir,
    DATABASE_URL: `sqlite:${path.join(dataDir, 'reprise.sqlite')}`,
    REPRISE_UPLOAD_MAX_BYTES: String(UPLOAD_BYTES + 1024 * 1024),
    REPRISE_REQUEST_TIMEOUT_S: String(REQUEST_TIMEOUT_S),
  });
  const { keys, taskId } = JSON.parse(await line((l) => l.startsWith('{')));
  const pid = child.pid;
  const idle = await settle(pid);
  console.log(`idle: RSS ${fmt(idle.rss)}, ${idle.fds} fds; ${await heapOf(port)}`);

  // 1. Uploads.
  let watch = sampler(pid);
  const started = Date.now();
  const parallel = await Promise.all(Array.from({ length: PARALLEL_UPLOADS }, (_, i) => upload(port, keys[i + 1], UPLOAD_BYTES)));
  const oneAccount = await Promise.all(Array.from({ length: 10 }, () => upload(port, keys[0], UPLOAD_BYTES)));
  let peak = watch.stop();
  const afterUploads = await settle(pid);
  console.log(`uploads: ${PARALLEL_UPLOADS} parallel × ${UPLOAD_BYTES / 1024 / 1024} MB (one per account) → ${JSON.stringify(count(parallel))}`);
  console.log(
    `         10 parallel × ${UPLOAD_BYTES / 1024 / 1024} MB from one account → ${JSON.stringify(count(oneAccount))} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  console.log(`         peak RSS ${fmt(peak.rss)} (goal ≤ 300 MB), peak fds ${peak.fds}`);
  console.log(`         after: RSS ${fmt(afterUploads.rss)} (goal ≤ idle + 20 = ${fmt(idle.rss + 20)}), ${afterUploads.fds} fds; ${await heapOf(port)}`);

  // 2. Slow bodies.
  watch = sampler(pid);
  const lived = await Promise.all(Array.from({ length: SLOW_BODIES }, (_, i) => slowBody(port, keys[i + 1])));
  peak = watch.stop();
  const afterSlow = sample(pid);
  console.log(
    `slow bodies: ${SLOW_BODIES} at 1 byte / 2 s, REPRISE_REQUEST_TIMEOUT_S=${REQUEST_TIMEOUT_S} → all cut after ${Math.min(...lived).toFixed(1)}–${Math.max(...lived).toFixed(1)} s; ` +
      `peak RSS ${fmt(peak.rss)}, fds after ${afterSlow.fds}`,
  );

  // 3. Event streams.
  const before = sample(pid);
  const open = [];
  const answers = [];
  for (let i = 0; i < SSE_STREAMS; i++) answers.push(await openStream(port, keys[0], taskId, open));
  const held = sample(pid);
  console.log(
    `event streams: ${SSE_STREAMS} opened by one account → ${JSON.stringify(count(answers))}; RSS ${fmt(before.rss)} → ${fmt(held.rss)}, fds ${before.fds} → ${held.fds}`,
  );
  for (const request of open) request.destroy();

  const end = await settle(pid);
  console.log(`end: RSS ${fmt(end.rss)}, ${end.fds} fds; process high-water mark (VmHWM) ${fmt(end.hwm)}`);
  await stopChild(child);
}

// Last: the helpers above are defined by now.
if (process.argv[2] === 'serve') await serve();
else await main();
