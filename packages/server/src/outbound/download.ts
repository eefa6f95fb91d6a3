import type { OutboundClient } from './client.js';
import { OutboundError } from './errors.js';

export interface DownloadLimits {
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
}

/**
 * Fetches a user-supplied file (`uploadUrl`, `fileUrl`): 2xx only, size-limited, redirects not
 * followed. Bodies of other statuses are not read, so an error page costs nothing and never reaches
 * the message.
 */
export async function download(client: OutboundClient, url: string, limits: DownloadLimits): Promise<Buffer> {
  const isSuccess = (status: number) => status >= 200 && status < 300;
  const response = await client.request(url, {
    method: 'GET',
    timeoutMs: limits.timeoutMs,
    maxResponseBytes: limits.maxBytes,
    readBodyIf: isSuccess,
    ...(limits.signal ? { signal: limits.signal } : {}),
  });
  if (response.status >= 300 && response.status < 400) {
    throw new OutboundError('protocol', `HTTP ${response.status}: redirects are not followed; give the final URL of the file`);
  }
  if (!isSuccess(response.status)) throw new OutboundError('protocol', `HTTP ${response.status}: expected a 2xx response`);
  return response.body;
}
