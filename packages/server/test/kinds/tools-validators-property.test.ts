import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.js';
import { asBody, type Body } from '../../src/tasks/fields.js';
import { LYRICS_PROMPT_MAX, parseLyricsRequest } from '../../src/tasks/kinds/lyrics.js';
import { parseMidi } from '../../src/tasks/kinds/midi.js';
import { parseMusicVideo } from '../../src/tasks/kinds/music-video.js';
import { KINDS } from '../../src/tasks/kinds/registry.js';
import { parseVocalRemoval } from '../../src/tasks/kinds/vocal-removal.js';
import { parseWav } from '../../src/tasks/kinds/wav.js';
import { inMarketTerms, parseMarket } from '../../src/tasks/market.js';
import { parseTimestampedLyrics } from '../../src/tasks/timestamped-lyrics.js';

/**
 * The "bad input" proof of the validators of the audio tools (kie-catalogue §13, §17, §18, §25):
 * whatever JSON arrives, a parser answers with a value or a 422 whose `msg` names a field of its
 * route (`field: rule`) or is KIE's own sentence; valid bodies come back as sent, and one
 * character past a limit is refused naming that field. The Market form names the field as its
 * client wrote it (`input.snake_case`).
 */

const CALLBACK_SENTENCE = 'Please enter callBackUrl.';
const CB = 'https://example.com/cb';

/** The parsers as the server calls them (tasks/service.ts submitKind reads the body through `asBody`). */
const PARSERS = {
  lyrics: { parse: (raw: unknown) => parseLyricsRequest(asBody(raw)), keys: ['callBackUrl', 'prompt'], market: 'ai-music-api/generate-lyrics', callback: true },
  timestampedLyrics: {
    parse: (raw: unknown) => parseTimestampedLyrics(raw),
    keys: ['taskId', 'audioId'],
    market: 'ai-music-api/timeStamped-lyrics',
    callback: false,
  },
  wav: {
    parse: (raw: unknown) => parseWav(asBody(raw)),
    keys: ['callBackUrl', 'taskId', 'audioId'],
    market: 'ai-music-api/convert-to-wav-format',
    callback: true,
  },
  musicVideo: {
    parse: (raw: unknown) => parseMusicVideo(asBody(raw)),
    keys: ['callBackUrl', 'taskId', 'audioId', 'author', 'domainName'],
    market: 'ai-music-api/create-music-video',
    callback: true,
  },
  vocalRemoval: {
    parse: (raw: unknown) => parseVocalRemoval(asBody(raw)),
    keys: ['callBackUrl', 'taskId', 'audioId', 'type', 'stemName'],
    market: 'ai-music-api/separate-vocals',
    callback: true,
  },
  midi: {
    parse: (raw: unknown) => parseMidi(asBody(raw)),
    keys: ['callBackUrl', 'taskId', 'audioId'],
    market: 'ai-music-api/generate-midi-from-audio',
    callback: true,
  },
} satisfies Record<string, { parse: (raw: unknown) => unknown; keys: string[]; market: string; callback: boolean }>;

type ParserName = keyof typeof PARSERS;
const PARSER_NAMES = Object.keys(PARSERS) as ParserName[];

function refusal(fn: () => unknown): { code: number; msg: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return { code: error.code, msg: error.message };
    throw error;
  }
  throw new Error('expected a refusal, the body was accepted');
}

/** Either accepted, or refused with a 422 naming one of `keys` (or the body), or KIE's callback sentence. */
function expectAcceptedOrNamed(fn: () => unknown, keys: readonly string[]): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof ApiError)) throw new Error(`threw ${String(error)} instead of an ApiError`);
    expect(error.code).toBe(422);
    expect(error.data).toBeNull();
    if (error.message === CALLBACK_SENTENCE) return;
    const match = /^([A-Za-z][A-Za-z0-9]*): \S/.exec(error.message);
    expect(match, `msg "${error.message}" does not start with "field: rule"`).not.toBeNull();
    expect([...keys, 'body']).toContain(match?.[1]);
  }
}

// --- arbitraries ---------------------------------------------------------------------------

