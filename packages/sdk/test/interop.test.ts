import fc from 'fast-check';
import { WebhookVerificationError as UpstreamError, Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateWebhookSecret, signStandardWebhook, verifyStandardWebhook } from '../src/index.js';
import { bodyOf, loadVectors } from './helpers/vectors.js';

/**
 * Interop with the official `standardwebhooks` library: it accepts what the
 * SDK signs, and the SDK accepts what it signs.
 */
const vectors = loadVectors();

afterEach(() => {
  vi.useRealTimers();
});

/** The library reads the clock itself; freeze it at the case's time. */
function upstreamVerifies(key: string, body: Buffer | string, headers: Record<string, string>, now: number): boolean {
  vi.useFakeTimers({ now: now * 1000, toFake: ['Date'] });
  try {
    new Webhook(key).verify(body, headers, { jsonParse: false });
    return true;
  } catch (error) {
    if (error instanceof UpstreamError) return false;
    throw error;
  } finally {
    vi.useRealTimers();
  }
}

describe('interop with the official standardwebhooks library', () => {
  const positives = vectors.cases.filter((c) => c.scheme === 'standard' && c.expect.valid && c.expect.version === 'v1' && !c.lenient);

  it('covers the positive v1 vectors (all but the lenient ones)', () => {
    expect(positives.length).toBeGreaterThanOrEqual(15);
  });

  it.each(positives.map((c) => [c.name, c] as const))('the library verifies positive vector %s', (_name, c) => {
    const headers = Object.fromEntries(Object.entries(c.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(' ') : value]));
    // The library holds one secret; the vector passes if it verifies with one of the trusted keys.
    expect(c.keys.some((key) => upstreamVerifies(key, bodyOf(c), headers, c.now))).toBe(true);
  });

  it('the library rejects the negative v1 vectors that concern signatures or freshness', () => {
    const negatives = vectors.cases.filter(
      (c) => c.scheme === 'standard' && !c.expect.valid && ['no_matching_signature', 'timestamp_too_old', 'timestamp_too_new'].includes(c.expect.error),
    );
    for (const c of negatives) {
      const headers = Object.fromEntries(Object.entries(c.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(' ') : value]));
      const hmacKeys = c.keys.filter((key) => !key.startsWith('whpk_'));
      if (hmacKeys.length === 0 || c.toleranceSeconds !== undefined) continue;
      expect(
        hmacKeys.some((key) => upstreamVerifies(key, bodyOf(c), headers, c.now)),
        c.name,
      ).toBe(false);
    }
  });

  const message = fc.record({
    id: fc.stringMatching(/^msg_[A-Za-z0-9]{1,40}$/),
    timestamp: fc.integer({ min: 1_000_000_000, max: 4_000_000_000 }),
    body: fc.string({ unit: 'grapheme', maxLength: 300 }),
    secretBytes: fc.uint8Array({ minLength: 16, maxLength: 64 }),
    prefix: fc.boolean(),
  });

  it('the library verifies whatever the SDK signs (random messages and secrets)', () => {
    fc.assert(
      fc.property(message, ({ id, timestamp, body, secretBytes, prefix }) => {
        const secret = `${prefix ? 'whsec_' : ''}${Buffer.from(secretBytes).toString('base64')}`;
        const headers = signStandardWebhook({ id, timestamp, body, keys: [secret] });
        expect(upstreamVerifies(secret, body, { ...headers }, timestamp)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('the SDK verifies whatever the library signs (random messages and secrets)', () => {
    fc.assert(
      fc.property(message, ({ id, timestamp, body, secretBytes, prefix }) => {
        const secret = `${prefix ? 'whsec_' : ''}${Buffer.from(secretBytes).toString('base64')}`;
        const signature = new Webhook(secret).sign(id, new Date(timestamp * 1000), body);
        const headers = { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
        const result = verifyStandardWebhook(body, headers, secret, { now: timestamp * 1000, parseJson: false });
        expect(result.version).toBe('v1');
        expect(verifyStandardWebhook(Buffer.from(body, 'utf8'), headers, secret, { now: timestamp * 1000, parseJson: false }).id).toBe(id);
      }),
      { numRuns: 200 },
    );
  });

  it('the SDK and the library agree on a reprise-format secret, with JSON parsing', () => {
    const secret = generateWebhookSecret();
    const body = JSON.stringify({ code: 200, msg: 'ok', data: { callbackType: 'complete', task_id: 'a'.repeat(32), data: [] } });
    const signature = new Webhook(secret).sign('msg_1', new Date(), body);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': signature };
    expect(verifyStandardWebhook(body, headers, secret).payload).toEqual(new Webhook(secret).verify(body, headers));
  });
});
