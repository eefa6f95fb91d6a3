import dns from 'node:dns';

/**
 * Tests talk only to loopback. A test that hands a host name to code that
 * resolves it would send a DNS query off this machine: fail it loudly instead.
 * (Server processes that tests spawn get IP-literal URLs only.)
 */
const allowed = new Set(['localhost', '127.0.0.1', '::1']);
const refuse = (hostname: string): Error =>
  Object.assign(new Error(`test tried to resolve ${hostname}: tests must use loopback IP literals`), { code: 'ENOTFOUND' });

const lookup = dns.lookup;
dns.lookup = ((hostname: string, ...rest: unknown[]) => {
  if (!allowed.has(hostname)) {
    const callback = rest.at(-1) as (error: Error) => void;
    process.nextTick(() => callback(refuse(hostname)));
    return;
  }
  return (lookup as (...args: unknown[]) => void)(hostname, ...rest);
}) as typeof dns.lookup;

const promisesLookup = dns.promises.lookup;
dns.promises.lookup = ((hostname: string, ...rest: unknown[]) =>
  allowed.has(hostname)
    ? (promisesLookup as (...args: unknown[]) => Promise<unknown>)(hostname, ...rest)
    : Promise.reject(refuse(hostname))) as typeof dns.promises.lookup;
