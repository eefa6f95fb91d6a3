import { createProceduralEngine } from './procedural.js';
import type { Engine } from './types.js';

export { createProceduralEngine, type ProceduralOptions } from './procedural.js';
export * from './types.js';

export type EngineName = 'procedural' | 'acestep';

export interface EngineOptions {
  /** Reported as `model_name`. */
  modelName?: string;
  /** Base URL of an ACE-Step 1.5 API server (for `acestep`). */
  acestepUrl?: string | null;
  acestepApiKey?: string | null;
}

/** What the worker passes: the engine's name and its settings in one object. */
export interface EngineSpec extends EngineOptions {
  name: EngineName;
}

/**
 * The engine named by the configuration. Unknown or unavailable engines fail
 * here, at start-up, rather than on the first task.
 */
export function createEngine(spec: EngineSpec): Engine;
export function createEngine(name: EngineName, options?: EngineOptions): Engine;
export function createEngine(nameOrSpec: EngineName | EngineSpec, options: EngineOptions = {}): Engine {
  const spec: EngineSpec = typeof nameOrSpec === 'string' ? { ...options, name: nameOrSpec } : nameOrSpec;
  switch (spec.name) {
    case 'procedural':
      return createProceduralEngine(spec.modelName ? { modelName: spec.modelName } : {});
    case 'acestep':
      throw new Error('the acestep engine is not available yet: set REPRISE_ENGINE=procedural');
    default:
      throw new Error(`unknown engine "${String((spec as { name: unknown }).name)}"`);
  }
}
