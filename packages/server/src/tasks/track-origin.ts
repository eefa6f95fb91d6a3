import type { Operation } from '../engine/types.js';
import { SourceAudioError } from '../engine/types.js';
import { type KindRuntime, seedOf } from './kinds/kind.js';

/** How a track was made, as the engine's `separate` and `transcribe` take it. */
export interface TrackOrigin {
  operation: Operation;
  trackIndex: number;
}

/**
 * How a track of this service was made: its task's operation built again (the same input and seed
 * the engine had, so the engine can render it again exactly) and its place in that task. Where
 * there is none, why not, in words: the kind's tracks hold audio a user uploaded or an earlier
 * track's, or a source the operation needs is gone. Stems and notes are then estimated.
 */
export async function trackOrigin(runtime: KindRuntime, trackTaskId: string, trackIndex: number): Promise<TrackOrigin | string> {
  const task = await runtime.store.db.selectFrom('tasks').select(['input', 'parent_music_id']).where('id', '=', trackTaskId).executeTakeFirst();
  if (!task) return 'the task that made the track is gone';
  const input = JSON.parse(task.input) as { kind: string };
  // Looked up when called: the registry lists the kinds that call this, so a static import would be a cycle at load time.
  const { kindOf } = await import('./kinds/registry.js');
  const kind = kindOf(input);
  if (!kind.operation) return `it was made by ${kind.name}, whose tracks hold uploaded audio or an earlier track's`;
  try {
    const operation = await kind.operation(runtime, { id: trackTaskId, input: input as never, parentMusicId: task.parent_music_id, seed: seedOf(input) });
    return { operation, trackIndex };
  } catch (error) {
    if (error instanceof SourceAudioError) return `the audio its ${kind.name} task was made from is gone`;
    throw error;
  }
}
