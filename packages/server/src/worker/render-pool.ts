import { Worker } from 'node:worker_threads';
import { EngineError, type OnProgress, type Operation, type RenderedTracks, SourceAudioError, UnsupportedOperation } from '../engine/types.js';
import { threadScript } from '../thread-script.js';
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
   * the result.
   */
  run(engine: EngineSpec, operation: Operation, signal: AbortSignal, onProgress?: OnProgress): Promise<RenderedTracks>;
  close(): Promise<void>;
}

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
    const worker = new Worker(threadScript(new URL('./render-thread.js', import.meta.url)));
    worker.unref();
    all.add(worker);
    return worker;
  };

  const discard = (worker: Worker): void => {
    all.delete(worker);
    void worker.terminate();
  };

  function run(engine: EngineSpec, operation: Operation, signal: AbortSignal, onProgress: OnProgress = async () => {}): Promise<RenderedTracks> {
    if (closed) return Promise.reject(new Error('render pool is closed'));
    if (signal.aborted) return Promise.reject(signal.reason);
    const worker = take();
    return new Promise<RenderedTracks>((resolve, reject) => {
      // Progress handlers write to the database; keep them in order and finish them before resolving.
      let progressChain = Promise.resolve();
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        signal.removeEventListener('abort', onAbort);
      };
      const onMessage = (message: RenderMessage): void => {
        if (message.type === 'text') progressChain = progressChain.then(() => onProgress({ stage: 'text', sheet: message.sheet }));
        else if (message.type === 'first') progressChain = progressChain.then(() => onProgress({ stage: 'first', track: message.track, index: message.index }));
        else {
          cleanup();
          idle.push(worker);
          const outcome = message.type === 'done' ? message.tracks : rebuildError(message);
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
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      signal.addEventListener('abort', onAbort, { once: true });
      worker.postMessage({ engine, operation });
    });
  }

  return {
    run,
    async close() {
      closed = true;
      await Promise.all([...all].map((worker) => worker.terminate()));
      all.clear();
      idle.length = 0;
    },
  };
}
