import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError, invalid } from '../../src/errors.js';
import { asBody, type Body } from '../../src/tasks/fields.js';
import { ADD_LAYER_MODELS, parseAddInstrumental } from '../../src/tasks/kinds/add-instrumental.js';
import { ADD_VOCALS_MODELS, parseAddVocals } from '../../src/tasks/kinds/add-vocals.js';
import { parseCoverImage } from '../../src/tasks/kinds/cover-image.js';
import { parseExtend } from '../../src/tasks/kinds/extend.js';
import { parseMashup } from '../../src/tasks/kinds/mashup.js';
import { KINDS } from '../../src/tasks/kinds/registry.js';
import { limitsFor, MODELS, type Model, NON_CUSTOM_PROMPT_MAX } from '../../src/tasks/kinds/rules.js';
import { parseUploadCover } from '../../src/tasks/kinds/upload-cover.js';
import { parseUploadExtend } from '../../src/tasks/kinds/upload-extend.js';
import { inMarketTerms, parseMarket } from '../../src/tasks/market.js';
import { PERSONA_MAX_S, PERSONA_MIN_S, parsePersona } from '../../src/tasks/persona.js';
import { parseGenerate, parseReplaceSection } from '../../src/tasks/validate.js';

/**
 * The "bad input" proof of the validators of the Suno-family routes (kie-catalogue §2–§9, §15,
 * §16, §25): whatever JSON arrives, a parser answers with a value or a 422 whose `msg` names a
 * field of its route (`field: rule`) or is KIE's own sentence; valid bodies within each model's
 * limits come back as sent, and one character past a limit is refused naming that field.
 */

const CALLBACK_SENTENCE = 'Please enter callBackUrl.';
const CB = 'https://example.com/cb';
const WEIGHTS = ['styleWeight', 'weirdnessConstraint', 'audioWeight'] as const;
const KNOB_KEYS = ['negativeTags', 'vocalGender', ...WEIGHTS] as const;

/** The parsers as the server calls them: the Body parsers behind `asBody` (tasks/service.ts submitKind). */
const PARSERS = {
  generate: {
    parse: (raw: unknown) => parseGenerate(raw),
    keys: ['callBackUrl', 'customMode', 'instrumental', 'model', 'prompt', 'style', 'title', 'personaId', ...KNOB_KEYS],
  },
  extend: {
    parse: (raw: unknown) => parseExtend(asBody(raw)),
    keys: ['callBackUrl', 'defaultParamFlag', 'audioId', 'model', 'prompt', 'style', 'title', 'continueAt', 'personaId', ...KNOB_KEYS],
  },
  uploadExtend: {
    parse: (raw: unknown) => parseUploadExtend(asBody(raw)),
    keys: ['callBackUrl', 'uploadUrl', 'defaultParamFlag', 'instrumental', 'continueAt', 'model', 'prompt', 'style', 'title', 'personaId', ...KNOB_KEYS],
  },
  uploadCover: {
    parse: (raw: unknown) => parseUploadCover(asBody(raw)),
    keys: ['callBackUrl', 'uploadUrl', 'customMode', 'instrumental', 'model', 'prompt', 'style', 'title', 'personaId', ...KNOB_KEYS],
  },
  addInstrumental: { parse: (raw: unknown) => parseAddInstrumental(asBody(raw)), keys: ['callBackUrl', 'uploadUrl', 'title', 'tags', 'model', ...KNOB_KEYS] },
  addVocals: { parse: (raw: unknown) => parseAddVocals(asBody(raw)), keys: ['callBackUrl', 'uploadUrl', 'prompt', 'title', 'style', 'model', ...KNOB_KEYS] },
  mashup: {
    parse: (raw: unknown) => parseMashup(asBody(raw)),
    keys: ['callBackUrl', 'uploadUrlList', 'customMode', 'instrumental', 'model', 'prompt', 'style', 'title', ...KNOB_KEYS],
  },
  coverImage: { parse: (raw: unknown) => parseCoverImage(asBody(raw)), keys: ['callBackUrl', 'taskId'] },
  persona: { parse: (raw: unknown) => parsePersona(raw), keys: ['taskId', 'audioId', 'name', 'description', 'vocalStart', 'vocalEnd', 'style'] },
} satisfies Record<string, { parse: (raw: unknown) => unknown; keys: string[] }>;

type ParserName = keyof typeof PARSERS;
const PARSER_NAMES = Object.keys(PARSERS) as ParserName[];

/** The refusal a call ends in, or a test failure if it is accepted or throws anything but an ApiError. */
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
function expectAcceptedOrNamed(fn: () => unknown, keys: readonly string[], sentences: readonly string[] = [CALLBACK_SENTENCE]): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof ApiError)) throw new Error(`threw ${String(error)} instead of an ApiError`);
    expect(error.code).toBe(422);
    expect(error.data).toBeNull();
    if (sentences.includes(error.message)) return;
    const match = /^([A-Za-z][A-Za-z0-9]*)(\[\d+\])?: \S/.exec(error.message);
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
const chars = (s: string) => [...s].length;
const text = (max: number) => fc.string({ unit: codePoint, maxLength: Math.min(max, 64) });
/** What `requiredString` accepts: not blank. */
const filled = (max: number) => fc.string({ unit: codePoint, minLength: 1, maxLength: Math.min(max, 64) }).filter((s) => s.trim() !== '');
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const httpUrl = fc.oneof(fc.webUrl({ validSchemes: ['http', 'https'] }), fc.constantFrom(CB, 'http://127.0.0.1:8080/hook?x=1', 'https://[::1]/cb'));
const unitNumber = fc.double({ min: 0, max: 1, noNaN: true });
const model = fc.constantFrom(...MODELS);

