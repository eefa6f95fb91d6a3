/**
 * Builds test-vectors/webhooks.json, deterministically: fixed keys, fixed
 * times, and Ed25519 is deterministic. `vectors.test.ts` checks the committed
 * file equals this output, so the file and its generator cannot drift.
 * Regenerate: npx tsx packages/sdk/test/vectors/generate.ts
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { signKieWebhook, signStandardWebhook } from '../../src/index.js';

type HeaderValue = string | string[];

export interface VectorCase {
  name: string;
  description: string;
  scheme: 'standard' | 'kie';
  keys: string[];
  now: number;
  toleranceSeconds?: number;
  headers: Record<string, HeaderValue>;
  body?: string;
  bodyBase64?: string;
  lenient?: true;
  expect: { valid: true; version?: 'v1' | 'v1a'; taskId?: string; taskIdKey?: 'data.task_id' | 'data.taskId' | 'task_id' } | { valid: false; error: string };
}

export interface VectorFile {
  format: string;
  description: string;
  schemes: Record<string, string>;
  fields: Record<string, string>;
  errors: Record<string, string>;
  cases: VectorCase[];
}

// ---------------------------------------------------------------------------
// Keys.

/** The v1 known-answer test every Standard Webhooks library uses. */
const KAT = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  v1: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
/** Svix's v1a known answer (svix-webhooks worker.rs test_asymmetric_key_signing). */
const SVIX = {
  signingKey: 'whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==',
  publicKey: 'whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=',
  v1a: 'v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==',
};

const bytesSecret = (length: number, salt: string) => `whsec_${createHash('sha256').update(salt).digest().subarray(0, length).toString('base64')}`;
/** reprise's format: whsec_ + base64 of 32 bytes (one '=' of padding). */
const SECRET = bytesSecret(32, 'reprise test vectors: account secret');
const OLD_SECRET = bytesSecret(32, 'reprise test vectors: previous secret');
const OTHER_SECRET = bytesSecret(32, 'reprise test vectors: someone else');
/** 31 bytes: two '=' of padding. */
const SECRET_31 = bytesSecret(31, 'reprise test vectors: 31-byte secret');
const KIE_PLAIN_SECRET = 'kie-dashboard-webhook-key-5f2c9a';

function ed25519Pair(label: string): { signingKey: string; publicKey: string } {
  const seed = createHash('sha256').update(label).digest();
  const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  const raw = Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x ?? '', 'base64url');
  return { signingKey: `whsk_${Buffer.concat([seed, raw]).toString('base64')}`, publicKey: `whpk_${raw.toString('base64')}` };
}
const ED = ed25519Pair('reprise test vectors: ed25519');
const ED_OTHER = ed25519Pair('reprise test vectors: ed25519, someone else');

// ---------------------------------------------------------------------------
// Messages.

const NOW = 1767225600; // 2026-01-01T00:00:00Z
const TASK_ID = '2fac0c1d9e8b4a7f9c3e5d6b7a8f9f72';
const ID = 'msg_mwxw02sf7c5921a05db7a8b7';

const completeBody = JSON.stringify({
  code: 200,
  msg: 'All generated successfully.',
  data: {
    callbackType: 'complete',
    task_id: TASK_ID,
    data: [
      {
        id: 'e2310f4a-6c1b-4d1e-9a7b-3f1c8cadc7dc',
        audio_url: 'https://music.example/files/Yq3v8kP2.mp3',
        stream_audio_url: 'https://music.example/files/Yq3v8kP2/stream',
        image_url: 'https://music.example/files/Zr5w1mQ8.jpeg',
        prompt: 'A calm and relaxing piano track.',
        model_name: 'chirp-v3-5',
        title: 'Relaxing Piano',
        tags: 'Jazz',
        createTime: '2025-01-01 00:00:00',
        duration: 198.44,
      },
    ],
  },
});
const errorBody = JSON.stringify({
  code: 531,
  msg: 'Generation failed, credits refunded',
  data: { callbackType: 'error', task_id: TASK_ID, error: 'the engine failed' },
});
const unicodeBody = JSON.stringify({
  code: 200,
  msg: 'All generated successfully.',
  data: {
    callbackType: 'complete',
    task_id: TASK_ID,
    data: [{ id: 'a1', title: 'Café ☕ — 日本語のうた 🎵', prompt: 'ñandú, Ærøskøbing, Привет', tags: 'Chanson' }],
  },
});

