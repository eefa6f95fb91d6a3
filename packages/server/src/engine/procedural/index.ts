import { DEFAULT_SCRATCH_DIR } from '../scratch.js';
import type { Engine } from '../types.js';
import { addInstrumental } from './add-instrumental.js';
import { addVocals } from './add-vocals.js';
import type { ProceduralContext } from './common.js';
import { cover } from './cover.js';
import { extend } from './extend.js';
import { generate } from './generate.js';
import { mashup } from './mashup.js';
import { replaceSection } from './replace.js';
import { separate } from './separate.js';
import { transcribe } from './transcribe.js';

/**
 * The CPU engine: algorithmic arrangements chosen from the words of the request
 * and rendered by our own synthesiser, one module per operation. Deterministic
 * (same seed and inputs, same bytes) and honest about what it is: not a neural model.
 */
export interface ProceduralOptions {
  /** Reported as `model_name` (default "reprise-procedural-1"). */
  modelName?: string;
  /** Crossfade at each seam, in seconds (default 0.75). */
  fadeS?: number;
  /** Where masters made piece by piece are written until stored (default: a directory under the system's temporary one). */
  scratchDir?: string;
}

const DEFAULT_MODEL_NAME = 'reprise-procedural-1';

export function createProceduralEngine(options: ProceduralOptions = {}): Engine {
  const context: ProceduralContext = {
    modelName: options.modelName ?? DEFAULT_MODEL_NAME,
    fadeS: options.fadeS ?? 0.75,
    scratchDir: options.scratchDir ?? DEFAULT_SCRATCH_DIR,
  };
  return {
    name: 'procedural',
    replaceSection: (input, signal) => replaceSection(context, input, signal),
    generate: (input, signal, onProgress) => generate(context, input, signal, onProgress),
    extend: (input, signal, onProgress) => extend(context, input, signal, onProgress),
    cover: (input, signal, onProgress) => cover(context, input, signal, onProgress),
    mashup: (input, signal, onProgress) => mashup(context, input, signal, onProgress),
    addInstrumental: (input, signal, onProgress) => addInstrumental(context, input, signal, onProgress),
    addVocals: (input, signal, onProgress) => addVocals(context, input, signal, onProgress),
    separate: (input, signal, onStem) => separate(context, input, signal, onStem),
    transcribe: (input, signal) => transcribe(context, input, signal),
  };
}
