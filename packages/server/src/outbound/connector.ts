import dns from 'node:dns';
import net from 'node:net';
import { buildConnector } from 'undici';
import { type Cidr, checkAddress, formatIp, parseIp } from './address-policy.js';
import { errorCode, OutboundError } from './errors.js';

/**
 * The socket side of the guard: every connection undici opens goes through here.
 *
 * Names are resolved exactly once per connection, inside the `lookup` Node's socket calls, and
 * every answer is checked before any is returned: one refused answer refuses the host, because a
 * rebinding resolver can put the internal address second. The socket then connects only to those
 * checked addresses (Node's happy-eyeballs picks among them), so no second resolution exists to
 * race against. Node skips `lookup` for IP-literal hosts, so literals are checked in the connector
 * itself before a socket is created.
 */

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Answers every address of a name; injectable so tests never touch real DNS. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) => {
  const answers = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 6 ? 6 : 4 }));
};

const clip = (text: string): string => (text.length > 100 ? `${text.slice(0, 100)}…` : text);

/** Resolves once and returns the checked answers in canonical form, or throws an OutboundError. */
export async function resolveChecked(hostname: string, resolver: Resolver, allow: readonly Cidr[]): Promise<ResolvedAddress[]> {
  let answers: unknown;
  try {
    answers = await resolver(hostname);
  } catch (error) {
    throw new OutboundError('dns', `could not resolve ${clip(hostname)} (${errorCode(error) ?? 'lookup failed'})`);
  }
  if (!Array.isArray(answers) || answers.length === 0) throw new OutboundError('dns', `${clip(hostname)} has no address`);
  const checked: ResolvedAddress[] = [];
  for (const answer of answers as unknown[]) {
    const text = typeof answer === 'object' && answer !== null ? (answer as { address?: unknown }).address : undefined;
    const address = typeof text === 'string' ? text : String(text);
    const verdict = checkAddress(address, allow);
    if (!verdict.ok) throw new OutboundError('refused', `destination ${clip(hostname)} resolves to a refused address: ${verdict.reason}`);
    // Connect to the canonical form of exactly what was checked, and take the family from the parse, not the resolver.
    const ip = parseIp(address);
    if (ip) checked.push({ address: formatIp(ip), family: ip.family });
  }
  return checked;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

function wantedFamily(family: dns.LookupOptions['family']): 4 | 6 | null {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return null;
}

/** The `lookup` handed to every socket: resolve, check all answers, answer only checked addresses. */
export function pinnedLookup(resolver: Resolver, allow: readonly Cidr[]): net.LookupFunction {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => {
    resolveChecked(hostname, resolver, allow).then(
      (addresses) => {
        const family = wantedFamily(options.family);
        const wanted = family === null ? addresses : addresses.filter((a) => a.family === family);
        if (options.all) return callback(null, wanted);
        const first = wanted[0];
        if (!first) return callback(new OutboundError('dns', `${clip(hostname)} has no IPv${family} address`), '');
        return callback(null, first.address, first.family);
      },
      (error: OutboundError) => callback(error, ''),
    );
  };
}

export interface ConnectorOptions {
  allow: readonly Cidr[];
  resolver: Resolver;
  /** Socket connect + TLS handshake limit; the caller's overall time limit usually ends things sooner. */
  connectTimeoutMs: number;
}

export function guardedConnector(options: ConnectorOptions): buildConnector.connector {
  const connect = buildConnector({ timeout: options.connectTimeoutMs, lookup: pinnedLookup(options.resolver, options.allow) });
  return (connectOptions, callback) => {
    if (net.isIP(connectOptions.hostname) !== 0) {
      const verdict = checkAddress(connectOptions.hostname, options.allow);
      if (!verdict.ok) {
        // Asynchronously, as a socket error would arrive: undici does not expect its callback re-entered.
        const refusal = new OutboundError('refused', `destination ${verdict.reason}`);
        queueMicrotask(() => callback(refusal, null));
        return;
      }
    }
    connect(connectOptions, callback);
  };
}
