export * from './log.js';
export * from './outbox.js';
export * from './payloads.js';
export * from './policy.js';
export * from './sign.js';
