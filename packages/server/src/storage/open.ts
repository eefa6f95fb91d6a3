import path from 'node:path';
import type { Config } from '../config.js';
import type { BlobStore } from './blob-store.js';
import { createLocalBlobStore } from './local.js';

/** The blob store REPRISE_BLOB_STORE names: files under the data dir by default, or an S3 bucket (checked before use). */
export async function openBlobStore(config: Pick<Config, 'dataDir' | 'blobStore'>): Promise<BlobStore> {
  if (config.blobStore.kind === 'fs') return createLocalBlobStore(path.join(config.dataDir, 'blobs'));
  // Loaded only when chosen: the AWS SDK costs every process, admin commands included, ~0.3 s to load.
  const { openS3BlobStore } = await import('./s3.js');
  return openS3BlobStore(config.blobStore);
}
