import type { Mp3EncoderChoice, Mp3EncoderName } from '../audio/codecs/lame.js';
import { ConfigError } from '../config.js';
import type { AcestepCheck, AcestepOptions } from './acestep.js';

export type { Mp3EncoderChoice };

/**
 * The engine as configuration names it, and its start-up check: what the serving process needs
 * without loading any engine. The engines (and the audio library under them) load in the render
 * threads, and here only when the check needs them.
 */
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
  /** Which LAME encodes MP3 (REPRISE_MP3_ENCODER); `auto` when absent. */
  mp3Encoder?: Mp3EncoderChoice;
  /** Where render threads write masters made piece by piece until they are stored (engine/scratch.ts). */
  scratchDir?: string;
}

/** What the worker passes: the engine's name and its settings in one object. */
export interface EngineSpec extends EngineOptions {
  name: EngineName;
}

export function acestepOptions(spec: EngineSpec): AcestepOptions {
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
 * Start-up check of the engine's outside dependencies: `null` when it has
 * none, otherwise what to log. Throws when the configuration cannot work.
 */
export async function checkEngine(spec: EngineSpec): Promise<AcestepCheck | null> {
  if (spec.name !== 'acestep') return null;
  const { checkAcestep } = await import('./acestep.js');
  return checkAcestep(acestepOptions(spec));
}

/**
 * Start-up check of REPRISE_MP3_ENCODER in a process that renders: which LAME its render threads
 * will use, or one line (a ConfigError) saying how to build the native one when it was asked for
 * and is missing.
 */
export async function checkMp3Encoder(spec: EngineSpec): Promise<{ encoder: Mp3EncoderName; message: string }> {
  const { nativeLame, resolveMp3Encoder } = await import('../audio/codecs/lame.js');
  let encoder: Mp3EncoderName;
  try {
    encoder = resolveMp3Encoder(spec.mp3Encoder ?? 'auto');
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const native = nativeLame();
  const message =
    encoder === 'native'
      ? `MP3 encoding: native LAME ${native.version}`
      : `MP3 encoding: the WebAssembly LAME${native.version === null && spec.mp3Encoder !== 'wasm' ? ` (native LAME ${native.why})` : ''}`;
  return { encoder, message };
}
