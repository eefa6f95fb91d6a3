export * from './inputs.js';
export * from './lifecycle.js';
export * from './service.js';
export * from './submit.js';
export * from './tracks.js';
export * from './validate.js';
export * from './view.js';
