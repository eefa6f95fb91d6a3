import { describeSongs, planSongs, renderSong } from '../../audio/index.js';
import { EngineError, type GenerateInput, type OnProgress, type RenderedTrack } from '../types.js';
import { finishTrack, MAX_SONG_S, type ProceduralContext, SONG_RATE } from './common.js';

/** Generate: two songs planned from the words and one seed, reported as `text` (the sheet) and `first`. */
export async function generate(context: ProceduralContext, input: GenerateInput, signal: AbortSignal, onProgress: OnProgress): Promise<RenderedTrack[]> {
  signal.throwIfAborted();
  if (!(Number.isFinite(input.durationS) && input.durationS > 0 && input.durationS <= MAX_SONG_S)) {
    throw new EngineError(`song length must be between 0 and ${MAX_SONG_S} s, got ${input.durationS}`);
  }
  // Both songs come from one seed; planSongs makes sure they differ (chords, and key unless one is named).
  const plans = planSongs({ seed: input.seed, texts: [input.style, input.prompt, input.title], negative: input.negativeTags, durationS: input.durationS });
  await onProgress({ stage: 'text', sheet: describeSongs(plans, { title: input.title || undefined, lyrics: input.lyrics }) });
  const tracks: RenderedTrack[] = [];
  for (const [index, plan] of plans.entries()) {
    signal.throwIfAborted();
    const channels = renderSong(plan, SONG_RATE, 2, input.durationS);
    signal.throwIfAborted();
    const track = await finishTrack(context, { sampleRate: SONG_RATE, channels }, { title: input.title, tags: input.style, variant: String(index) }, signal);
    tracks.push(track);
    if (index === 0) await onProgress({ stage: 'first', track, index });
  }
  return tracks;
}