/** One code point (no surrogate halves), astral ones included: limits count characters, not UTF-16 units. */
const codePoint = fc
  .oneof(
    { weight: 3, arbitrary: fc.constantFrom(' ', 'a', 'Z', '9', 'é', '中', '𝄞', '🎵', '\n') },
    { weight: 1, arbitrary: fc.integer({ min: 0x21, max: 0x2ffff }).filter((c) => c < 0xd800 || c > 0xdfff) },
  )
  .map((c) => (typeof c === 'number' ? String.fromCodePoint(c) : c));
const filled = (max: number) => fc.string({ unit: codePoint, minLength: 1, maxLength: max }).filter((s) => s.trim() !== '');
const httpUrl = fc.oneof(fc.webUrl({ validSchemes: ['http', 'https'] }), fc.constantFrom(CB, 'http://127.0.0.1:8080/hook?x=1', 'https://[::1]/cb'));
const plausible: fc.Arbitrary<unknown> = fc.oneof(
  fc.boolean(),
  fc.string({ unit: codePoint, maxLength: 40 }),
  httpUrl,
  fc.double(),
  fc.integer({ min: -5, max: 100 }),
  fc.constantFrom('', '   ', null, 'ftp://x/y', 'cb'),
  fc.array(httpUrl, { maxLength: 2 }),
);
const anyJson = fc.jsonValue();
const objectWithKeys = (keys: readonly string[]) =>
  fc.record(Object.fromEntries(keys.map((key) => [key, fc.oneof(plausible, anyJson, fc.constant(undefined))])), { requiredKeys: [] });
const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

// --- 1. nothing but a named 422, whatever arrives --------------------------------------------

describe('every parser of the audio tools, on arbitrary input', () => {
  it.each(PARSER_NAMES)('%s: any JSON value is accepted or refused with a 422 naming a field', (name) => {
    const { parse, keys } = PARSERS[name];
    fc.assert(
      fc.property(fc.oneof(anyJson, fc.dictionary(fc.constantFrom(...keys, 'other'), anyJson)), (raw) => expectAcceptedOrNamed(() => parse(raw), keys)),
      { numRuns: 300 },
    );
  });

  it.each(PARSER_NAMES)('%s: objects with the right keys and values of any type are accepted or refused naming one of those keys', (name) => {
    const { parse, keys } = PARSERS[name];
    fc.assert(
      fc.property(objectWithKeys(keys), (raw) => expectAcceptedOrNamed(() => parse(raw), keys)),
      { numRuns: 600 },
    );
  });

  it.each(PARSER_NAMES)('%s: a body that is not a JSON object is refused as such', (name) => {
    fc.assert(
      fc.property(
        anyJson.filter((value) => value === null || typeof value !== 'object' || Array.isArray(value)),
        (raw) => {
          expect(refusal(() => PARSERS[name].parse(raw))).toEqual({ code: 422, msg: 'body: must be a JSON object' });
        },
      ),
      { numRuns: 100 },
    );
  });

  it.each(PARSER_NAMES.filter((name) => PARSERS[name].callback))('%s: no callBackUrl (absent, null or empty) reads KIE’s sentence', (name) => {
    fc.assert(
      fc.property(objectWithKeys(PARSERS[name].keys), fc.constantFrom(undefined, null, ''), (raw, callBackUrl) => {
        expect(refusal(() => PARSERS[name].parse({ ...raw, callBackUrl }))).toEqual({ code: 422, msg: CALLBACK_SENTENCE });
      }),
      { numRuns: 100 },
    );
  });
});

// --- 2. valid bodies, limits ---------------------------------------------------------------

