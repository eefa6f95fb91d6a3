import { describe, expect, it } from 'vitest';
import {
  generateWebhookKeyPair,
  generateWebhookSecret,
  signKieWebhook,
  signStandardWebhook,
  verifyKieSignature,
  verifyStandardWebhook,
  WebhookKeyring,
  WebhookVerificationError,
} from '../src/index.js';

const secret = generateWebhookSecret();
const now = 1_767_225_600;
const body = '{"code":200,"msg":"ok","data":{"callbackType":"complete","task_id":"t1","data":[]}}';
const headers = signStandardWebhook({ id: 'msg_1', timestamp: now, body, keys: [secret] });

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    return (error as WebhookVerificationError).code;
  }
  return 'ok';
}

describe('verifyStandardWebhook', () => {
  it('returns the id, timestamp, version and parsed payload', () => {
    expect(verifyStandardWebhook(body, headers, secret, { now: now * 1000 })).toEqual({
      id: 'msg_1',
      timestamp: now,
      version: 'v1',
      payload: JSON.parse(body),
    });
  });

  it('accepts web Headers, Node-style objects and a prebuilt keyring', () => {
    const web = new Headers(headers);
    expect(verifyStandardWebhook(Buffer.from(body), web, new WebhookKeyring(secret), { now: new Date(now * 1000) }).id).toBe('msg_1');
  });

  it('a verified body that is not JSON is a typed invalid_json, never a SyntaxError; parseJson: false skips parsing', () => {
    const h = signStandardWebhook({ id: 'msg_2', timestamp: now, body: 'not json', keys: [secret] });
    expect(codeOf(() => verifyStandardWebhook('not json', h, secret, { now: now * 1000 }))).toBe('invalid_json');
    expect(verifyStandardWebhook('not json', h, secret, { now: now * 1000, parseJson: false }).payload).toBeUndefined();
    const bad = Buffer.from([0xff, 0xfe]);
    const hb = signStandardWebhook({ id: 'msg_3', timestamp: now, body: bad, keys: [secret] });
    expect(codeOf(() => verifyStandardWebhook(bad, hb, secret, { now: now * 1000 }))).toBe('invalid_json');
  });

  it('an empty body verifies to an undefined payload, as in the official library', () => {
    const h = signStandardWebhook({ id: 'msg_4', timestamp: now, body: '', keys: [secret] });
    expect(verifyStandardWebhook('', h, secret, { now: now * 1000 }).payload).toBeUndefined();
  });

  it('the tolerance is configurable, and 0 means the same second only', () => {
    expect(codeOf(() => verifyStandardWebhook(body, headers, secret, { now: (now + 1) * 1000, toleranceSeconds: 0 }))).toBe('timestamp_too_old');
    expect(verifyStandardWebhook(body, headers, secret, { now: (now + 3600) * 1000, toleranceSeconds: 3600 }).id).toBe('msg_1');
    expect(() => verifyStandardWebhook(body, headers, secret, { toleranceSeconds: -1 })).toThrow(TypeError);
  });

  it('v1a: verifies with the public key, and is skipped by a receiver holding only HMAC secrets', () => {
    const pair = generateWebhookKeyPair();
    const h = signStandardWebhook({ id: 'msg_5', timestamp: now, body, keys: [pair.signingKey] });
    expect(verifyStandardWebhook(body, h, pair.publicKey, { now: now * 1000 }).version).toBe('v1a');
    expect(codeOf(() => verifyStandardWebhook(body, h, secret, { now: now * 1000 }))).toBe('no_matching_signature');
    expect(codeOf(() => verifyStandardWebhook(body, h, pair.signingKey, { now: now * 1000 }))).toBe('invalid_key');
  });

  it('refuses an empty key list and non-string keys', () => {
    expect(codeOf(() => verifyStandardWebhook(body, headers, [], { now: now * 1000 }))).toBe('invalid_key');
    expect(codeOf(() => verifyStandardWebhook(body, headers, [42 as unknown as string], { now: now * 1000 }))).toBe('invalid_key');
  });

  it('caps the work per request: too many signatures or an over-long header is malformed', () => {
    const many = Array.from({ length: 33 }, () => 'v1,AAAA').join(' ');
    expect(codeOf(() => verifyStandardWebhook(body, { ...headers, 'webhook-signature': many }, secret, { now: now * 1000 }))).toBe('malformed_header');
    expect(codeOf(() => verifyStandardWebhook(body, { ...headers, 'webhook-signature': `v1,${'A'.repeat(9000)}` }, secret, { now: now * 1000 }))).toBe(
      'malformed_header',
    );
  });

  it('errors name the header concerned', () => {
    try {
      verifyStandardWebhook(body, { ...headers, 'webhook-timestamp': 'x' }, secret);
    } catch (error) {
      expect((error as WebhookVerificationError).header).toBe('webhook-timestamp');
    }
  });
});

