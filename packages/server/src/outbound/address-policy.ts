import net from 'node:net';

/**
 * Which IP addresses reprise may connect to on a user's behalf (SPEC §5.4).
 * Addresses are parsed into bytes and checked against refused ranges; IPv6 forms
 * that embed an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are
 * checked as that IPv4 address too. An allow-list re-opens ranges explicitly.
 */
export interface Cidr {
  bytes: Uint8Array;
  prefix: number;
  text: string;
}

export type AddressVerdict = { ok: true } | { ok: false; reason: string };

/** Parses IPv4 in every spelling inet_aton accepts: `127.1`, `0x7f.1`, `0177.0.0.1`, `2130706433`. */
export function parseIPv4Loose(text: string): Uint8Array | null {
  if (!/^[0-9a-fA-FxX.]+$/.test(text)) return null;
  // A single trailing dot is the root label (`127.0.0.1.`); empty labels elsewhere make it no address.
  const trimmed = text.endsWith('.') ? text.slice(0, -1) : text;
  const parts = trimmed.split('.');
  if (parts.length < 1 || parts.length > 4) return null;
  const values: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(part)) value = part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) value = Number.parseInt(part, 8);
    else if (/^(0|[1-9][0-9]*)$/.test(part)) value = Number(part);
    else return null;
    if (!Number.isFinite(value)) return null;
    values.push(value);
  }
  const last = values.pop() as number;
  if (values.some((v) => v > 255)) return null;
  const lastMax = 2 ** (8 * (4 - values.length)) - 1;
  if (last > lastMax) return null;
  const bytes = new Uint8Array(4);
  values.forEach((v, i) => (bytes[i] = v));
  for (let i = 3; i >= values.length; i--) {
    bytes[i] = Math.floor(last / 2 ** (8 * (3 - i))) % 256;
  }
  return bytes;
}

