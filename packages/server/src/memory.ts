import { createRequire } from 'node:module';
import v8 from 'node:v8';
import vm from 'node:vm';
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

/** The large buffers (see `ownedBuffer`) anywhere in a message's data, each once. */
function movableBuffers(value: unknown, found = new Set<ArrayBuffer>(), seen = new Set<object>()): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    const owned = ownedBuffer(value);
    if (owned) found.add(owned);
  } else if (value !== null && typeof value === 'object' && !seen.has(value)) {
    seen.add(value);
    for (const item of Object.values(value)) movableBuffers(item, found, seen);
  }
  return [...found];
}

/**
 * Posts `message` to another thread with its large buffers (a song's samples, its master, a
 * source's bytes) moved rather than copied, so a song is not held on both sides: the sender must
 * not read them afterwards. Where one cannot move (a WebAssembly memory, one already moved),
 * everything is copied.
 */
export function postMoving(target: { postMessage(value: unknown, transferList?: readonly ArrayBuffer[]): void }, message: unknown): void {
  try {
    target.postMessage(message, movableBuffers(message));
  } catch {
    target.postMessage(message);
  }
}

/**
 * Hands a large buffer's memory back within a couple of turns of the event loop instead of at
 * the next garbage collection, which can come long after a song's master (tens of MB) was
 * stored: the buffer is moved into a message on a channel that is closed at once, and the
 * dropped message frees it. Resolves once it is freed (the channel has closed), so work that
 * would otherwise run before the event loop turns (a render thread's next stage) can wait
 * for the memory first. The caller must hold no other view of it: it is detached here.
 */
export function releaseNow(bytes: ArrayBufferView): Promise<void> {
  const buffer = ownedBuffer(bytes);
  if (!buffer) return Promise.resolve();
  const { port1, port2 } = new MessageChannel();
  const freed = new Promise<void>((resolve) => port2.once('close', () => resolve()));
  port1.postMessage(null, [buffer]);
  port1.close();
  port2.close();
  return freed;
}

/** `releaseNow` for each view (views of one buffer release it once), resolved when all are freed. */
export async function releaseAllNow(views: readonly ArrayBufferView[]): Promise<void> {
  await Promise.all(views.map((view) => releaseNow(view)));
}

let gc: (() => void) | null = null;

/** The addon (native/memory), built at install where a compiler is; relative to this module in src/ and dist/ alike. */
const TRIM_ADDON = '../native/memory/build/Release/reprise_memory.node';
let trim: (() => boolean) | null | undefined;

/** The C allocator's trim, or null where the addon was not built. */
export function allocatorTrim(): (() => boolean) | null {
  if (trim === undefined) {
    try {
      trim = (createRequire(import.meta.url)(TRIM_ADDON) as { trim: () => boolean }).trim;
    } catch {
      trim = null;
    }
  }
  return trim;
}

/**
 * V8's full collection, as `--expose-gc` gives it, without asking operators for the flag (set at
 * run time, it installs `gc` in contexts created afterwards, such as this one); then the C
 * allocator's free pages handed back where the addon is built.
 */
export function fullCollection(): void {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
  allocatorTrim()?.();
}
