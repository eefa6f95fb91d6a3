import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { guardedConnector } from '../../src/outbound/connector.js';
import { createOutboundClient, download, type OutboundClient, OutboundError, type OutboundErrorKind, parseCidrList } from '../../src/outbound/index.js';
import { type CountingServer, fakeResolver, httpServer, tcpServer } from './servers.js';

/**
 * Behaviour of the guarded client against loopback servers only. "Public" host names are mapped
 * to 127.0.0.1 by an injected resolver and re-opened with an allow-list of 127.0.0.0/8.
 */

const LOOPBACK = parseCidrList('127.0.0.0/8');
const HOST = 'hooks.example.test';

async function failure(promise: Promise<unknown>): Promise<OutboundError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OutboundError) return error;
    throw error;
  }
  throw new Error('expected the request to fail');
}

function expectKind(error: OutboundError, kind: OutboundErrorKind): void {
  expect({ kind: error.kind, message: error.message }).toMatchObject({ kind });
}

let server: CountingServer;
const clients: OutboundClient[] = [];
function client(allow = LOOPBACK, table: Record<string, string[]> = { [HOST]: ['127.0.0.1'] }): OutboundClient {
  const created = createOutboundClient({ allow, lookup: fakeResolver(table) });
  clients.push(created);
  return created;
}

beforeAll(async () => {
  server = await httpServer((request, response) => {
    const path = request.url ?? '/';
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (path === '/echo') response.writeHead(200, { 'content-type': 'text/plain', 'x-method': request.method ?? '' }).end(`${request.method} ${body}`);
      else if (path === '/204') response.writeHead(204).end();
      else if (path === '/404') response.writeHead(404).end('internal secret: db password is hunter2');
      else if (path === '/hang') {
        /* never answers */
      } else if (path === '/slow-headers') setTimeout(() => response.end('late'), 1500);
      else if (path === '/slow-body') {
        response.writeHead(200);
        response.write('first part');
        setTimeout(() => response.end('second part'), 1500);
      } else if (path === '/big') response.end(Buffer.alloc(200 * 1024, 0x61));
      else if (path === '/big-chunked') {
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        let sent = 0;
        const more = () => {
          while (sent < 512 * 1024) {
            sent += 16 * 1024;
            if (!response.write(Buffer.alloc(16 * 1024, 0x62))) return void response.once('drain', more);
          }
          response.end();
        };
        more();
      } else if (path === '/exact') response.end(Buffer.alloc(1024, 0x63));
      else if (path === '/reset') request.socket.resetAndDestroy();
      else if (path === '/close') request.socket.destroy();
      else response.writeHead(500).end();
    });
  });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await server.close();
});

const url = (path: string, host = HOST) => `http://${host}:${server.port}${path}`;

describe('with 127.0.0.0/8 allowed', () => {
  it('POSTs a body and reads the answer, resolving the name through the injected resolver', async () => {
    const resolver = fakeResolver({ [HOST]: ['127.0.0.1'] });
    const c = createOutboundClient({ allow: LOOPBACK, lookup: resolver });
    clients.push(c);
    const response = await c.request(url('/echo'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
      timeoutMs: 2000,
      maxResponseBytes: 65536,
    });
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('POST {"a":1}');
    expect(response.headers['x-method']).toBe('POST');
    expect(response.truncated).toBe(false);
    expect(response.durationMs).toBeGreaterThanOrEqual(0);
    expect(resolver.calls).toEqual([HOST]);
  });

  it('connects to an allowed IP literal', async () => {
    const response = await client().request(url('/204', '127.0.0.1'), { method: 'GET', timeoutMs: 2000, maxResponseBytes: 10 });
    expect(response.status).toBe(204);
    expect(response.body.length).toBe(0);
  });

  it('returns a non-2xx answer as a response (the caller decides)', async () => {
    const response = await client().request(url('/404'), { method: 'GET', timeoutMs: 2000, maxResponseBytes: 65536 });
    expect(response.status).toBe(404);
  });
});

