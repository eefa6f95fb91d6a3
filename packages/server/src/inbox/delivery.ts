import type { ClaimedCallback } from '../callbacks/deliveries.js';
import type { OutboundResponse } from '../outbound/index.js';
import { simulatedCallbackFailures } from '../sandbox/callbacks.js';
import type { Store } from '../store/index.js';
import { recordRequest } from './record.js';
import { inboxByToken, inboxTokenOf } from './store.js';

/**
 * Deliveries that never touch the network, asked by the dispatcher before each attempt
 * (callbacks/dispatcher.ts `deliverLocally`): null sends it as usual.
 * - A sandbox scenario's scripted receiver failures come first (sandbox/callbacks.ts).
 * - A callback whose URL is exactly one of this service's inbox URLs is recorded into that inbox
 *   with the same signed body and headers it would have been POSTed with: the outbound guard
 *   refuses loopback, and the request would only come back here anyway. The inbox answers as its
 *   public URL does (200 `{"received":true}`, 404 once deleted), and the attempt is recorded like
 *   any other. An inbox of another account answers 404: a callback never lands in someone else's.
 */
export type LocalDelivery = (callback: ClaimedCallback, headers: Record<string, string>) => Promise<OutboundResponse | null> | null;

export const RECEIVED_BODY = '{"received":true}';

const answer = (status: number, body: string): OutboundResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(body),
  truncated: false,
  durationMs: 0,
});

/** `publicUrl` is read at each attempt: a server started on port 0 knows its URL only once listening. */
export function localDelivery(store: Store, publicUrl: () => string): LocalDelivery {
  const simulated = simulatedCallbackFailures(store);

  async function intoInbox(callback: ClaimedCallback, token: string, headers: Record<string, string>): Promise<OutboundResponse> {
    const inbox = await inboxByToken(store.db, token);
    if (!inbox || inbox.accountId !== callback.account_id) return answer(404, JSON.stringify({ code: 404, msg: 'inbox: no such inbox', data: null }));
    await recordRequest(store.db, inbox, { method: 'POST', path: `/inbox/${token}`, headers, body: callback.payload }, Date.now());
    return answer(200, RECEIVED_BODY);
  }

  return (callback, headers) => {
    const scripted = simulated(callback);
    const token = inboxTokenOf(publicUrl(), callback.url);
    if (scripted === null) return token === null ? null : intoInbox(callback, token, headers);
    return scripted.then((failure) => failure ?? (token === null ? null : intoInbox(callback, token, headers)));
  };
}
