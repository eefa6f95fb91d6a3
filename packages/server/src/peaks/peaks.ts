import { Worker } from 'node:worker_threads';
import type { MinMaxPeaks } from '../audio/analysis/min-max.js';
import { ApiError, invalid } from '../errors.js';
import { tokenFromOwnUrl } from '../files/index.js';
import type { Services } from '../services.js';
import { BlobNotFoundError } from '../storage/index.js';
import { threadScript } from '../thread-script.js';
import type { PeaksReply, PeaksRequest } from './protocol.js';

/**
 * Waveforms of the account's own audio files for the console [EXT]: the file named by a URL
 * this server handed out, decoded on a thread of its own, the answer kept in memory per file
 * and resolution (a file never changes behind its token).
 */
export const MIN_POINTS = 16;
export const MAX_POINTS = 4000;
export const DEFAULT_POINTS = 1000;

/** Answers kept: each is at most two arrays of 4000 numbers (about 64 KB). */
const CACHE_ENTRIES = 256;
/** Waveforms being computed at once (from the blob read to the answer); more is a 429. */
const MAX_WAITING = 8;

export function parsePoints(value: unknown): number {
  if (value === undefined || value === '') return DEFAULT_POINTS;
  const text = typeof value === 'string' ? value : '';
  if (!/^\d{1,5}$/.test(text) || Number(text) < MIN_POINTS || Number(text) > MAX_POINTS) {
    throw invalid('points', `must be a whole number from ${MIN_POINTS} to ${MAX_POINTS}`);
  }
  return Number(text);
}

export interface PeaksService {
  /** The waveform of the file at `url`, which must be one of `accountId`'s live audio files. */
  peaksOf(accountId: string, url: unknown, points: number): Promise<MinMaxPeaks>;
  close(): Promise<void>;
}

/** A file the console may draw: audio the account was handed a URL for (a track, an upload, a fetched source). */
const DRAWABLE_KINDS = new Set(['audio', 'upload', 'source']);

export function createPeaksService(services: Services): PeaksService {
  const cache = new Map<string, MinMaxPeaks>();
  const computing = new Map<string, Promise<MinMaxPeaks>>();
  const thread = peaksThread();

  async function fileOf(accountId: string, url: unknown): Promise<{ token: string; blobKey: string }> {
    if (typeof url !== 'string' || url === '') throw invalid('url', 'is required: a file URL this server handed out');
    const { publicUrl } = services.config;
    const token = tokenFromOwnUrl(publicUrl, url);
    if (!token) throw invalid('url', `must be a file URL this server handed out (starting with ${publicUrl}/files/)`);
    const file = await services.store.db
      .selectFrom('files')
      .select(['account_id', 'kind', 'blob_key', 'content_type', 'expires_at'])
      .where('id', '=', token)
      .executeTakeFirst();
    // Another account's file reads as an unknown one.
    if (!file || file.account_id !== accountId) throw new ApiError(404, 'url: no such file for this account');
    if (Number(file.expires_at) <= Date.now()) throw new ApiError(404, 'url: the file has expired and was deleted');
    if (!DRAWABLE_KINDS.has(file.kind) || !file.content_type.startsWith('audio/')) throw invalid('url', `is not an audio file (${file.content_type})`);
    return { token, blobKey: file.blob_key };
  }

  async function compute(blobKey: string, points: number): Promise<MinMaxPeaks> {
    let bytes: Buffer;
    try {
      bytes = await services.blobs.get(blobKey);
    } catch (error) {
      if (error instanceof BlobNotFoundError) throw new ApiError(404, 'url: the file is gone from storage');
      throw error;
    }
    return thread.run(bytes, points);
  }

  return {
    async peaksOf(accountId, url, points) {
      const { token, blobKey } = await fileOf(accountId, url);
      const key = `${token}:${points}`;
      const hit = cache.get(key);
      if (hit) {
        // Most recently used last: the first entry is the one to drop.
        cache.delete(key);
        cache.set(key, hit);
        return hit;
      }
      const running = computing.get(key);
      if (running) return running;
      // Counted from the blob read on (each holds its file's bytes until the thread is done with it).
      if (computing.size >= MAX_WAITING) throw new ApiError(429, 'peaks: too many waveforms are being computed; retry in a few seconds');
      const promise = compute(blobKey, points)
        .then((peaks) => {
          cache.set(key, peaks);
          if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
          return peaks;
        })
        .finally(() => computing.delete(key));
      computing.set(key, promise);
      return promise;
    },
    close: () => thread.close(),
  };
}

/** One thread, started on first use, asked in turn; a crash fails what it held and the next request starts another. */
function peaksThread() {
  let worker: Worker | null = null;
  let nextId = 1;
  const pending = new Map<number, { resolve: (peaks: MinMaxPeaks) => void; reject: (error: Error) => void }>();

  const failAll = (error: Error): void => {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };

  function started(): Worker {
    if (worker) return worker;
    const fresh = new Worker(threadScript(new URL('./thread.js', import.meta.url)));
    fresh.unref();
    fresh.on('message', (reply: PeaksReply) => {
      const waiter = pending.get(reply.id);
      if (!waiter) return;
      pending.delete(reply.id);
      if ('peaks' in reply) waiter.resolve(reply.peaks);
      else if (reply.unreadable) waiter.reject(invalid('url', `is not readable MP3 or WAV audio (${reply.error})`));
      else waiter.reject(new Error(`peaks: ${reply.error}`));
    });
    fresh.on('error', (error) => {
      worker = null;
      failAll(new Error(`peaks thread crashed: ${error.message}`));
    });
    fresh.on('exit', (code) => {
      if (worker === fresh) worker = null;
      failAll(new Error(`peaks thread exited with code ${code}`));
    });
    worker = fresh;
    return fresh;
  }

  return {
    run(bytes: Buffer, points: number): Promise<MinMaxPeaks> {
      // Moved, not copied: a buffer that is a view into a larger one is copied out first.
      const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
      const request: PeaksRequest = { id: nextId++, bytes: owned, points };
      return new Promise<MinMaxPeaks>((resolve, reject) => {
        pending.set(request.id, { resolve, reject });
        started().postMessage(request, [owned.buffer as ArrayBuffer]);
      });
    },
    async close(): Promise<void> {
      const running = worker;
      worker = null;
      failAll(new Error('peaks: the server is stopping'));
      if (running) await running.terminate();
    },
  };
}
