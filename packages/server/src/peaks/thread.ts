import { parentPort } from 'node:worker_threads';
import { minMaxPeaks } from '../audio/analysis/min-max.js';
import { AudioFormatError } from '../audio/codecs/errors.js';
import type { PeaksReply, PeaksRequest } from './protocol.js';

/**
 * Computes waveforms off the main thread: decoding a ten-minute MP3 takes over a second of CPU,
 * which would stall every request the API serves meanwhile. One request at a time, in order.
 */
if (!parentPort) throw new Error('peaks thread must run as a worker thread');
const port = parentPort;
let queue = Promise.resolve();

port.on('message', (request: PeaksRequest) => {
  queue = queue.then(async () => {
    let reply: PeaksReply;
    try {
      reply = { id: request.id, peaks: await minMaxPeaks(request.bytes, request.points) };
    } catch (error) {
      reply = { id: request.id, error: error instanceof Error ? error.message : String(error), unreadable: error instanceof AudioFormatError };
    }
    port.postMessage(reply);
  });
});
