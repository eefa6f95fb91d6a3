import { parentPort } from 'node:worker_threads';
import { selectMp3Encoder } from '../audio/codecs/lame.js';
import { createEngine } from '../engine/index.js';
import { type Engine, type Operation, runOperation, type SeparateOperation, type TranscribeOperation } from '../engine/types.js';
import { fullCollection, postMoving } from '../memory.js';
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
  if (engine?.spec !== key) {
    selectMp3Encoder(spec.mp3Encoder ?? 'auto');
    engine = { spec: key, engine: createEngine(spec) };
  }
  return engine.engine;
}

/**
 * A message to the main thread, its tracks' buffers moved rather than copied: a song's master is
 * tens of MB, and the engine is done with a track once it hands it over.
 */
const send = (message: RenderMessage): void => postMoving(port, message);

async function renderSongs(engine: Engine, operation: Operation, signal: AbortSignal): Promise<void> {
  const handedOver = new Set<number>();
  const tracks = await runOperation(engine, operation, signal, async (progress) => {
    if (progress.stage === 'text') send({ type: 'text', sheet: progress.sheet });
    else {
      send({ type: 'first', index: progress.index, track: progress.track });
      handedOver.add(progress.index);
    }
  });
  const rest = tracks.map((track, index) => (handedOver.has(index) ? null : track));
  send({ type: 'done', tracks: rest });
}

/** Each stem leaves as soon as it is finished: a thread holding every stem of a song at once would hold several songs. */
async function separate(engine: Engine, operation: SeparateOperation, signal: AbortSignal): Promise<void> {
  const handedOver = new Set<number>();
  const result = await runOperation(engine, operation, signal, async (stem, index) => {
    send({ type: 'stem', stem, index });
    handedOver.add(index);
  });
  const stems = result.stems.map((stem, index) => (handedOver.has(index) ? null : stem));
  send({ type: 'separated', result: { ...result, stems } });
}

/** The notes are plain data, small beside a stem's audio: they are sent whole, copied. */
async function transcribe(engine: Engine, operation: TranscribeOperation, signal: AbortSignal): Promise<void> {
  send({ type: 'transcribed', result: await runOperation(engine, operation, signal) });
}

port.on('message', async (request: RenderRequest) => {
  const signal = new AbortController().signal;
  try {
    const engine = engineFor(request.engine);
    if (request.operation.op === 'separate') await separate(engine, request.operation, signal);
    else if (request.operation.op === 'transcribe') await transcribe(engine, request.operation, signal);
    else await renderSongs(engine, request.operation, signal);
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    send({ type: 'error', errorName: failure.name, message: failure.message });
  }
  // What the job left (decoded windows, analysis, encoder buffers: outside V8's heap, which it
  // collects only after tens of MB more) would otherwise still be resident when the next job's
  // own memory peaks, and each job would peak higher than the one before. A full collection of
  // this thread's small heap takes a few ms beside a job's seconds.
  fullCollection();
});
