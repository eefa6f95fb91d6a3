import { EventEmitter } from 'node:events';
import type { Config } from './config.js';
import type { OutboundClient } from './outbound/index.js';
import type { BlobStore } from './storage/index.js';
import type { Store, TaskStatus } from './store/index.js';

/** A task changed state in this process (feeds wake-ups and event streams). */
export interface TaskChange {
  taskId: string;
  status: TaskStatus;
}

/**
 * Everything the API and the background roles share, built once at start-up.
 * Plain data and handles, no behaviour of its own.
 */
export interface Services {
  config: Config;
  store: Store;
  blobs: BlobStore;
  outbound: OutboundClient;
  /** `task` events carry a TaskChange; `submitted` a task id. */
  events: EventEmitter;
  /** True once shutdown began: new tasks get 455. */
  draining: boolean;
}

export function createEvents(): EventEmitter {
  const events = new EventEmitter();
  // Every open SSE stream listens; the default limit of 10 is a false alarm here.
  events.setMaxListeners(0);
  return events;
}
