import { Readable } from 'node:stream';
import type { BlobStore } from '../storage/index.js';

/**
 * How much of a file is held in memory to recognise it: enough for a WAV header, or for an ID3
 * tag with a small cover picture and the first MP3 frames after it. The rest only passes through.
 */
export const HEAD_BYTES = 512 * 1024;

/** The first bytes of a stream, and the whole stream again (the head first, then the rest as it comes). */
export interface HeadOfStream {
  head: Buffer;
  /** True when the head is the whole file (then the content check sees all of it, as it always did). */
  complete: boolean;
  whole: AsyncIterable<Buffer>;
}

/**
 * Reads up to `headBytes` from `source` without consuming the rest: what follows is read only when
 * `whole` is iterated, so the file's bytes flow to the blob store as fast as it takes them.
 */
export async function readHead(source: AsyncIterable<Uint8Array>, headBytes = HEAD_BYTES): Promise<HeadOfStream> {
  const iterator = source[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  let complete = false;
  while (size < headBytes) {
    const next = await iterator.next();
    if (next.done) {
      complete = true;
      break;
    }
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    chunks.push(chunk);
    size += chunk.byteLength;
  }
  const head = Buffer.concat(chunks, size);
  async function* whole(): AsyncGenerator<Buffer> {
    yield head;
    if (complete) return;
    while (true) {
      const next = await iterator.next();
      if (next.done) return;
      yield Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    }
  }
  return { head, complete, whole: whole() };
}

/** Counts what passes and stops with `tooLarge()` as soon as more than `maxBytes` went by. */
async function* limited(source: AsyncIterable<Buffer>, maxBytes: number, tooLarge: () => Error, counted: { bytes: number }): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    counted.bytes += chunk.byteLength;
    if (counted.bytes > maxBytes) throw tooLarge();
    yield chunk;
  }
}

/**
 * Streams `source` into the blob store under `key`, at most `maxBytes`; returns its size. On any
 * failure (the limit, the client going away, the store) no blob is left under the key.
 */
export async function streamToBlob(blobs: BlobStore, key: string, source: AsyncIterable<Buffer>, maxBytes: number, tooLarge: () => Error): Promise<number> {
  const counted = { bytes: 0 };
  try {
    await blobs.put(key, Readable.from(limited(source, maxBytes, tooLarge, counted), { objectMode: false }));
  } catch (error) {
    await blobs.delete(key).catch(() => undefined);
    throw error;
  }
  return counted.bytes;
}