// The other families: each keeps its task id under its own key.
const UPLOAD_COVER_TASK_ID = '7245a04838ef2ae104971e7e164a5e0b';
const COVER_IMAGE_TASK_ID = '21aee3c3c2a01fa5e030b3799fa4dd56';
const MIDI_TASK_ID = '5c79be8e0c2a4d1fb0a1e6f3d2c4b9a7';
const LYRICS_TASK_ID = 'e5d2b14c95a93b325215f4490867d8c6';
const WAV_TASK_ID = '988e0c2ad1f04b7e9a3c5d6f7e8ac8d3';
/** Upload-cover (and upload-extend, add-vocals): music tracks plus the uploaded source's URLs; id at data.task_id. */
const sourcedBody = JSON.stringify({
  code: 200,
  msg: 'All generated successfully.',
  data: {
    callbackType: 'complete',
    task_id: UPLOAD_COVER_TASK_ID,
    data: [
      {
        id: '8551f8a2-6b7e-4c0b-9d1a-2f3e4d5c6b7a',
        audio_url: 'https://music.example/files/Hc7n2Lq9.mp3',
        source_audio_url: 'https://uploads.example/song.mp3',
        stream_audio_url: 'https://music.example/files/Hc7n2Lq9/stream',
        source_stream_audio_url: 'https://uploads.example/song/stream',
        image_url: 'https://music.example/files/Pw4k8Rt1.jpeg',
        source_image_url: 'https://uploads.example/song.jpeg',
        prompt: '[Verse] Neon rain on the boulevard',
        model_name: 'chirp-v5',
        title: 'Cover Take',
        tags: 'Synthwave',
        createTime: '2026-01-01 00:00:00',
        duration: 184.2,
      },
    ],
  },
});
/** KIE's other failure body: data.data null, the reason in msg only. */
const failureNullBody = JSON.stringify({
  code: 501,
  msg: 'Audio generation failed.',
  data: { callbackType: 'error', task_id: UPLOAD_COVER_TASK_ID, data: null },
});
/** Cover art: the id is camelCase data.taskId. */
const coverImageBody = JSON.stringify({
  code: 200,
  msg: 'success',
  data: { taskId: COVER_IMAGE_TASK_ID, images: ['https://music.example/files/Cv1a.png', 'https://music.example/files/Cv1b.png'] },
});
/** Lyrics: text items instead of tracks; the id is data.task_id. */
const lyricsBody = JSON.stringify({
  code: 200,
  msg: 'All generated successfully.',
  data: {
    callbackType: 'complete',
    task_id: LYRICS_TASK_ID,
    data: [
      { text: '[Verse]\nMorning in the coffee light', title: 'Coffee Light', status: 'complete', error_message: '' },
      { text: '[Verse]\nFollow morning to the day', title: 'To the Day', status: 'complete', error_message: '' },
    ],
  },
});
/** WAV: one URL, camelCase, beside a snake_case data.task_id. */
const wavBody = JSON.stringify({ code: 200, msg: 'success', data: { audioWavUrl: 'https://music.example/files/Wv1.wav', task_id: WAV_TASK_ID } });
/** MIDI: the id is at the top level. */
const topLevelBody = JSON.stringify({ task_id: MIDI_TASK_ID, code: 200, msg: 'success', data: { state: 'complete', instruments: [] } });

function sign(id: string, timestamp: number, body: string | Uint8Array, keys: string[]) {
  return signStandardWebhook({ id, timestamp, body, keys });
}
const only = (signature: string, version: string) => signature.split(' ').find((s) => s.startsWith(`${version},`)) ?? '';
const signatureValue = (signature: string) => signature.slice(signature.indexOf(',') + 1);

// ---------------------------------------------------------------------------

