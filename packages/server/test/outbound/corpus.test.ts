import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveChecked } from '../../src/outbound/connector.js';
import { checkAddress, checkUrl, createOutboundClient, OutboundError, parseCidrList } from '../../src/outbound/index.js';
import { type CountingServer, fakeResolver, httpServer } from './servers.js';

/**
 * The bypass corpus. Three layers, all of which must refuse:
 *  - pure address checks (any address, public or not: nothing is connected to);
 *  - pure URL checks (literal hosts in every spelling, bad schemes, userinfo, …);
 *  - the real client, against loopback counting servers: every destination here would land on
 *    127.0.0.1 / ::1 if the guard failed, so "zero connections" proves the refusal came first and
 *    no packet ever leaves the machine, even with a broken guard.
 */

const REFUSED_ADDRESSES: string[] = [
  // IPv4 loopback in every spelling
  '127.0.0.1',
  '127.255.255.254',
  '127.1',
  '127.0.1',
  '2130706433',
  '0x7f000001',
  '0x7f.1',
  '0x7F.0.0.1',
  '0177.0.0.1',
  '0177.1',
  '017700000001',
  '0x7f.0x0.0x0.0x1',
  '0177.0x0.00.1',
  '127.0.0.1.',
  // the rest of the refused IPv4 ranges
  '0.0.0.0',
  '0',
  '0x0',
  '0.1.2.3',
  '10.0.0.5',
  '10.255.255.255',
  '012.0.0.1',
  '167772161',
  '100.64.0.1',
  '100.127.255.254',
  '169.254.169.254',
  '169.254.0.1',
  '0xa9fea9fe',
  '2852039166',
  '0251.0376.0251.0376',
  '172.16.0.1',
  '172.31.255.255',
  '0xac.16.0.1',
  '192.0.0.8',
  '192.0.2.1',
  '192.88.99.1',
  '192.168.0.1',
  '192.168.1',
  '3232235777',
  '198.18.0.1',
  '198.19.255.255',
  '198.51.100.7',
  '203.0.113.9',
  '224.0.0.1',
  '239.255.255.250',
  '240.0.0.1',
  '255.255.255.255',
  '4294967295',
  // IPv6 ranges
  '::1',
  '::',
  '0:0:0:0:0:0:0:1',
  '[::1]',
  'fc00::1',
  'fd00:ec2::254',
  'fe80::1',
  'fe80::1%eth0',
  'febf::1',
  'fec0::1',
  'ff02::1',
  'ff05::1:3',
  '2001:db8::1',
  '2001:db8:ffff::1',
  '3fff::1',
  '100::1',
  '2001::1',
  '2001:0:4136:e378:8000:63bf:3fff:fdd2',
  '2001:2::1',
  '5f00::1',
  '64:ff9b:1::a',
  '::7f00:1',
  '::127.0.0.1',
  // IPv4-mapped / NAT64 / 6to4 forms of refused IPv4
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '::FFFF:7F00:1',
  '0:0:0:0:0:ffff:127.0.0.1',
  '::ffff:169.254.169.254',
  '::ffff:a9fe:a9fe',
  '::ffff:10.0.0.1',
  '::ffff:192.168.1.1',
  '::ffff:0.0.0.0',
  '64:ff9b::a00:1',
  '64:ff9b::10.0.0.1',
  '64:ff9b::7f00:1',
  '64:ff9b::a9fe:a9fe',
  '64:ff9b::c0a8:101',
  '2002:a00:1::',
  '2002:7f00:1::1',
  '2002:a9fe:a9fe::',
  '2002:c0a8:101:1::1',
  '2002:6440:1::',
  '::ffff:0:7f00:1',
  // not addresses at all
  '',
  'localhost',
  '1.2.3.4.5',
  '256.0.0.1',
  '08.0.0.1',
  '0x1g.0.0.1',
  '::ffff::1',
  '1::2::3',
  'example.com',
  ' 8.8.8.8',
];

