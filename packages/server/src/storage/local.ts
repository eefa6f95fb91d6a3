import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobNotFoundError, type BlobStore, checkedKey } from './blob-store.js';

const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Blob store on the local file system, the default. Writes go to a temporary
 * file and are renamed into place, so a killed process leaves either the whole
 * blob or none.
 */
export function createLocalBlobStore(root: string): BlobStore {
  const resolve = (key: string): string => path.join(root, checkedKey(key));
  return {
    async put(key, body) {
      const target = resolve(key);
      await fsp.mkdir(path.dirname(target), { recursive: true });
      const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        if (body instanceof Readable) await pipeline(body, fs.createWriteStream(temporary));
        else await fsp.writeFile(temporary, body);
        await fsp.rename(temporary, target);
      } catch (error) {
        await fsp.rm(temporary, { force: true });
        throw error;
      }
    },
    async get(key) {
      try {
        return await fsp.readFile(resolve(key));
      } catch (error) {
        if (isMissing(error)) throw new BlobNotFoundError(key);
        throw error;
      }
    },
    async size(key) {
      try {
        return (await fsp.stat(resolve(key))).size;
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
    },
    async stream(key, range) {
      // Opened here, not lazily by the stream: a missing blob is then an error the caller can
      // still answer (404) instead of a stream that fails after the headers went out.
      let handle: fsp.FileHandle;
      try {
        handle = await fsp.open(resolve(key), 'r');
      } catch (error) {
        if (isMissing(error)) throw new BlobNotFoundError(key);
        throw error;
      }
      return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    },
    async delete(key) {
      await fsp.rm(resolve(key), { force: true });
    },
    // Local files have no URL of their own: reprise serves them.
    directUrl: async () => null,
  };
}
