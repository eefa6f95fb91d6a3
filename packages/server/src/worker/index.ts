export * from './render-pool.js';
export type { EngineSpec } from './render-protocol.js';
export * from './task-worker.js';
