import type { EngineSpec } from '../engine/index.js';
import type { GenerateInput, RenderedTrack, ReplaceSectionInput } from '../engine/types.js';

/** Messages between the render pool and its threads; the engine is named by plain data. */
export type { EngineSpec };

export type RenderRequest = { op: 'replace'; engine: EngineSpec; input: ReplaceSectionInput } | { op: 'generate'; engine: EngineSpec; input: GenerateInput };

export type RenderMessage =
  | { type: 'text'; sheet: string }
  | { type: 'first'; track: RenderedTrack; index: number }
  | { type: 'done'; tracks: RenderedTrack[] }
  | { type: 'error'; errorName: string; message: string };
