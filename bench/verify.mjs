// bench/verify: @reprise/sdk webhook verification time per 2 KB callback (p50, p99), as a ratio
// to a bare crypto.createHmac over the same signed bytes, measured in the same run and interleaved
// so both see the same CPU conditions. Goal: ≤ 3× for v1.
// Also shown for reference: v1 with JSON parsing, v1 with string keys parsed per call, the KIE
// scheme, and v1a (Ed25519).
// Run `npm run build` first: the SDK is imported from packages/sdk/dist.
import { createHmac, randomBytes } from 'node:crypto';
import {
  generateWebhookKeyPair,
  signKieWebhook,
  signStandardWebhook,
  verifyKieSignature,
  verifyStandardWebhook,
  WebhookKeyring,
} from '../packages/sdk/dist/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const PER_ROUND = Number(process.env.BENCH_PER_ROUND ?? 5_000);
const percentile = (values, p) => values[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];

// A replace-section "complete" callback padded to 2 KB, as a receiver gets it: bytes.
const track = (i) => ({
  id: `e231c8a0-0000-4000-8000-00008cadc7d${i}`,
  audio_url: `https://music.example/files/${'k'.repeat(32)}.mp3`,
  stream_audio_url: `https://music.example/files/${'k'.repeat(32)}/stream`,
  image_url: `https://music.example/files/${'j'.repeat(32)}.jpeg`,
  prompt: 'A calm and relaxing piano track with soft strings in the bridge.',
  model_name: 'reprise-procedural-1',
  title: 'Relaxing Piano',
  tags: 'Jazz, piano, calm',
  createTime: '2026-01-01 00:00:00',
  duration: 198.44,
});
let payload = {
  code: 200,
  msg: 'All generated successfully.',
  data: { callbackType: 'complete', task_id: 'a'.repeat(32), data: [track(0), track(1), track(2)] },
};
let text = JSON.stringify(payload);
payload = { ...payload, pad: 'x'.repeat(Math.max(0, 2048 - text.length - 10)) };
text = JSON.stringify(payload);
const body = Buffer.from(text);

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const key = Buffer.from(secret.slice(6), 'base64');
const keyring = new WebhookKeyring(secret);
const id = 'msg_mwxw02sf7c5921a05db7a8b7';
const timestamp = Math.floor(Date.now() / 1000);
const headers = { 'content-type': 'application/json', ...signStandardWebhook({ id, timestamp, body, keys: [secret] }) };
const signedBytes = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body]);
const pair = generateWebhookKeyPair();
const edKeyring = new WebhookKeyring(pair.publicKey);
const edHeaders = signStandardWebhook({ id, timestamp, body, keys: [pair.signingKey] });
const kieHeaders = signKieWebhook({ secret, taskId: 'a'.repeat(32), timestamp });

const cases = {
  'bare createHmac': () => createHmac('sha256', key).update(signedBytes).digest(),
  'v1 (keyring)': () => verifyStandardWebhook(body, headers, keyring, { parseJson: false }),
  'v1 + JSON.parse': () => verifyStandardWebhook(body, headers, keyring),
  'v1 (string key)': () => verifyStandardWebhook(body, headers, secret, { parseJson: false }),
  'KIE + JSON.parse': () => verifyKieSignature(body, kieHeaders, secret),
  'v1a (Ed25519)': () => verifyStandardWebhook(body, edHeaders, edKeyring, { parseJson: false }),
};
// v1a is ~100× slower; fewer samples keep the run short.
const share = { 'v1a (Ed25519)': 0.05 };

// Sanity: every case verifies before anything is timed.
for (const [name, run] of Object.entries(cases)) if (!run()) throw new Error(`${name} did not verify`);

const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
const timeOne = (run) => {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1000; // µs
};
// Warm-up, then interleaved rounds.
for (const run of Object.values(cases)) for (let i = 0; i < 2_000; i++) run();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(cases)) {
    const count = Math.ceil(PER_ROUND * (share[name] ?? 1));
    const into = samples[name];
    for (let i = 0; i < count; i++) into.push(timeOne(run));
  }
}

const stats = Object.fromEntries(
  Object.entries(samples).map(([name, values]) => {
    values.sort((a, b) => a - b);
    return [name, { p50: percentile(values, 50), p99: percentile(values, 99), n: values.length }];
  }),
);
const base = stats['bare createHmac'];
console.log(`bench/verify: ${body.length}-byte callback, ${ROUNDS} interleaved rounds, Node ${process.version}`);
console.log('case                 p50 µs   p99 µs   ×bare p50  ×bare p99   samples');
for (const [name, s] of Object.entries(stats)) {
  console.log(
    `${name.padEnd(20)} ${s.p50.toFixed(2).padStart(7)}  ${s.p99.toFixed(2).padStart(7)}   ${(s.p50 / base.p50).toFixed(2).padStart(8)}  ${(s.p99 / base.p99).toFixed(2).padStart(9)}   ${String(s.n).padStart(7)}`,
  );
}
const v1 = stats['v1 (keyring)'];
const ratio = Math.max(v1.p50 / base.p50, v1.p99 / base.p99);
console.log(
  `v1 verify vs bare HMAC: p50 ${(v1.p50 / base.p50).toFixed(2)}×, p99 ${(v1.p99 / base.p99).toFixed(2)}× (goal ≤ 3×: ${ratio <= 3 ? 'met' : 'NOT met'})`,
);
