import { parentPort } from 'node:worker_threads';
import { postMoving } from '../memory.js';
import type { VideoMessage, VideoRequest } from './video.js';

/**
 * Draws and encodes one music video off the main thread: minutes of a song take tens of seconds
 * of CPU, which must not stall the API or the callback dispatcher. One request per thread; the
 * caller terminates the thread to cancel.
 */
if (!parentPort) throw new Error('video-thread must run as a worker thread');
const port = parentPort;

port.once('message', async (request: VideoRequest) => {
  try {
    // Loaded here: the serving process holds the audio library only once it needs it.
    const { renderMusicVideo } = await import('../audio/index.js');
    const video = await renderMusicVideo(request.input);
    const message: VideoMessage = { type: 'done', video };
    // The MP4 is moved, not copied: the thread ends once it is sent.
    postMoving(port, message);
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    const message: VideoMessage = { type: 'error', errorName: failure.name, message: failure.message };
    port.postMessage(message);
  }
});