/** Parses an IPv6 address (optionally with an IPv4 tail or a zone) into 16 bytes. */
export function parseIPv6(text: string): Uint8Array | null {
  const unbracketed = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const address = unbracketed.split('%')[0] ?? '';
  if (net.isIPv6(address) !== true) return null;
  let head = address;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (v4?.[1]) {
    const bytes = v4[1].split('.').map(Number);
    tail.push(((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0), ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0));
    head = address.slice(0, -v4[1].length);
    if (head.endsWith('::')) head = `${head}`;
    else head = head.slice(0, -1);
  }
  const [left = '', right] = head.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const leftGroups = parse(left);
  const rightGroups = right === undefined ? [] : parse(right);
  const missing = 8 - tail.length - leftGroups.length - rightGroups.length;
  const groups = right === undefined ? [...leftGroups, ...tail] : [...leftGroups, ...new Array(missing).fill(0), ...rightGroups, ...tail];
  if (groups.length !== 8) return null;
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

/** Any textual address → bytes (4 or 16), or null when it is not an address. */
export function parseAddress(text: string): Uint8Array | null {
  if (text.includes(':')) return parseIPv6(text);
  return parseIPv4Loose(text);
}

export function formatAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

function cidr(text: string): Cidr {
  const [address = '', prefixText] = text.split('/');
  const bytes = parseAddress(address);
  const prefix = Number(prefixText);
  if (!bytes || prefixText === undefined || !/^\d+$/.test(prefixText) || prefix > bytes.length * 8) {
    throw new Error(`invalid CIDR ${JSON.stringify(text)}`);
  }
  return { bytes, prefix, text };
}

/** `127.0.0.0/8,::1/128` → CIDRs; throws naming the first bad entry. */
export function parseCidrList(text: string): Cidr[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(cidr);
}

export function inCidr(bytes: Uint8Array, range: Cidr): boolean {
  if (bytes.length !== range.bytes.length) return false;
  let bits = range.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((range.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

const REFUSED_V4: Array<[string, string]> = [
  ['0.0.0.0/8', '"this network" (0.0.0.0/8)'],
  ['10.0.0.0/8', 'a private range (10.0.0.0/8)'],
  ['100.64.0.0/10', 'carrier-grade NAT (100.64.0.0/10)'],
  ['127.0.0.0/8', 'loopback (127.0.0.0/8)'],
  ['169.254.0.0/16', 'link-local, incl. cloud metadata (169.254.0.0/16)'],
  ['172.16.0.0/12', 'a private range (172.16.0.0/12)'],
  ['192.0.0.0/24', 'IETF protocol assignments (192.0.0.0/24)'],
  ['192.0.2.0/24', 'documentation (192.0.2.0/24)'],
  ['192.88.99.0/24', '6to4 relay anycast (192.88.99.0/24)'],
  ['192.168.0.0/16', 'a private range (192.168.0.0/16)'],
  ['198.18.0.0/15', 'benchmarking (198.18.0.0/15)'],
  ['198.51.100.0/24', 'documentation (198.51.100.0/24)'],
  ['203.0.113.0/24', 'documentation (203.0.113.0/24)'],
  ['224.0.0.0/4', 'multicast (224.0.0.0/4)'],
  ['240.0.0.0/4', 'reserved (240.0.0.0/4, incl. broadcast)'],
];

const REFUSED_V6: Array<[string, string]> = [
  ['::/128', 'the unspecified address (::)'],
  ['::1/128', 'loopback (::1)'],
  ['100::/64', 'discard-only (100::/64)'],
  ['2001::/23', 'IETF protocol assignments (2001::/23)'],
  ['2001:db8::/32', 'documentation (2001:db8::/32)'],
  ['fc00::/7', 'unique local (fc00::/7)'],
  ['fe80::/10', 'link-local (fe80::/10)'],
  ['fec0::/10', 'site-local (fec0::/10)'],
  ['ff00::/8', 'multicast (ff00::/8)'],
];

const refusedV4 = REFUSED_V4.map(([text, why]) => ({ range: cidr(text), why }));
const refusedV6 = REFUSED_V6.map(([text, why]) => ({ range: cidr(text), why }));

/** IPv4 addresses an IPv6 address carries inside it (mapped, compatible, NAT64, 6to4, Teredo). */
export function embeddedIPv4(bytes: Uint8Array): Uint8Array[] {
  if (bytes.length !== 16) return [];
  const found: Uint8Array[] = [];
  const zero = (from: number, to: number) => bytes.subarray(from, to).every((b) => b === 0);
  if (zero(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) found.push(bytes.slice(12, 16)); // ::ffff:a.b.c.d
  if (zero(0, 12)) found.push(bytes.slice(12, 16)); // ::a.b.c.d (deprecated compatible)
  if (zero(0, 8) && bytes[8] === 0xff && bytes[9] === 0xff && zero(10, 12)) found.push(bytes.slice(12, 16)); // ::ffff:0:a.b.c.d (SIIT)
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b) found.push(bytes.slice(12, 16)); // 64:ff9b::/96 and 64:ff9b:1::/48
  if (bytes[0] === 0x20 && bytes[1] === 0x02) found.push(bytes.slice(2, 6)); // 6to4 2002::/16
  if (bytes[0] === 0x20 && bytes[1] === 0x01 && bytes[2] === 0 && bytes[3] === 0) found.push(bytes.slice(12, 16).map((b) => b ^ 0xff)); // Teredo client
  return found;
}

function refusal(bytes: Uint8Array): string | null {
  const table = bytes.length === 4 ? refusedV4 : refusedV6;
  for (const { range, why } of table) if (inCidr(bytes, range)) return why;
  for (const inner of embeddedIPv4(bytes)) {
    const why = refusal(inner);
    if (why) return `${why}, embedded in an IPv6 address`;
  }
  return null;
}

/** May reprise connect to this address? `allow` re-opens ranges (REPRISE_OUTBOUND_ALLOW). */
export function checkAddress(address: string | Uint8Array, allow: readonly Cidr[] = []): AddressVerdict {
  const bytes = typeof address === 'string' ? parseAddress(address) : address;
  if (!bytes) return { ok: false, reason: `${JSON.stringify(address)} is not an IP address` };
  if (allow.some((range) => inCidr(bytes, range))) return { ok: true };
  const why = refusal(bytes);
  return why ? { ok: false, reason: `destination ${formatAddress(bytes)} is ${why}` } : { ok: true };
}
