import { createAcestepEngine } from './acestep.js';
import { createProceduralEngine } from './procedural/index.js';
import { acestepOptions, type EngineName, type EngineOptions, type EngineSpec } from './spec.js';
import type { Engine } from './types.js';

export { type AcestepCheck, type AcestepOptions, checkAcestep, createAcestepEngine } from './acestep.js';
export { AcestepError } from './acestep-client.js';
export { createProceduralEngine, type ProceduralOptions } from './procedural/index.js';
export { checkEngine, type EngineName, type EngineOptions, type EngineSpec } from './spec.js';
export * from './types.js';

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
      return createProceduralEngine({
        ...(spec.modelName ? { modelName: spec.modelName } : {}),
        ...(spec.scratchDir ? { scratchDir: spec.scratchDir } : {}),
      });
    case 'acestep':
      return createAcestepEngine(acestepOptions(spec));
    default:
      throw new Error(`unknown engine "${String((spec as { name: unknown }).name)}"`);
  }
}
