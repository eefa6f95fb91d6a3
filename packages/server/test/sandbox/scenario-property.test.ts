import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors.js';
import {
  CALLBACK_FAILURE_STATUSES,
  FAIL_CODES,
  MAX_CALLBACK_FAILURES,
  MAX_DELAY_MS,
  MAX_SCENARIOS,
  parseScenarioQueue,
  type Scenario,
  SKIPPABLE_STAGES,
} from '../../src/sandbox/index.js';

/** Every scenario the contract allows. */
const validScenario: fc.Arbitrary<Scenario> = fc
  .record(
    {
      fail: fc.boolean(),
      failCode: fc.constantFrom(...FAIL_CODES),
      delayMs: fc.integer({ min: 0, max: MAX_DELAY_MS }),
      skipStages: fc.subarray([...SKIPPABLE_STAGES]),
      callbackFailures: fc.integer({ min: 0, max: MAX_CALLBACK_FAILURES }),
      callbackFailureStatus: fc.constantFrom(...CALLBACK_FAILURE_STATUSES),
    },
    { requiredKeys: ['fail', 'failCode'] },
  )
  .map(({ fail, failCode, ...rest }) => (fail ? { outcome: 'fail' as const, failCode, ...rest } : { outcome: 'succeed' as const, ...rest }));

/** The 422 message a body gets, or null when it is accepted. */
function refusal(body: unknown): string | null {
  try {
    parseScenarioQueue(body);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe(422);
    return (error as ApiError).message;
  }
}

describe('sandbox scenarios', () => {
  it('accepts every valid queue and returns it unchanged', () => {
    fc.assert(
      fc.property(fc.array(validScenario, { maxLength: 20 }), (scenarios) => {
        expect(parseScenarioQueue({ scenarios })).toEqual(scenarios);
      }),
    );
  });

  it('refuses a field out of its range, naming the scenario and the field', () => {
    const bad = fc.oneof(
      fc.record({
        field: fc.constant('delayMs'),
        value: fc.oneof(fc.integer({ min: MAX_DELAY_MS + 1 }), fc.integer({ max: -1 }), fc.double({ min: 0.1, max: 0.9 }), fc.string()),
      }),
      fc.record({
        field: fc.constant('callbackFailures'),
        value: fc.oneof(fc.integer({ min: MAX_CALLBACK_FAILURES + 1 }), fc.integer({ max: -1 }), fc.constant('2')),
      }),
      fc.record({
        field: fc.constant('callbackFailureStatus'),
        value: fc.integer({ min: -1000, max: 1000 }).filter((n) => !(CALLBACK_FAILURE_STATUSES as readonly number[]).includes(n)),
      }),
      fc.record({ field: fc.constant('skipStages'), value: fc.oneof(fc.constant('text'), fc.constant(['complete']), fc.constant(['text', 'text'])) }),
    );
    fc.assert(
      fc.property(fc.array(validScenario, { maxLength: 5 }), bad, fc.nat(), (scenarios, { field, value }, at) => {
        const index = scenarios.length === 0 ? 0 : at % scenarios.length;
        const broken: Record<string, unknown>[] = scenarios.map((scenario) => ({ ...scenario }));
        broken[index] = { ...(broken[index] ?? { outcome: 'succeed' }), [field]: value };
        const message = refusal({ scenarios: broken });
        expect(message).toMatch(new RegExp(`^scenarios\\[${index}\\]\\.${field}(\\[\\d+\\])?: `));
      }),
    );
  });

  it('refuses a failCode that is not one of SPEC §4 codes, or one without outcome "fail"', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 999 }).filter((n) => !(FAIL_CODES as readonly number[]).includes(n)),
        (code) => {
          expect(refusal({ scenarios: [{ outcome: 'fail', failCode: code }] })).toBe('scenarios[0].failCode: must be one of 400, 408, 500, 501, 531');
        },
      ),
    );
    expect(refusal({ scenarios: [{ outcome: 'fail' }] })).toBe('scenarios[0].failCode: is required when outcome is "fail" (400, 408, 500, 501, 531)');
    expect(refusal({ scenarios: [{ outcome: 'succeed', failCode: 531 }] })).toBe('scenarios[0].failCode: is only allowed when outcome is "fail"');
  });

  it('refuses unknown fields and outcomes by name', () => {
    const known = ['outcome', 'failCode', 'delayMs', 'skipStages', 'callbackFailures', 'callbackFailureStatus'];
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 12 }).filter((key) => !known.includes(key) && key !== '__proto__'),
        (key) => {
          expect(refusal({ scenarios: [{ outcome: 'succeed', [key]: 1 }] })).toBe(`scenarios[0].${key}: unknown field (allowed: ${known.join(', ')})`);
        },
      ),
    );
    expect(refusal({ scenarios: [{ outcome: 'maybe' }] })).toBe('scenarios[0].outcome: must be one of "succeed", "fail"');
    expect(refusal({ scenarios: [{}] })).toBe('scenarios[0].outcome: is required ("succeed", "fail")');
    expect(refusal({ scenarios: [42] })).toBe('scenarios[0]: must be an object');
  });

  it('refuses a body that is not a queue', () => {
    expect(refusal([])).toBe('body: must be a JSON object {"scenarios": [...]}');
    expect(refusal({})).toBe('scenarios: is required (an array; [] empties the queue)');
    expect(refusal({ scenarios: 'fail' })).toBe('scenarios: must be an array');
    expect(refusal({ scenarios: Array.from({ length: MAX_SCENARIOS + 1 }, () => ({ outcome: 'succeed' })) })).toBe(
      `scenarios: at most ${MAX_SCENARIOS} scenarios, got ${MAX_SCENARIOS + 1}`,
    );
    expect(refusal({ scenarios: [] })).toBeNull();
  });
});
