import { type AcestepCheck, checkAcestep, createAcestepEngine } from './acestep.js';
import { createProceduralEngine } from './procedural/index.js';
import type { Engine } from './types.js';

export { type AcestepCheck, type AcestepOptions, checkAcestep, createAcestepEngine } from './acestep.js';
export { AcestepError } from './acestep-client.js';
export { createProceduralEngine, type ProceduralOptions } from './procedural/index.js';
export * from './types.js';

export type EngineName = 'procedural' | 'acestep';

export interface EngineOptions {
  /** Reported as `model_name`. */
  modelName?: string;
  /** Base URL of an ACE-Step 1.5 API server (for `acestep`). */
  acestepUrl?: string | null;
  acestepApiKey?: string | null;
  /** Longest one ACE-Step task may take, from submission to downloaded result. */
  acestepTimeoutMs?: number;
  /** Pause between two polls of ACE-Step's `/query_result`. */
  acestepPollMs?: number;
  /** Limit for one HTTP exchange with ACE-Step. */
  acestepRequestTimeoutMs?: number;
}

/** What the worker passes: the engine's name and its settings in one object. */
export interface EngineSpec extends EngineOptions {
  name: EngineName;
}

function acestepOptions(spec: EngineSpec) {
  if (!spec.acestepUrl) throw new Error('the acestep engine needs ACESTEP_URL');
  return {
    url: spec.acestepUrl,
    apiKey: spec.acestepApiKey ?? null,
    ...(spec.acestepTimeoutMs !== undefined ? { timeoutMs: spec.acestepTimeoutMs } : {}),
    ...(spec.acestepPollMs !== undefined ? { pollMs: spec.acestepPollMs } : {}),
    ...(spec.acestepRequestTimeoutMs !== undefined ? { requestTimeoutMs: spec.acestepRequestTimeoutMs } : {}),
    ...(spec.modelName ? { modelName: spec.modelName } : {}),
  };
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
      return createAcestepEngine(acestepOptions(spec));
    default:
      throw new Error(`unknown engine "${String((spec as { name: unknown }).name)}"`);
  }
}

/**
 * Start-up check of the engine's outside dependencies: `null` when it has
 * none, otherwise what to log. Throws when the configuration cannot work.
 */
export async function checkEngine(spec: EngineSpec): Promise<AcestepCheck | null> {
  if (spec.name !== 'acestep') return null;
  return checkAcestep(acestepOptions(spec));
}
