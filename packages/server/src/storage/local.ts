import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/**
 * Blob store on the local file system. Keys are relative paths chosen by the
 * service (never by users). Writes go to a temporary file and are renamed into
 * place, so a killed process leaves either the whole blob or none.
 */
export interface BlobStore {
  put(key: string, bytes: Uint8Array): Promise<void>;
  get(key: string): Promise<Buffer>;
  /** Size in bytes, or null when the blob does not exist. */
  size(key: string): Promise<number | null>;
  /** A read stream of bytes [start, end] inclusive. */
  stream(key: string, range?: { start: number; end: number }): fs.ReadStream;
  delete(key: string): Promise<void>;
}

const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

export function createLocalBlobStore(root: string): BlobStore {
  const resolve = (key: string): string => {
    if (!SAFE_KEY.test(key) || key.includes('..')) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
    return path.join(root, key);
  };
  return {
    async put(key, bytes) {
      const target = resolve(key);
      await fsp.mkdir(path.dirname(target), { recursive: true });
      const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
      await fsp.writeFile(temporary, bytes);
      await fsp.rename(temporary, target);
    },
    get: (key) => fsp.readFile(resolve(key)),
    async size(key) {
      try {
        return (await fsp.stat(resolve(key))).size;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    stream: (key, range) => fs.createReadStream(resolve(key), range ? { start: range.start, end: range.end } : {}),
    async delete(key) {
      await fsp.rm(resolve(key), { force: true });
    },
  };
}
