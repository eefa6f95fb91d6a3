/**
 * Which IP addresses reprise may send requests to (SPEC §5.4).
 *
 * Addresses are parsed by our own code, never trusted as text: IPv4 is read the way the WHATWG URL
 * parser and inet_aton read it (decimal `2130706433`, hex `0x7f.1`, octal `0177.0.0.1`, short forms
 * `127.1`), and IPv6 addresses that carry an IPv4 address (mapped, NAT64, 6to4) are judged by the
 * IPv4 address they lead to. Values are bigints so one CIDR matcher serves both families.
 */

export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

export interface Cidr {
  readonly family: 4 | 6;
  /** Network address with the host bits cleared. */
  readonly base: bigint;
  readonly prefix: number;
  /** Canonical text, e.g. `127.0.0.0/8`. */
  readonly text: string;
}

export type AddressVerdict = { ok: true } | { ok: false; reason: string };

const bitsOf = (family: 4 | 6): number => (family === 4 ? 32 : 128);

// ---------------------------------------------------------------------------------------------
// Parsing and formatting

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
const OCTAL = /^0[0-7]+$/;
const HEX = /^0[xX][0-9a-fA-F]*$/;
/** Longer parts cannot be a valid address anyway; the cap keeps BigInt work bounded on hostile input. */
const MAX_PART_LENGTH = 40;

function parseIPv4Part(part: string): bigint | null {
  if (part.length > MAX_PART_LENGTH) return null;
  // WHATWG reads a bare "0x" as zero, so `http://0x.0x.0x.0x/` is 0.0.0.0.
  if (HEX.test(part)) return part.length === 2 ? 0n : BigInt(`0x${part.slice(2)}`);
  if (OCTAL.test(part)) return BigInt(`0o${part.slice(1)}`);
  if (DECIMAL.test(part)) return BigInt(part);
  return null;
}

/**
 * IPv4 in every spelling the WHATWG URL parser (and inet_aton) accepts: 1–4 parts, each decimal,
 * `0x` hex or leading-zero octal; the last part fills the remaining bytes; one trailing dot allowed.
 */
export function parseIPv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length > 4) return null;
  const numbers: bigint[] = [];
  for (const part of parts) {
    const number = parseIPv4Part(part);
    if (number === null) return null;
    numbers.push(number);
  }
  const last = numbers.pop();
  if (last === undefined || numbers.some((n) => n > 255n)) return null;
  if (last >= 256n ** BigInt(5 - parts.length)) return null;
  return numbers.reduce((value, n, i) => value + (n << BigInt(8 * (3 - i))), last);
}

const STRICT_IPV4 = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;

/** Plain dotted-quad only: for configuration and the tail of an IPv6 address, where odd spellings are mistakes. */
export function parseIPv4Strict(text: string): bigint | null {
  return STRICT_IPV4.test(text) ? parseIPv4(text) : null;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIPv6Groups(text: string, mayEndInIPv4: boolean): number[] | null {
  if (text === '') return [];
  const pieces = text.split(':');
  const groups: number[] = [];
  for (const [i, piece] of pieces.entries()) {
    if (mayEndInIPv4 && i === pieces.length - 1 && piece.includes('.')) {
      const v4 = parseIPv4Strict(piece);
      if (v4 === null) return null;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else if (HEX_GROUP.test(piece)) {
      groups.push(Number.parseInt(piece, 16));
    } else {
      return null;
    }
  }
  return groups;
}

/** IPv6 with optional brackets, `::` compression, a dotted IPv4 tail and a zone id (ignored: the address decides). */
export function parseIPv6(text: string): bigint | null {
  let body = text;
  if (body.startsWith('[') && body.endsWith(']')) body = body.slice(1, -1);
  const zone = body.indexOf('%');
  if (zone !== -1) {
    if (zone === body.length - 1) return null;
    body = body.slice(0, zone);
  }
  const halves = body.split('::');
  let groups: number[];
  if (halves.length === 1) {
    const all = parseIPv6Groups(body, true);
    if (all === null || all.length !== 8) return null;
    groups = all;
  } else if (halves.length === 2) {
    const head = parseIPv6Groups(halves[0] ?? '', false);
    const tail = parseIPv6Groups(halves[1] ?? '', true);
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    return null;
  }
  return groups.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

/** Either family; IPv4 in any spelling. Never throws: anything else is `null`. */
export function parseIp(text: string): IpAddress | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 256) return null;
  if (text.includes(':')) {
    const value = parseIPv6(text);
    return value === null ? null : { family: 6, value };
  }
  const value = parseIPv4(text);
  return value === null ? null : { family: 4, value };
}

export function formatIPv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

/** RFC 5952 text (the same as WHATWG URL serialisation): lowercase, first longest run of ≥ 2 zero groups compressed. */
export function formatIPv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(16 * (7 - i))) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (list: number[]) => list.map((g) => g.toString(16)).join(':');
  if (bestStart === -1) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

