import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyKieSignature, verifyStandardWebhook, WebhookVerificationError } from '../src/index.js';
import { bodyOf, loadVectors } from './helpers/vectors.js';
import { renderVectors, VECTORS_PATH } from './vectors/generate.js';

const vectors = loadVectors();

function run(c: (typeof vectors.cases)[number]): { version?: string; taskId?: string } {
  const options = { now: c.now * 1000, toleranceSeconds: c.toleranceSeconds };
  if (c.scheme === 'standard') return { version: verifyStandardWebhook(bodyOf(c), c.headers, c.keys, { ...options, parseJson: false }).version };
  return { taskId: verifyKieSignature(bodyOf(c), c.headers, c.keys, options).taskId };
}

describe('test-vectors/webhooks.json', () => {
  it('is what the generator produces (file and generator cannot drift)', () => {
    expect(readFileSync(VECTORS_PATH, 'utf8')).toBe(renderVectors());
  });

  it('has at least 40 cases with unique names, covering both schemes, both versions and every error code', () => {
    expect(vectors.cases.length).toBeGreaterThanOrEqual(40);
    expect(new Set(vectors.cases.map((c) => c.name)).size).toBe(vectors.cases.length);
    const outcomes = new Set(vectors.cases.map((c) => (c.expect.valid ? `${c.scheme}:${c.expect.version ?? 'ok'}` : c.expect.error)));
    for (const needed of ['standard:v1', 'standard:v1a', 'kie:ok', ...Object.keys(vectors.errors)]) expect(outcomes).toContain(needed);
  });

  it.each(vectors.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    if (c.expect.valid) {
      const result = run(c);
      if (c.expect.version) expect(result.version).toBe(c.expect.version);
      if (c.expect.taskId) expect(result.taskId).toBe(c.expect.taskId);
    } else {
      let caught: unknown;
      try {
        run(c);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(WebhookVerificationError);
      expect((caught as WebhookVerificationError).code).toBe(c.expect.error);
    }
  });

  it('gives the same answers when the body is a string instead of bytes (UTF-8 bodies)', () => {
    for (const c of vectors.cases.filter((v) => v.body !== undefined && v.scheme === 'standard')) {
      const options = { now: c.now * 1000, toleranceSeconds: c.toleranceSeconds, parseJson: false };
      const asBytes = (() => {
        try {
          return verifyStandardWebhook(bodyOf(c), c.headers, c.keys, options).version;
        } catch (error) {
          return (error as WebhookVerificationError).code;
        }
      })();
      const asString = (() => {
        try {
          return verifyStandardWebhook(c.body ?? '', c.headers, c.keys, options).version;
        } catch (error) {
          return (error as WebhookVerificationError).code;
        }
      })();
      expect(asString, c.name).toBe(asBytes);
    }
  });
});