describe('refusal happens before any connection', () => {
  it('refuses a name that resolves to loopback when loopback is not allowed, and connects once it is', async () => {
    const before = server.connections();
    const strict = client([], { [HOST]: ['127.0.0.1'] });
    const refused = await failure(strict.request(url('/echo'), { method: 'POST', body: 'x', timeoutMs: 2000, maxResponseBytes: 100 }));
    expectKind(refused, 'refused');
    expect(refused.message).toBe(`destination ${HOST} resolves to a refused address: 127.0.0.1 is in the loopback range (127.0.0.0/8)`);
    expect(server.connections()).toBe(before);

    const open = client(LOOPBACK, { [HOST]: ['127.0.0.1'] });
    const response = await open.request(url('/echo'), { method: 'POST', body: 'x', timeoutMs: 2000, maxResponseBytes: 100 });
    expect(response.status).toBe(200);
    expect(server.connections()).toBe(before + 1);
  });

  it('refuses when any answer is refused, even after an allowed first answer', async () => {
    // 127.0.0.1 stands in for a public address (re-opened by the allow-list); the second answer is private.
    const before = server.connections();
    for (const second of ['10.0.0.1', '169.254.169.254', '::ffff:192.168.1.1', 'fd00::1', '::1']) {
      const c = client(parseCidrList('127.0.0.1/32'), { [HOST]: ['127.0.0.1', second] });
      expectKind(await failure(c.request(url('/echo'), { method: 'GET', timeoutMs: 2000, maxResponseBytes: 100 })), 'refused');
    }
    expect(server.connections()).toBe(before);
  });

  it('refuses a literal in the connector itself (defence behind the URL check)', async () => {
    const before = server.connections();
    const connect = guardedConnector({ allow: [], resolver: fakeResolver({}), connectTimeoutMs: 1000 });
    const error = await new Promise<Error | null>((resolve) => {
      connect({ hostname: '127.0.0.1', host: `127.0.0.1:${server.port}`, protocol: 'http:', port: String(server.port) }, (...args) => resolve(args[0]));
    });
    expect(error).toBeInstanceOf(OutboundError);
    expect((error as OutboundError).kind).toBe('refused');
    expect(server.connections()).toBe(before);
  });

  it('checks https destinations the same way (no TCP connection, hence no TLS)', async () => {
    const tcp = await tcpServer((socket) => socket.destroy());
    try {
      const strict = client([], { [HOST]: ['127.0.0.1'] });
      expectKind(await failure(strict.request(`https://${HOST}:${tcp.port}/`, { method: 'GET', timeoutMs: 2000, maxResponseBytes: 100 })), 'refused');
      expectKind(await failure(strict.request(`https://127.0.0.1:${tcp.port}/`, { method: 'GET', timeoutMs: 2000, maxResponseBytes: 100 })), 'refused');
      expect(tcp.connections()).toBe(0);
      // Allowed: the TCP connection happens, and the TLS handshake then fails against a non-TLS peer.
      const open = client(LOOPBACK, { [HOST]: ['127.0.0.1'] });
      const error = await failure(open.request(`https://${HOST}:${tcp.port}/`, { method: 'GET', timeoutMs: 2000, maxResponseBytes: 100 }));
      expect(['connect', 'reset']).toContain(error.kind);
      expect(tcp.connections()).toBe(1);
    } finally {
      await tcp.close();
    }
  });
});