describe('verifyKieSignature', () => {
  it('checks task_id + "." + timestamp under the whole secret string and returns the payload', () => {
    const h = signKieWebhook({ secret, taskId: 't1', timestamp: now });
    const result = verifyKieSignature(body, h, secret, { now: now * 1000 });
    expect(result).toEqual({ taskId: 't1', taskIdKey: 'data.task_id', timestamp: now, payload: JSON.parse(body) });
  });

  it("reads the task id wherever the body's family keeps it: data.task_id, data.taskId, top-level task_id", () => {
    const bodies = {
      'data.task_id': '{"code":200,"msg":"ok","data":{"callbackType":"complete","task_id":"t1","data":[]}}',
      'data.taskId': '{"code":200,"msg":"success","data":{"taskId":"t1","images":["https://x/1.png"]}}',
      task_id: '{"task_id":"t1","code":200,"msg":"ok","data":{"state":"complete"}}',
    } as const;
    const h = signKieWebhook({ secret, taskId: 't1', timestamp: now });
    for (const [key, text] of Object.entries(bodies)) {
      expect(verifyKieSignature(text, h, secret, { now: now * 1000 })).toMatchObject({ taskId: 't1', taskIdKey: key });
    }
  });

  it('refuses a body naming two different task ids, or an id under a key no family uses', () => {
    const h = signKieWebhook({ secret, taskId: 't1', timestamp: now });
    const two = '{"code":200,"data":{"taskId":"t1","task_id":"t2","images":[]}}';
    expect(codeOf(() => verifyKieSignature(two, h, secret, { now: now * 1000 }))).toBe('invalid_payload');
    const same = '{"code":200,"data":{"taskId":"t1","task_id":"t1","images":[]}}';
    expect(verifyKieSignature(same, h, secret, { now: now * 1000 }).taskId).toBe('t1');
    const elsewhere = '{"code":200,"data":{"taskID":"t1","images":[]}}';
    expect(codeOf(() => verifyKieSignature(elsewhere, h, secret, { now: now * 1000 }))).toBe('invalid_payload');
    const notText = '{"code":200,"data":{"taskId":7,"images":[]}}';
    expect(codeOf(() => verifyKieSignature(notText, h, secret, { now: now * 1000 }))).toBe('invalid_payload');
  });

  it('the signature is what KIE documents: base64 HMAC-SHA256 with padding', async () => {
    const { createHmac } = await import('node:crypto');
    const h = signKieWebhook({ secret: 'k', taskId: 'abc', timestamp: 1700000000 });
    expect(h['x-webhook-signature']).toBe(createHmac('sha256', 'k').update('abc.1700000000').digest('base64'));
  });

  it('stale and future timestamps are refused like Standard Webhooks ones', () => {
    const h = signKieWebhook({ secret, taskId: 't1', timestamp: now });
    expect(codeOf(() => verifyKieSignature(body, h, secret, { now: (now + 301) * 1000 }))).toBe('timestamp_too_old');
    expect(codeOf(() => verifyKieSignature(body, h, secret, { now: (now - 301) * 1000 }))).toBe('timestamp_too_new');
  });

  it('refuses empty secrets', () => {
    expect(codeOf(() => verifyKieSignature(body, {}, ''))).toBe('invalid_key');
    expect(codeOf(() => verifyKieSignature(body, {}, []))).toBe('invalid_key');
  });
});
