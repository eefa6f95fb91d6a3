import { describe, expect, it } from 'vitest';
import { checkAddress, checkUrl, literalAddress, MAX_URL_LENGTH, parseCidr, parseCidrList, parseIp } from '../../src/outbound/index.js';

describe('parseCidrList (REPRISE_OUTBOUND_ALLOW)', () => {
  it('parses v4 and v6 CIDRs, bare addresses, blanks and spaces', () => {
    expect(parseCidrList('').map((c) => c.text)).toEqual([]);
    expect(parseCidrList(' 127.0.0.0/8 , ::1/128,, 10.1.2.3/8, fd00::1 ,192.168.1.7').map((c) => c.text)).toEqual([
      '127.0.0.0/8',
      '::1/128',
      '10.0.0.0/8', // host bits are cleared, as net.ParseCIDR does
      'fd00::1/128',
      '192.168.1.7/32',
    ]);
    expect(parseCidr('0.0.0.0/0').prefix).toBe(0);
    expect(parseCidr('::/0').family).toBe(6);
  });

  it.each([
    ['10.0.0.0/99', 'the prefix length must be from 0 to 32 for IPv4'],
    ['::1/129', 'the prefix length must be from 0 to 128 for IPv6'],
    ['10.0.0.0/', 'the prefix length after "/" must be a number'],
    ['10.0.0.0/8/8', 'the prefix length after "/" must be a number'],
    ['10.0.0.0/-1', 'the prefix length after "/" must be a number'],
    ['nope', '"nope" is not an IPv4 or IPv6 address'],
    ['/8', '"" is not an IPv4 or IPv6 address'],
    ['0x7f.1/8', '"0x7f.1" is not an IPv4 or IPv6 address'],
    ['127.1/8', '"127.1" is not an IPv4 or IPv6 address'],
    ['010.0.0.0/8', '"010.0.0.0" is not an IPv4 or IPv6 address'],
    ['[::1]/128', '"[::1]" is not an IPv4 or IPv6 address'],
    ['256.0.0.0/8', '"256.0.0.0" is not an IPv4 or IPv6 address'],
  ])('rejects %j clearly', (text, message) => {
    expect(() => parseCidrList(`127.0.0.0/8,${text}`)).toThrow(`"${text}" is not a CIDR: `);
    expect(() => parseCidrList(text)).toThrow(message);
  });
});

describe('allow-list', () => {
  const loopback = parseCidrList('127.0.0.0/8');

  it('re-opens exactly the listed ranges', () => {
    expect(checkAddress('127.0.0.1', loopback)).toEqual({ ok: true });
    expect(checkAddress('0x7f.1', loopback)).toEqual({ ok: true });
    expect(checkAddress('10.0.0.1', loopback).ok).toBe(false);
    expect(checkAddress('::1', loopback).ok).toBe(false);
    expect(checkAddress('::1', parseCidrList('::1/128'))).toEqual({ ok: true });
  });

  it('an IPv4 range also opens the IPv4-mapped, NAT64 and 6to4 forms of its addresses', () => {
    expect(checkAddress('::ffff:127.0.0.1', loopback)).toEqual({ ok: true });
    expect(checkAddress('64:ff9b::7f00:1', loopback)).toEqual({ ok: true });
    expect(checkAddress('2002:7f00:1::', loopback)).toEqual({ ok: true });
    expect(checkAddress('::ffff:10.0.0.1', loopback).ok).toBe(false);
  });

  it('an IPv6 range can open IPv6-only ranges', () => {
    const ula = parseCidrList('fd00::/8');
    expect(checkAddress('fd12::1', ula)).toEqual({ ok: true });
    expect(checkAddress('fc00::1', ula).ok).toBe(false);
  });
});