describe('lyrics: valid bodies are read back as sent, the prompt limit is exact', () => {
  it('any non-blank prompt of at most 200 characters and an http(s) callback are accepted as sent', () => {
    fc.assert(
      fc.property(filled(LYRICS_PROMPT_MAX), httpUrl, fc.dictionary(fc.string(), anyJson), (prompt, callBackUrl, extra) => {
        expect(parseLyricsRequest({ ...extra, prompt, callBackUrl })).toEqual({ prompt, callBackUrl });
      }),
      { numRuns: 300 },
    );
  });

  it('one character past 200 is refused naming prompt, counted in characters', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: LYRICS_PROMPT_MAX + 1, max: LYRICS_PROMPT_MAX + 50 }),
        codePoint.filter((c) => c.trim() !== ''),
        (length, unit) => {
          expect(refusal(() => parseLyricsRequest({ prompt: unit.repeat(length), callBackUrl: CB }))).toEqual({
            code: 422,
            msg: `prompt: must be at most ${LYRICS_PROMPT_MAX} characters`,
          });
          expect(parseLyricsRequest({ prompt: unit.repeat(LYRICS_PROMPT_MAX), callBackUrl: CB }).prompt).toBe(unit.repeat(LYRICS_PROMPT_MAX));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('a blank prompt is refused as empty, a missing one as required, a non-string as such', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[ \t\n\r]{1,20}$/), (blank) => {
        expect(refusal(() => parseLyricsRequest({ prompt: blank, callBackUrl: CB }))).toEqual({ code: 422, msg: 'prompt: must not be empty' });
      }),
    );
    for (const absent of [undefined, null])
      expect(refusal(() => parseLyricsRequest({ prompt: absent, callBackUrl: CB }))).toEqual({ code: 422, msg: 'prompt: is required' });
    fc.assert(
      fc.property(
        anyJson.filter((value) => typeof value !== 'string' && value !== null),
        (prompt) => {
          expect(refusal(() => parseLyricsRequest({ prompt, callBackUrl: CB }))).toEqual({ code: 422, msg: 'prompt: must be a string' });
        },
      ),
    );
  });
});

