import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CallbackPayloadError,
  callbackFamilyOf,
  parseCallbackPayload,
  parseCoverImagePayload,
  parseLyricsPayload,
  parseMarketCallbackPayload,
  parseMidiPayload,
  parseMusicVideoPayload,
  parseVocalSeparationPayload,
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

/** Separation URLs as senders write them: URLs, nulls, "" and the wrong types. */
const separationInfoish = fc.dictionary(
  fc.constantFrom('origin_url', 'instrumental_url', 'vocal_url', 'drums_url', 'other_url', 'piano_url', 'x_url'),
  fc.oneof(fc.webUrl(), fc.constant(null), fc.constant(''), fc.jsonValue()),
);
/** MIDI notes with numbers, numeric strings and junk where the numbers go. */
const noteValue = fc.oneof(fc.double(), fc.double().map(String), fc.string(), fc.constant(null));
const instrumentish = fc.record(
  {
    name: fc.oneof(fc.string(), fc.integer()),
    notes: fc.oneof(
      fc.array(fc.record({ pitch: noteValue, start: noteValue, end: noteValue, velocity: noteValue }, { requiredKeys: [] }), { maxLength: 3 }),
      fc.jsonValue(),
    ),
  },
  { requiredKeys: [] },
);

describe('property: the other families’ parsers', () => {
  it('parseMarketCallbackPayload, parseCoverImagePayload, parseLyricsPayload, parseWavPayload, parseMusicVideoPayload, parseVocalSeparationPayload, parseMidiPayload: any JSON → a typed payload or a CallbackPayloadError', () => {
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
        vocal_separation_info: fc.oneof(separationInfoish, fc.constant(null), fc.jsonValue()),
        vocal_removal_info: fc.oneof(separationInfoish, fc.constant(null), fc.jsonValue()),
        instruments: fc.oneof(fc.array(instrumentish, { maxLength: 3 }), fc.jsonValue()),
        midi_url: fc.oneof(fc.string(), fc.constant(null), fc.integer()),
        data: fc.oneof(fc.array(fc.dictionary(fc.constantFrom('text', 'title', 'status', 'error_message'), fc.jsonValue())), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    const bodyish = fc.record(
      {
        code: fc.oneof(fc.constant(200), fc.integer(), fc.string()),
        msg: fc.oneof(fc.string(), fc.constant(null)),
        task_id: fc.oneof(fc.stringMatching(/^[0-9a-f]{1,32}$/), fc.integer(), fc.constant('')),
        data: fc.oneof(dataish, fc.constant(null)),
      },
      { requiredKeys: [] },
    );
    const parsers = [
      parseMarketCallbackPayload,
      parseCoverImagePayload,
      parseLyricsPayload,
      parseWavPayload,
      parseMusicVideoPayload,
      parseVocalSeparationPayload,
      parseMidiPayload,
    ];
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
        expect(['music', 'cover_image', 'lyrics', 'wav', 'market', 'music_video', 'vocal_separation', 'midi']).toContain(callbackFamilyOf(value));
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

describe('property: valid separation and MIDI bodies read back', () => {
  const taskId = fc.stringMatching(/^[0-9a-f]{32}$/);
  const code = fc.constantFrom(200, 400, 500);
  const urlKeys = ['origin_url', 'instrumental_url', 'vocal_url', 'backing_vocals_url', 'drums_url', 'bass_url', 'other_url'] as const;

  it('a separation body under either object name: its URLs, nulls and task id come back as sent, its family is vocal_separation', () => {
    const info = fc.subarray([...urlKeys]).chain((keys) => fc.tuple(...keys.map((key) => fc.tuple(fc.constant(key), fc.option(fc.webUrl())))));
    fc.assert(
      fc.property(taskId, code, fc.string(), fc.constantFrom('vocal_separation_info', 'vocal_removal_info'), fc.option(info), (id, c, msg, name, entries) => {
        const sent = entries === null ? null : Object.fromEntries(entries);
        const body = { code: c, msg, data: { task_id: id, [name]: sent } };
        expect(parseVocalSeparationPayload(body)).toEqual({ code: c, msg, data: { task_id: id, vocal_separation_info: sent } });
        expect(callbackFamilyOf(body)).toBe('vocal_separation');
      }),
      { numRuns: 300 },
    );
  });

  it('a MIDI body with its id at the top or in data: the notes come back as numbers, whether sent as numbers or numeric strings', () => {
    // `+ 0` turns -0 into 0: "-0" and -0 are the same time, and toEqual tells them apart.
    const time = fc.double({ min: 0, max: 600, noNaN: true }).map((value) => value + 0);
    const note = fc.record({
      pitch: fc.integer({ min: 0, max: 127 }),
      start: time,
      end: time,
      velocity: fc.double({ min: 0, max: 1, noNaN: true }).map((v) => v + 0),
    });
    const instrument = fc.record({ name: fc.string(), notes: fc.array(note, { maxLength: 4 }) });
    const asWire = (value: number, asText: boolean): number | string => (asText ? String(value) : value);
    fc.assert(
      fc.property(taskId, code, fc.array(instrument, { maxLength: 3 }), fc.boolean(), fc.boolean(), (id, c, instruments, atTop, asText) => {
        const wire = instruments.map((item) => ({
          name: item.name,
          notes: item.notes.map((n) => ({ ...n, start: asWire(n.start, asText), end: asWire(n.end, asText) })),
        }));
        const data = { state: 'complete', instruments: wire };
        const body = atTop ? { task_id: id, code: c, msg: 'success', data } : { code: c, msg: 'success', data: { taskId: id, ...data } };
        expect(parseMidiPayload(body)).toEqual({ code: c, msg: 'success', task_id: id, data: { state: 'complete', instruments } });
        expect(callbackFamilyOf(body)).toBe('midi');
      }),
      { numRuns: 300 },
    );
  });
});
