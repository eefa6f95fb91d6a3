import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CallbackPayloadError,
  callbackFamilyOf,
  parseCallbackPayload,
  parseCoverImagePayload,
  parseLyricsPayload,
  parseMarketCallbackPayload,
  parseMusicVideoPayload,
  parseWavPayload,
  signKieWebhook,
  signStandardWebhook,
  verifyKieSignature,
  verifyStandardWebhook,
  WebhookKeyring,
  WebhookVerificationError,
} from '../src/index.js';
import { decodeBase64 } from '../src/webhooks/base64.js';
import { signatureEntries } from '../src/webhooks/signature-header.js';

/**
 * Random input never crashes a verifier or parser: it either succeeds or
 * throws the SDK's typed error. Valid signatures always verify, and any change
 * to what they cover makes them fail.
 */

const SECRET = 'whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
const keyring = new WebhookKeyring([SECRET]);

/** Header values as they come from hostile clients and JS callers: strings, arrays, odd types. */
const headerValue = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.constantFrom('v1,', 'v1a,', ',', ' ', 'v1,====', 'v1a,AAAA', `${'v1,x '.repeat(40)}`, '1614265330', '-1', '1e9', '9'.repeat(40)),
  fc.integer(),
  fc.constant(null),
  fc.constant(undefined),
  fc.object({ maxDepth: 1 }),
);
const headerName = fc.oneof(
  fc.constantFrom('webhook-id', 'webhook-timestamp', 'webhook-signature', 'Webhook-Signature', 'x-webhook-timestamp', 'x-webhook-signature'),
  fc.string(),
);
const headers = fc.dictionary(headerName, headerValue, { maxKeys: 6 });
const body = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.uint8Array({ maxLength: 200 }), fc.json());
const keys = fc.oneof(
  fc.constant(SECRET),
  fc.string(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.constantFrom('whsec_', 'whpk_', 'whsk_', 'whpk_AAAA', 'whsk_AAAA', '==', 'whsec_a'),
);

function typedOnly(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    expect(typeof error.code).toBe('string');
  }
}

