import http from 'node:http';
import type { AddressInfo, Server, Socket } from 'node:net';
import net from 'node:net';
import type { ResolvedAddress, Resolver } from '../../src/outbound/index.js';

/**
 * Loopback-only fixtures for the outbound tests. Every server here listens on 127.0.0.1 (or ::1) and counts
 * TCP connections, which is how the tests prove a refusal happened before any socket was opened.
 */

export interface CountingServer {
  port: number;
  connections(): number;
  close(): Promise<void>;
}

/** Only loopback hosts: these tests never send a packet anywhere else. */
export type LoopbackHost = '127.0.0.1' | '::1';

async function listen(server: Server, host: LoopbackHost): Promise<CountingServer> {
  let connections = 0;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An HTTP server on loopback whose handler decides the behaviour. */
export async function httpServer(handler: http.RequestListener, host: LoopbackHost = '127.0.0.1'): Promise<CountingServer> {
  return listen(http.createServer(handler), host);
}

/** A raw TCP server on loopback: the handler gets the socket (for garbage, hangs and resets). */
export async function tcpServer(onSocket: (socket: Socket) => void, host: LoopbackHost = '127.0.0.1'): Promise<CountingServer> {
  return listen(net.createServer(onSocket), host);
}

/** A resolver that answers from a table and fails loudly for anything else: tests never reach real DNS. */
export function fakeResolver(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = async (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname);
    const answers = table[hostname];
    if (!answers) throw Object.assign(new Error(`no such host ${hostname}`), { code: 'ENOTFOUND' });
    return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolver, { calls });
}
