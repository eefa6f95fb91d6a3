import {
  type Arrangement,
  addVoice,
  arrangementParts,
  describeArrangement,
  describeSongs,
  finishSong,
  type Gender,
  heldRatio,
  limitTruePeak,
  mixParts,
  planSongs,
  randomFor,
  renderSong,
  renderVoice,
  type SongVocal,
  type SungNote,
  type SynthPart,
  singArrangement,
  songFinish,
} from '../../audio/index.js';
import { EngineError, type GenerateInput, type OnProgress, type RenderedTrack } from '../types.js';
import { finishTrack, MAX_SONG_S, type ProceduralContext, SONG_RATE } from './common.js';
import { bandTrace, copyChannels, type TrackTrace } from './trace.js';

/** Where it sings, the voice's RMS against the band's (whole-song) RMS: up front, as a pop vocal sits. */
const VOICE_TO_BAND = 0.9;

/** Generate: two songs planned from the words and one seed, reported as `text` (the sheet) and `first`. */
export async function generate(context: ProceduralContext, input: GenerateInput, signal: AbortSignal, onProgress: OnProgress): Promise<RenderedTrack[]> {
  signal.throwIfAborted();
  const plans = plansOf(input);
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

/** Both songs' plans, from one seed; planSongs makes sure they differ (chords, and key unless one is named). */
function plansOf(input: GenerateInput): [Arrangement, Arrangement] {
  if (!(Number.isFinite(input.durationS) && input.durationS > 0 && input.durationS <= MAX_SONG_S)) {
    throw new EngineError(`song length must be between 0 and ${MAX_SONG_S} s, got ${input.durationS}`);
  }
  return planSongs({ seed: input.seed, texts: [input.style, input.prompt, input.title], negative: input.negativeTags, durationS: input.durationS });
}

/** What a song of the pair sings, by `singer`. */
function vocalOf(input: GenerateInput, plan: Arrangement, singer: ReturnType<typeof singerOf>): SongVocal {
  return singArrangement(plan, {
    seed: input.seed,
    lyrics: input.lyrics,
    prompt: input.prompt,
    gender: singer.gender,
    range: singer.range,
    durationS: input.durationS,
  });
}

/** The plan of song `index` of the pair. */
function songPlan(input: GenerateInput, index: number): Arrangement {
  const plan = plansOf(input)[index];
  if (!plan) throw new EngineError(`a generate makes 2 songs; there is no song ${index}`);
  return plan;
}

/** Song `index` as it is played (transcribe.ts reads its notes): the band's plan and, for a sung song, the notes sung. */
export function generatedSong(input: GenerateInput, index: number): { plan: Arrangement; sung: SungNote[] | null } {
  const plan = songPlan(input, index);
  return { plan, sung: input.instrumental ? null : vocalOf(input, plan, singerOf(input)).notes };
}

const voiceSeed = (input: GenerateInput, index: number) => `${input.seed}:voice:${index}`;

/**
 * Song `index` of a generate told back for exact stems (trace.ts): the band mixed raw and taken
 * through the song's own stages (renderSong's normalisation, soft clip and fades; then, for a
 * sung song, the voice added and the limiter). The sung song's trace holds the raw mix, the
 * master and the voice; each sample's gains are worked out from them when it is read out.
 */
export function traceGenerated(input: GenerateInput, index: number): TrackTrace {
  const plan = songPlan(input, index);
  const frames = Math.round(input.durationS * SONG_RATE);
  const window = { sampleRate: SONG_RATE, startFrame: 0, frames };
  const band = { parts: arrangementParts(plan), render: (keep: (part: SynthPart) => boolean) => mixParts(plan, window, keep) };
  const raw = band.render(() => true);
  const master = copyChannels(raw);
  finishSong(master, SONG_RATE, input.durationS);
  if (input.instrumental) return bandTrace(SONG_RATE, raw, master, band);
  const singer = singerOf(input);
  let voice: Float32Array | null = renderVoice(vocalOf(input, plan, singer).notes, {
    sampleRate: SONG_RATE,
    frames,
    gender: singer.gender,
    seed: voiceSeed(input, index),
  });
  const voiceGain = addVoice(master, voice, VOICE_TO_BAND);
  limitTruePeak(master, { sampleRate: SONG_RATE });
  const finish = songFinish(raw, SONG_RATE, input.durationS);
  /**
   * Each sample's stages worked out again from the raw mix and the voice: the band as
   * renderSong made it, the sum addVoice made, the limiter's gain (master over that sum) and
   * renderSong's own gain (band over raw). `write` gets them per channel and frame.
   */
  const readOut = (write: (c: number, i: number, bandGain: number, vocal: number) => void) => {
    const sung = voice;
    if (!sung) throw new Error('a trace is read out once');
    // The voice is not needed afterwards: a trace kept while its stems are encoded does not keep it.
    voice = null;
    for (const [c, channel] of raw.entries()) {
      const heard = master[c]!;
      const limiter = heldRatio();
      const song = heldRatio();
      for (let i = 0; i < frames; i++) {
        const x = channel[i]!;
        const bandSample = finish(x, i);
        const voiced = sung[i]! * voiceGain;
        const limited = limiter(heard[i]!, Math.fround(bandSample + voiced));
        write(c, i, song(bandSample, x) * limited, voiced * limited);
      }
    }
  };
  return {
    sampleRate: SONG_RATE,
    master,
    vocalAndRest: () => {
      // The vocal in the raw mix's memory, the rest in the master's: together they are the master.
      readOut((c, i, _bandGain, vocal) => {
        raw[c]![i] = vocal;
        master[c]![i]! -= raw[c]![i]!;
      });
      return { vocal: raw, rest: master };
    },
    split: () => {
      // The band's gain in the raw mix's memory, the vocal in the master's.
      readOut((c, i, bandGain, vocal) => {
        raw[c]![i] = bandGain;
        master[c]![i] = vocal;
      });
      return { band: { ...band, gain: raw }, layers: [{ role: 'vocal', channels: master }] };
    },
  };
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
  const vocals = plans.map((plan) => vocalOf(input, plan, singer));
  await onProgress({ stage: 'text', sheet: sungSheet(plans, vocals, input.title, singer.gender) });
  const tracks: RenderedTrack[] = [];
  for (const [index, plan] of plans.entries()) {
    signal.throwIfAborted();
    const channels = renderSong(plan, SONG_RATE, 2, input.durationS);
    const vocal = vocals[index]!;
    const frames = channels[0]!.length;
    const voice = renderVoice(vocal.notes, { sampleRate: SONG_RATE, frames, gender: singer.gender, seed: voiceSeed(input, index) });
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
