import type { EngineSpec } from '../engine/index.js';
import type { Operation, RenderedTrack, RenderedTracks } from '../engine/types.js';

/** Messages between the render pool and its threads; the engine and the operation are plain data. */
export type { EngineSpec };

export interface RenderRequest {
  engine: EngineSpec;
  operation: Operation;
}

export type RenderMessage =
  | { type: 'text'; sheet: string }
  | { type: 'first'; track: RenderedTrack; index: number }
  | { type: 'done'; tracks: RenderedTracks }
  | { type: 'error'; errorName: string; message: string };
