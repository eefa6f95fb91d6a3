import { MessageChannel } from 'node:worker_threads';

/** Below this a buffer is left to the collector: small views may share a buffer (Node's Buffer pool) with live data. */
const RELEASE_FROM_BYTES = 1 << 20;

/**
 * Hands a large buffer's memory back on the next turn of the event loop instead of at the
 * next garbage collection, which can come long after a song's master (tens of MB) was
 * stored: the buffer is moved into a message on a channel that is closed at once, and the
 * dropped message frees it. The caller must hold no other view of it: it is detached here.
 */
export function releaseNow(bytes: Uint8Array): void {
  const { buffer } = bytes;
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < RELEASE_FROM_BYTES) return;
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(null, [buffer]);
  port1.close();
  port2.close();
}
