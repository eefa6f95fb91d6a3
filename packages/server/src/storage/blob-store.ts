import fs from 'node:fs';
import type { Readable } from 'node:stream';

/** Bytes `start` to `end`, both inclusive (as HTTP Range counts them). */
export interface ByteRange {
  start: number;
  end: number;
}

/** What a client fetching a blob straight from the store should be told about it. */
export interface DirectUrlOptions {
  contentType: string;
  /** A `Content-Disposition` value, or null to send none. */
  contentDisposition: string | null;
  /** How long the URL stays valid. */
  expiresInS: number;
}

/**
 * Where reprise keeps the bytes of its files. Keys are relative paths chosen by
 * the service (never by users). Every implementation keeps the same promises:
 * a blob is visible whole or not at all, a missing blob is `null` from `size`
 * and a BlobNotFoundError from `get` and `stream`, and deleting a blob already
 * gone is no error (retention sweeps may race each other).
 */
export interface BlobStore {
  /** Writes the whole blob, from bytes in memory or streamed; replaces any blob under the key. */
  put(key: string, body: Uint8Array | Readable): Promise<void>;
  get(key: string): Promise<Buffer>;
  /** Size in bytes, or null when the blob does not exist. */
  size(key: string): Promise<number | null>;
  /** A stream of the blob, or of bytes [start, end] of it. */
  stream(key: string, range?: ByteRange): Promise<Readable>;
  delete(key: string): Promise<void>;
  /**
   * A short-lived URL from which a client can fetch the blob without reprise in
   * the way, or null when this store hands out no such URLs (reprise then
   * streams the blob itself).
   */
  directUrl(key: string, options: DirectUrlOptions): Promise<string | null>;
}

/** The blob is not in the store: never written, deleted by retention, or removed behind reprise's back. */
export class BlobNotFoundError extends Error {
  override readonly name = 'BlobNotFoundError';
  constructor(readonly key: string) {
    super(`blob ${JSON.stringify(key)} does not exist`);
  }
}

const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/**
 * Keys are made by the service, but a bad one must never reach a path or an object name:
 * no `..`, no leading slash, nothing a file system or an S3 server would read differently.
 */
export function checkedKey(key: string): string {
  if (!SAFE_KEY.test(key) || key.includes('..')) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
  return key;
}

/** Streams a local file into the store under `key`, then removes the file, stored or not (a scratch file is never left behind). */
export async function putFileAndRemove(blobs: BlobStore, key: string, path: string): Promise<void> {
  try {
    await blobs.put(key, fs.createReadStream(path));
  } finally {
    await fs.promises.rm(path, { force: true });
  }
}