describe('reasons name the rule', () => {
  it.each([
    ['10.0.0.5', '10.0.0.5 is in a private range (10.0.0.0/8)'],
    ['172.20.1.1', '172.20.1.1 is in a private range (172.16.0.0/12)'],
    ['169.254.169.254', '169.254.169.254 is the cloud metadata address (169.254.169.254/32)'],
    ['169.254.1.1', '169.254.1.1 is in the link-local range (169.254.0.0/16)'],
    ['100.100.100.200', '100.100.100.200 is in the carrier-grade NAT range (100.64.0.0/10)'],
    ['255.255.255.255', '255.255.255.255 is the broadcast address (255.255.255.255/32)'],
    ['2130706433', '2130706433 (127.0.0.1) is in the loopback range (127.0.0.0/8)'],
    ['::1', '::1 is the loopback address (::1/128)'],
    ['FE80::1%eth0', 'fe80::1%eth0 (fe80::1) is in the link-local range (fe80::/10)'],
    ['2001:db8::1', '2001:db8::1 is in a documentation range (2001:db8::/32)'],
    ['::ffff:7f00:1', '::ffff:7f00:1 maps to IPv4 127.0.0.1, which is in the loopback range (127.0.0.0/8)'],
    ['64:ff9b::a9fe:a9fe', '64:ff9b::a9fe:a9fe embeds IPv4 169.254.169.254 (NAT64, 64:ff9b::/96), which is the cloud metadata address (169.254.169.254/32)'],
    ['::ffff:0:7f00:1', '::ffff:0:7f00:1 is outside the global unicast range (2000::/3)'],
    ['hello', '"hello" is not an IP address'],
  ])('%s', (address, reason) => {
    expect(checkAddress(address, [])).toEqual({ ok: false, reason });
  });
});

describe('parseIp', () => {
  it('reads odd IPv4 spellings the way WHATWG URL does', () => {
    expect(parseIp('0x7f.1')).toEqual({ family: 4, value: 0x7f000001n });
    expect(parseIp('0177.0.0.1')).toEqual({ family: 4, value: 0x7f000001n });
    expect(parseIp('127.1')).toEqual({ family: 4, value: 0x7f000001n });
    expect(parseIp('127.0.1')).toEqual({ family: 4, value: 0x7f000001n });
    expect(parseIp('0x.0x.0x.0x')).toEqual({ family: 4, value: 0n });
    expect(parseIp('4294967295')).toEqual({ family: 4, value: 0xffffffffn });
    for (const bad of ['4294967296', '1.2.3.4.5', '1.256.1.1', '09.1.1.1', '1..1', '.1.2.3', '1.2.3.4..', '0x1.0xg', '', '+1', '1e3', '１２７.0.0.1']) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });

  it('reads IPv6 with brackets, zones and IPv4 tails', () => {
    expect(parseIp('[::1]')).toEqual({ family: 6, value: 1n });
    expect(parseIp('fe80::1%25eth0')?.value).toBe((0xfe80n << 112n) | 1n);
    expect(parseIp('::ffff:1.2.3.4')?.value).toBe(0xffff01020304n);
    for (const bad of [':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', '12345::', '::1.2.3', '::01.2.3.4', '1.2.3.4::', 'fe80::1%', '::g']) {
      expect(parseIp(bad), bad).toBeNull();
    }
  });
});

describe('checkUrl', () => {
  it('accepts http and https URLs with names, without looking them up', () => {
    const verdict = checkUrl('https://hooks.example.com:8443/a?b=c');
    expect(verdict.ok && verdict.url.hostname).toBe('hooks.example.com');
  });

  it('limits the length to 2048 characters', () => {
    const base = 'https://example.com/';
    expect(checkUrl(base + 'a'.repeat(MAX_URL_LENGTH - base.length)).ok).toBe(true);
    expect(checkUrl(base + 'a'.repeat(MAX_URL_LENGTH - base.length + 1))).toEqual({ ok: false, reason: 'the URL is longer than 2048 characters' });
  });

  it('refuses credentials even when empty-looking', () => {
    expect(checkUrl('http://a:b@example.com/')).toMatchObject({ ok: false });
    expect(checkUrl('http://:b@example.com/')).toMatchObject({ ok: false });
    expect(checkUrl('http://a@example.com/')).toMatchObject({ ok: false });
  });

  it('checks IP literals against the allow-list it is given', () => {
    expect(checkUrl('http://127.0.0.1:3000/cb').ok).toBe(false);
    expect(checkUrl('http://127.0.0.1:3000/cb', parseCidrList('127.0.0.0/8')).ok).toBe(true);
    expect(checkUrl('http://[::1]:3000/cb', parseCidrList('::1/128')).ok).toBe(true);
  });

  it('tells literals from names', () => {
    expect(literalAddress('127.0.0.1')).toBe('127.0.0.1');
    expect(literalAddress('[::1]')).toBe('::1');
    expect(literalAddress('example.com')).toBeNull();
    expect(literalAddress('1.example')).toBeNull();
  });
});
