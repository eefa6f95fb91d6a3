import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findTaskId, kieSignature, verifyKieSignature, verifyStandardWebhook, WebhookVerificationError } from '../src/index.js';
import { bodyOf, loadVectors } from './helpers/vectors.js';
import { renderVectors, VECTORS_PATH } from './vectors/generate.js';

const vectors = loadVectors();

function run(c: (typeof vectors.cases)[number]): { version?: string; taskId?: string; taskIdKey?: string } {
  const options = { now: c.now * 1000, toleranceSeconds: c.toleranceSeconds };
  if (c.scheme === 'standard') return { version: verifyStandardWebhook(bodyOf(c), c.headers, c.keys, { ...options, parseJson: false }).version };
  const verified = verifyKieSignature(bodyOf(c), c.headers, c.keys, options);
  return { taskId: verified.taskId, taskIdKey: verified.taskIdKey };
}

const codeOf = (check: () => unknown): string => {
  try {
    check();
    return 'valid';
  } catch (error) {
    return error instanceof WebhookVerificationError ? error.code : String(error);
  }
};

type Json = Record<string, unknown>;

/** The body with its task id taken from `from` and, unless `to` is null, put under `to` (a dotted path). */
function moveTaskId(text: string, from: string, to: string | null): string {
  const body = JSON.parse(text) as Json;
  const holder = (path: string): [Json, string] => {
    const parts = path.split('.');
    const key = parts.pop() ?? '';
    return [parts.reduce((object, part) => object[part] as Json, body), key];
  };
  const [source, key] = holder(from);
  const id = source[key];
  delete source[key];
  if (to !== null) {
    const [target, targetKey] = holder(to);
    target[targetKey] = id;
  }
  return JSON.stringify(body);
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
      if (c.expect.taskIdKey) expect(result.taskIdKey).toBe(c.expect.taskIdKey);
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

  const families = vectors.cases.filter((c) => c.scheme === 'kie' && c.expect.valid && c.expect.taskIdKey !== undefined);

  it('has a signed KIE example for every family key: data.task_id with source_* tracks, data.taskId cover images, top-level task_id', () => {
    expect(new Set(families.map((c) => (c.expect.valid ? c.expect.taskIdKey : null)))).toEqual(new Set(['data.task_id', 'data.taskId', 'task_id']));
    expect(families.some((c) => c.body?.includes('"source_audio_url"') && c.body.includes('"source_image_url"'))).toBe(true);
    expect(families.some((c) => c.body?.includes('"images"'))).toBe(true);
  });

  it.each(families.map((c) => [c.name, c] as const))('%s: signed over the id under its own key; moved to a key no family uses, it fails', (_name, c) => {
    if (!c.expect.valid || !c.expect.taskIdKey || c.body === undefined) throw new Error('not a family vector');
    const lookup = findTaskId(JSON.parse(c.body));
    expect(lookup).toEqual({ taskId: c.expect.taskId, key: c.expect.taskIdKey });
    const timestamp = String(c.headers['x-webhook-timestamp']);
    expect(c.headers['x-webhook-signature']).toBe(kieSignature(c.keys[0] ?? '', c.expect.taskId ?? '', timestamp));
    const options = { now: c.now * 1000 };
    const key = c.expect.taskIdKey;
    const wrongKey = key === 'task_id' ? 'data.taskID' : key.replace(/task_?[iI]d$/, 'taskID');
    expect(codeOf(() => verifyKieSignature(moveTaskId(c.body ?? '', key, wrongKey), c.headers, c.keys, options))).toBe('invalid_payload');
    expect(codeOf(() => verifyKieSignature(moveTaskId(c.body ?? '', key, null), c.headers, c.keys, options))).toBe('invalid_payload');
    // Another task's id under a second family key makes the body ambiguous.
    const other = JSON.parse(c.body) as Json;
    if (key === 'task_id') (other.data as Json).task_id = 'another-task';
    else other.task_id = 'another-task';
    expect(codeOf(() => verifyKieSignature(JSON.stringify(other), c.headers, c.keys, options))).toBe('invalid_payload');
  });
});
