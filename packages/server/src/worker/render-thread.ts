import { parentPort } from 'node:worker_threads';
import { createEngine } from '../engine/index.js';
import { type Engine, runOperation } from '../engine/types.js';
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

// Messages are copied, not transferred: a track's bytes may be a view into a
// shared pool buffer, and a few MB of copying is nothing next to rendering.
function send(message: RenderMessage): void {
  port.postMessage(message);
}

port.on('message', async (request: RenderRequest) => {
  const signal = new AbortController().signal;
  try {
    const tracks = await runOperation(engineFor(request.engine), request.operation, signal, async (progress) => {
      if (progress.stage === 'text') send({ type: 'text', sheet: progress.sheet });
      else send({ type: 'first', index: progress.index, track: progress.track });
    });
    send({ type: 'done', tracks });
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    send({ type: 'error', errorName: failure.name, message: failure.message });
  }
});