export function buildVectors(): VectorFile {
  const cases: VectorCase[] = [];
  const ok = (version: 'v1' | 'v1a') => ({ valid: true as const, version });
  const fail = (error: string) => ({ valid: false as const, error });
  const add = (c: VectorCase) => cases.push(c);

  // Known answers, checked against the published values.
  const kat = sign(KAT.id, KAT.timestamp, KAT.body, [KAT.secret]);
  if (kat['webhook-signature'] !== KAT.v1) throw new Error('the SDK does not reproduce the upstream v1 known answer');
  const svix = sign(KAT.id, KAT.timestamp, KAT.body, [SVIX.signingKey]);
  if (svix['webhook-signature'] !== SVIX.v1a) throw new Error('the SDK does not reproduce the Svix v1a known answer');
  const katCase = { scheme: 'standard' as const, now: KAT.timestamp, body: KAT.body };

  add({
    ...katCase,
    name: 'v1-known-answer',
    description: 'The v1 known answer of every Standard Webhooks library (24-byte key).',
    keys: [KAT.secret],
    headers: { ...kat },
    expect: ok('v1'),
  });
  add({
    ...katCase,
    name: 'v1-secret-without-prefix',
    description: 'The same secret without "whsec_": the prefix is optional.',
    keys: [KAT.secret.slice(6)],
    headers: { ...kat },
    expect: ok('v1'),
  });
  add({
    ...katCase,
    name: 'v1a-known-answer',
    description: "Svix's v1a (Ed25519) known answer; the verifier holds only the whpk_ public key.",
    keys: [SVIX.publicKey],
    headers: { ...svix },
    expect: ok('v1a'),
  });

  const complete = sign(ID, NOW, completeBody, [SECRET]);
  const base = { scheme: 'standard' as const, now: NOW, body: completeBody };
  add({
    ...base,
    name: 'v1-reprise-complete-callback',
    description: 'A replace-section "complete" callback signed as reprise signs it (32-byte whsec_ secret).',
    keys: [SECRET],
    headers: { ...complete },
    expect: ok('v1'),
  });
  add({
    ...base,
    name: 'v1-secret-without-padding',
    description: 'The secret with its "=" padding removed decodes to the same key.',
    keys: [SECRET.replace(/=+$/, '')],
    headers: { ...complete },
    expect: ok('v1'),
  });
  add({
    ...base,
    name: 'v1-secret-without-prefix-or-padding',
    description: 'Neither "whsec_" nor padding.',
    keys: [SECRET.slice(6).replace(/=+$/, '')],
    headers: { ...complete },
    expect: ok('v1'),
  });
  const s31 = sign(ID, NOW, completeBody, [SECRET_31]);
  add({
    ...base,
    name: 'v1-31-byte-secret-without-double-padding',
    description: 'A 31-byte secret needs "=="; without it, it must still decode.',
    keys: [SECRET_31.replace(/=+$/, '')],
    headers: { ...s31 },
    expect: ok('v1'),
  });
  add({
    ...base,
    name: 'v1-error-callback',
    description: 'A failure callback (code 531).',
    body: errorBody,
    keys: [SECRET],
    headers: { ...sign(ID, NOW, errorBody, [SECRET]) },
    expect: ok('v1'),
  });
  add({
    ...base,
    name: 'v1-upload-cover-callback',
    description: 'An upload-cover callback: music tracks with source_audio_url, source_stream_audio_url and source_image_url.',
    body: sourcedBody,
    keys: [SECRET],
    headers: { ...sign(ID, NOW, sourcedBody, [SECRET]) },
    expect: ok('v1'),
  });
  add({
    ...base,
    name: 'v1-cover-image-callback',
    description: 'A cover-image callback ({code, msg, data: {taskId, images}}): Standard Webhooks signs the body whatever its family.',
    body: coverImageBody,
    keys: [SECRET],
    headers: { ...sign(ID, NOW, coverImageBody, [SECRET]) },
    expect: ok('v1'),
  });
  const ed = sign(ID, NOW, completeBody, [ED.signingKey]);
  add({
    ...base,
    name: 'v1a-reprise-test-keypair',
    description: `v1a with this file's own Ed25519 pair (signing key ${ED.signingKey}).`,
    keys: [ED.publicKey],
    headers: { ...ed },
    expect: ok('v1a'),
  });

  // Rotation: the sender signs with the old and the new secret.
  const rotated = sign(ID, NOW, completeBody, [SECRET, OLD_SECRET]);
  add({
    ...base,
    name: 'rotation-verifier-has-new-key',
    description: 'Key rotation: two v1 signatures; the receiver already has the new secret.',
    keys: [SECRET],
    headers: { ...rotated },
    expect: ok('v1'),
  });
  add({
    ...base,
    name: 'rotation-verifier-has-old-key',
    description: 'Key rotation: the receiver still has the old secret.',
    keys: [OLD_SECRET],
    headers: { ...rotated },
    expect: ok('v1'),
  });
  add({
    ...base,
    name: 'rotation-verifier-has-both-keys',
    description: 'The receiver trusts old and new; the sender signs with the new one only.',
    keys: [OLD_SECRET, SECRET],
    headers: { ...complete },
    expect: ok('v1'),
  });

  const v1 = complete['webhook-signature'];
  const v1Value = signatureValue(v1);
  add({
    ...base,
    name: 'unknown-version-skipped',
    description: 'A "v2" entry before the valid v1 one is skipped.',
    keys: [SECRET],
    headers: { ...complete, 'webhook-signature': `v2,${v1Value} ${v1}` },
    expect: ok('v1'),
  });
  add({
    ...base,
    name: 'mixed-v1a-and-v1-hmac-receiver',
    description: 'v1a and v1 entries; a receiver with only the HMAC secret uses the v1 one.',
    keys: [SECRET],
    headers: { ...complete, 'webhook-signature': `${ed['webhook-signature']} ${v1}` },
    expect: ok('v1'),
  });
  add({
    ...base,
    name: 'mixed-wrong-v1-and-good-v1a',
    description: 'A v1 entry that does not match and a v1a that does; the receiver trusts the public key.',
    keys: [ED.publicKey, OTHER_SECRET],
    headers: { ...complete, 'webhook-signature': `${v1} ${ed['webhook-signature']}` },
    expect: ok('v1a'),
  });

  const unicode = sign(ID, NOW, unicodeBody, [SECRET]);
  add({
    ...base,
    name: 'non-ascii-utf8-body',
    description: 'Accents, CJK and an emoji: the signature covers the UTF-8 bytes.',
    body: unicodeBody,
    keys: [SECRET],
    headers: { ...unicode },
    expect: ok('v1'),
  });
  add({
    ...base,
    name: 'empty-body',
    description: 'An empty body signs as "<id>.<timestamp>." alone.',
    body: '',
    keys: [SECRET],
    headers: { ...sign(ID, NOW, '', [SECRET]) },
    expect: ok('v1'),
  });
  const binary = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x80, 0x7d]);
  add({
    ...base,
    name: 'non-utf8-body-bytes',
    description: 'Bytes that are not UTF-8: the signature covers bytes, whatever they are. Libraries that turn the body into a string first cannot verify it.',
    body: undefined,
    bodyBase64: binary.toString('base64'),
    keys: [SECRET],
    headers: { ...sign(ID, NOW, binary, [SECRET]) },
    lenient: true,
    expect: ok('v1'),
  });

  add({
    ...base,
    name: 'timestamp-300s-old',
    description: 'Exactly at the 5-minute tolerance in the past: accepted.',
    keys: [SECRET],
    headers: { ...sign(ID, NOW - 300, completeBody, [SECRET]) },
    expect: ok('v1'),
  });
  add({
    ...base,
    name: 'timestamp-300s-ahead',
    description: 'Exactly at the tolerance in the future: accepted.',
    keys: [SECRET],
    headers: { ...sign(ID, NOW + 300, completeBody, [SECRET]) },
    expect: ok('v1'),
  });
  add({
    ...base,
    name: 'custom-tolerance-600s',
    description: 'A receiver configured for 600 s accepts 599 s.',
    toleranceSeconds: 600,
    keys: [SECRET],
    headers: { ...sign(ID, NOW - 599, completeBody, [SECRET]) },
    lenient: true,
    expect: ok('v1'),
  });

  add({
    ...base,
    name: 'signature-without-padding',
    description: 'The base64 signature without its trailing "=".',
    keys: [SECRET],
    headers: { ...complete, 'webhook-signature': v1.replace(/=+$/, '') },
    lenient: true,
    expect: ok('v1'),
  });
  add({
    ...base,
    name: 'header-names-mixed-case',
    description: 'HTTP header names are case-insensitive.',
    keys: [SECRET],
    headers: { 'Webhook-Id': complete['webhook-id'], 'WEBHOOK-TIMESTAMP': complete['webhook-timestamp'], 'Webhook-Signature': v1 },
    expect: ok('v1'),
  });
  const wrongV1 = only(sign(ID, NOW, completeBody, [OTHER_SECRET])['webhook-signature'], 'v1');
  add({
    ...base,
    name: 'signature-header-repeated',
    description: 'Two webhook-signature header lines (a JSON array here): every entry of every line is a candidate.',
    keys: [SECRET],
    headers: { ...complete, 'webhook-signature': [wrongV1, v1] },
    lenient: true,
    expect: ok('v1'),
  });
  add({
    ...base,
    name: 'signature-header-comma-joined',
    description: 'Repeated lines joined by a proxy or Node as "a, b": the trailing comma of an entry is ignored.',
    keys: [SECRET],
    headers: { ...complete, 'webhook-signature': `${wrongV1}, ${v1}` },
    lenient: true,
    expect: ok('v1'),
  });
  add({
    ...base,
    name: 'signatures-separated-by-several-spaces',
    description: 'Runs of spaces between entries.',
    keys: [SECRET],
    headers: { ...complete, 'webhook-signature': `v2,abc   ${v1}` },
    expect: ok('v1'),
  });

  // Failures.
  const nope = fail('no_matching_signature');
  add({
    ...base,
    name: 'tampered-body',
    description: 'One character of the body changed after signing.',
    body: completeBody.replace('Relaxing Piano', 'Relaxing Piana'),
    keys: [SECRET],
    headers: { ...complete },
    expect: nope,
  });
  add({
    ...base,
    name: 're-serialised-json',
    description: "The receivers' classic mistake: the body parsed and serialised again (here with spaces) no longer matches the signed bytes.",
    body: JSON.stringify(JSON.parse(completeBody), null, 1),
    keys: [SECRET],
    headers: { ...complete },
    expect: nope,
  });
  add({ ...base, name: 'tampered-id', description: 'webhook-id changed.', keys: [SECRET], headers: { ...complete, 'webhook-id': `${ID}x` }, expect: nope });
  add({
    ...base,
    name: 'tampered-timestamp',
    description: 'webhook-timestamp moved by one second (still fresh).',
    keys: [SECRET],
    headers: { ...complete, 'webhook-timestamp': String(NOW + 1) },
    expect: nope,
  });
  add({ ...base, name: 'wrong-key', description: "Signed with another account's secret.", keys: [OTHER_SECRET], headers: { ...complete }, expect: nope });
  add({
    ...base,
    name: 'timestamp-301s-old',
    description: 'One second past the tolerance.',
    keys: [SECRET],
    headers: { ...sign(ID, NOW - 301, completeBody, [SECRET]) },
    expect: fail('timestamp_too_old'),
  });
  add({
    ...base,
    name: 'timestamp-301s-ahead',
    description: 'One second past the tolerance, in the future.',
    keys: [SECRET],
    headers: { ...sign(ID, NOW + 301, completeBody, [SECRET]) },
    expect: fail('timestamp_too_new'),
  });
  add({
    ...base,
    name: 'custom-tolerance-60s',
    description: 'A receiver configured for 60 s refuses 61 s.',
    toleranceSeconds: 60,
    keys: [SECRET],
    headers: { ...sign(ID, NOW - 61, completeBody, [SECRET]) },
    expect: fail('timestamp_too_old'),
  });
  const without = (name: string) => Object.fromEntries(Object.entries(complete).filter(([key]) => key !== name));
  add({ ...base, name: 'missing-id', description: 'No webhook-id.', keys: [SECRET], headers: without('webhook-id'), expect: fail('missing_header') });
  add({
    ...base,
    name: 'missing-timestamp',
    description: 'No webhook-timestamp.',
    keys: [SECRET],
    headers: without('webhook-timestamp'),
    expect: fail('missing_header'),
  });
  add({
    ...base,
    name: 'missing-signature',
    description: 'No webhook-signature.',
    keys: [SECRET],
    headers: without('webhook-signature'),
    expect: fail('missing_header'),
  });
  add({
    ...base,
    name: 'empty-signature',
    description: 'An empty webhook-signature counts as missing.',
    keys: [SECRET],
    headers: { ...complete, 'webhook-signature': '' },
    expect: fail('missing_header'),
  });
  const badTimestamp = (name: string, value: string, description: string) =>
    add({ ...base, name, description, keys: [SECRET], headers: { ...complete, 'webhook-timestamp': value }, expect: fail('invalid_timestamp') });
  badTimestamp('timestamp-not-a-number', 'yesterday', 'Not a number.');
  badTimestamp('timestamp-trailing-garbage', `${NOW}abc`, 'Digits then letters: parseInt would accept it; a verifier must not.');
  badTimestamp('timestamp-with-decimals', `${NOW}.0`, 'Seconds are an integer.');
  badTimestamp('timestamp-negative', `-${NOW}`, 'A negative time.');
  badTimestamp('timestamp-scientific', '1.7e9', 'Exponent notation.');
  badTimestamp('timestamp-comma-joined', `${NOW}, ${NOW}`, 'Two timestamp lines joined by a proxy: not one integer.');
  add({
    ...base,
    name: 'timestamp-header-repeated',
    description: 'Two webhook-timestamp lines: which one was signed is ambiguous.',
    keys: [SECRET],
    headers: { ...complete, 'webhook-timestamp': [String(NOW), String(NOW)] },
    expect: fail('malformed_header'),
  });
  add({
    ...base,
    name: 'id-header-repeated',
    description: 'Two webhook-id lines.',
    keys: [SECRET],
    headers: { ...complete, 'webhook-id': [ID, 'msg_other'] },
    expect: fail('malformed_header'),
  });
  add({
    ...base,
    name: 'id-with-space',
    description: 'A webhook-id with a space: ids are visible ASCII only.',
    keys: [SECRET],
    headers: { ...sign('msg 1', NOW, completeBody, [SECRET]) },
    expect: fail('malformed_header'),
  });
  add({
    ...base,
    name: 'only-unknown-versions',
    description: 'The right HMAC labelled "v2": unknown versions are skipped, nothing is left.',
    keys: [SECRET],
    headers: { ...complete, 'webhook-signature': `v2,${v1Value}` },
    expect: nope,
  });
  add({
    ...base,
    name: 'truncated-signature',
    description: '"v1," with nothing after it.',
    keys: [SECRET],
    headers: { ...complete, 'webhook-signature': 'v1,' },
    expect: nope,
  });
  add({
    ...base,
    name: 'signature-without-version',
    description: 'The right value without "v1,".',
    keys: [SECRET],
    headers: { ...complete, 'webhook-signature': v1Value },
    expect: nope,
  });
  add({
    ...base,
    name: 'signature-truncated-by-one-char',
    description: 'The right value missing its last character.',
    keys: [SECRET],
    headers: { ...complete, 'webhook-signature': v1.slice(0, -2) },
    expect: nope,
  });
  add({
    ...base,
    name: 'v1a-labelled-v1',
    description: 'An Ed25519 signature presented as v1.',
    keys: [SECRET, ED.publicKey],
    headers: { ...complete, 'webhook-signature': `v1,${signatureValue(ed['webhook-signature'])}` },
    expect: nope,
  });
  add({
    ...base,
    name: 'v1-labelled-v1a',
    description: 'An HMAC presented as v1a.',
    keys: [SECRET, ED.publicKey],
    headers: { ...complete, 'webhook-signature': `v1a,${v1Value}` },
    expect: nope,
  });
  add({
    ...base,
    name: 'v1a-wrong-public-key',
    description: 'v1a verified with another public key.',
    keys: [ED_OTHER.publicKey],
    headers: { ...ed },
    expect: nope,
  });
  add({
    ...base,
    name: 'v1a-tampered-body',
    description: 'v1a over a body changed after signing.',
    body: completeBody.replace('198.44', '198.45'),
    keys: [ED.publicKey],
    headers: { ...ed },
    expect: nope,
  });
  add({
    ...base,
    name: 'non-ascii-body-misdecoded',
    description: 'The UTF-8 body decoded as Latin-1 by the receiver before verifying: the bytes differ, so must the answer.',
    body: Buffer.from(unicodeBody, 'utf8').toString('latin1'),
    keys: [SECRET],
    headers: { ...unicode },
    expect: nope,
  });
  const badKey = (name: string, key: string, description: string) =>
    add({ ...base, name, description, keys: [key], headers: { ...complete }, expect: fail('invalid_key') });
  badKey('key-prefix-only', 'whsec_', 'A secret that is only the prefix.');
  badKey('key-not-base64', 'whsec_not*base64!', 'A secret that is not base64.');
  badKey('key-is-signing-key', ED.signingKey, 'A whsk_ signing key given to a verifier: receivers hold whpk_ public keys only.');
  badKey('key-public-wrong-length', `whpk_${Buffer.alloc(16, 7).toString('base64')}`, 'A whpk_ key of 16 bytes (Ed25519 public keys are 32).');

  // KIE scheme: HMAC(utf8(secret), task_id + "." + timestamp), base64.
  const kieBase = { scheme: 'kie' as const, now: NOW, body: completeBody };
  const kie = signKieWebhook({ secret: SECRET, taskId: TASK_ID, timestamp: NOW });
  add({
    ...kieBase,
    name: 'kie-valid',
    description: "KIE's X-Webhook-Signature with reprise's whsec_ secret used whole, as UTF-8 text.",
    keys: [SECRET],
    headers: { ...kie },
    expect: { valid: true, taskId: TASK_ID },
  });
  const kiePlain = signKieWebhook({ secret: KIE_PLAIN_SECRET, taskId: TASK_ID, timestamp: NOW });
  add({
    ...kieBase,
    name: 'kie-valid-plain-secret',
    description: 'A secret in any format (as KIE.AI hands out) is used as its UTF-8 bytes.',
    keys: [KIE_PLAIN_SECRET],
    headers: { ...kiePlain },
    expect: { valid: true, taskId: TASK_ID },
  });
  add({
    ...kieBase,
    name: 'kie-secret-without-prefix',
    description: 'Stripping "whsec_" changes the KIE key: the whole string is the key.',
    keys: [SECRET.slice(6)],
    headers: { ...kie },
    expect: nope,
  });
  add({
    ...kieBase,
    name: 'kie-other-task-id',
    description: 'The body names another task than the one signed.',
    body: completeBody.replace(TASK_ID, TASK_ID.replace(/^2/, '3')),
    keys: [SECRET],
    headers: { ...kie },
    expect: nope,
  });
  add({
    ...kieBase,
    name: 'kie-body-changed-outside-task-id',
    description: 'The KIE signature does not cover the body beyond task_id: this altered body still verifies. Prefer Standard Webhooks where offered.',
    body: completeBody.replace('https://music.example/files/Yq3v8kP2.mp3', 'https://evil.example/x.mp3'),
    keys: [SECRET],
    headers: { ...kie },
    expect: { valid: true, taskId: TASK_ID },
  });
  add({
    ...kieBase,
    name: 'kie-timestamp-301s-old',
    description: 'Past the tolerance.',
    keys: [SECRET],
    headers: { ...signKieWebhook({ secret: SECRET, taskId: TASK_ID, timestamp: NOW - 301 }) },
    expect: fail('timestamp_too_old'),
  });
  add({
    ...kieBase,
    name: 'kie-missing-signature',
    description: 'No X-Webhook-Signature.',
    keys: [SECRET],
    headers: { 'x-webhook-timestamp': kie['x-webhook-timestamp'] },
    expect: fail('missing_header'),
  });
  add({
    ...kieBase,
    name: 'kie-missing-timestamp',
    description: 'No X-Webhook-Timestamp.',
    keys: [SECRET],
    headers: { 'x-webhook-signature': kie['x-webhook-signature'] },
    expect: fail('missing_header'),
  });
  add({
    ...kieBase,
    name: 'kie-body-not-json',
    description: 'The task id comes from the body; a body that is not JSON cannot be checked.',
    body: 'task_id=2fac',
    keys: [SECRET],
    headers: { ...kie },
    expect: fail('invalid_json'),
  });
  add({
    ...kieBase,
    name: 'kie-body-without-task-id',
    description: 'JSON without data.task_id.',
    body: '{"code":200,"data":{}}',
    keys: [SECRET],
    headers: { ...kie },
    expect: fail('invalid_payload'),
  });
  const kieOld = signKieWebhook({ secret: OLD_SECRET, taskId: TASK_ID, timestamp: NOW });
  add({
    ...kieBase,
    name: 'kie-rotation',
    description: 'The receiver trusts the new and the old secret; this one was signed with the old.',
    keys: [SECRET, OLD_SECRET],
    headers: { ...kieOld },
    expect: { valid: true, taskId: TASK_ID },
  });
  add({
    ...kieBase,
    name: 'kie-header-names-mixed-case',
    description: 'As KIE documents them: X-Webhook-Timestamp, X-Webhook-Signature.',
    keys: [SECRET],
    headers: { 'X-Webhook-Timestamp': kie['x-webhook-timestamp'], 'X-Webhook-Signature': kie['x-webhook-signature'] },
    expect: { valid: true, taskId: TASK_ID },
  });

  // KIE scheme across the families: the signed id is read from whichever key the body carries.
  const kieFamily = (name: string, description: string, body: string, taskId: string, taskIdKey: 'data.task_id' | 'data.taskId' | 'task_id') =>
    add({
      scheme: 'kie',
      now: NOW,
      name,
      description,
      body,
      keys: [SECRET],
      headers: { ...signKieWebhook({ secret: SECRET, taskId, timestamp: NOW }) },
      expect: { valid: true, taskId, taskIdKey },
    });
  kieFamily(
    'kie-upload-cover-tracks-with-source-urls',
    'Upload-cover (also upload-extend, add-vocals): tracks with source_* URLs; the id is data.task_id.',
    sourcedBody,
    UPLOAD_COVER_TASK_ID,
    'data.task_id',
  );
  kieFamily(
    'kie-music-failure-data-null',
    "KIE's other failure body: data.data null, the reason in msg; the id is data.task_id.",
    failureNullBody,
    UPLOAD_COVER_TASK_ID,
    'data.task_id',
  );
  kieFamily('kie-cover-image', 'A cover-image callback: the id is camelCase data.taskId.', coverImageBody, COVER_IMAGE_TASK_ID, 'data.taskId');
  kieFamily(
    'kie-lyrics',
    'A lyrics callback (items {text, title, status, error_message}): the id is data.task_id.',
    lyricsBody,
    LYRICS_TASK_ID,
    'data.task_id',
  );
  kieFamily('kie-wav', 'A WAV callback ({audioWavUrl, task_id}): the id is data.task_id.', wavBody, WAV_TASK_ID, 'data.task_id');
  kieFamily('kie-top-level-task-id', 'A MIDI-style callback: the id is task_id at the top level.', topLevelBody, MIDI_TASK_ID, 'task_id');
  const kieCover = signKieWebhook({ secret: SECRET, taskId: COVER_IMAGE_TASK_ID, timestamp: NOW });
  add({
    scheme: 'kie',
    now: NOW,
    name: 'kie-cover-image-id-under-wrong-key',
    description: 'The cover-image body with its id moved to data.taskID, a key no family uses: there is no task id to check.',
    body: coverImageBody.replace('"taskId"', '"taskID"'),
    keys: [SECRET],
    headers: { ...kieCover },
    expect: fail('invalid_payload'),
  });
  add({
    scheme: 'kie',
    now: NOW,
    name: 'kie-cover-image-signed-over-music-task-id',
    description: "Signed over another task's id (the music task the art is for) instead of the id this body carries.",
    body: coverImageBody,
    keys: [SECRET],
    headers: { ...signKieWebhook({ secret: SECRET, taskId: TASK_ID, timestamp: NOW }) },
    expect: nope,
  });
  add({
    scheme: 'kie',
    now: NOW,
    name: 'kie-two-task-ids',
    description: 'The signed id under data.taskId and another under data.task_id: which task the body is about is ambiguous, so it is refused.',
    body: JSON.stringify({ code: 200, msg: 'success', data: { taskId: COVER_IMAGE_TASK_ID, task_id: TASK_ID, images: [] } }),
    keys: [SECRET],
    headers: { ...kieCover },
    expect: fail('invalid_payload'),
  });

  return {
    format: 'reprise webhook test vectors, version 1',
    description:
      'Language-neutral cases for verifying reprise / KIE.AI callbacks. For each case: give the verifier `keys`, the clock `now` (Unix seconds), the tolerance (`toleranceSeconds`, default 300), ' +
      'the `headers` (a JSON array stands for a header line repeated) and the body (`body` as UTF-8 text, or `bodyBase64` as raw bytes), and compare with `expect`. ' +
      'Cases marked `lenient` are accepted by @reprise/sdk; a strict verifier (e.g. the official standardwebhooks library) may refuse them, and that is acceptable.',
    schemes: {
      standard:
        'Standard Webhooks. Signed content = the webhook-id, ".", the webhook-timestamp, ".", then the body bytes. v1 = base64(HMAC-SHA256(key, content)) where key = base64-decoded secret after an optional "whsec_" (padding optional). ' +
        'v1a = base64(Ed25519 signature of content), verified with the 32-byte public key after "whpk_". webhook-signature holds space-separated "<version>,<base64>" entries; unknown versions are skipped; any match is enough.',
      kie:
        'KIE.AI. X-Webhook-Signature = base64(HMAC-SHA256(UTF-8 bytes of the whole secret string, task id + "." + X-Webhook-Timestamp)), where the task id comes from the JSON body, under the key its family uses: ' +
        'data.task_id (music tracks, WAV, separation, MP4), data.taskId (cover images) or task_id at the top level (MIDI). A body naming two different ids under these keys is refused. The body beyond the task id is not covered.',
    },
    fields: {
      keys: 'Trusted keys: whsec_… or bare base64 (HMAC), whpk_… (Ed25519 public). For the kie scheme, secrets used as text.',
      now: "The verifier's clock, Unix seconds.",
      expect:
        '{valid:true, version} for standard, {valid:true, taskId, taskIdKey?} for kie (taskIdKey: where the body carried the id), or {valid:false, error:<code>}.',
      order:
        'Checks run in a fixed order so that each case has one answer. standard: keys; then webhook-id, webhook-timestamp, webhook-signature in turn (each present, not repeated, not too long); id format; timestamp format; tolerance; signatures. kie: keys; x-webhook-timestamp, x-webhook-signature (same checks); timestamp format; tolerance; JSON; task id; signature.',
    },
    errors: {
      invalid_key: 'A configured key is empty, not base64, of the wrong kind (whsk_ given to a verifier) or length.',
      missing_header: 'A required header is absent or empty.',
      malformed_header: 'webhook-id or webhook-timestamp repeated, a header too long, or an id with characters other than visible ASCII.',
      invalid_timestamp: 'The timestamp is not a non-negative integer of seconds (digits only).',
      timestamp_too_old: 'More than the tolerance in the past.',
      timestamp_too_new: 'More than the tolerance in the future.',
      no_matching_signature: 'No entry of a supported version matches a trusted key.',
      invalid_json: 'kie: the body is not JSON, so its task id cannot be read.',
      invalid_payload: 'kie: the JSON body has no task id string (data.task_id, data.taskId or task_id), or names two different ones.',
    },
    cases,
  };
}

export const VECTORS_PATH = fileURLToPath(new URL('../../test-vectors/webhooks.json', import.meta.url));

export const renderVectors = (): string => `${JSON.stringify(buildVectors(), null, 2)}\n`;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(VECTORS_PATH, renderVectors());
  console.log(`wrote ${buildVectors().cases.length} cases to ${VECTORS_PATH}`);
}
