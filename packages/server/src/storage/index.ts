export { BlobNotFoundError, type BlobStore, type ByteRange, type DirectUrlOptions, putFileAndRemove } from './blob-store.js';
export { createLocalBlobStore } from './local.js';
export { openBlobStore } from './open.js';
