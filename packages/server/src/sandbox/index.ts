export * from './callbacks.js';
export * from './queue.js';
export * from './run.js';
export * from './scenario.js';