const PUBLIC_ADDRESSES = [
  '93.184.216.34',
  '8.8.8.8',
  '1.1.1.1',
  '11.0.0.1',
  '100.63.255.255',
  '100.128.0.0',
  '126.255.255.255',
  '128.0.0.1',
  '169.253.255.255',
  '169.255.0.1',
  '172.15.255.255',
  '172.32.0.1',
  '192.0.1.1',
  '192.0.3.1',
  '192.167.255.255',
  '192.169.0.1',
  '198.17.255.255',
  '198.20.0.1',
  '203.0.112.255',
  '223.255.255.255',
  '0x5d.0xb8.0xd8.0x22',
  '1572395042',
  '2606:4700::1',
  '2001:4860:4860::8888',
  '2a00:1450:4001:80b::200e',
  '::ffff:93.184.216.34',
  '::ffff:808:808',
  '64:ff9b::808:808',
  '64:ff9b::8.8.8.8',
  '2002:808:808::1',
];

const LONG = `https://example.com/${'a'.repeat(2048)}`;

const REFUSED_URLS: string[] = [
  'http://127.0.0.1/',
  'http://127.1/',
  'http://0x7f.1/',
  'http://0177.0.0.1/',
  'http://2130706433/',
  'http://017700000001/',
  'http://0x7f000001/',
  'http://127.0.0.1.:8080/',
  'http://%31%32%37.0.0.1/',
  'http://０ｘ７ｆ.1/',
  'http://0/',
  'http://0.0.0.0/',
  'http://[::]/',
  'http://[::1]/',
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:7f00:1]/',
  'http://[::ffff:169.254.169.254]/',
  'http://169.254.169.254/latest/meta-data/',
  'http://[fd00:ec2::254]/',
  'http://[64:ff9b::a00:1]/',
  'http://[2002:a00:1::]/',
  'http://[fe80::1%25eth0]/',
  'http://10.0.0.5:8080/x',
  'http://192.168.1.1/',
  'https://172.16.0.1/',
  'http://100.64.0.1/',
  'http://3232235777/',
  'http://0xa9.0xfe.0xa9.0xfe/',
  // schemes, credentials, shape
  'ftp://example.com/file',
  'file:///etc/passwd',
  'gopher://example.com:70/_x',
  'javascript:alert(1)',
  'data:text/plain,hi',
  'ws://example.com/',
  'dict://example.com:11211/stat',
  'http://user:pass@example.com/',
  'http://user@example.com/',
  'https://:secret@example.com/',
  'http://example.com@127.0.0.1/',
  '/relative/path',
  'example.com',
  '',
  LONG,
  'http://[::1/',
];

const PUBLIC_URLS = ['https://example.com/callback', 'http://93.184.216.34/cb', 'https://[2606:4700::1]:8443/x?y=1', 'http://example.com:8080/a/b'];

