import { MessageChannel } from 'node:worker_threads';

/** Below this a buffer may be shared with live data (Node's Buffer pool): it is copied or left to the collector. */
const OWNED_FROM_BYTES = 1 << 20;

/**
 * The buffer behind a view when it is large enough to be the view's own (never a pool slab),
 * and so may be moved to another thread or released: null for small or shared buffers.
 */
export function ownedBuffer(bytes: ArrayBufferView): ArrayBuffer | null {
  const { buffer } = bytes;
  return buffer instanceof ArrayBuffer && buffer.byteLength >= OWNED_FROM_BYTES ? buffer : null;
}

/**
 * Hands a large buffer's memory back on the next turn of the event loop instead of at the
 * next garbage collection, which can come long after a song's master (tens of MB) was
 * stored: the buffer is moved into a message on a channel that is closed at once, and the
 * dropped message frees it. The caller must hold no other view of it: it is detached here.
 */
export function releaseNow(bytes: ArrayBufferView): void {
  const buffer = ownedBuffer(bytes);
  if (!buffer) return;
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(null, [buffer]);
  port1.close();
  port2.close();
}