const knobsArb = fc.record(
  {
    negativeTags: text(1000),
    vocalGender: fc.constantFrom('m' as const, 'f' as const),
    styleWeight: unitNumber,
    weirdnessConstraint: unitNumber,
    audioWeight: unitNumber,
  },
  { requiredKeys: [] },
);
type KnobsSent = { negativeTags?: string; vocalGender?: 'm' | 'f'; styleWeight?: number; weirdnessConstraint?: number; audioWeight?: number };
const knobsOf = (sent: KnobsSent) => ({
  negativeTags: sent.negativeTags ?? '',
  vocalGender: sent.vocalGender,
  styleWeight: sent.styleWeight,
  weirdnessConstraint: sent.weirdnessConstraint,
  audioWeight: sent.audioWeight,
});

/** For each key, a plausible value for some field of these routes, so that refusals come from deep inside the rules. */
const plausible: fc.Arbitrary<unknown> = fc.oneof(
  fc.boolean(),
  model,
  text(40),
  httpUrl,
  fc.double(),
  fc.integer({ min: -5, max: 100 }),
  fc.constantFrom('m', 'f', 'x', '', '   ', null),
  fc.array(httpUrl, { maxLength: 3 }),
);
const anyJson = fc.jsonValue();
const objectWithKeys = (keys: readonly string[]) =>
  fc.record(Object.fromEntries(keys.map((key) => [key, fc.oneof(plausible, anyJson, fc.constant(undefined))])), { requiredKeys: [] });

// --- 1. nothing but a named 422, whatever arrives --------------------------------------------

describe('every parser of the new routes, on arbitrary input', () => {
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

  it.each(PARSER_NAMES.filter((name) => name !== 'persona'))('%s: no callBackUrl (absent, null or empty) reads KIE’s sentence', (name) => {
    fc.assert(
      fc.property(objectWithKeys(PARSERS[name].keys), fc.constantFrom(undefined, null, ''), (raw, callBackUrl) => {
        expect(refusal(() => PARSERS[name].parse({ ...raw, callBackUrl }))).toEqual({ code: 422, msg: CALLBACK_SENTENCE });
      }),
      { numRuns: 100 },
    );
  });
});

// --- 2. valid bodies are accepted as sent ---------------------------------------------------

interface SongSent {
  customMode: boolean;
  instrumental: boolean;
  prompt?: string | undefined;
  style?: string | undefined;
  title?: string | undefined;
}

/** A song text as `songText` reads it (rules.ts): custom mode needs style and title, and the lyrics unless instrumental. */
function songTextArb(limits: { prompt: number; style: number; title: number }, titleMax: number, instrumental: boolean | undefined): fc.Arbitrary<SongSent> {
  return fc.record({ customMode: fc.boolean(), instrumental: instrumental === undefined ? fc.boolean() : fc.constant(instrumental) }).chain(
    ({ customMode, instrumental }): fc.Arbitrary<SongSent> =>
      customMode
        ? fc.record({
            customMode: fc.constant(true),
            instrumental: fc.constant(instrumental),
            style: filled(limits.style),
            title: filled(titleMax),
            prompt: instrumental ? optional(text(limits.prompt)) : filled(limits.prompt),
          })
        : fc.record({
            customMode: fc.constant(false),
            instrumental: fc.constant(instrumental),
            prompt: filled(NON_CUSTOM_PROMPT_MAX),
            style: optional(text(limits.style)),
            title: optional(text(titleMax)),
          }),
  );
}
const songTextOf = (sent: SongSent) => ({
  customMode: sent.customMode,
  instrumental: sent.instrumental,
  prompt: sent.prompt ?? '',
  style: sent.style ?? '',
  title: sent.title ?? '',
});

/** A model, sent or left out (each route has its default). */
const sentModel = (models: readonly Model[]) => optional(fc.constantFrom(...models));

