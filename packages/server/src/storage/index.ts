export { type BlobStore, createLocalBlobStore } from './local.js';