describe('pure classification (no connections)', () => {
  it.each(REFUSED_ADDRESSES)('refuses address %j', (address) => {
    const verdict = checkAddress(address, []);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason.length).toBeGreaterThan(5);
  });

  it.each(PUBLIC_ADDRESSES)('accepts public address %s', (address) => {
    expect(checkAddress(address, [])).toEqual({ ok: true });
  });

  it.each(REFUSED_URLS.map((url) => [url.length > 80 ? `${url.slice(0, 40)}…(${url.length} chars)` : url, url]))('refuses URL %s', (_label, url) => {
    expect(checkUrl(url).ok).toBe(false);
  });

  it.each(PUBLIC_URLS)('accepts URL %s', (url) => {
    expect(checkUrl(url).ok).toBe(true);
  });

  it('refuses a host whose resolver answers a public address first and a private one next', async () => {
    for (const answers of [
      ['93.184.216.34', '10.0.0.1'],
      ['2606:4700::1', '169.254.169.254'],
      ['8.8.8.8', '1.1.1.1', '::ffff:127.0.0.1'],
      ['93.184.216.34', 'fd00::1'],
      ['10.0.0.1'],
      ['192.168.0.10', '192.168.0.11'],
    ]) {
      const resolver = fakeResolver({ 'rebind.example.test': answers });
      await expect(resolveChecked('rebind.example.test', resolver, [])).rejects.toMatchObject({ kind: 'refused' });
    }
    const ok = await resolveChecked('ok.example.test', fakeResolver({ 'ok.example.test': ['93.184.216.34', '2606:4700::1'] }), []);
    expect(ok).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:4700::1', family: 6 },
    ]);
  });

  it('names the rule in the reason', () => {
    expect(checkUrl('http://10.0.0.5/')).toEqual({ ok: false, reason: 'destination 10.0.0.5 is in a private range (10.0.0.0/8)' });
    expect(checkUrl('http://[::ffff:169.254.169.254]/')).toEqual({
      ok: false,
      reason: 'destination ::ffff:a9fe:a9fe maps to IPv4 169.254.169.254, which is the cloud metadata address (169.254.169.254/32)',
    });
    expect(checkUrl('http://[2002:a00:1::]/')).toEqual({
      ok: false,
      reason: 'destination 2002:a00:1:: embeds IPv4 10.0.0.1 (6to4, 2002::/16), which is in a private range (10.0.0.0/8)',
    });
    expect(checkAddress('0x7f.1', [])).toEqual({ ok: false, reason: '0x7f.1 (127.0.0.1) is in the loopback range (127.0.0.0/8)' });
    expect(checkUrl('gopher://x/')).toEqual({ ok: false, reason: 'scheme gopher: is not allowed (only http: and https:)' });
  });
});