export function formatIp(ip: IpAddress): string {
  return ip.family === 4 ? formatIPv4(ip.value) : formatIPv6(ip.value);
}

// ---------------------------------------------------------------------------------------------
// CIDRs

function makeCidr(family: 4 | 6, address: bigint, prefix: number): Cidr {
  const hostBits = BigInt(bitsOf(family) - prefix);
  const base = (address >> hostBits) << hostBits;
  const text = `${family === 4 ? formatIPv4(base) : formatIPv6(base)}/${prefix}`;
  return { family, base, prefix, text };
}

export function inCidr(ip: IpAddress, cidr: Cidr): boolean {
  if (ip.family !== cidr.family) return false;
  const hostBits = BigInt(bitsOf(ip.family) - cidr.prefix);
  return ip.value >> hostBits === cidr.base >> hostBits;
}

/**
 * One CIDR as an operator writes it: `10.0.0.0/8`, `::1/128`, or a bare address (a single host).
 * Only plain spellings are accepted here: an odd spelling in configuration is far more likely a typo.
 */
export function parseCidr(text: string): Cidr {
  const item = text.trim();
  const slash = item.indexOf('/');
  const addressText = slash === -1 ? item : item.slice(0, slash);
  const prefixText = slash === -1 ? null : item.slice(slash + 1);
  const v4 = parseIPv4Strict(addressText);
  const v6 = v4 === null && addressText.includes(':') && !addressText.includes('%') && !addressText.startsWith('[') ? parseIPv6(addressText) : null;
  if (v4 === null && v6 === null) {
    throw new Error(`"${item}" is not a CIDR: "${addressText}" is not an IPv4 or IPv6 address (expected e.g. 10.0.0.0/8 or fd00::/8)`);
  }
  const family = v4 !== null ? 4 : 6;
  const max = bitsOf(family);
  if (prefixText !== null && !/^[0-9]{1,3}$/.test(prefixText)) {
    throw new Error(`"${item}" is not a CIDR: the prefix length after "/" must be a number from 0 to ${max}`);
  }
  const prefix = prefixText === null ? max : Number(prefixText);
  if (prefix > max) throw new Error(`"${item}" is not a CIDR: the prefix length must be from 0 to ${max} for IPv${family}`);
  return makeCidr(family, (v4 ?? v6) as bigint, prefix);
}

/** Comma-separated CIDRs (`REPRISE_OUTBOUND_ALLOW`); blanks are ignored, a bad entry throws naming it. */
export function parseCidrList(text: string): Cidr[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map(parseCidr);
}

// ---------------------------------------------------------------------------------------------
// Refused ranges

interface Range {
  readonly cidr: Cidr;
  /** Completes "<address> is …". */
  readonly label: string;
}

const range = (text: string, label: string): Range => ({ cidr: parseCidr(text), label });

// Most specific first, so the reason names the narrowest rule (metadata before link-local).
const REFUSED_V4: readonly Range[] = [
  range('255.255.255.255/32', 'the broadcast address'),
  range('169.254.169.254/32', 'the cloud metadata address'),
  range('0.0.0.0/8', 'in the "this network" range'),
  range('10.0.0.0/8', 'in a private range'),
  range('100.64.0.0/10', 'in the carrier-grade NAT range'),
  range('127.0.0.0/8', 'in the loopback range'),
  range('169.254.0.0/16', 'in the link-local range'),
  range('172.16.0.0/12', 'in a private range'),
  range('192.0.0.0/24', 'in the IETF protocol assignments range'),
  range('192.0.2.0/24', 'in a documentation range'),
  range('192.88.99.0/24', 'in the deprecated 6to4 relay range'),
  range('192.168.0.0/16', 'in a private range'),
  range('198.18.0.0/15', 'in the benchmarking range'),
  range('198.51.100.0/24', 'in a documentation range'),
  range('203.0.113.0/24', 'in a documentation range'),
  range('224.0.0.0/4', 'in the multicast range'),
  range('240.0.0.0/4', 'in the reserved range'),
];