describe('valid bodies are accepted and read back as sent', () => {
  it('generate', () => {
    fc.assert(
      fc.property(
        sentModel(MODELS).chain((m) => fc.tuple(fc.constant(m), songTextArb(limitsFor(m ?? 'V4_5'), 80, undefined))),
        knobsArb,
        httpUrl,
        ([m, song], knobs, callBackUrl) => {
          const body = { ...song, ...knobs, model: m, callBackUrl };
          expect(parseGenerate(body)).toEqual({ ...songTextOf(song), ...knobsOf(knobs), model: m ?? 'V4_5', callBackUrl });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('extend (defaultParamFlag true: this request’s text and continueAt; false: only audioId counts)', () => {
    fc.assert(
      fc.property(
        sentModel(MODELS),
        fc.boolean(),
        filled(64),
        fc.double({ min: 0.01, max: 480, noNaN: true }),
        knobsArb,
        httpUrl,
        fc.record({ prompt: optional(text(3000)), style: filled(200), title: filled(80) }),
        (m, defaultParamFlag, audioId, continueAt, knobs, callBackUrl, words) => {
          const body = { defaultParamFlag, audioId, continueAt, ...words, ...knobs, model: m, callBackUrl };
          const expected = defaultParamFlag
            ? { prompt: words.prompt ?? '', style: words.style, title: words.title, continueAt }
            : { prompt: '', style: '', title: '', continueAt: undefined };
          expect(parseExtend(body)).toEqual({ defaultParamFlag, audioId, model: m ?? 'V4_5', callBackUrl, ...expected, ...knobsOf(knobs) });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('upload-extend', () => {
    fc.assert(
      fc.property(
        sentModel(MODELS),
        fc.boolean(),
        fc.boolean(),
        httpUrl,
        fc.double({ min: 0.01, max: 480, noNaN: true }),
        knobsArb,
        httpUrl,
        fc.record({ prompt: filled(3000), style: filled(200), title: filled(80) }),
        fc.boolean(),
        (m, defaultParamFlag, instrumental, uploadUrl, continueAt, knobs, callBackUrl, words, dropPrompt) => {
          const prompt = defaultParamFlag && instrumental && dropPrompt ? undefined : words.prompt;
          const body = { uploadUrl, defaultParamFlag, instrumental, continueAt, ...words, prompt, ...knobs, model: m, callBackUrl };
          const text = defaultParamFlag ? { prompt: prompt ?? '', style: words.style, title: words.title } : { prompt: words.prompt, style: '', title: '' };
          expect(parseUploadExtend(body)).toEqual({
            uploadUrl,
            defaultParamFlag,
            instrumental,
            continueAt,
            model: m ?? 'V4_5',
            callBackUrl,
            ...text,
            ...knobsOf(knobs),
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('upload-cover (title per model, non-custom prompt ≤ 500)', () => {
    fc.assert(
      fc.property(
        sentModel(MODELS).chain((m) => fc.tuple(fc.constant(m), songTextArb(limitsFor(m ?? 'V4_5'), limitsFor(m ?? 'V4_5').title, undefined))),
        httpUrl,
        knobsArb,
        httpUrl,
        ([m, song], uploadUrl, knobs, callBackUrl) => {
          const body = { uploadUrl, ...song, ...knobs, model: m, callBackUrl };
          expect(parseUploadCover(body)).toEqual({ uploadUrl, model: m ?? 'V4_5', callBackUrl, ...songTextOf(song), ...knobsOf(knobs) });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('add-instrumental (tags, negativeTags required but may be empty, model V4_5PLUS by default)', () => {
    fc.assert(
      fc.property(
        sentModel(ADD_LAYER_MODELS),
        httpUrl,
        filled(100),
        filled(1000),
        text(1000),
        knobsArb,
        httpUrl,
        (m, uploadUrl, title, tags, negativeTags, knobs, callBackUrl) => {
          const body = { uploadUrl, title, tags, ...knobs, negativeTags, model: m, callBackUrl };
          expect(parseAddInstrumental(body)).toEqual({ uploadUrl, title, tags, model: m ?? 'V4_5PLUS', callBackUrl, ...knobsOf({ ...knobs, negativeTags }) });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('add-vocals (style, negativeTags required but may be empty, model V4_5PLUS by default)', () => {
    fc.assert(
      fc.property(
        sentModel(ADD_VOCALS_MODELS),
        httpUrl,
        filled(5000),
        filled(100),
        filled(1000),
        text(1000),
        knobsArb,
        httpUrl,
        (m, uploadUrl, prompt, title, style, negativeTags, knobs, callBackUrl) => {
          const body = { uploadUrl, prompt, title, style, ...knobs, negativeTags, model: m, callBackUrl };
          expect(parseAddVocals(body)).toEqual({
            uploadUrl,
            prompt,
            title,
            style,
            model: m ?? 'V4_5PLUS',
            callBackUrl,
            ...knobsOf({ ...knobs, negativeTags }),
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('mashup (exactly 2 distinct URLs, title ≤ 80 on every model, instrumental optional)', () => {
    fc.assert(
      fc.property(
        sentModel(MODELS).chain((m) =>
          optional(fc.boolean()).chain((instrumental) =>
            // The prompt is optional on mashup in custom mode too (KIE requires only the songs, the mode and the model).
            fc.tuple(fc.constant(m), fc.constant(instrumental), songTextArb(limitsFor(m ?? 'V4_5'), 80, true)),
          ),
        ),
        fc.uniqueArray(httpUrl, { minLength: 2, maxLength: 2 }),
        knobsArb,
        httpUrl,
        ([m, instrumental, song], urls, knobs, callBackUrl) => {
          // `instrumental` is optional on mashup (false when left out).
          const body = { uploadUrlList: urls, ...song, instrumental, ...knobs, model: m, callBackUrl };
          expect(parseMashup(body)).toEqual({
            uploadUrlList: urls,
            model: m ?? 'V4_5',
            callBackUrl,
            ...songTextOf({ ...song, instrumental: instrumental ?? false }),
            ...knobsOf(knobs),
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('cover image', () => {
    fc.assert(
      fc.property(filled(64), httpUrl, (taskId, callBackUrl) => {
        expect(parseCoverImage({ taskId, callBackUrl, extra: 1 })).toEqual({ taskId, callBackUrl });
      }),
      { numRuns: 200 },
    );
  });

  it('persona (window 10–30 s, vocalEnd 30 by default, KIE’s " vocalStart" key accepted)', () => {
    fc.assert(
      fc.property(
        fc.record({ taskId: filled(64), audioId: filled(64), name: filled(100), description: filled(1000), style: optional(text(200)) }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: PERSONA_MIN_S * 100, max: PERSONA_MAX_S * 100 }),
        fc.constantFrom('vocalStart', ' vocalStart'),
        (fields, startCents, windowCents, startKey) => {
          const vocalStart = startCents / 100;
          const vocalEnd = (startCents + windowCents) / 100;
          expect(parsePersona({ ...fields, [startKey]: vocalStart, vocalEnd })).toEqual({ ...fields, style: fields.style ?? '', vocalStart, vocalEnd });
        },
      ),
      { numRuns: 300 },
    );
    expect(parsePersona({ taskId: 't', audioId: 'a', name: 'n', description: 'd' })).toMatchObject({ vocalStart: 0, vocalEnd: 30, style: '' });
    expect(parsePersona({ taskId: 't', audioId: 'a', name: 'n', description: 'd', vocalStart: 20 })).toMatchObject({ vocalStart: 20, vocalEnd: 30 });
  });
});

// --- 3. limits, exactly and one past ---------------------------------------------------------

/** An astral character: a limit counted in UTF-16 units would refuse `limit` of them. */
const at = (n: number) => '𝄞'.repeat(n);

interface LimitCase {
  route: ParserName;
  model: Model | undefined;
  field: string;
  max: number;
  base: Body;
}

function limitCases(): LimitCase[] {
  const cases: LimitCase[] = [];
  const knobsBase = { callBackUrl: CB };
  for (const m of MODELS) {
    const l = limitsFor(m);
    const custom = { ...knobsBase, model: m, customMode: true, instrumental: false, prompt: 'la', style: 'rock', title: 'T' };
    const plain = { ...knobsBase, model: m, customMode: false, instrumental: true, prompt: 'calm piano' };
    // generate: title 80 on every model (kie-catalogue §2/§3); prompt and style per model.
    cases.push({ route: 'generate', model: m, field: 'prompt', max: l.prompt, base: custom });
    cases.push({ route: 'generate', model: m, field: 'style', max: l.style, base: custom });
    cases.push({ route: 'generate', model: m, field: 'title', max: 80, base: custom });
    cases.push({ route: 'generate', model: m, field: 'prompt', max: NON_CUSTOM_PROMPT_MAX, base: plain });
    // extend, upload-extend, upload-cover: the per-model title (§4–§6).
    const ext = { ...knobsBase, model: m, defaultParamFlag: true, audioId: 'a', continueAt: 5, prompt: 'la', style: 'rock', title: 'T' };
    for (const field of ['prompt', 'style', 'title'] as const) cases.push({ route: 'extend', model: m, field, max: l[field], base: ext });
    const upExt = { ...ext, audioId: undefined, uploadUrl: 'https://example.com/a.mp3', instrumental: false };
    for (const field of ['prompt', 'style', 'title'] as const) cases.push({ route: 'uploadExtend', model: m, field, max: l[field], base: upExt });
    cases.push({ route: 'uploadExtend', model: m, field: 'prompt', max: l.prompt, base: { ...upExt, defaultParamFlag: false } });
    const upCover = { ...custom, uploadUrl: 'https://example.com/a.mp3' };
    for (const field of ['prompt', 'style', 'title'] as const) cases.push({ route: 'uploadCover', model: m, field, max: l[field], base: upCover });
    cases.push({ route: 'uploadCover', model: m, field: 'prompt', max: NON_CUSTOM_PROMPT_MAX, base: { ...plain, uploadUrl: 'https://example.com/a.mp3' } });
    // mashup: title 80 on every model (§9), non-custom prompt ≤ 500.
    const mash = { ...custom, uploadUrlList: ['https://example.com/a.mp3', 'https://example.com/b.mp3'] };
    cases.push({ route: 'mashup', model: m, field: 'prompt', max: l.prompt, base: mash });
    cases.push({ route: 'mashup', model: m, field: 'style', max: l.style, base: mash });
    cases.push({ route: 'mashup', model: m, field: 'title', max: 80, base: mash });
    cases.push({ route: 'mashup', model: m, field: 'prompt', max: NON_CUSTOM_PROMPT_MAX, base: { ...plain, uploadUrlList: mash.uploadUrlList } });
  }
  const layer = { callBackUrl: CB, uploadUrl: 'https://example.com/a.mp3', title: 'T', negativeTags: '' };
  cases.push({ route: 'addInstrumental', model: undefined, field: 'title', max: 100, base: { ...layer, tags: 'rock' } });
  cases.push({ route: 'addInstrumental', model: undefined, field: 'tags', max: 1000, base: { ...layer, tags: 'rock' } });
  cases.push({ route: 'addInstrumental', model: undefined, field: 'negativeTags', max: 1000, base: { ...layer, tags: 'rock' } });
  cases.push({ route: 'addVocals', model: undefined, field: 'prompt', max: 5000, base: { ...layer, style: 'pop', prompt: 'la' } });
  cases.push({ route: 'addVocals', model: undefined, field: 'title', max: 100, base: { ...layer, style: 'pop', prompt: 'la' } });
  cases.push({ route: 'addVocals', model: undefined, field: 'style', max: 1000, base: { ...layer, style: 'pop', prompt: 'la' } });
  cases.push({ route: 'coverImage', model: undefined, field: 'taskId', max: 64, base: { callBackUrl: CB, taskId: 't' } });
  const persona = { taskId: 't', audioId: 'a', name: 'n', description: 'd', style: 's' };
  for (const [field, max] of [
    ['taskId', 64],
    ['audioId', 64],
    ['name', 100],
    ['description', 1000],
    ['style', 200],
  ] as const)
    cases.push({ route: 'persona', model: undefined, field, max, base: persona });
  return cases;
}

const describeCase = (c: LimitCase) =>
  `${c.route}${c.model ? ` ${c.model}` : ''}${c.base.customMode === false ? ' non-custom' : ''}${c.base.defaultParamFlag === false ? ' flag=false' : ''} ${c.field} ≤ ${c.max}`;

describe('limits per route and model: the limit is accepted, one character more is refused naming the field', () => {
  it.each(limitCases().map((c) => [describeCase(c), c] as const))('%s', (_, c) => {
    const { parse } = PARSERS[c.route];
    const accepted = parse({ ...c.base, [c.field]: at(c.max) }) as Record<string, unknown>;
    expect(accepted[c.field]).toBe(at(c.max));
    expect(chars(at(c.max))).toBe(c.max);
    expect(refusal(() => parse({ ...c.base, [c.field]: at(c.max + 1) }))).toEqual({ code: 422, msg: `${c.field}: must be at most ${c.max} characters` });
  });
});

describe('ranges and enums', () => {
  const base: Record<ParserName, Body> = {
    generate: { callBackUrl: CB, customMode: false, instrumental: true, prompt: 'p' },
    extend: { callBackUrl: CB, defaultParamFlag: true, audioId: 'a', continueAt: 5, style: 's', title: 't' },
    uploadExtend: {
      callBackUrl: CB,
      uploadUrl: 'https://example.com/a.mp3',
      defaultParamFlag: true,
      instrumental: true,
      continueAt: 5,
      style: 's',
      title: 't',
    },
    uploadCover: { callBackUrl: CB, uploadUrl: 'https://example.com/a.mp3', customMode: false, instrumental: true, prompt: 'p' },
    addInstrumental: { callBackUrl: CB, uploadUrl: 'https://example.com/a.mp3', title: 't', tags: 'g', negativeTags: '' },
    addVocals: { callBackUrl: CB, uploadUrl: 'https://example.com/a.mp3', prompt: 'p', title: 't', style: 's', negativeTags: '' },
    mashup: { callBackUrl: CB, uploadUrlList: ['https://example.com/a.mp3', 'https://example.com/b.mp3'], customMode: false, prompt: 'p' },
    coverImage: { callBackUrl: CB, taskId: 't' },
    persona: { taskId: 't', audioId: 'a', name: 'n', description: 'd' },
  };
  const songRoutes = PARSER_NAMES.filter((name) => name !== 'coverImage' && name !== 'persona');

  it('every base body is valid', () => {
    for (const name of PARSER_NAMES) expect(() => PARSERS[name].parse(base[name])).not.toThrow();
  });

  it.each(songRoutes)('%s: weights are accepted exactly in [0, 1] and refused outside, naming the weight', (name) => {
    fc.assert(
      fc.property(fc.constantFrom(...WEIGHTS), fc.double({ noNaN: true, noDefaultInfinity: true }), (field, value) => {
        const body = { ...base[name], [field]: value };
        if (value >= 0 && value <= 1) expect((PARSERS[name].parse(body) as unknown as Record<string, unknown>)[field]).toBe(value);
        else expect(refusal(() => PARSERS[name].parse(body))).toEqual({ code: 422, msg: `${field}: must be between 0 and 1` });
      }),
      { numRuns: 200 },
    );
    for (const bad of ['0.5', true, [0.5], Number.NaN, Number.POSITIVE_INFINITY]) {
      // NaN and Infinity cannot come from JSON but a caller of the function might pass them.
      expect(refusal(() => PARSERS[name].parse({ ...base[name], styleWeight: bad }))).toEqual({ code: 422, msg: 'styleWeight: must be a number' });
    }
  });

  it.each(songRoutes)('%s: vocalGender is m or f', (name) => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.integer(), fc.boolean()), (value) => {
        const body = { ...base[name], vocalGender: value };
        if (value === 'm' || value === 'f') expect(PARSERS[name].parse(body)).toMatchObject({ vocalGender: value });
        else expect(refusal(() => PARSERS[name].parse(body))).toEqual({ code: 422, msg: 'vocalGender: must be one of m, f' });
      }),
      { numRuns: 100 },
    );
  });

  it.each(songRoutes)('%s: model is one of the route’s models', (name) => {
    const models: readonly string[] = name === 'addInstrumental' ? ADD_LAYER_MODELS : name === 'addVocals' ? ADD_VOCALS_MODELS : MODELS;
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...MODELS, 'V3', 'v5', 'V6_MINI', 'chirp-v4-5', ''), fc.string(), fc.integer()), (value) => {
        const body = { ...base[name], model: value };
        if (typeof value === 'string' && models.includes(value)) expect(PARSERS[name].parse(body)).toMatchObject({ model: value });
        else expect(refusal(() => PARSERS[name].parse(body))).toEqual({ code: 422, msg: `model: must be one of ${models.join(', ')}` });
      }),
      { numRuns: 200 },
    );
  });

  it('upload-extend: continueAt must be a number greater than 0', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (continueAt) => {
        const body = { ...base.uploadExtend, continueAt };
        if (continueAt > 0) expect(parseUploadExtend(body).continueAt).toBe(continueAt);
        else expect(refusal(() => parseUploadExtend(body))).toEqual({ code: 422, msg: 'continueAt: must be greater than 0' });
      }),
      { numRuns: 200 },
    );
    expect(refusal(() => parseUploadExtend({ ...base.uploadExtend, continueAt: undefined }))).toEqual({ code: 422, msg: 'continueAt: is required' });
    expect(refusal(() => parseUploadExtend({ ...base.uploadExtend, continueAt: '5' }))).toEqual({ code: 422, msg: 'continueAt: must be a number of seconds' });
  });

  it('extend: continueAt is required with defaultParamFlag true and must be a number', () => {
    expect(refusal(() => parseExtend({ ...base.extend, continueAt: undefined }))).toEqual({
      code: 422,
      msg: 'continueAt: is required when defaultParamFlag is true',
    });
    expect(refusal(() => parseExtend({ ...base.extend, continueAt: '5' }))).toEqual({ code: 422, msg: 'continueAt: must be a number of seconds' });
    expect(parseExtend({ ...base.extend, defaultParamFlag: false, continueAt: 'ignored' }).continueAt).toBeUndefined();
  });

  it('mashup: uploadUrlList holds exactly 2 distinct http(s) URLs', () => {
    fc.assert(
      fc.property(fc.array(httpUrl, { maxLength: 5 }), (list) => {
        const body = { ...base.mashup, uploadUrlList: list };
        if (list.length !== 2) expect(refusal(() => parseMashup(body))).toEqual({ code: 422, msg: 'uploadUrlList: must be a list of exactly 2 song URLs' });
        else if (list[0] === list[1])
          expect(refusal(() => parseMashup(body))).toEqual({ code: 422, msg: 'uploadUrlList: the two songs must differ (both URLs are the same)' });
        else expect(parseMashup(body).uploadUrlList).toEqual(list);
      }),
      { numRuns: 200 },
    );
    for (const [list, msg] of [
      [undefined, 'uploadUrlList: is required: a list of exactly 2 song URLs'],
      ['https://example.com/a.mp3', 'uploadUrlList: must be a list of exactly 2 song URLs'],
      [[CB, 5], 'uploadUrlList[1]: must be an http:// or https:// URL'],
      [['', CB], 'uploadUrlList[0]: must be an http:// or https:// URL'],
      [[CB, 'not a url'], 'uploadUrlList[1]: must be an absolute http:// or https:// URL'],
      [['ftp://example.com/a.mp3', CB], 'uploadUrlList[0]: must use http:// or https://'],
      [[CB, 'https://u:p@example.com/a.mp3'], 'uploadUrlList[1]: must not contain a user name or password'],
      [[CB, `https://example.com/${'a'.repeat(2048)}`], 'uploadUrlList[1]: must be at most 2048 characters'],
    ] as const) {
      expect(refusal(() => parseMashup({ ...base.mashup, uploadUrlList: list }))).toEqual({ code: 422, msg });
    }
  });

  it('persona: the window vocalEnd - vocalStart is accepted exactly from 10 to 30 s', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50_000 }), fc.integer({ min: -5000, max: 6000 }), (startCents, windowCents) => {
        const vocalStart = startCents / 100;
        const vocalEnd = (startCents + windowCents) / 100;
        const body = { ...base.persona, vocalStart, vocalEnd };
        if (vocalEnd < 0) {
          expect(refusal(() => parsePersona(body))).toEqual({ code: 422, msg: 'vocalEnd: must be at least 0' });
        } else if (windowCents >= 1000 && windowCents <= 3000) {
          expect(parsePersona(body)).toMatchObject({ vocalStart, vocalEnd });
        } else {
          expect(refusal(() => parsePersona(body))).toEqual({
            code: 422,
            msg: `vocalEnd: vocalEnd - vocalStart (${windowCents / 100} s) must be between ${PERSONA_MIN_S} and ${PERSONA_MAX_S} seconds`,
          });
        }
      }),
      { numRuns: 500 },
    );
    expect(refusal(() => parsePersona({ ...base.persona, vocalStart: -1 }))).toEqual({ code: 422, msg: 'vocalStart: must be at least 0' });
    expect(refusal(() => parsePersona({ ...base.persona, vocalStart: '0' }))).toEqual({ code: 422, msg: 'vocalStart: must be a number of seconds' });
  });

  it('add-instrumental and add-vocals: negativeTags is required (it may be empty)', () => {
    for (const name of ['addInstrumental', 'addVocals'] as const) {
      expect(PARSERS[name].parse({ ...base[name], negativeTags: '' })).toMatchObject({ negativeTags: '' });
      for (const absent of [undefined, null]) {
        expect(refusal(() => PARSERS[name].parse({ ...base[name], negativeTags: absent }))).toEqual({
          code: 422,
          msg: 'negativeTags: is required (it may be empty)',
        });
      }
      expect(refusal(() => PARSERS[name].parse({ ...base[name], negativeTags: 3 }))).toEqual({ code: 422, msg: 'negativeTags: must be a string' });
    }
  });
});

// --- 4. the Market form ------------------------------------------------------------------------

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camelKey = fc.stringMatching(/^[a-z][a-z0-9]{0,6}([A-Z][a-z0-9]{0,5}){0,3}$/);

/**
 * The pure parser of each kind, to check a Market request all the way through without a store.
 * Kinds missing here (e.g. a Market-only kind whose rules need lookups) are left to refusals.test.ts.
 */
const KIND_PARSERS: Record<string, (body: Body) => unknown> = {
  generate: parseGenerate,
  replace: parseReplaceSection,
  extend: parseExtend,
  'upload-extend': parseUploadExtend,
  'upload-cover': parseUploadCover,
  'add-instrumental': parseAddInstrumental,
  'add-vocals': parseAddVocals,
  mashup: parseMashup,
  'cover-image': parseCoverImage,
  persona: parsePersona,
};
const PARSED_KINDS = KINDS.filter((kind) => kind.name in KIND_PARSERS);

describe('parseMarket and inMarketTerms', () => {
  it('every kind has a Market model id that parseMarket resolves to it', () => {
    for (const kind of KINDS) {
      expect(kind.market).toMatch(/^ai-music-api\/[a-zA-Z0-9-]+$/);
      expect(parseMarket({ model: kind.market, input: {} }).kind).toBe(kind);
    }
    // The song-making kinds and cover images are all checked by the pipeline property below.
    expect(PARSED_KINDS.map((kind) => kind.name)).toEqual(
      expect.arrayContaining(['generate', 'replace', 'extend', 'upload-extend', 'upload-cover', 'add-instrumental', 'add-vocals', 'mashup', 'cover-image']),
    );
  });

  it('maps snake_case input keys to the camelCase body, with callBackUrl from the top level', () => {
    const { body } = parseMarket({
      model: 'ai-music-api/mashup',
      callBackUrl: CB,
      input: {
        custom_mode: true,
        upload_url_list: ['a', 'b'],
        infill_start_s: 12.5,
        negative_tags: '',
        vocal_gender: 'f',
        style_weight: 0.5,
        model: 'V5',
        audio_id: 'x',
      },
    });
    expect(body).toEqual({
      customMode: true,
      uploadUrlList: ['a', 'b'],
      infillStartS: 12.5,
      negativeTags: '',
      vocalGender: 'f',
      styleWeight: 0.5,
      model: 'V5',
      audioId: 'x',
      callBackUrl: CB,
    });
    expect(parseMarket({ model: 'ai-music-api/generate' }).body).toEqual({});
    expect(parseMarket({ model: 'ai-music-api/generate', input: null }).body).toEqual({});
  });

  it('property: any camelCase key written in snake case reaches the body under its camelCase name, value untouched', () => {
    fc.assert(
      fc.property(fc.dictionary(camelKey, anyJson), optional(httpUrl), fc.constantFrom(...KINDS.map((kind) => kind.market)), (fields, callBackUrl, modelId) => {
        const input = Object.fromEntries(Object.entries(fields).map(([key, value]) => [snake(key), value]));
        const { kind, body } = parseMarket({ model: modelId, callBackUrl, input });
        expect(kind.market).toBe(modelId);
        const expected: Body = { ...fields };
        if (callBackUrl !== undefined) expected.callBackUrl = callBackUrl;
        expect(body).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses an unknown or missing model naming `model`, and an input that is not an object naming `input`', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.constantFrom('V5', 'V6', 'ai-music-api/generate-persona', 'ai-music-api/boost-music-style', 'suno/generate', 'ai-music-api/')),
        (modelId) => {
          fc.pre(!KINDS.some((kind) => kind.market === modelId));
          const { code, msg } = refusal(() => parseMarket({ model: modelId, callBackUrl: CB, input: {} }));
          expect(code).toBe(422);
          expect(msg).toMatch(/^model: /);
          if (modelId !== '') expect(msg).toBe(`model: "${modelId}" is not a model this service runs (the version, such as "V5", goes in input.model)`);
        },
      ),
      { numRuns: 200 },
    );
    expect(refusal(() => parseMarket({ input: {} }))).toEqual({ code: 422, msg: 'model: is required, e.g. "ai-music-api/generate"' });
    expect(refusal(() => parseMarket({ model: 5 }))).toEqual({ code: 422, msg: 'model: must be a string' });
    for (const input of [[], 'x', 3, true]) {
      expect(refusal(() => parseMarket({ model: 'ai-music-api/generate', input }))).toEqual({ code: 422, msg: 'input: must be a JSON object' });
    }
  });

  it('property: parseMarket on any JSON throws nothing but a 422 naming body, model or input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyJson,
          fc.record(
            { model: fc.oneof(fc.constantFrom(...KINDS.map((kind) => kind.market)), anyJson), callBackUrl: fc.oneof(httpUrl, anyJson), input: anyJson },
            { requiredKeys: [] },
          ),
        ),
        (raw) => expectAcceptedOrNamed(() => parseMarket(raw), ['model', 'input'], []),
      ),
      { numRuns: 500 },
    );
  });

  it('inMarketTerms names the field as a Market client wrote it and leaves KIE’s sentences alone', () => {
    const rename = (error: ApiError) => inMarketTerms(error) as ApiError;
    expect(rename(invalid('customMode', 'is required')).message).toBe('input.custom_mode: is required');
    expect(rename(invalid('uploadUrlList[1]', 'must use http:// or https://')).message).toBe('input.upload_url_list[1]: must use http:// or https://');
    expect(rename(invalid('infillStartS', 'must be at least 0')).message).toBe('input.infill_start_s: must be at least 0');
    expect(rename(invalid('continueAt', 'must be less than the source duration (40 s)')).message).toBe(
      'input.continue_at: must be less than the source duration (40 s)',
    );
    for (const kept of [
      new ApiError(422, CALLBACK_SENTENCE),
      new ApiError(422, 'Record does not exist'),
      invalid('callBackUrl', 'must use http:// or https://'),
      invalid('body', 'must be a JSON object'),
      new ApiError(402, 'Insufficient credits: this task costs 10'),
      new ApiError(429, 'Rate limit exceeded: at most 20 new tasks per 10 s per account; the task was not queued'),
    ]) {
      expect(inMarketTerms(kept)).toBe(kept);
    }
    const cover = rename(new ApiError(400, 'Cover record already exists', undefined, { taskId: 'abc' }));
    expect({ code: cover.code, msg: cover.message, data: cover.data }).toEqual({ code: 400, msg: 'Cover record already exists', data: { taskId: 'abc' } });
    const other = new Error('boom');
    expect(inMarketTerms(other)).toBe(other);
  });

  it('property: inMarketTerms keeps the code, status, data and rule and snake-cases the field', () => {
    fc.assert(
      fc.property(
        camelKey.filter((key) => key !== 'callBackUrl' && key !== 'body'),
        optional(fc.nat({ max: 9 })),
        fc.string({ minLength: 1 }).filter((rule) => rule.trim() !== ''),
        fc.constantFrom(400, 409, 422) as fc.Arbitrary<400 | 409 | 422>,
        (field, index, rule, code) => {
          const name = index === undefined ? field : `${field}[${index}]`;
          const error = new ApiError(code, `${name}: ${rule}`, 418, { any: 1 });
          const renamed = inMarketTerms(error) as ApiError;
          expect(renamed).toBeInstanceOf(ApiError);
          expect(renamed.message).toBe(`input.${snake(field)}${index === undefined ? '' : `[${index}]`}: ${rule}`);
          expect([renamed.code, renamed.httpStatus, renamed.data]).toEqual([code, 418, { any: 1 }]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: a Market request checked by its kind is refused naming `input.<snake_case>` or in KIE’s words', () => {
    const snakeKeys = [...new Set(Object.values(PARSERS).flatMap((p) => p.keys))].filter((key) => key !== 'callBackUrl').map(snake);
    snakeKeys.push('task_id', 'audio_id', 'infill_start_s', 'infill_end_s', 'full_lyrics', 'tags');
    fc.assert(
      fc.property(
        fc.constantFrom(...PARSED_KINDS),
        fc.oneof(httpUrl, anyJson, fc.constant(undefined)),
        fc.record(Object.fromEntries(snakeKeys.map((key) => [key, fc.oneof(plausible, anyJson)])), { requiredKeys: [] }),
        (kind, callBackUrl, input) => {
          try {
            const market = parseMarket({ model: kind.market, callBackUrl, input });
            (KIND_PARSERS[market.kind.name] as (body: Body) => unknown)(market.body);
          } catch (error) {
            const renamed = inMarketTerms(error);
            if (!(renamed instanceof ApiError)) throw renamed;
            expect(renamed.code).toBe(422);
            if (renamed.message === CALLBACK_SENTENCE) return;
            expect(renamed.message).toMatch(/^(input\.[a-z][a-z0-9_]*(\[\d+\])?|callBackUrl): \S/);
            const field = /^input\.([a-z0-9_]+)/.exec(renamed.message)?.[1];
            if (field) expect(snakeKeys).toContain(field);
          }
        },
      ),
      { numRuns: 600 },
    );
  });
});
