import { parentPort } from 'node:worker_threads';
import { createEngine } from '../engine/index.js';
import { type Engine, type RenderedTrack, runOperation } from '../engine/types.js';
import type { EngineSpec, RenderMessage, RenderRequest } from './render-protocol.js';

/**
 * Runs engine work off the main thread, so a CPU-bound render never stalls the
 * API or the callback dispatcher. One request at a time; the pool terminates the
 * thread to cancel.
 */
if (!parentPort) throw new Error('render-thread must run as a worker thread');
const port = parentPort;
let engine: { spec: string; engine: Engine } | null = null;

function engineFor(spec: EngineSpec): Engine {
  const key = JSON.stringify(spec);
  if (engine?.spec !== key) engine = { spec: key, engine: createEngine(spec) };
  return engine.engine;
}

/** Below this a track's bytes are copied: small views may share a buffer (Node's Buffer pool) with other data. */
const TRANSFER_FROM_BYTES = 1 << 20;

/**
 * The buffers of a track that move to the main thread instead of being copied: a song's
 * master is tens of MB, and the engine is done with a track once it hands it over.
 */
function movable(track: RenderedTrack): ArrayBuffer[] {
  const buffers = [track.mp3, track.master, track.cover].flatMap((bytes) =>
    bytes && bytes.buffer instanceof ArrayBuffer && bytes.buffer.byteLength >= TRANSFER_FROM_BYTES ? [bytes.buffer] : [],
  );
  return [...new Set(buffers)];
}

function send(message: RenderMessage, tracks: readonly (RenderedTrack | null)[] = []): void {
  const transfer = tracks.flatMap((track) => (track ? movable(track) : []));
  try {
    port.postMessage(message, transfer);
  } catch {
    // A buffer that cannot move (a WebAssembly memory, say) is copied with the rest.
    port.postMessage(message);
  }
}

port.on('message', async (request: RenderRequest) => {
  const signal = new AbortController().signal;
  try {
    const handedOver = new Set<number>();
    const tracks = await runOperation(engineFor(request.engine), request.operation, signal, async (progress) => {
      if (progress.stage === 'text') send({ type: 'text', sheet: progress.sheet });
      else {
        send({ type: 'first', index: progress.index, track: progress.track }, [progress.track]);
        handedOver.add(progress.index);
      }
    });
    const rest = tracks.map((track, index) => (handedOver.has(index) ? null : track));
    send({ type: 'done', tracks: rest }, rest);
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    send({ type: 'error', errorName: failure.name, message: failure.message });
  }
});