const REFUSED_V6: readonly Range[] = [
  range('::/128', 'the unspecified address'),
  range('::1/128', 'the loopback address'),
  range('::/96', 'in the deprecated IPv4-compatible range'),
  range('64:ff9b:1::/48', 'in the local-use NAT64 range'),
  range('100::/64', 'in the discard-only range'),
  range('2001::/32', 'in the Teredo tunnelling range'),
  range('2001:2::/48', 'in the benchmarking range'),
  range('2001:db8::/32', 'in a documentation range'),
  range('3fff::/20', 'in a documentation range'),
  range('5f00::/16', 'in the SRv6 SID range'),
  range('fc00::/7', 'in the unique local (private) range'),
  range('fe80::/10', 'in the link-local range'),
  range('fec0::/10', 'in the deprecated site-local range'),
  range('ff00::/8', 'in the multicast range'),
];

const MAPPED = parseCidr('::ffff:0:0/96');
const NAT64 = parseCidr('64:ff9b::/96');
const SIX_TO_FOUR = parseCidr('2002::/16');
const GLOBAL_UNICAST = parseCidr('2000::/3');

/** The IPv4 address an IPv6 address routes to, for the translation schemes that embed one. */
function embeddedIPv4(ip: IpAddress): { v4: IpAddress; scheme: string } | null {
  if (ip.family !== 6) return null;
  if (inCidr(ip, NAT64)) return { v4: { family: 4, value: ip.value & 0xffffffffn }, scheme: 'NAT64, 64:ff9b::/96' };
  if (inCidr(ip, SIX_TO_FOUR)) return { v4: { family: 4, value: (ip.value >> 80n) & 0xffffffffn }, scheme: '6to4, 2002::/16' };
  return null;
}

const findRange = (ip: IpAddress, ranges: readonly Range[]): Range | undefined => ranges.find((r) => inCidr(ip, r.cidr));
const allowed = (ip: IpAddress, allow: readonly Cidr[]): boolean => allow.some((cidr) => inCidr(ip, cidr));
const rule = (r: Range): string => `${r.label} (${r.cidr.text})`;

/** The address as the user (or resolver) wrote it, bounded for messages. */
function written(input: string): string {
  const text = input
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

/** How the address appears in a reason: canonical, plus what the user wrote when that differs. */
function shown(input: string, ip: IpAddress): string {
  const canonical = formatIp(ip);
  const text = written(input);
  return text === canonical ? canonical : `${text} (${canonical})`;
}

/** Classifies a parsed address; the allow-list re-opens a range for the address or the IPv4 address it leads to. */
export function classifyAddress(ip: IpAddress, allow: readonly Cidr[], input = formatIp(ip)): AddressVerdict {
  const name = shown(input, ip);
  if (ip.family === 4) {
    if (allowed(ip, allow)) return { ok: true };
    const hit = findRange(ip, REFUSED_V4);
    return hit ? { ok: false, reason: `${name} is ${rule(hit)}` } : { ok: true };
  }
  if (inCidr(ip, MAPPED)) {
    // An IPv4-mapped address *is* the IPv4 address as far as the socket layer is concerned.
    const v4: IpAddress = { family: 4, value: ip.value & 0xffffffffn };
    if (allowed(ip, allow) || allowed(v4, allow)) return { ok: true };
    const hit = findRange(v4, REFUSED_V4);
    // Named as written: its canonical hex form (::ffff:7f00:1) would only obscure the IPv4 address it means.
    return hit ? { ok: false, reason: `${written(input)} maps to IPv4 ${formatIPv4(v4.value)}, which is ${rule(hit)}` } : { ok: true };
  }
  if (allowed(ip, allow)) return { ok: true };
  const embedded = embeddedIPv4(ip);
  if (embedded) {
    if (allowed(embedded.v4, allow)) return { ok: true };
    const hit = findRange(embedded.v4, REFUSED_V4);
    return hit ? { ok: false, reason: `${name} embeds IPv4 ${formatIPv4(embedded.v4.value)} (${embedded.scheme}), which is ${rule(hit)}` } : { ok: true };
  }
  const hit = findRange(ip, REFUSED_V6);
  if (hit) return { ok: false, reason: `${name} is ${rule(hit)}` };
  if (!inCidr(ip, GLOBAL_UNICAST)) return { ok: false, reason: `${name} is outside the global unicast range (2000::/3)` };
  return { ok: true };
}

/** May reprise connect to this address? Text in any spelling; never throws. */
export function checkAddress(ip: string, allow: readonly Cidr[]): AddressVerdict {
  const parsed = parseIp(ip);
  if (parsed === null) {
    const clipped = String(ip).length > 64 ? `${String(ip).slice(0, 64)}…` : String(ip);
    return { ok: false, reason: `${JSON.stringify(clipped)} is not an IP address` };
  }
  return classifyAddress(parsed, allow, ip);
}
