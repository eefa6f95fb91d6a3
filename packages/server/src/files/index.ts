export * from './files.js';
export * from './retention.js';
