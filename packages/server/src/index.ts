export { buildApp } from './api/app.js';
export { type Config, loadConfig } from './config.js';
export { createServices, type RunningServer, startServer } from './server.js';
