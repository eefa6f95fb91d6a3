import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { BlobNotFoundError, type BlobStore, openBlobStore } from '../../src/storage/index.js';
import { startTestS3, type TestS3 } from '../helpers/s3.js';
import { tempDir } from '../helpers/stores.js';

/**
 * The blob-store contract, run against every implementation: what the rest of reprise relies
 * on (whole writes, ranges, a missing blob said the same way, idempotent deletes) must not
 * depend on where the bytes live.
 */
let s3: TestS3;
beforeAll(async () => {
  s3 = await startTestS3();
});
afterAll(async () => {
  await s3?.close();
});

const stores: { name: string; open: () => Promise<BlobStore> }[] = [
  { name: 'fs', open: () => openBlobStore(loadConfig({ REPRISE_DATA_DIR: tempDir('blobs') })) },
  { name: 's3', open: () => openBlobStore(loadConfig({ REPRISE_DATA_DIR: tempDir('blobs'), ...s3.env })) },
];

const text = (stream: Readable): Promise<Buffer> => stream.toArray().then((chunks: Buffer[]) => Buffer.concat(chunks));

/** A stream of `total` bytes (i % 251: no period that lines up with a part size) in uneven chunks. */
function patterned(total: number): { bytes: Buffer; stream: () => Readable } {
  const bytes = Buffer.alloc(total);
  for (let i = 0; i < total; i++) bytes[i] = i % 251;
  return {
    bytes,
    stream: () =>
      Readable.from(
        (function* () {
          for (let offset = 0; offset < total; offset += 777_777) yield bytes.subarray(offset, Math.min(total, offset + 777_777));
        })(),
      ),
  };
}

describe.each(stores)('blob store contract on $name', ({ open }) => {
  let blobs: BlobStore;
  beforeAll(async () => {
    blobs = await open();
  });

  it('writes bytes and reads them back whole, by size and as a stream', async () => {
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await blobs.put('tasks/t1/0.mp3', bytes);
    expect(await blobs.get('tasks/t1/0.mp3')).toEqual(Buffer.from(bytes));
    expect(await blobs.size('tasks/t1/0.mp3')).toBe(10);
    expect(await text(await blobs.stream('tasks/t1/0.mp3'))).toEqual(Buffer.from(bytes));
  });

  it('serves a byte range, inclusive at both ends', async () => {
    await blobs.put('tasks/t2/0.mp3', Buffer.from('0123456789'));
    expect((await text(await blobs.stream('tasks/t2/0.mp3', { start: 2, end: 5 }))).toString()).toBe('2345');
    expect((await text(await blobs.stream('tasks/t2/0.mp3', { start: 9, end: 9 }))).toString()).toBe('9');
    expect((await text(await blobs.stream('tasks/t2/0.mp3', { start: 0, end: 9 }))).toString()).toBe('0123456789');
  });

  it('streams a large write in (several parts on S3) and a range out of its middle', async () => {
    const { bytes, stream } = patterned(12 * 1024 * 1024 + 12_345);
    await blobs.put('uploads/large.wav', stream());
    expect(await blobs.size('uploads/large.wav')).toBe(bytes.length);
    const start = 5 * 1024 * 1024 - 100;
    const end = start + 300_000;
    // equals(), not toEqual(): the matcher's deep comparison of megabytes takes seconds.
    expect((await text(await blobs.stream('uploads/large.wav', { start, end }))).equals(bytes.subarray(start, end + 1))).toBe(true);
    expect((await blobs.get('uploads/large.wav')).equals(bytes)).toBe(true);
  });

  it('an empty blob is a blob of size 0', async () => {
    await blobs.put('tasks/t3/empty.mp3', new Uint8Array(0));
    expect(await blobs.size('tasks/t3/empty.mp3')).toBe(0);
    expect((await blobs.get('tasks/t3/empty.mp3')).length).toBe(0);
  });

  it('a second write replaces the first', async () => {
    await blobs.put('tasks/t4/0.jpeg', Buffer.from('first version'));
    await blobs.put('tasks/t4/0.jpeg', Readable.from([Buffer.from('second')]));
    expect((await blobs.get('tasks/t4/0.jpeg')).toString()).toBe('second');
    expect(await blobs.size('tasks/t4/0.jpeg')).toBe(6);
  });

  it('a write whose stream fails leaves no blob behind', async () => {
    const failing = Readable.from(
      (async function* () {
        yield Buffer.alloc(64 * 1024, 1);
        throw new Error('the source broke off');
      })(),
    );
    await expect(blobs.put('uploads/broken.wav', failing)).rejects.toThrow('the source broke off');
    expect(await blobs.size('uploads/broken.wav')).toBeNull();
  });

  it('a missing blob: null size, BlobNotFoundError from get and stream', async () => {
    expect(await blobs.size('tasks/none/0.mp3')).toBeNull();
    await expect(blobs.get('tasks/none/0.mp3')).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(blobs.stream('tasks/none/0.mp3')).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(blobs.stream('tasks/none/0.mp3', { start: 0, end: 1 })).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('deletes, and deleting again (or something never written) is no error', async () => {
    await blobs.put('sources/sdoomed', Buffer.from('bytes'));
    await blobs.delete('sources/sdoomed');
    expect(await blobs.size('sources/sdoomed')).toBeNull();
    await expect(blobs.get('sources/sdoomed')).rejects.toBeInstanceOf(BlobNotFoundError);
    await blobs.delete('sources/sdoomed');
    await blobs.delete('sources/never-written');
  });

  it('refuses keys that could escape their place', async () => {
    for (const key of ['../etc/passwd', '/abs', 'a/../b', 'a//b', '', '-leading-dash', 'with space']) {
      await expect(blobs.put(key, Buffer.from('x')), key).rejects.toThrow(/invalid blob key/);
      await expect(blobs.size(key), key).rejects.toThrow(/invalid blob key/);
    }
  });

  it('hands out no direct URL unless presigning is on', async () => {
    await blobs.put('tasks/t5/0.mp3', Buffer.from('x'));
    expect(await blobs.directUrl('tasks/t5/0.mp3', { contentType: 'audio/mpeg', contentDisposition: null, expiresInS: 60 })).toBeNull();
  });
});
