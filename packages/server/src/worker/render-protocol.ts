import type { EngineSpec } from '../engine/index.js';
import type { EngineOperation, RenderedStem, RenderedTrack, RenderedTracks, SeparatedStems, TranscribedMidi } from '../engine/types.js';

/** Messages between the render pool and its threads; the engine and the operation are plain data. */
export type { EngineSpec };

export interface RenderRequest {
  engine: EngineSpec;
  operation: EngineOperation;
}

export type RenderMessage =
  | { type: 'text'; sheet: string }
  | { type: 'first'; track: RenderedTrack; index: number }
  | { type: 'done'; tracks: RenderedTracks }
  /** Separation: each stem as it is finished, then the rest of the result (stems already sent are null). */
  | { type: 'stem'; stem: RenderedStem; index: number }
  | { type: 'separated'; result: SeparatedStems }
  /** Transcription: the notes of every instrument, in one message (plain numbers, a few MB at most). */
  | { type: 'transcribed'; result: TranscribedMidi }
  | { type: 'error'; errorName: string; message: string };
