import {
  type Arrangement,
  addVoice,
  describeArrangement,
  describeSongs,
  type Gender,
  limitTruePeak,
  planSongs,
  randomFor,
  renderSong,
  renderVoice,
  type SongVocal,
  singArrangement,
} from '../../audio/index.js';
import { EngineError, type GenerateInput, type OnProgress, type RenderedTrack } from '../types.js';
import { finishTrack, MAX_SONG_S, type ProceduralContext, SONG_RATE } from './common.js';

/** Where it sings, the voice's RMS against the band's (whole-song) RMS: up front, as a pop vocal sits. */
const VOICE_TO_BAND = 0.9;

/** Generate: two songs planned from the words and one seed, reported as `text` (the sheet) and `first`. */
export async function generate(context: ProceduralContext, input: GenerateInput, signal: AbortSignal, onProgress: OnProgress): Promise<RenderedTrack[]> {
  signal.throwIfAborted();
  if (!(Number.isFinite(input.durationS) && input.durationS > 0 && input.durationS <= MAX_SONG_S)) {
    throw new EngineError(`song length must be between 0 and ${MAX_SONG_S} s, got ${input.durationS}`);
  }
  // Both songs come from one seed; planSongs makes sure they differ (chords, and key unless one is named).
  const plans = planSongs({ seed: input.seed, texts: [input.style, input.prompt, input.title], negative: input.negativeTags, durationS: input.durationS });
  if (!input.instrumental) return generateSung(context, input, plans, signal, onProgress);
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

/** The singer: a persona's voice, else the one asked for, else the seed's choice (KIE treats the ask as a preference too). */
function singerOf(input: GenerateInput): { gender: Gender; range?: { low: number; high: number } } {
  const persona = input.persona?.voice;
  if (persona) return { gender: persona.gender, range: { low: persona.lowMidi, high: persona.highMidi } };
  return { gender: input.vocalGender ?? (randomFor(input.seed, 'singer')() < 0.5 ? 'm' : 'f') };
}

const lyricBlock = (heading: string, lyrics: string) => [heading, ...lyrics.split('\n').map((line) => `  ${line}`)].join('\n');

/** The sheet of sung songs: each song's structure, the lyrics sung (once when both sing the same), and what the engine is. */
function sungSheet(plans: readonly Arrangement[], vocals: readonly SongVocal[], title: string, gender: Gender): string {
  const parts = plans.map((plan, index) => `Song ${index + 1}: ${describeArrangement(plan, { title: title || undefined })}`);
  const origin = vocals[0]!.written ? 'written from the prompt' : 'as given';
  if (vocals.every((vocal) => vocal.text === vocals[0]!.text)) parts.push(lyricBlock(`Lyrics (${origin}, sung):`, vocals[0]!.text));
  else parts.push(...vocals.map((vocal, index) => lyricBlock(`Song ${index + 1} lyrics (${origin}, sung):`, vocal.text)));
  parts.push(
    `An algorithmic arrangement rendered by a seeded synthesiser, not a neural model. The ${gender === 'm' ? 'male' : 'female'} vocal is a formant singing ` +
      'synthesiser on a melody placed in the song’s key and chords; pronunciation follows English spelling rules, and written lyrics come from templates, a rhyme table and the prompt’s words.',
  );
  return parts.join('\n\n');
}

async function generateSung(
  context: ProceduralContext,
  input: GenerateInput,
  plans: readonly Arrangement[],
  signal: AbortSignal,
  onProgress: OnProgress,
): Promise<RenderedTrack[]> {
  const singer = singerOf(input);
  const vocals = plans.map((plan) =>
    singArrangement(plan, {
      seed: input.seed,
      lyrics: input.lyrics,
      prompt: input.prompt,
      gender: singer.gender,
      range: singer.range,
      durationS: input.durationS,
    }),
  );
  await onProgress({ stage: 'text', sheet: sungSheet(plans, vocals, input.title, singer.gender) });
  const tracks: RenderedTrack[] = [];
  for (const [index, plan] of plans.entries()) {
    signal.throwIfAborted();
    const channels = renderSong(plan, SONG_RATE, 2, input.durationS);
    const vocal = vocals[index]!;
    const frames = channels[0]!.length;
    const voice = renderVoice(vocal.notes, { sampleRate: SONG_RATE, frames, gender: singer.gender, seed: `${input.seed}:voice:${index}` });
    addVoice(channels, voice, VOICE_TO_BAND);
    limitTruePeak(channels, { sampleRate: SONG_RATE });
    signal.throwIfAborted();
    const track = await finishTrack(context, { sampleRate: SONG_RATE, channels }, { title: input.title, tags: input.style, variant: String(index) }, signal);
    if (vocal.words.length > 0) track.sung = { text: vocal.text, words: vocal.words };
    tracks.push(track);
    if (index === 0) await onProgress({ stage: 'first', track, index });
  }
  return tracks;
}
