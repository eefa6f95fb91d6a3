import { Worker } from 'node:worker_threads';
import type { MusicVideo, MusicVideoInput } from '../audio/video/music-video.js';
import { EngineError } from '../engine/types.js';
import { postMoving } from '../memory.js';
import { MEDIA_THREAD_LIMITS, threadScript } from '../thread-script.js';

export interface VideoRequest {
  input: MusicVideoInput;
}

export type VideoMessage = { type: 'done'; video: MusicVideo } | { type: 'error'; errorName: string; message: string };

/**
 * Makes a track's music video on a thread of its own, started for the job and ended with it:
 * aborting terminates the thread, the only way to stop CPU-bound work. A failure of the drawing,
 * the encoders or the muxer is an EngineError (the task fails with 531, refunded).
 */
export function renderVideoOffThread(input: MusicVideoInput, signal: AbortSignal): Promise<MusicVideo> {
  if (signal.aborted) return Promise.reject(signal.reason);
  const worker = new Worker(threadScript(new URL('./video-thread.js', import.meta.url)), { resourceLimits: MEDIA_THREAD_LIMITS });
  return new Promise<MusicVideo>((resolve, reject) => {
    const finish = (outcome: () => void): void => {
      signal.removeEventListener('abort', onAbort);
      worker.removeAllListeners();
      void worker.terminate();
      outcome();
    };
    const onAbort = (): void => finish(() => reject(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: VideoMessage) =>
      finish(() => (message.type === 'done' ? resolve(message.video) : reject(new EngineError(`making the video failed: ${message.message}`)))),
    );
    worker.on('error', (error) => finish(() => reject(new EngineError(`the video thread crashed: ${error.message}`))));
    worker.on('exit', (code) => finish(() => reject(new EngineError(`the video thread exited with code ${code}`))));
    const request: VideoRequest = { input };
    // The track's audio (a 64 MB master for 3 minutes) moves to the thread rather than being copied: the caller is done with it.
    postMoving(worker, request);
  });
}
