export * from './accounts.js';
export { forgetCachedKeys, KEY_CACHE_MS } from './key-cache.js';
export * from './keys.js';
export * from './ledger.js';
