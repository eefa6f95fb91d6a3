import { Worker } from 'node:worker_threads';
import {
  EngineError,
  type EngineOperation,
  type OnProgress,
  type OnStem,
  type Operation,
  type RenderedTracks,
  type SeparatedStems,
  type SeparateInput,
  SourceAudioError,
  type TranscribedMidi,
  type TranscribeInput,
  UnsupportedOperation,
} from '../engine/types.js';
import { postMoving } from '../memory.js';
import { MEDIA_THREAD_LIMITS, threadScript } from '../thread-script.js';
import type { EngineSpec, RenderMessage } from './render-protocol.js';

/**
 * A fixed number of render threads. `run` hands a request to an idle thread and
 * resolves with its tracks; aborting terminates that thread (the only reliable
 * way to stop CPU-bound work) and a fresh one takes its place on demand.
 */
export interface RenderPool {
  /**
   * Runs one engine operation on an idle thread; `onProgress` sees its stages in order, all
   * settled before it resolves. The track handed to `first` is not sent again: it is null in
   * the result. For this and the other methods: the operation's large buffers (1 MB and more:
   * its sources' bytes) move to the thread, so the caller must not read them afterwards.
   */
  run(engine: EngineSpec, operation: Operation, signal: AbortSignal, onProgress?: OnProgress): Promise<RenderedTracks>;
  /**
   * Cuts a track into stems on an idle thread; `onStem` sees each stem as it is finished, all
   * settled before it resolves. A stem handed to `onStem` is not sent again: it is null in the result.
   */
  separate(engine: EngineSpec, input: SeparateInput, signal: AbortSignal, onStem?: OnStem): Promise<SeparatedStems>;
  /** Transcribes the stems of a separation to notes (MIDI from audio) on an idle thread. */
  transcribe(engine: EngineSpec, input: TranscribeInput, signal: AbortSignal): Promise<TranscribedMidi>;
  close(): Promise<void>;
}

type Progress = Extract<RenderMessage, { type: 'text' | 'first' | 'stem' }>;
type Outcome = Extract<RenderMessage, { type: 'done' | 'separated' | 'transcribed' }>;

function rebuildError(message: Extract<RenderMessage, { type: 'error' }>): Error {
  if (message.errorName === 'SourceAudioError') return new SourceAudioError(message.message);
  if (message.errorName === 'EngineError') return new EngineError(message.message);
  if (message.errorName === 'UnsupportedOperation') return new UnsupportedOperation(message.message);
  const error = new Error(message.message);
  error.name = message.errorName;
  return error;
}

export function createRenderPool(): RenderPool {
  const idle: Worker[] = [];
  const all = new Set<Worker>();
  let closed = false;

  const take = (): Worker => {
    const reused = idle.pop();
    if (reused) return reused;
    const worker = new Worker(threadScript(new URL('./render-thread.js', import.meta.url)), { resourceLimits: MEDIA_THREAD_LIMITS });
    worker.unref();
    all.add(worker);
    return worker;
  };

  const discard = (worker: Worker): void => {
    all.delete(worker);
    void worker.terminate();
  };

  /** One operation on an idle thread: its progress messages in order, then its outcome. */
  function dispatch(engine: EngineSpec, operation: EngineOperation, signal: AbortSignal, onMessage: (message: Progress) => Promise<void>): Promise<Outcome> {
    if (closed) return Promise.reject(new Error('render pool is closed'));
    if (signal.aborted) return Promise.reject(signal.reason);
    const worker = take();
    return new Promise<Outcome>((resolve, reject) => {
      // Progress handlers write to the database; keep them in order and finish them before resolving.
      let progressChain = Promise.resolve();
      const cleanup = (): void => {
        worker.off('message', onThreadMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        signal.removeEventListener('abort', onAbort);
      };
      const onThreadMessage = (message: RenderMessage): void => {
        if (message.type === 'text' || message.type === 'first' || message.type === 'stem') progressChain = progressChain.then(() => onMessage(message));
        else {
          cleanup();
          idle.push(worker);
          const outcome = message.type === 'error' ? rebuildError(message) : message;
          progressChain.then(
            () => (outcome instanceof Error ? reject(outcome) : resolve(outcome)),
            (error: unknown) => reject(error),
          );
        }
      };
      const onError = (error: Error): void => {
        cleanup();
        discard(worker);
        reject(new EngineError(`render thread crashed: ${error.message}`));
      };
      const onExit = (code: number): void => {
        cleanup();
        all.delete(worker);
        reject(new EngineError(`render thread exited with code ${code}`));
      };
      const onAbort = (): void => {
        cleanup();
        discard(worker);
        reject(signal.reason);
      };
      worker.on('message', onThreadMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      signal.addEventListener('abort', onAbort, { once: true });
      // The caller read the operation's sources for it alone: they move to the thread, not copied.
      postMoving(worker, { engine, operation });
    });
  }

  async function run(engine: EngineSpec, operation: Operation, signal: AbortSignal, onProgress: OnProgress = async () => {}): Promise<RenderedTracks> {
    const outcome = await dispatch(engine, operation, signal, async (message) => {
      if (message.type === 'text') await onProgress({ stage: 'text', sheet: message.sheet });
      else if (message.type === 'first') await onProgress({ stage: 'first', track: message.track, index: message.index });
    });
    if (outcome.type !== 'done') throw new EngineError(`render thread answered a song operation with "${outcome.type}"`);
    return outcome.tracks;
  }

  async function separate(engine: EngineSpec, input: SeparateInput, signal: AbortSignal, onStem: OnStem = async () => {}): Promise<SeparatedStems> {
    const outcome = await dispatch(engine, { op: 'separate', input }, signal, async (message) => {
      if (message.type === 'stem') await onStem(message.stem, message.index);
    });
    if (outcome.type !== 'separated') throw new EngineError(`render thread answered a separation with "${outcome.type}"`);
    return outcome.result;
  }

  async function transcribe(engine: EngineSpec, input: TranscribeInput, signal: AbortSignal): Promise<TranscribedMidi> {
    const outcome = await dispatch(engine, { op: 'transcribe', input }, signal, async () => {});
    if (outcome.type !== 'transcribed') throw new EngineError(`render thread answered a transcription with "${outcome.type}"`);
    return outcome.result;
  }

  return {
    run,
    separate,
    transcribe,
    async close() {
      closed = true;
      await Promise.all([...all].map((worker) => worker.terminate()));
      all.clear();
      idle.length = 0;
    },
  };
}