describe('the client refuses before connecting (loopback counting servers)', () => {
  let v4: CountingServer;
  let v6: CountingServer | null = null;

  beforeAll(async () => {
    const answer = (_request: unknown, response: import('node:http').ServerResponse) => response.end('reached');
    v4 = await httpServer(answer);
    v6 = await httpServer(answer, '::1').catch(() => null); // a host without IPv6 loopback still runs the v4 half
  });

  afterAll(async () => {
    await v4.close();
    await v6?.close();
  });

  // Literal hosts: each lands on one of our servers if the guard fails.
  const literalUrls = (p4: number, p6: number | null): string[] => [
    `http://127.0.0.1:${p4}/`,
    `http://127.1:${p4}/`,
    `http://0x7f.1:${p4}/`,
    `http://0177.0.0.1:${p4}/`,
    `http://2130706433:${p4}/`,
    `http://017700000001:${p4}/`,
    `http://0x7f000001:${p4}/`,
    `http://127.0.0.1.:${p4}/`,
    `http://%30x7f.1:${p4}/`,
    `http://0:${p4}/`,
    `http://0.0.0.0:${p4}/`,
    `http://[::ffff:127.0.0.1]:${p4}/`,
    `http://[::ffff:7f00:1]:${p4}/`,
    `https://127.0.0.1:${p4}/`,
    `https://0x7f.1:${p4}/`,
    `http://user:pw@127.0.0.1:${p4}/`,
    `http://user:pw@callback.example.test:${p4}/`,
    ...(p6 === null ? [] : [`http://[::1]:${p6}/`, `http://[0:0:0:0:0:0:0:1]:${p6}/`, `http://[::]:${p6}/`, `https://[::1]:${p6}/`]),
  ];

  // Names: the injected resolver answers loopback, alone or behind an allowed first answer.
  const resolverCases = (): Array<{ answers: string[]; allow: string; v6?: boolean }> => [
    { answers: ['127.0.0.1'], allow: '' },
    { answers: ['127.0.0.2'], allow: '' },
    { answers: ['0x7f.1'], allow: '' },
    { answers: ['::ffff:127.0.0.1'], allow: '' },
    { answers: ['0.0.0.0'], allow: '' },
    { answers: ['not-an-address'], allow: '' },
    { answers: ['::1'], allow: '', v6: true },
    { answers: ['127.0.0.1', '::1'], allow: '' },
    // 127.0.0.1 plays the public address (re-opened); any refused second answer must refuse the host.
    { answers: ['127.0.0.1', '10.0.0.1'], allow: '127.0.0.1/32' },
    { answers: ['127.0.0.1', '169.254.169.254'], allow: '127.0.0.1/32' },
    { answers: ['127.0.0.1', '::ffff:a9fe:a9fe'], allow: '127.0.0.1/32' },
    { answers: ['127.0.0.1', 'fd00:ec2::254'], allow: '127.0.0.1/32' },
    { answers: ['127.0.0.1', '64:ff9b::a00:1'], allow: '127.0.0.1/32' },
    { answers: ['127.0.0.1', '2002:c0a8:101::1'], allow: '127.0.0.1/32' },
    { answers: ['127.0.0.1', '100.64.0.1'], allow: '127.0.0.1/32' },
    { answers: ['127.0.0.1', '127.0.0.2'], allow: '127.0.0.1/32' },
    { answers: ['127.0.0.1', '::1'], allow: '127.0.0.1/32' },
  ];

  it('refuses every literal and resolved destination with zero connections and no DNS for literals', async () => {
    const p6 = v6?.port ?? null;
    let refused = 0;
    for (const url of literalUrls(v4.port, p6)) {
      const resolver = fakeResolver({ 'callback.example.test': ['127.0.0.1'] });
      const client = createOutboundClient({ allow: [], lookup: resolver });
      const error = await client.request(url, { method: 'POST', body: '{}', timeoutMs: 2000, maxResponseBytes: 1024 }).then(
        () => null,
        (e: unknown) => e,
      );
      await client.close();
      expect(error, url).toBeInstanceOf(OutboundError);
      expect((error as OutboundError).kind, url).toBe('refused');
      expect(resolver.calls, url).toEqual([]);
      refused++;
    }
    for (const { answers, allow, v6: needsV6 } of resolverCases()) {
      if (needsV6 && p6 === null) continue;
      const host = 'callback.example.test';
      const port = needsV6 && p6 !== null ? p6 : v4.port;
      const client = createOutboundClient({ allow: parseCidrList(allow), lookup: fakeResolver({ [host]: answers }) });
      for (const scheme of ['http', 'https']) {
        const error = await client.request(`${scheme}://${host}:${port}/hook`, { method: 'POST', body: '{}', timeoutMs: 2000, maxResponseBytes: 1024 }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error, `${scheme} ${answers.join(',')}`).toBeInstanceOf(OutboundError);
        expect((error as OutboundError).kind, `${scheme} ${answers.join(',')}`).toBe('refused');
        refused++;
      }
      await client.close();
    }
    expect(v4.connections()).toBe(0);
    expect(v6?.connections() ?? 0).toBe(0);
    expect(refused).toBeGreaterThanOrEqual(40);
  });

  it('connects to the same destinations once the allow-list re-opens loopback', async () => {
    const allow = parseCidrList('127.0.0.0/8,::1/128');
    const client = createOutboundClient({ allow, lookup: fakeResolver({ 'callback.example.test': ['127.0.0.1'], 'v6.example.test': ['::1'] }) });
    const urls = [`http://127.0.0.1:${v4.port}/`, `http://0x7f.1:${v4.port}/`, `http://2130706433:${v4.port}/`, `http://callback.example.test:${v4.port}/`];
    if (v6) urls.push(`http://[::1]:${v6.port}/`, `http://v6.example.test:${v6.port}/`);
    for (const url of urls) {
      const response = await client.request(url, { method: 'POST', body: '{}', timeoutMs: 2000, maxResponseBytes: 1024 });
      expect(response.body.toString(), url).toBe('reached');
    }
    await client.close();
    expect(v4.connections()).toBeGreaterThan(0);
  });
});

it('the corpus is large enough', () => {
  expect(REFUSED_ADDRESSES.length + REFUSED_URLS.length).toBeGreaterThanOrEqual(80);
});
