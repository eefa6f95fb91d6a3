export * from './outbox.js';
export * from './payloads.js';
