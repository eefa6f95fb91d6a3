export * from './accounts.js';
export * from './keys.js';
export * from './ledger.js';
