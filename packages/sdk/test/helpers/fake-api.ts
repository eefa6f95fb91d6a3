import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type Route = (request: Seen, response: http.ServerResponse) => void | Promise<void>;

/** A loopback HTTP server answering with the routes given (key: "METHOD /path"), recording every request. */
export async function fakeApi(routes: Record<string, Route>): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = (request.url ?? '/').split('?')[0] ?? '/';
      const entry: Seen = { method: request.method ?? 'GET', path: request.url ?? '/', headers: request.headers, body: Buffer.concat(chunks) };
      seen.push(entry);
      const route = routes[`${entry.method} ${path}`];
      if (!route) return json(response, 404, { code: 404, msg: `Not found: ${entry.method} ${path}`, data: null });
      void Promise.resolve(route(entry, response)).catch(() => response.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(response: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

export const ok = (data: unknown) => ({ code: 200, msg: 'success', data });

export function record(taskId: string, status: string, tracks: unknown[] = []) {
  return {
    taskId,
    parentMusicId: '',
    param: '{}',
    response: { taskId, sunoData: tracks },
    status,
    type: 'REPLACE_SECTION',
    operationType: 'replace_section',
    errorCode: null,
    errorMessage: null,
  };
}