describe('property: verifiers never crash', () => {
  it('verifyStandardWebhook: random headers, bodies and keys → a result or a WebhookVerificationError', () => {
    fc.assert(
      fc.property(body, headers, keys, fc.boolean(), (b, h, k, parseJson) => {
        typedOnly(() => verifyStandardWebhook(b as never, h as never, k as never, { parseJson, now: 1614265330_000 }));
      }),
      { numRuns: 1000 },
    );
  });

  it('verifyStandardWebhook: well-formed id and timestamp, random signature header → typed errors only', () => {
    fc.assert(
      fc.property(body, headerValue, fc.integer({ min: -400, max: 400 }), (b, signature, skew) => {
        const h = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(1614265330 + skew), 'webhook-signature': signature };
        typedOnly(() => verifyStandardWebhook(b as never, h as never, keyring, { now: 1614265330_000 }));
      }),
      { numRuns: 1000 },
    );
  });

  it('verifyKieSignature: random input → a result or a WebhookVerificationError', () => {
    fc.assert(
      fc.property(body, headers, keys, (b, h, k) => {
        typedOnly(() => verifyKieSignature(b as never, h as never, k as never));
      }),
      { numRuns: 1000 },
    );
  });

  it('verifyKieSignature: any JSON body with valid-looking headers → typed errors only', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), (value, signature) => {
        const h = { 'x-webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'x-webhook-signature': signature };
        typedOnly(() => verifyKieSignature(JSON.stringify(value) ?? '', h, SECRET));
      }),
      { numRuns: 500 },
    );
  });

  it('signature header parser: any text → entries with a version and a value, or a typed error', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }), { maxLength: 4 }), (values) => {
        typedOnly(() => {
          for (const entry of signatureEntries({ 'webhook-signature': values }, 'webhook-signature')) {
            expect(entry.version).not.toBe('');
            expect(entry.value).not.toBe('');
            expect(entry.version.includes(' ')).toBe(false);
          }
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('base64 decoding: any text → bytes or null; every encoding of bytes (padded or not, URL-safe) decodes back', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const decoded = decodeBase64(text);
        expect(decoded === null || Buffer.isBuffer(decoded)).toBe(true);
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const padded = Buffer.from(bytes).toString('base64');
        for (const text of [padded, padded.replace(/=+$/, ''), Buffer.from(bytes).toString('base64url')]) {
          expect(decodeBase64(text)?.equals(Buffer.from(bytes))).toBe(true);
        }
      }),
    );
  });

  it('parseCallbackPayload: any JSON → a typed payload or a CallbackPayloadError', () => {
    const callbackish = fc.record(
      {
        code: fc.oneof(fc.constant(200), fc.integer(), fc.string()),
        msg: fc.oneof(fc.string(), fc.constant(null)),
        data: fc.record(
          {
            callbackType: fc.oneof(fc.constantFrom('text', 'first', 'complete', 'error'), fc.string()),
            task_id: fc.oneof(fc.stringMatching(/^[0-9a-f]{1,32}$/), fc.integer(), fc.constant('')),
            data: fc.oneof(fc.array(fc.dictionary(fc.constantFrom('id', 'audio_url', 'duration', 'title'), fc.jsonValue())), fc.jsonValue()),
            error: fc.jsonValue(),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), callbackish), (value) => {
        try {
          const payload = parseCallbackPayload(value);
          expect(typeof payload.data.task_id).toBe('string');
        } catch (error) {
          if (!(error instanceof CallbackPayloadError)) throw error;
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('property: the other families’ parsers', () => {
  it('parseMarketCallbackPayload, parseCoverImagePayload, parseLyricsPayload, parseWavPayload, parseMusicVideoPayload: any JSON → a typed payload or a CallbackPayloadError', () => {
    const dataish = fc.record(
      {
        taskId: fc.oneof(fc.stringMatching(/^[0-9a-f]{1,32}$/), fc.integer(), fc.constant('')),
        task_id: fc.oneof(fc.stringMatching(/^[0-9a-f]{1,32}$/), fc.integer()),
        state: fc.oneof(fc.constantFrom('success', 'fail'), fc.string()),
        resultJson: fc.oneof(fc.string(), fc.jsonValue()),
        failCode: fc.oneof(fc.string(), fc.constant(null), fc.integer()),
        failMsg: fc.oneof(fc.string(), fc.constant(null), fc.integer()),
        images: fc.oneof(fc.array(fc.string()), fc.constant(null), fc.jsonValue()),
        audioWavUrl: fc.oneof(fc.string(), fc.constant(null), fc.integer()),
        video_url: fc.oneof(fc.string(), fc.constant(null), fc.integer()),
        data: fc.oneof(fc.array(fc.dictionary(fc.constantFrom('text', 'title', 'status', 'error_message'), fc.jsonValue())), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    const bodyish = fc.record(
      { code: fc.oneof(fc.constant(200), fc.integer(), fc.string()), msg: fc.oneof(fc.string(), fc.constant(null)), data: dataish },
      { requiredKeys: [] },
    );
    const parsers = [parseMarketCallbackPayload, parseCoverImagePayload, parseLyricsPayload, parseWavPayload, parseMusicVideoPayload];
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), bodyish), (value) => {
        for (const parse of parsers) {
          try {
            parse(value);
          } catch (error) {
            if (!(error instanceof CallbackPayloadError)) throw error;
          }
        }
        // Every body is read as some family, never a crash.
        expect(['music', 'cover_image', 'lyrics', 'wav', 'market', 'music_video']).toContain(callbackFamilyOf(value));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('property: signatures', () => {
  const message = fc.record({
    id: fc.stringMatching(/^[\x21-\x7e]{1,64}$/),
    timestamp: fc.integer({ min: 0, max: 2 ** 40 }),
    body: fc.uint8Array({ maxLength: 512 }),
  });

  it('what is signed verifies; flipping any bit of the body, or changing id or timestamp, does not', () => {
    fc.assert(
      fc.property(message, fc.nat(), fc.nat({ max: 7 }), ({ id, timestamp, body: bytes }, index, bit) => {
        const h = signStandardWebhook({ id, timestamp, body: bytes, keys: [SECRET] });
        const now = timestamp * 1000;
        expect(verifyStandardWebhook(bytes, h, keyring, { now, parseJson: false }).id).toBe(id);
        if (bytes.length > 0) {
          const tampered = Uint8Array.from(bytes);
          const at = index % tampered.length;
          tampered[at] = (tampered[at] ?? 0) ^ (1 << bit);
          expect(() => verifyStandardWebhook(tampered, h, keyring, { now, parseJson: false })).toThrow(WebhookVerificationError);
        }
        expect(() => verifyStandardWebhook(bytes, { ...h, 'webhook-timestamp': String(timestamp + 1) }, keyring, { now, parseJson: false })).toThrow(
          /no signature matches/,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('KIE: what is signed verifies for any task id and secret; another task id does not', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1, maxLength: 64 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (secret, taskId, timestamp) => {
          const h = signKieWebhook({ secret, taskId, timestamp });
          const bodyOf = (id: string) => JSON.stringify({ code: 200, data: { task_id: id } });
          expect(verifyKieSignature(bodyOf(taskId), h, secret, { now: timestamp * 1000 }).taskId).toBe(taskId);
          expect(() => verifyKieSignature(bodyOf(`${taskId}x`), h, secret, { now: timestamp * 1000 })).toThrow(WebhookVerificationError);
        },
      ),
      { numRuns: 300 },
    );
  });
});
