import net from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIPv4, formatIPv6, parseIPv6, parseIp } from '../../src/outbound/address-policy.js';
import { checkAddress, checkUrl, parseCidrList } from '../../src/outbound/index.js';

/**
 * Property tests for the address parser: every spelling of an IPv4 address means what the WHATWG URL
 * parser says it means and is judged like the canonical form; IPv6 text round-trips and agrees with
 * WHATWG serialisation; embedded IPv4 carries its verdict; arbitrary text never throws.
 */

const RUNS = { numRuns: 400 };

type Base = 'dec' | 'hex' | 'HEX' | 'oct';

function spell(value: bigint, base: Base, zeros: number): string {
  if (base === 'dec') return value.toString(10);
  if (base === 'oct') return `0${'0'.repeat(zeros)}${value.toString(8)}`;
  const digits = `${'0'.repeat(zeros)}${value.toString(16)}`;
  return base === 'hex' ? `0x${digits}` : `0X${digits.toUpperCase()}`;
}

/** `value` written with `parts` parts (the last one fills the remaining bytes), each in its own base. */
function spellIPv4(value: number, parts: number, bases: Base[], zeros: number[], trailingDot: boolean): string {
  const n = BigInt(value);
  const leading = Array.from({ length: parts - 1 }, (_, i) => (n >> BigInt(8 * (3 - i))) & 0xffn);
  const lastBits = BigInt(8 * (5 - parts));
  const last = n & ((1n << lastBits) - 1n);
  const text = [...leading, last].map((part, i) => spell(part, bases[i] ?? 'dec', zeros[i] ?? 0)).join('.');
  return trailingDot ? `${text}.` : text;
}

const ipv4Spelling = fc
  .record({
    value: fc.integer({ min: 0, max: 0xffffffff }),
    parts: fc.integer({ min: 1, max: 4 }),
    bases: fc.array(fc.constantFrom<Base>('dec', 'hex', 'HEX', 'oct'), { minLength: 4, maxLength: 4 }),
    zeros: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
    trailingDot: fc.boolean(),
  })
  .map((r) => ({ ...r, text: spellIPv4(r.value, r.parts, r.bases, r.zeros, r.trailingDot) }));

/** Addresses drawn near and inside the refused ranges, so both verdicts are exercised often. */
const interestingIPv4 = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc
    .constantFrom(0x00000000, 0x0a000000, 0x64400000, 0x7f000000, 0xa9fe0000, 0xac100000, 0xc0a80000, 0xc6120000, 0xe0000000, 0xf0000000)
    .chain((base) => fc.integer({ min: -0x10000, max: 0x10000 }).map((delta) => Math.min(0xffffffff, Math.max(0, base + delta)))),
);

describe('IPv4 spellings', () => {
  it('every spelling parses to the same value as the canonical form, and WHATWG URL agrees', () => {
    fc.assert(
      fc.property(ipv4Spelling, ({ value, text }) => {
        const canonical = formatIPv4(BigInt(value));
        const parsed = parseIp(text);
        expect(parsed).toEqual({ family: 4, value: BigInt(value) });
        expect(new URL(`http://${text}/`).hostname).toBe(canonical);
      }),
      RUNS,
    );
  });

  it('every spelling gets the verdict of the canonical form', () => {
    fc.assert(
      fc.property(interestingIPv4, ipv4Spelling, (value, spelling) => {
        const text = spellIPv4(value, spelling.parts, spelling.bases, spelling.zeros, spelling.trailingDot);
        const canonical = formatIPv4(BigInt(value));
        expect(checkAddress(text, []).ok).toBe(checkAddress(canonical, []).ok);
        expect(checkUrl(`http://${text}/`).ok).toBe(checkAddress(canonical, []).ok);
      }),
      RUNS,
    );
  });

  it('an allow-list that covers an address opens all of its spellings', () => {
    fc.assert(
      fc.property(ipv4Spelling, ({ value, text }) => {
        const allow = parseCidrList(`${formatIPv4(BigInt(value))}/32`);
        expect(checkAddress(text, allow)).toEqual({ ok: true });
      }),
      RUNS,
    );
  });
});

const v6Value = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
/** Values with runs of zero groups, where `::` compression gets interesting. */
const sparseV6 = fc
  .array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
  .map((groups) => groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n));

