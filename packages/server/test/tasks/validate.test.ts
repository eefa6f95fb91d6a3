import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.js';
import { checkSectionAgainstSource, parseGenerate, parseReplaceSection } from '../../src/tasks/validate.js';

const valid = {
  taskId: 'a'.repeat(32),
  audioId: 'e231c8a0-0000-4000-8000-00008cadc7dc',
  prompt: 'A calm and relaxing piano track.',
  tags: 'Jazz',
  title: 'Relaxing Piano',
  negativeTags: 'Rock',
  infillStartS: 10.5,
  infillEndS: 20.75,
  callBackUrl: 'https://example.com/callback',
};

function rejection(fn: () => unknown): { code: number; msg: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return { code: error.code, msg: error.message };
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('parseReplaceSection', () => {
  it('accepts the seed example (mode 1) and ignores unknown fields', () => {
    const parsed = parseReplaceSection({ ...valid, somethingElse: 1 });
    expect(parsed.source).toEqual({ mode: 'track', taskId: valid.taskId, audioId: valid.audioId });
    expect(parsed.infillEndS).toBe(20.75);
    expect(parsed.negativeTags).toBe('Rock');
  });

  it('accepts mode 2 with uploadUrl and model', () => {
    const { taskId, audioId, ...rest } = valid;
    const parsed = parseReplaceSection({ ...rest, uploadUrl: 'https://files.example/a.mp3', model: 'V4_5' });
    expect(parsed.source).toEqual({ mode: 'url', uploadUrl: 'https://files.example/a.mp3', model: 'V4_5' });
  });

  it.each([
    [{ ...valid, uploadUrl: 'https://x.example/a.mp3' }, 'uploadUrl: cannot be combined with taskId/audioId: choose one source mode'],
    [{ ...valid, taskId: undefined, audioId: undefined }, 'taskId: is required (or give uploadUrl instead)'],
    [{ ...valid, audioId: undefined }, 'audioId: is required'],
    [{ ...valid, prompt: '' }, 'prompt: must not be empty'],
    [{ ...valid, prompt: 'x'.repeat(3001) }, 'prompt: must be at most 3000 characters'],
    [{ ...valid, tags: 5 }, 'tags: must be a string'],
    [{ ...valid, title: 'x'.repeat(101) }, 'title: must be at most 100 characters'],
    [{ ...valid, negativeTags: 'x'.repeat(201) }, 'negativeTags: must be at most 200 characters'],
    [{ ...valid, infillStartS: -1 }, 'infillStartS: must be at least 0'],
    [{ ...valid, infillStartS: '10' }, 'infillStartS: must be a number of seconds'],
    [{ ...valid, infillStartS: 10.123 }, 'infillStartS: must have at most 2 decimal places'],
    [{ ...valid, infillEndS: 10.5 }, 'infillEndS: must be greater than infillStartS'],
    [{ ...valid, infillEndS: 15 }, 'infillEndS: the section (infillEndS - infillStartS = 4.5 s) must be between 6 and 60 seconds'],
    [{ ...valid, infillEndS: 80 }, 'infillEndS: the section (infillEndS - infillStartS = 69.5 s) must be between 6 and 60 seconds'],
    [{ ...valid, fullLyrics: 'x'.repeat(5001) }, 'fullLyrics: must be at most 5000 characters'],
    [{ ...valid, callBackUrl: 'ftp://example.com/x' }, 'callBackUrl: must use http:// or https://'],
    [{ ...valid, callBackUrl: 'not a url' }, 'callBackUrl: must be an absolute http:// or https:// URL'],
    [{ ...valid, callBackUrl: 'https://u:p@example.com/' }, 'callBackUrl: must not contain a user name or password'],
    [[1, 2], 'body: must be a JSON object'],
  ])('refuses %# with a precise message', (body, msg) => {
    expect(rejection(() => parseReplaceSection(body))).toEqual({ code: 422, msg });
  });

  it('checks the section against the source duration', () => {
    expect(rejection(() => checkSectionAgainstSource({ infillStartS: 10, infillEndS: 30 }, 25))).toEqual({
      code: 422,
      msg: 'infillEndS: must not exceed the source duration (25 s)',
    });
    expect(rejection(() => checkSectionAgainstSource({ infillStartS: 0, infillEndS: 30 }, 50))).toEqual({
      code: 422,
      msg: 'infillEndS: the section (30 s) must not exceed 50% of the source duration (50 s)',
    });
    expect(() => checkSectionAgainstSource({ infillStartS: 12, infillEndS: 24 }, 120)).not.toThrow();
  });

  it('property: any JSON value is either accepted or refused with a 422 naming a field', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ ...Object.fromEntries(Object.keys(valid).map((k) => [k, fc.jsonValue()])) })), (body) => {
        try {
          parseReplaceSection(body);
        } catch (error) {
          expect(error).toBeInstanceOf(ApiError);
          expect((error as ApiError).code).toBe(422);
          expect((error as ApiError).message).toMatch(/^[A-Za-z]+: /);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('property: accepted sections always satisfy the documented rules', () => {
    const cents = fc.integer({ min: 0, max: 60_000 });
    fc.assert(
      fc.property(cents, cents, (a, b) => {
        const body = { ...valid, infillStartS: a / 100, infillEndS: b / 100 };
        let accepted = true;
        try {
          parseReplaceSection(body);
        } catch {
          accepted = false;
        }
        const length = (b - a) / 100;
        expect(accepted).toBe(b > a && length >= 6 && length <= 60);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseGenerate', () => {
  const cb = { callBackUrl: 'https://example.com/cb' };

  it('accepts non-custom and custom requests', () => {
    const plain = parseGenerate({ customMode: false, instrumental: true, prompt: 'calm piano', model: 'V4', ...cb });
    expect(plain.model).toBe('V4');
    expect(plain.callBackUrl).toBe('https://example.com/cb');
    const custom = parseGenerate({ customMode: true, instrumental: false, prompt: '[Verse] la la', style: 'rock', title: 'Song', model: 'V5', ...cb });
    expect(custom.style).toBe('rock');
    expect(parseGenerate({ customMode: true, instrumental: true, style: 'rock', title: 'Song', ...cb }).prompt).toBe('');
    expect(parseGenerate({ customMode: true, instrumental: true, style: 'rock', title: 'x'.repeat(80), model: 'V5', ...cb }).title).toHaveLength(80);
  });

  it("refuses a request without callBackUrl in KIE's words", () => {
    expect(rejection(() => parseGenerate({ customMode: false, instrumental: true, prompt: 'calm piano' }))).toEqual({
      code: 422,
      msg: 'Please enter callBackUrl.',
    });
    expect(rejection(() => parseGenerate({ customMode: false, instrumental: true, prompt: 'calm piano', callBackUrl: null }))).toEqual({
      code: 422,
      msg: 'Please enter callBackUrl.',
    });
  });

  it.each([
    [{ instrumental: true, prompt: 'x', ...cb }, 'customMode: is required'],
    [{ customMode: 'yes', instrumental: true, prompt: 'x', ...cb }, 'customMode: must be true or false'],
    [{ customMode: false, instrumental: true, ...cb }, 'prompt: is required'],
    [{ customMode: false, instrumental: true, prompt: 'x'.repeat(501), ...cb }, 'prompt: must be at most 500 characters'],
    [{ customMode: true, instrumental: true, title: 'T', ...cb }, 'style: is required'],
    [{ customMode: true, instrumental: true, style: 'rock', ...cb }, 'title: is required'],
    [{ customMode: true, instrumental: false, style: 'rock', title: 'T', ...cb }, 'prompt: is required'],
    [{ customMode: true, instrumental: true, style: 'x'.repeat(201), title: 'T', model: 'V4', ...cb }, 'style: must be at most 200 characters'],
    [{ customMode: true, instrumental: true, style: 'rock', title: 'x'.repeat(81), model: 'V5', ...cb }, 'title: must be at most 80 characters'],
    [{ customMode: false, instrumental: true, prompt: 'x', model: 'V9', ...cb }, 'model: must be one of V3_5, V4, V4_5, V4_5PLUS, V4_5ALL, V5, V5_5, V6'],
    [{ customMode: false, instrumental: true, prompt: 'x', vocalGender: 'x', ...cb }, 'vocalGender: must be one of m, f'],
    [{ customMode: false, instrumental: true, prompt: 'x', styleWeight: 2, ...cb }, 'styleWeight: must be between 0 and 1'],
    [{ customMode: false, instrumental: true, prompt: 'x', callBackUrl: 'ftp://example.com/x' }, 'callBackUrl: must use http:// or https://'],
  ])('refuses %# with a precise message', (body, msg) => {
    expect(rejection(() => parseGenerate(body))).toEqual({ code: 422, msg });
  });

  it('property: never throws anything but a 422 ApiError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (body) => {
        try {
          parseGenerate(body);
        } catch (error) {
          expect(error).toBeInstanceOf(ApiError);
          expect((error as ApiError).code).toBe(422);
        }
      }),
      { numRuns: 500 },
    );
  });
});