describe('time limit covers the whole attempt', () => {
  it('times out a server that never answers', async () => {
    const started = Date.now();
    const error = await failure(client().request(url('/hang'), { method: 'POST', body: '{}', timeoutMs: 300, maxResponseBytes: 100 }));
    expectKind(error, 'timeout');
    expect(error.message).toBe(`no complete response from ${HOST}:${server.port} within 300 ms`);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('times out slow headers', async () => {
    expectKind(await failure(client().request(url('/slow-headers'), { method: 'GET', timeoutMs: 300, maxResponseBytes: 100 })), 'timeout');
  });

  it('times out a body that arrives too slowly, although headers came in time', async () => {
    expectKind(await failure(client().request(url('/slow-body'), { method: 'GET', timeoutMs: 300, maxResponseBytes: 1000 })), 'timeout');
  });

  it('times out a DNS lookup that never answers', async () => {
    const hanging = createOutboundClient({ allow: LOOPBACK, lookup: () => new Promise(() => {}) });
    const started = Date.now();
    expectKind(await failure(hanging.request(url('/echo'), { method: 'GET', timeoutMs: 300, maxResponseBytes: 100 })), 'timeout');
    expect(Date.now() - started).toBeLessThan(1500);
    const closing = Date.now();
    await hanging.close();
    expect(Date.now() - closing).toBeLessThan(3000);
  });

  it("rethrows the caller's own abort reason", async () => {
    const controller = new AbortController();
    const pending = client().request(url('/hang'), { method: 'GET', timeoutMs: 5000, maxResponseBytes: 100, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    await expect(pending).rejects.toThrow('shutting down');
  });
});

describe('redirects are never followed', () => {
  it('returns a 302 as a response, and download refuses it; the Location target gets no connection', async () => {
    const target = await httpServer((_request, response) => response.end('target'));
    const redirector = await httpServer((_request, response) => response.writeHead(302, { location: `http://127.0.0.1:${target.port}/` }).end());
    try {
      const c = client();
      const response = await c.request(`http://${HOST}:${redirector.port}/`, { method: 'POST', body: '{}', timeoutMs: 2000, maxResponseBytes: 100 });
      expect(response.status).toBe(302);
      const error = await failure(download(c, `http://${HOST}:${redirector.port}/file.mp3`, { timeoutMs: 2000, maxBytes: 1000 }));
      expectKind(error, 'protocol');
      expect(error.message).toMatch(/^HTTP 302: redirects are not followed/);
      expect(redirector.connections()).toBeGreaterThan(0);
      expect(target.connections()).toBe(0);
    } finally {
      await Promise.all([target.close(), redirector.close()]);
    }
  });
});

describe('response size limit', () => {
  it('truncates at the limit when asked and reports it', async () => {
    const response = await client().request(url('/big'), { method: 'POST', body: '{}', timeoutMs: 2000, maxResponseBytes: 64 * 1024, truncate: true });
    expect(response.status).toBe(200);
    expect(response.body.length).toBe(64 * 1024);
    expect(response.truncated).toBe(true);
  });

  it('truncates a streamed (chunked) body too', async () => {
    const response = await client().request(url('/big-chunked'), { method: 'GET', timeoutMs: 2000, maxResponseBytes: 20_000, truncate: true });
    expect(response.body.length).toBe(20_000);
    expect(response.truncated).toBe(true);
  });

  it('fails with too_large without truncate (declared length and streamed body)', async () => {
    expectKind(await failure(client().request(url('/big'), { method: 'GET', timeoutMs: 2000, maxResponseBytes: 1000 })), 'too_large');
    expectKind(await failure(client().request(url('/big-chunked'), { method: 'GET', timeoutMs: 2000, maxResponseBytes: 100_000 })), 'too_large');
    expectKind(await failure(download(client(), url('/big-chunked'), { timeoutMs: 2000, maxBytes: 100_000 })), 'too_large');
  });

  it('accepts a body of exactly the limit', async () => {
    const response = await client().request(url('/exact'), { method: 'GET', timeoutMs: 2000, maxResponseBytes: 1024 });
    expect(response.body.length).toBe(1024);
    expect(response.truncated).toBe(false);
  });
});

describe('network failures', () => {
  it('classifies a connection reset', async () => {
    expectKind(await failure(client().request(url('/reset'), { method: 'POST', body: '{}', timeoutMs: 2000, maxResponseBytes: 100 })), 'reset');
  });

  it('classifies a connection closed without an answer', async () => {
    expectKind(await failure(client().request(url('/close'), { method: 'POST', body: '{}', timeoutMs: 2000, maxResponseBytes: 100 })), 'reset');
  });

  it('classifies a closed port as a connect failure', async () => {
    const closed = await tcpServer(() => {});
    const port = closed.port;
    await closed.close();
    const error = await failure(client().request(`http://${HOST}:${port}/`, { method: 'GET', timeoutMs: 2000, maxResponseBytes: 100 }));
    expectKind(error, 'connect');
    expect(error.message).toBe(`could not connect to ${HOST}:${port} (ECONNREFUSED)`);
  });

  it('classifies DNS failures and empty answers', async () => {
    const c = client(LOOPBACK, { 'empty.example.test': [] });
    expectKind(await failure(c.request(url('/', 'nowhere.example.test'), { method: 'GET', timeoutMs: 2000, maxResponseBytes: 100 })), 'dns');
    expectKind(await failure(c.request(url('/', 'empty.example.test'), { method: 'GET', timeoutMs: 2000, maxResponseBytes: 100 })), 'dns');
  });

  it('classifies a non-HTTP answer as a protocol error without quoting it', async () => {
    const garbage = await tcpServer((socket) => socket.end('SECRET-BANNER internal redis 7.0\r\n\r\n'));
    try {
      const error = await failure(client().request(`http://${HOST}:${garbage.port}/`, { method: 'GET', timeoutMs: 2000, maxResponseBytes: 100 }));
      expectKind(error, 'protocol');
      expect(error.message).not.toMatch(/SECRET|redis/);
    } finally {
      await garbage.close();
    }
  });
});

describe('lifecycle', () => {
  it('refuses new requests once closed', async () => {
    const c = createOutboundClient({ allow: LOOPBACK, lookup: fakeResolver({ [HOST]: ['127.0.0.1'] }) });
    await c.request(url('/204'), { method: 'GET', timeoutMs: 2000, maxResponseBytes: 10 });
    await c.close();
    expectKind(await failure(c.request(url('/204'), { method: 'GET', timeoutMs: 2000, maxResponseBytes: 10 })), 'connect');
  });
});

describe('download', () => {
  it('returns the bytes of a 2xx answer', async () => {
    const bytes = await download(client(), url('/exact'), { timeoutMs: 2000, maxBytes: 4096 });
    expect(bytes.length).toBe(1024);
  });

  it('fails on a non-2xx status without reading or quoting the body', async () => {
    const error = await failure(download(client(), url('/404'), { timeoutMs: 2000, maxBytes: 4096 }));
    expectKind(error, 'protocol');
    expect(error.message).toBe('HTTP 404: expected a 2xx response');
  });

  it('refuses a bad URL before anything else', async () => {
    const error = await failure(download(client(), 'file:///etc/passwd', { timeoutMs: 2000, maxBytes: 4096 }));
    expectKind(error, 'refused');
  });
});