describe('timestamped lyrics and WAV: a track is named by taskId and audioId, each at most 64 characters', () => {
  const id = filled(64);
  const tooLong = (unit: string) => fc.integer({ min: 65, max: 100 }).map((length) => unit.repeat(length));

  it('any two non-blank ids (and, for WAV, a callback URL) are read back as sent; other keys are ignored', () => {
    fc.assert(
      fc.property(id, id, httpUrl, fc.dictionary(fc.string(), anyJson), (taskId, audioId, callBackUrl, extra) => {
        expect(parseTimestampedLyrics({ ...extra, taskId, audioId })).toEqual({ taskId, audioId });
        expect(parseWav({ ...extra, taskId, audioId, callBackUrl })).toEqual({ taskId, audioId, callBackUrl });
      }),
      { numRuns: 300 },
    );
  });

  it('an id of 65 characters or more is refused naming it; taskId is checked first', () => {
    fc.assert(
      fc.property(
        codePoint.filter((c) => c.trim() !== ''),
        fc.constantFrom('taskId', 'audioId'),
        (unit, field) =>
          fc.assert(
            fc.property(tooLong(unit), (long) => {
              const body = { taskId: 't', audioId: 'a', callBackUrl: CB, [field]: long };
              const expected = { code: 422, msg: `${field}: must be at most 64 characters` };
              expect(refusal(() => parseTimestampedLyrics(body))).toEqual(expected);
              expect(refusal(() => parseWav(body))).toEqual(expected);
            }),
            { numRuns: 5 },
          ),
      ),
      { numRuns: 40 },
    );
    expect(refusal(() => parseWav({ callBackUrl: CB }))).toEqual({ code: 422, msg: 'taskId: is required' });
    expect(refusal(() => parseMusicVideo({ callBackUrl: CB, taskId: 't' }))).toEqual({ code: 422, msg: 'audioId: is required' });
  });

  it('music video: author and domainName are optional text of at most 50 characters, taken as given', () => {
    fc.assert(
      fc.property(fc.constantFrom('author', 'domainName'), fc.string({ maxLength: 50 }), (field, text) => {
        const parsed = parseMusicVideo({ taskId: 't', audioId: 'a', callBackUrl: CB, [field]: text });
        expect(parsed[field as 'author' | 'domainName']).toBe(text);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.constantFrom('author', 'domainName'), fc.string({ minLength: 51, maxLength: 200 }), (field, long) => {
        expect(refusal(() => parseMusicVideo({ taskId: 't', audioId: 'a', callBackUrl: CB, [field]: long }))).toEqual({
          code: 422,
          msg: `${field}: must be at most 50 characters`,
        });
      }),
      { numRuns: 100 },
    );
    expect(parseMusicVideo({ taskId: 't', audioId: 'a', callBackUrl: CB })).toMatchObject({ author: '', domainName: '' });
    expect(refusal(() => parseTimestampedLyrics({ taskId: 't' }))).toEqual({ code: 422, msg: 'audioId: is required' });
  });

  it('WAV checks the callback first: without one, KIE’s sentence whatever the ids', () => {
    fc.assert(
      fc.property(objectWithKeys(['taskId', 'audioId']), (raw) => {
        expect(refusal(() => parseWav({ ...raw, callBackUrl: undefined }))).toEqual({ code: 422, msg: CALLBACK_SENTENCE });
      }),
      { numRuns: 100 },
    );
  });
});

describe('stems and MIDI: the separation type, a named stem, an optional stem id', () => {
  const id = filled(64);
  it('a track and an optional type are read back as sent; the type defaults to separate_vocal', () => {
    fc.assert(
      fc.property(id, id, httpUrl, fc.constantFrom(undefined, null, 'separate_vocal', 'split_stem'), (taskId, audioId, callBackUrl, type) => {
        expect(parseVocalRemoval({ taskId, audioId, callBackUrl, type })).toEqual({ taskId, audioId, callBackUrl, type: type ?? 'separate_vocal' });
      }),
      { numRuns: 300 },
    );
  });

  it('any other type is refused naming the two it may be; any named stem is refused as not offered', () => {
    fc.assert(
      fc.property(
        anyJson.filter((value) => value !== null && value !== 'separate_vocal' && value !== 'split_stem'),
        (type) => {
          expect(refusal(() => parseVocalRemoval({ taskId: 't', audioId: 'a', callBackUrl: CB, type }))).toEqual({
            code: 422,
            msg: 'type: must be one of separate_vocal, split_stem',
          });
        },
      ),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(
        anyJson.filter((value) => value !== null),
        (stemName) => {
          expect(refusal(() => parseVocalRemoval({ taskId: 't', audioId: 'a', callBackUrl: CB, stemName })).msg).toMatch(
            /^stemName: extracting one named stem \(split_stem_advanced\) is not offered/,
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it('MIDI: a separation id and an optional stem id (null when absent) are read back as sent', () => {
    fc.assert(
      fc.property(id, fc.option(id, { nil: undefined }), httpUrl, (taskId, audioId, callBackUrl) => {
        expect(parseMidi({ taskId, audioId, callBackUrl })).toEqual({ taskId, audioId: audioId ?? null, callBackUrl });
      }),
      { numRuns: 300 },
    );
    expect(refusal(() => parseMidi({ callBackUrl: CB }))).toEqual({ code: 422, msg: 'taskId: is required' });
    expect(refusal(() => parseMidi({ callBackUrl: CB, taskId: 't', audioId: 'x'.repeat(65) }))).toEqual({
      code: 422,
      msg: 'audioId: must be at most 64 characters',
    });
  });
});

// --- 3. the Market form ----------------------------------------------------------------------

describe('the Market form of the audio tools', () => {
  it('each tool with a Market id resolves to its kind', () => {
    for (const name of PARSER_NAMES) {
      const kind = KINDS.find((k) => k.market === PARSERS[name].market);
      expect(kind, PARSERS[name].market).toBeDefined();
      expect(parseMarket({ model: PARSERS[name].market, input: {} }).kind).toBe(kind);
    }
  });

  it.each(PARSER_NAMES)('%s: a Market request is accepted or refused naming `input.<snake_case>` or in KIE’s words', (name) => {
    const { parse, keys, market } = PARSERS[name];
    const snakeKeys = keys.filter((key) => key !== 'callBackUrl').map(snake);
    fc.assert(
      fc.property(
        fc.oneof(httpUrl, anyJson, fc.constant(undefined)),
        fc.record(Object.fromEntries(snakeKeys.map((key) => [key, fc.oneof(plausible, anyJson)])), { requiredKeys: [] }),
        (callBackUrl, input) => {
          try {
            parse(parseMarket({ model: market, callBackUrl, input }).body as Body);
          } catch (error) {
            const renamed = inMarketTerms(error);
            if (!(renamed instanceof ApiError)) throw renamed;
            expect(renamed.code).toBe(422);
            if (renamed.message === CALLBACK_SENTENCE) return;
            expect(renamed.message).toMatch(/^(input\.[a-z][a-z0-9_]*|callBackUrl): \S/);
            const field = /^input\.([a-z0-9_]+)/.exec(renamed.message)?.[1];
            if (field) expect(snakeKeys).toContain(field);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