describe('IPv6', () => {
  it('formatting round-trips and matches WHATWG URL serialisation', () => {
    fc.assert(
      fc.property(fc.oneof(v6Value, sparseV6), (value) => {
        const text = formatIPv6(value);
        expect(parseIPv6(text)).toBe(value);
        expect(new URL(`http://[${text}]/`).hostname).toBe(`[${text}]`);
      }),
      RUNS,
    );
  });

  it('the full uncompressed spelling, in any case, parses to the same value', () => {
    fc.assert(
      fc.property(v6Value, fc.boolean(), (value, upper) => {
        const full = Array.from({ length: 8 }, (_, i) => ((value >> BigInt(16 * (7 - i))) & 0xffffn).toString(16).padStart(4, '0')).join(':');
        expect(parseIPv6(upper ? full.toUpperCase() : full)).toBe(value);
      }),
      RUNS,
    );
  });

  it('IPv4-mapped, NAT64 and 6to4 forms carry the verdict of the IPv4 address inside', () => {
    fc.assert(
      fc.property(interestingIPv4, (value) => {
        const v4 = formatIPv4(BigInt(value));
        const hi = (value >>> 16).toString(16);
        const lo = (value & 0xffff).toString(16);
        const expected = checkAddress(v4, []).ok;
        for (const form of [`::ffff:${v4}`, `::ffff:${hi}:${lo}`, `64:ff9b::${v4}`, `64:ff9b::${hi}:${lo}`, `2002:${hi}:${lo}::1`, `2002:${hi}:${lo}:abcd::`]) {
          expect({ form, ok: checkAddress(form, []).ok }).toEqual({ form, ok: expected });
        }
      }),
      RUNS,
    );
  });

  it('agrees with node:net on what is an IPv6 address, and with WHATWG URL on its value', () => {
    const hex = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'.split('')), maxLength: 5 });
    const piece = fc.oneof(
      { weight: 8, arbitrary: hex },
      { weight: 1, arbitrary: fc.constantFrom('1.2.3.4', '127.0.0.1', '01.2.3.4', '256.1.1.1', '1.2.3', '0x7f.1') },
    );
    // Near-misses on purpose: wrong group counts, 5-digit groups, several "::", bad IPv4 tails.
    const v6ish = fc
      .tuple(fc.array(piece, { maxLength: 9 }), fc.integer({ min: -1, max: 9 }))
      .map(([pieces, at]) => (at < 0 || at > pieces.length ? pieces.join(':') : `${pieces.slice(0, at).join(':')}::${pieces.slice(at).join(':')}`));
    const v6Text = fc.oneof(v6ish, fc.string({ unit: fc.constantFrom(...'0123456789abcdef:.'.split('')), maxLength: 45 }));
    fc.assert(
      fc.property(v6Text, (text) => {
        if (!text.includes(':')) return;
        const parsed = parseIp(text);
        expect(parsed !== null).toBe(net.isIPv6(text));
        if (parsed) expect(`[${formatIPv6(parsed.value)}]`).toBe(new URL(`http://[${text}]/`).hostname);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('arbitrary input', () => {
  const addressish = fc.string({ unit: fc.constantFrom(...'0123456789abcdefxX.:%[]/ -'.split('')), maxLength: 40 });
  const anything = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), addressish);

  it('checkAddress never throws and always gives a verdict', () => {
    fc.assert(
      fc.property(anything, (text) => {
        const verdict = checkAddress(text, []);
        if (verdict.ok) expect(parseIp(text)).not.toBeNull();
        else expect(typeof verdict.reason).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with node:net on dotted-quad IPv4', () => {
    fc.assert(
      fc.property(addressish, (text) => {
        if (net.isIPv4(text)) expect(parseIp(text)?.family).toBe(4);
      }),
      { numRuns: 2000 },
    );
  });

  it('checkUrl never throws, for strings and for generated URLs', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anything,
          fc.webUrl({ withQueryParameters: true, withFragments: true }),
          addressish.map((h) => `http://${h}/`),
        ),
        (text) => {
          const verdict = checkUrl(text);
          expect(typeof verdict.ok).toBe('boolean');
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('parseCidrList either parses or throws an Error naming the entry', () => {
    fc.assert(
      fc.property(fc.oneof(addressish, fc.string()), (text) => {
        try {
          const cidrs = parseCidrList(text);
          for (const cidr of cidrs) expect(parseCidrList(cidr.text)).toEqual([cidr]);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          expect((error as Error).message).toMatch(/^".*" is not a CIDR: /s);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
