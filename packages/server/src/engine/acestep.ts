import {
  AudioFormatError,
  type AudioProbe,
  decodeAudio,
  encodeMp3,
  encodeWav,
  hashString,
  limitTruePeak,
  loudnessMatchGain,
  type Pcm,
  planSeams,
  probeAudio,
  renderCover,
  resample,
  rms,
  spliceInto,
} from '../audio/index.js';
import { type LyricPlanSection, SHEET_FORMS, writeLyrics } from '../audio/synthesis/lyrics.js';
import {
  type AcestepConnection,
  AcestepError,
  type DitModel,
  downloadAudio,
  health,
  listModels,
  probe,
  queryResult,
  releaseTask,
  seconds,
  type TaskResult,
  type UploadedAudio,
} from './acestep-client.js';
import {
  type AddVocalsInput,
  type CoverInput,
  type Engine,
  EngineError,
  type ExtendInput,
  type GenerateInput,
  type OnProgress,
  type PersonaFingerprint,
  type RenderedTrack,
  type ReplaceSectionInput,
  type SeparatedStems,
  type SongWords,
  type SourceAudio,
  SourceAudioError,
  type TranscribedMidi,
  UnsupportedOperation,
  type Vocals,
} from './types.js';

/**
 * The GPU engine: an adapter to an ACE-Step 1.5 API server. Each operation is
 * one of ACE-Step's own task types: replace-section is `repaint` (neural
 * regeneration of a time range of the uploaded song); generate is
 * `text2music`; extend is `repaint` past the end of the source (ACE-Step pads
 * the source with silence and outpaints); cover is `cover`; add-vocals is
 * `lego` with the vocals track (a base DiT model generates the vocal stem in
 * the context of the instrumental, and reprise mixes it over it). ACE-Step has
 * no task that makes an accompaniment reprise can rely on, nor a mashup, so the
 * engine leaves add-instrumental and mashup out (see docs/engines.md). Every
 * WAV result is decoded here, held to the exact length asked for and encoded
 * to MP3 with the same codec and cover art as every other engine. Before each
 * operation the engine asks `GET /v1/models` which DiT model runs its task and
 * names it in `model`: a server asked for a model it has not loaded silently
 * uses its default one instead.
 */

export interface AcestepOptions {
  /** Base URL of the ACE-Step API server. */
  url: string;
  apiKey?: string | null;
  /** Longest one ACE-Step task may take, from submission to downloaded result (default 300 s). */
  timeoutMs?: number;
  /** Pause between two polls of `/query_result` (default 2 s). */
  pollMs?: number;
  /** Limit for one HTTP exchange (default 60 s). */
  requestTimeoutMs?: number;
  /** Reported as `model_name`; by default the DiT model ACE-Step names, or "ace-step-1.5". */
  modelName?: string;
}

const DEFAULT_MODEL_NAME = 'ace-step-1.5';
/**
 * ACE-Step works in 25 Hz latents and may pad its output a little; a result
 * further than this from the asked length is a different song, not padding.
 */
const LENGTH_TOLERANCE_S = 1;
/** Asked of ACE-Step: lossless, so that the only lossy step is our own MP3 encode. */
const RESULT_FORMAT = 'wav';
/** ACE-Step's documented range of song lengths (`audio_duration`, 10–600 s). */
const MIN_SONG_S = 10;
const MAX_SONG_S = 600;
/**
 * Extend: the crossfade from the source's own samples into ACE-Step's rendering, ending at the
 * join. Before the join ACE-Step renders the source itself (recent servers splice its waveform
 * back), so the two signals are correlated there and a short linear fade is seamless.
 */
const JOIN_FADE_S = 0.1;
/** Extend: how much of the source before the join measures ACE-Step's level change. */
const LEVEL_WINDOW_S = 5;
/**
 * Diffusion steps by model: the API's default of 8 is the turbo model's (distilled for it);
 * base and SFT models are run at 50, the figure ACE-Step's model table gives them. Sent
 * explicitly, because the server would run a non-turbo default model at 8 steps too.
 */
const TURBO_STEPS = 8;
const FULL_STEPS = 50;
/**
 * ACE-Step reads the caption with the instruction and the metas (bpm, key, duration) as one
 * text cut at 256 tokens, metas last, so a long caption silently pushes them out; its own
 * documentation asks for captions under 512 characters. Lyrics are cut at 2048 tokens
 * (documented: under 4096 characters). Longer words are shortened here, at a boundary.
 */
const MAX_CAPTION_CHARS = 512;
const MAX_LYRICS_CHARS = 4096;
/** Task types by model family, as ACE-Step's constants list them, for servers that do not say. */
const TURBO_TASKS = ['text2music', 'repaint', 'cover'];
const BASE_TASKS = ['text2music', 'repaint', 'cover', 'extract', 'lego', 'complete'];
/** Tasks that ACE-Step's model table gives to base models alone: a base model is preferred for them. */
const BASE_MODEL_TASKS = new Set(['extract', 'lego', 'complete']);
/** Reprise's written lyrics: about one section (four sung lines) per this many seconds. */
const SECONDS_PER_SECTION = 15;

/** ACE-Step's integer seed, derived from the task's seed: the same task asks for the same seed. */
export const acestepSeed = (seed: string): number => hashString(seed) >>> 1;

/**
 * The seeds of the two songs of a batch. ACE-Step gives a single seed to the first song only
 * and draws the others at random, but splits a comma-separated list one per song; the first
 * stays the seed a single-song task of the same inputs uses.
 */
export function seedPair(seed: string): [number, number] {
  const first = acestepSeed(seed);
  const second = acestepSeed(`${seed}\u0000second`);
  return [first, second === first ? (first + 1) >>> 0 : second];
}

/** The DiT model a task runs on, chosen from what the server has loaded (`modelFor`). */
export interface ChosenModel {
  name: string;
  steps: number;
}

export const stepsFor = (name: string): number => (/turbo/i.test(name) ? TURBO_STEPS : FULL_STEPS);

/**
 * The language the lyrics are sung in, as far as reprise can tell: `en` (the server's default)
 * for lyrics in plain ASCII letters, else `unknown` (no language constraint), so that lyrics in
 * another script are not read as English.
 */
export function vocalLanguage(lyrics: string): string {
  return [...lyrics].some((char) => char.charCodeAt(0) > 0x7f) ? 'unknown' : 'en';
}

/**
 * The fields every task shares: lossless results, seeds that are ours, and the server's
 * defaults that change the result sent as reprise's own choices. The language model stays
 * out (`thinking`, `use_cot_caption`, `use_cot_language` false): where it is loaded it would
 * rewrite the caption and guess the language, so the same request would sing otherwise on
 * another server.
 */
function commonFields(seeds: readonly number[], model: ChosenModel, lyrics: string): Record<string, string> {
  return {
    model: model.name,
    inference_steps: String(model.steps),
    thinking: 'false',
    use_cot_caption: 'false',
    use_cot_language: 'false',
    vocal_language: vocalLanguage(lyrics),
    batch_size: String(seeds.length),
    audio_format: RESULT_FORMAT,
    use_random_seed: 'false',
    seed: seeds.join(','),
  };
}

/**
 * `text` cut to at most `max` characters, at the last of the first `boundaries` found in its
 * second half (a comma between caption words before a space inside one), else at `max`.
 */
function cutAt(text: string, max: number, boundaries: readonly RegExp[]): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max);
  for (const boundary of boundaries) {
    const cut = Math.max(-1, ...[...head.matchAll(boundary)].map((match) => match.index ?? -1));
    if (cut > max / 2) return head.slice(0, cut).trimEnd();
  }
  return head.trimEnd();
}

export const fitCaption = (caption: string): string => cutAt(caption, MAX_CAPTION_CHARS, [/,\s/g, /\s/g]);
export const fitLyrics = (lyrics: string): string => cutAt(lyrics, MAX_LYRICS_CHARS, [/\n/g]);

/** What ACE-Step is told in words: `prompt` is its caption field (`caption` its alias; both are sent). */
export interface SongText {
  caption: string;
  lyrics: string;
}

/** What reprise's lyric writer needs for a song it writes the words of: its seed and length. */
export interface LyricBrief {
  seed: string;
  durationS: number;
}

/**
 * Lyrics for a non-custom song with vocals, by reprise's own lyric writer (the procedural
 * engine's, not a language model): ACE-Step treats empty lyrics as an instrumental, and its
 * language model would write them only in modes that also choose the song's length. One section
 * per `SECONDS_PER_SECTION` seconds (one to six) of verse, chorus, verse, chorus, bridge, chorus.
 */
export function writtenLyrics(prompt: string, brief: LyricBrief): string {
  const form: readonly LyricPlanSection[] = SHEET_FORMS[0]!;
  const count = Math.min(form.length, Math.max(1, Math.round(brief.durationS / SECONDS_PER_SECTION)));
  return writeLyrics(prompt, brief.seed, form.slice(0, count));
}

/**
 * KIE's words as ACE-Step reads them. Custom mode (a style was given) makes the style the
 * caption and the prompt the lyrics; otherwise the prompt is the caption and, for a sung song,
 * reprise writes the lyrics (`writtenLyrics`). Lyrics given as such are sung as given, and
 * instrumental songs get `[Instrumental]`, which ACE-Step's own instrumental check recognises
 * (as it does empty lyrics). A voice (the request's `vocalGender`, else the persona's) is added
 * to the caption, which is where ACE-Step reads such things; a persona's style words are in the
 * style already (tasks/kinds/rules.ts).
 */
export function songText(words: SongWords, vocals: Vocals, brief: LyricBrief, persona?: PersonaFingerprint): SongText {
  const custom = words.style.trim() !== '';
  const parts = [custom ? words.style.trim() : words.prompt.trim()];
  const gender = vocals.instrumental ? undefined : (vocals.vocalGender ?? persona?.voice?.gender);
  if (gender) parts.push(gender === 'f' ? 'female vocals' : 'male vocals');
  const caption = parts.filter((part) => part !== '').join(', ');
  const given = vocals.lyrics?.trim() ? vocals.lyrics : undefined;
  const lyrics = vocals.instrumental ? '[Instrumental]' : (given ?? (custom ? words.prompt : writtenLyrics(words.prompt, brief)));
  return { caption, lyrics };
}

/** The words as sent: `prompt` is ACE-Step's caption field and `caption` its alias (both are sent), each within ACE-Step's limits. */
function textFields(text: SongText): Record<string, string> {
  const caption = fitCaption(text.caption);
  return { prompt: caption, caption, lyrics: fitLyrics(text.lyrics) };
}

/**
 * The `/release_task` fields of a replace-section. KIE's `prompt` (lyrics or a
 * description of the new section) becomes ACE-Step's lyrics, unless the whole
 * song's lyrics are given (`fullLyrics`), which suit ACE-Step better since it
 * conditions the whole song; `tags` become its caption.
 */
export function repaintFields(input: ReplaceSectionInput, sourceDurationS: number, model: ChosenModel): Record<string, string> {
  const lyrics = input.fullLyrics?.trim() ? input.fullLyrics : input.prompt;
  return {
    task_type: 'repaint',
    ...textFields({ caption: input.tags, lyrics }),
    repainting_start: String(input.startS),
    repainting_end: String(input.endS),
    audio_duration: String(sourceDurationS),
    ...commonFields([acestepSeed(input.seed)], model, lyrics),
  };
}

/** A persona's tempo and key in ACE-Step's terms (`bpm` 30–300, `key_scale` like "F# minor"). */
function personaMetas(persona: PersonaFingerprint | undefined): Record<string, string> {
  if (!persona) return {};
  const out: Record<string, string> = {};
  const [low, high] = persona.tempoBpm;
  const bpm = Math.round((low + high) / 2);
  if (Number.isFinite(bpm) && bpm >= 30 && bpm <= 300) out.bpm = String(bpm);
  const key = persona.key?.trim().match(/^([A-G][#b♯♭]?)\s+(major|minor)$/i);
  if (key) out.key_scale = `${key[1]} ${key[2]!.toLowerCase()}`;
  return out;
}

/** The `/release_task` fields of a generate: two songs of `durationS`, one seed each. */
export function text2musicFields(input: GenerateInput, model: ChosenModel): Record<string, string> {
  const text = songText(input, input, { seed: input.seed, durationS: input.durationS }, input.persona);
  return {
    task_type: 'text2music',
    ...textFields(text),
    ...personaMetas(input.persona),
    audio_duration: String(input.durationS),
    ...commonFields(seedPair(input.seed), model, text.lyrics),
  };
}

/**
 * The `/release_task` fields of an extend: a repaint of [continueAt, continueAt + add] on a
 * source cut at `continueAtS`. The range runs past the source's end, which ACE-Step fills by
 * padding the source with silence and regenerating it in the context of what precedes it; the
 * result is the whole song, the source's part included, `continueAtS + addS` long. A persona's
 * tempo and key are not sent: the continuation takes them from the source.
 */
export function extendFields(input: ExtendInput, continueAtS: number, model: ChosenModel): Record<string, string> {
  // Rounded to the microsecond so that float noise (6.1 + 12.2) does not reach the form.
  const endS = Number((continueAtS + input.addS).toFixed(6));
  const text = songText(input, input, { seed: input.seed, durationS: input.addS }, input.persona);
  return {
    task_type: 'repaint',
    ...textFields(text),
    repainting_start: String(continueAtS),
    repainting_end: String(endS),
    audio_duration: String(endS),
    ...commonFields(seedPair(input.seed), model, text.lyrics),
  };
}

/**
 * The `/release_task` fields of a cover: ACE-Step's `cover` task, whose output keeps the
 * source's length. `audio_cover_strength` 1 (the server's default, sent so that it is ours)
 * holds the source's semantic structure through every step, so tempo, chords and form stay;
 * `cover_noise_strength` 0 starts from pure noise, so the sound is new.
 */
export function coverFields(input: CoverInput, sourceDurationS: number, model: ChosenModel): Record<string, string> {
  const text = songText(input, input, { seed: input.seed, durationS: sourceDurationS }, input.persona);
  return {
    task_type: 'cover',
    ...textFields(text),
    audio_cover_strength: '1',
    cover_noise_strength: '0',
    audio_duration: String(sourceDurationS),
    ...commonFields(seedPair(input.seed), model, text.lyrics),
  };
}

/**
 * The `/release_task` fields of an add-vocals: ACE-Step's `lego` task with the vocals track
 * over the whole source (`repainting_end` −1 is "to the end"). KIE's prompt is what is sung;
 * the style (with the voice) describes the new track, and the song as a whole for the SFT-stems
 * checkpoint (`global_caption`). `lego` runs on base DiT models only, named in `model`.
 */
export function legoVocalsFields(input: AddVocalsInput, model: ChosenModel, sourceDurationS: number): Record<string, string> {
  const vocals = { instrumental: false, lyrics: input.prompt, ...(input.vocalGender ? { vocalGender: input.vocalGender } : {}) };
  const text = songText(input, vocals, { seed: input.seed, durationS: sourceDurationS });
  return {
    task_type: 'lego',
    track_name: 'vocals',
    ...textFields({ caption: text.caption, lyrics: input.prompt }),
    global_caption: fitCaption(input.style.trim()),
    repainting_start: '0',
    repainting_end: '-1',
    audio_duration: String(sourceDurationS),
    ...commonFields(seedPair(input.seed), model, input.prompt),
  };
}

/** The task types a model runs: as the server lists them, else by its name (base models run all, the others three). */
const tasksOf = (model: DitModel): readonly string[] => model.taskTypes ?? (/base/i.test(model.name) ? BASE_TASKS : TURBO_TASKS);

/**
 * The DiT model that runs `task`: one the server has loaded (a request naming an unloaded one
 * silently falls back to the default) whose config allows it. For lego, extract and complete a
 * base model first, since ACE-Step's model table names base models as the ones trained for
 * them; for the other tasks the server's default model first, as the operator chose it.
 */
export function modelFor(task: string, models: readonly DitModel[]): string | null {
  const able = models.filter((model) => model.loaded && tasksOf(model).includes(task));
  const preferred = BASE_MODEL_TASKS.has(task) ? able.find((model) => /base/i.test(model.name)) : able.find((model) => model.isDefault);
  return (preferred ?? able[0])?.name ?? null;
}

/** The loaded models, for messages: "acestep-v15-turbo (default), acestep-v15-base", or "none". */
export function describeModels(models: readonly DitModel[]): string {
  const loaded = models.filter((model) => model.loaded).map((model) => (model.isDefault ? `${model.name} (default)` : model.name));
  return loaded.length > 0 ? loaded.join(', ') : 'none';
}

function describe(source: SourceAudio): string {
  return source.name ? `the source audio "${source.name}"` : 'the source audio';
}

function probeSource(source: SourceAudio): AudioProbe {
  try {
    return probeAudio(source.bytes);
  } catch (error) {
    if (error instanceof AudioFormatError) throw new SourceAudioError(`${describe(source)} is not readable MP3 or WAV: ${error.message}`);
    throw error;
  }
}

async function decodeSource(source: SourceAudio): Promise<Pcm> {
  try {
    const pcm = await decodeAudio(source.bytes);
    if ((pcm.channels[0]?.length ?? 0) === 0) throw new AudioFormatError('it contains no samples');
    return pcm;
  } catch (error) {
    if (error instanceof AudioFormatError) throw new SourceAudioError(`${describe(source)} is not readable MP3 or WAV: ${error.message}`);
    throw error;
  }
}

function uploadOf(source: SourceAudio, probed: AudioProbe): UploadedAudio {
  return { bytes: source.bytes, fileName: `source.${probed.format}`, mimeType: probed.format === 'wav' ? 'audio/wav' : 'audio/mpeg' };
}

/** Exactly `frames` long: ACE-Step's padding trimmed, a few missing frames filled with silence. */
function fitFrames(pcm: Pcm, frames: number): Pcm {
  const have = pcm.channels[0]?.length ?? 0;
  if (Math.abs(have - frames) > LENGTH_TOLERANCE_S * pcm.sampleRate) {
    throw new EngineError(`ACE-Step returned ${(have / pcm.sampleRate).toFixed(2)} s of audio where ${(frames / pcm.sampleRate).toFixed(2)} s were asked`);
  }
  if (have === frames) return pcm;
  return {
    sampleRate: pcm.sampleRate,
    channels: pcm.channels.map((channel) => {
      const out = new Float32Array(frames);
      out.set(channel.subarray(0, Math.min(frames, channel.length)));
      return out;
    }),
  };
}

/** Exactly `durationS` long: ACE-Step's padding trimmed, a few missing frames filled with silence. */
export function fitLength(pcm: Pcm, durationS: number): Pcm {
  return fitFrames(pcm, Math.round(durationS * pcm.sampleRate));
}

/** `pcm` at `sampleRate` with `count` channels (a mono one repeated), exactly `frames` long; read-only (it may share arrays with `pcm`). */
function conform(pcm: Pcm, sampleRate: number, count: number, frames: number): Float32Array[] {
  const channels = resample(pcm.channels, pcm.sampleRate, sampleRate);
  return Array.from({ length: count }, (_, c) => {
    const channel = channels[Math.min(c, channels.length - 1)]!;
    if (channel.length === frames) return channel;
    const out = new Float32Array(frames);
    out.set(channel.subarray(0, Math.min(frames, channel.length)));
    return out;
  });
}

/**
 * An extended song: the source's own samples up to the join, then ACE-Step's continuation.
 * The server peak-normalises every result, so its whole rendering is at another level than the
 * source; the level of its rendering of the last seconds before the join (the source again)
 * tells by how much, and the continuation is brought back by that gain so the join is level.
 */
export function joinContinuation(source: Pcm, joinFrame: number, rendered: Pcm, totalFrames: number): Pcm {
  const rate = source.sampleRate;
  const count = Math.max(source.channels.length, rendered.channels.length);
  const tail = conform(rendered, rate, count, totalFrames);
  const fade = Math.min(joinFrame, Math.round(JOIN_FADE_S * rate));
  const window = Math.min(joinFrame - fade, Math.round(LEVEL_WINDOW_S * rate));
  const from = joinFrame - fade - window;
  const sourceLevel = rms(source.channels, from, joinFrame - fade);
  const renderedLevel = rms(tail, from, joinFrame - fade);
  // Within ±12 dB: a near-silent stretch before the join says nothing reliable about the gain.
  const gain = sourceLevel > 1e-5 && renderedLevel > 1e-5 ? Math.min(4, Math.max(0.25, sourceLevel / renderedLevel)) : 1;
  const out = Array.from({ length: count }, (_, c) => {
    const channel = new Float32Array(totalFrames);
    channel.set(source.channels[Math.min(c, source.channels.length - 1)]!.subarray(0, joinFrame));
    return channel;
  });
  const section = tail.map((channel) => {
    const part = channel.slice(joinFrame - fade);
    for (let i = 0; i < part.length; i++) part[i]! *= gain;
    return part;
  });
  spliceInto(out, section, { ...planSeams(totalFrames, joinFrame, totalFrames, { in: fade, out: 0 }), shapeIn: 'linear' });
  return { sampleRate: rate, channels: out };
}

/**
 * The instrumental with ACE-Step's vocal stem over it. The stem comes peak-normalised, whatever
 * the instrumental's level; it is brought to the instrumental's RMS (within ±12 dB), the level at
 * which a lead vocal usually sits in a mix, and the sum is held under −1 dBTP so it never clips.
 */
export function mixStem(source: Pcm, stem: Pcm): Pcm {
  const rate = source.sampleRate;
  const frames = source.channels[0]!.length;
  const count = Math.max(source.channels.length, stem.channels.length);
  const voice = conform(stem, rate, count, frames);
  const gain = loudnessMatchGain(voice, rms(source.channels));
  const out = Array.from({ length: count }, (_, c) => {
    const channel = Float32Array.from(source.channels[Math.min(c, source.channels.length - 1)]!);
    const added = voice[c]!;
    for (let i = 0; i < frames; i++) channel[i]! += gain * added[i]!;
    return channel;
  });
  limitTruePeak(out, { sampleRate: rate });
  return { sampleRate: rate, channels: out };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      signal.removeEventListener('abort', stop);
      resolve();
    }
    function stop(): void {
      clearTimeout(timer);
      reject(signal.reason);
    }
    signal.addEventListener('abort', stop, { once: true });
  });
}

interface ResultFile {
  bytes: Uint8Array;
  modelName: string;
}

export function createAcestepEngine(options: AcestepOptions): Engine {
  const connection: AcestepConnection = {
    url: options.url.replace(/\/+$/, ''),
    apiKey: options.apiKey ?? null,
    requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
  };
  const timeoutMs = options.timeoutMs ?? 300_000;
  const pollMs = Math.max(10, options.pollMs ?? 2000);

  /** Submits, polls until the task is done or the deadline passes, and downloads every result file. */
  async function runTask(fields: Record<string, string>, source: UploadedAudio | null, signal: AbortSignal, onAccepted?: (taskId: string) => Promise<void>) {
    const deadline = Date.now() + timeoutMs;
    const left = (): number => deadline - Date.now();
    const overdue = (taskId: string | null) =>
      new AcestepError('timeout', `ACE-Step did not finish ${taskId ? `task ${taskId}` : 'the task'} within ${seconds(timeoutMs)} (ACESTEP_TIMEOUT_S)`);
    const bounded = async <T>(taskId: string | null, step: () => Promise<T>): Promise<T> => {
      try {
        return await step();
      } catch (error) {
        // A request cut short by the overall deadline is the deadline's failure, not the request's.
        if (error instanceof AcestepError && error.failure === 'timeout' && left() <= 0) throw overdue(taskId);
        throw error;
      }
    };

    const taskId = await bounded(null, () => releaseTask(connection, fields, source, signal, left()));
    await onAccepted?.(taskId);
    let results: TaskResult[];
    for (;;) {
      if (left() <= 0) throw overdue(taskId);
      const state = await bounded(taskId, () => queryResult(connection, taskId, signal, left()));
      if (state.state === 'failed') throw new AcestepError('task-failed', `ACE-Step failed task ${taskId}: ${state.error}`);
      if (state.state === 'succeeded') {
        results = state.results;
        break;
      }
      if (left() <= 0) throw overdue(taskId);
      await pause(Math.min(pollMs, left()), signal);
    }
    if (results.length === 0) throw new AcestepError('protocol', `ACE-Step finished task ${taskId} but named no result file`);
    refuseOtherModel(taskId, fields.model, results);
    const files: ResultFile[] = [];
    for (const result of results) {
      const bytes = await bounded(taskId, () => downloadAudio(connection, result.file, signal, left()));
      files.push({ bytes, modelName: options.modelName ?? result.ditModel ?? fields.model ?? DEFAULT_MODEL_NAME });
    }
    return { taskId, files };
  }

  /**
   * The model is checked before each operation, but a slot can be reloaded between that check
   * and the task; the server then runs the task on its default model and says so only in the
   * result's `dit_model`. Such a result is not what was asked for (lego on turbo is noise).
   */
  function refuseOtherModel(taskId: string, asked: string | undefined, results: readonly TaskResult[]): void {
    const other = results.find((result) => asked && result.ditModel && result.ditModel !== asked);
    if (other) {
      throw new AcestepError(
        'no-model',
        `ACE-Step ran task ${taskId} on ${other.ditModel} instead of ${asked}, which it no longer has loaded (it falls back to its default model without failing)`,
      );
    }
  }

  /**
   * The model for `task`, from what the server has loaded now (`GET /v1/models`), or a clear
   * failure: a server with no model loaded yet is an EngineError (531, it may come up later);
   * one whose loaded models cannot run the task refuses the operation.
   */
  async function chooseModel(task: string, refusal: (loaded: string) => string, signal: AbortSignal): Promise<ChosenModel> {
    const models = await listModels(connection, signal);
    const name = modelFor(task, models);
    if (name) return { name, steps: stepsFor(name) };
    if (!models.some((model) => model.loaded)) {
      throw new AcestepError('no-model', `ACE-Step at ${connection.url} has no DiT model loaded (still starting?), so it cannot run ${task}`);
    }
    throw new UnsupportedOperation(refusal(describeModels(models)));
  }

  /** The refusal for a task every model runs, should a server say otherwise. */
  const noneRuns = (operation: string, task: string) => (loaded: string) =>
    `${operation} needs ACE-Step's ${task} task, which none of the DiT models loaded on ${connection.url} runs (loaded: ${loaded})`;

  /**
   * Two songs from one task with a batch of two. ACE-Step's VRAM guard lowers the batch on a
   * GPU short of memory and still succeeds, with one song; the missing one is then asked for on
   * its own, with the seed it would have had, rather than failing a task the GPU can do. Each of
   * the two tasks has the whole ACESTEP_TIMEOUT_S.
   */
  async function renderPair(
    fields: Record<string, string>,
    upload: UploadedAudio | null,
    signal: AbortSignal,
    onAccepted: (taskId: string) => Promise<void>,
  ): Promise<ResultFile[]> {
    const { files } = await runTask(fields, upload, signal, onAccepted);
    if (files.length >= 2) return files.slice(0, 2);
    const second = fields.seed?.split(',')[1] ?? '-1';
    const again = await runTask({ ...fields, batch_size: '1', seed: second }, upload, signal);
    return [files[0]!, again.files[0]!];
  }

  async function decodeResult(file: ResultFile): Promise<Pcm> {
    try {
      return await decodeAudio(file.bytes);
    } catch (error) {
      if (error instanceof AudioFormatError) throw new EngineError(`ACE-Step returned audio reprise cannot read: ${error.message}`);
      throw error;
    }
  }

  /** The served MP3, the lossless master it was encoded from (unclipped float) and the cover. */
  async function finishPcm(pcm: Pcm, modelName: string, meta: { title: string; tags: string; variant?: string }, signal: AbortSignal): Promise<RenderedTrack> {
    signal.throwIfAborted();
    const mp3 = await encodeMp3(pcm);
    signal.throwIfAborted();
    const cover = await renderCover({ title: meta.title, tags: meta.tags, variant: meta.variant, channels: pcm.channels });
    const master = encodeWav(pcm, { encoding: 'float32' });
    return { mp3, master, cover, durationS: (pcm.channels[0]?.length ?? 0) / pcm.sampleRate, modelName };
  }

  async function finish(file: ResultFile, durationS: number, meta: { title: string; tags: string; variant?: string }, signal: AbortSignal) {
    return finishPcm(fitLength(await decodeResult(file), durationS), file.modelName, meta, signal);
  }

  /** The `text` stage once ACE-Step has accepted the task: what was asked, in its terms. */
  const announce = (onProgress: OnProgress, fields: Record<string, string>, what: string) => async (taskId: string) => {
    const lines = [`ACE-Step ${fields.task_type} task ${taskId}: ${what}.`, `Caption: ${fields.caption || '(none)'}`, `Lyrics: ${fields.lyrics || '(none)'}`];
    await onProgress({ stage: 'text', sheet: lines.join('\n') });
  };

  /** Turns the two results into tracks, reporting `first` after the first. */
  async function pairToTracks(
    files: ResultFile[],
    onProgress: OnProgress,
    make: (file: ResultFile, index: number) => Promise<RenderedTrack>,
  ): Promise<RenderedTrack[]> {
    const tracks: RenderedTrack[] = [];
    for (const [index, file] of files.entries()) {
      const track = await make(file, index);
      tracks.push(track);
      if (index === 0) await onProgress({ stage: 'first', track, index });
    }
    return tracks;
  }

  return {
    name: 'acestep',

    async replaceSection(input: ReplaceSectionInput, signal: AbortSignal): Promise<RenderedTrack> {
      signal.throwIfAborted();
      const source = probeSource(input.source);
      if (!(Number.isFinite(input.startS) && Number.isFinite(input.endS) && input.startS >= 0 && input.endS > input.startS)) {
        throw new EngineError(`invalid section ${input.startS}–${input.endS} s`);
      }
      if (input.startS >= source.durationS) {
        throw new SourceAudioError(`the section ${input.startS}–${input.endS} s lies outside the ${source.durationS.toFixed(2)} s of source audio`);
      }
      // The API checked the range against the same probe; clamping only absorbs rounding.
      const clamped = { ...input, endS: Math.min(input.endS, source.durationS) };
      const model = await chooseModel('repaint', noneRuns('replace-section', 'repaint'), signal);
      const { files } = await runTask(repaintFields(clamped, source.durationS, model), uploadOf(input.source, source), signal);
      return finish(files[0]!, source.durationS, { title: input.title, tags: input.tags }, signal);
    },

    async generate(input: GenerateInput, signal: AbortSignal, onProgress): Promise<RenderedTrack[]> {
      signal.throwIfAborted();
      if (!(Number.isFinite(input.durationS) && input.durationS >= MIN_SONG_S && input.durationS <= MAX_SONG_S)) {
        throw new EngineError(`ACE-Step makes songs of ${MIN_SONG_S} to ${MAX_SONG_S} s, not ${input.durationS}`);
      }
      const model = await chooseModel('text2music', noneRuns('generate', 'text2music'), signal);
      const fields = text2musicFields(input, model);
      const files = await renderPair(fields, null, signal, announce(onProgress, fields, `2 songs of ${input.durationS} s`));
      return pairToTracks(files, onProgress, (file, index) =>
        finish(file, input.durationS, { title: input.title, tags: input.style, variant: String(index) }, signal),
      );
    },

    async extend(input: ExtendInput, signal: AbortSignal, onProgress): Promise<RenderedTrack[]> {
      signal.throwIfAborted();
      const source = await decodeSource(input.source);
      const rate = source.sampleRate;
      const sourceFrames = source.channels[0]!.length;
      const sourceS = sourceFrames / rate;
      if (!(Number.isFinite(input.continueAtS) && input.continueAtS > 0)) throw new EngineError(`invalid continueAt ${input.continueAtS} s`);
      // Past the end by more than a frame is a request about another song; at the end is "continue from the end".
      if (input.continueAtS > sourceS + 1 / rate) {
        throw new SourceAudioError(`continueAt ${input.continueAtS} s lies past the end of the ${sourceS.toFixed(2)} s of source audio`);
      }
      if (!(Number.isFinite(input.addS) && input.addS > 0)) throw new EngineError(`invalid extension length ${input.addS} s`);
      const joinFrame = Math.min(sourceFrames, Math.round(input.continueAtS * rate));
      const continueAtS = joinFrame / rate;
      const totalFrames = joinFrame + Math.round(input.addS * rate);
      const totalS = totalFrames / rate;
      if (totalS > MAX_SONG_S) throw new EngineError(`ACE-Step makes songs of up to ${MAX_SONG_S} s; ${totalS.toFixed(2)} s were asked`);
      // The source is cut at the join before upload: a repaint range that ended inside it would
      // keep (and be conditioned on) the source after the range, and come back the source's length.
      const head = encodeWav({ sampleRate: rate, channels: source.channels.map((channel) => channel.subarray(0, joinFrame)) }, { encoding: 'float32' });
      const upload: UploadedAudio = { bytes: head, fileName: 'source.wav', mimeType: 'audio/wav' };
      const model = await chooseModel('repaint', noneRuns('extend', 'repaint'), signal);
      const fields = extendFields(input, continueAtS, model);
      const what = `2 continuations of ${input.addS} s from ${continueAtS} s of the source`;
      const files = await renderPair(fields, upload, signal, announce(onProgress, fields, what));
      return pairToTracks(files, onProgress, async (file, index) => {
        // Exact length at ACE-Step's rate first, so a result of another length fails as such.
        const rendered = fitLength(await decodeResult(file), totalS);
        const joined = joinContinuation(source, joinFrame, rendered, totalFrames);
        const track = await finishPcm(joined, file.modelName, { title: input.title, tags: input.style, variant: String(index) }, signal);
        return { ...track, continuedAtS: continueAtS };
      });
    },

    async cover(input: CoverInput, signal: AbortSignal, onProgress): Promise<RenderedTrack[]> {
      signal.throwIfAborted();
      const probed = probeSource(input.source);
      const model = await chooseModel('cover', noneRuns('upload-cover', 'cover'), signal);
      const fields = coverFields(input, probed.durationS, model);
      const what = `2 covers of the ${probed.durationS} s source`;
      const files = await renderPair(fields, uploadOf(input.source, probed), signal, announce(onProgress, fields, what));
      return pairToTracks(files, onProgress, (file, index) =>
        finish(file, probed.durationS, { title: input.title, tags: input.style, variant: String(index) }, signal),
      );
    },

    async addVocals(input: AddVocalsInput, signal: AbortSignal, onProgress): Promise<RenderedTrack[]> {
      signal.throwIfAborted();
      const probed = probeSource(input.source);
      const source = await decodeSource(input.source);
      const refusal = (loaded: string) =>
        `add-vocals needs ACE-Step's lego task, which only a base DiT model runs (e.g. acestep-v15-base); the server at ${connection.url} has none loaded (loaded: ${loaded})`;
      const model = await chooseModel('lego', refusal, signal);
      const fields = legoVocalsFields(input, model, probed.durationS);
      const what = `2 vocal tracks over the ${probed.durationS} s instrumental, with ${model.name}`;
      const files = await renderPair(fields, uploadOf(input.source, probed), signal, announce(onProgress, fields, what));
      return pairToTracks(files, onProgress, async (file, index) => {
        const stem = fitLength(await decodeResult(file), probed.durationS);
        return finishPcm(mixStem(source, stem), file.modelName, { title: input.title, tags: input.style, variant: String(index) }, signal);
      });
    },

    async separate(): Promise<SeparatedStems> {
      // ACE-Step's `extract` task regenerates one named track with the base DiT model: a new
      // rendering of that instrument, not a separation, so its stems would not add up to the
      // track, and each stem would be a GPU task of its own. Refused rather than passed off.
      throw new UnsupportedOperation(
        "stem separation is not supported by the acestep engine: ACE-Step's extract task re-synthesises a track rather than separating it",
      );
    },

    async transcribe(): Promise<TranscribedMidi> {
      // ACE-Step generates audio; it has no audio-to-notes model, and its stems (above) are refused,
      // so a transcription request has nothing of its own to start from. Refused rather than guessed.
      throw new UnsupportedOperation('transcription (MIDI from audio) is not supported by the acestep engine: ACE-Step has no audio-to-notes model');
    },
  };
}

/** How the start-up check went: fine, or worth a warning (the server may come up later). */
export interface AcestepCheck {
  level: 'info' | 'warn';
  message: string;
}

/**
 * Called once at start-up: `GET /health` (is it an ACE-Step server at all), `POST /query_result`
 * for no task (is the key right) and `GET /v1/models` (which DiT models it has loaded). An
 * unreachable or overloaded server is a warning: GPU hosts often start after reprise or restart
 * on their own, and tasks that fail meanwhile are refunded; so is a 5xx answer and a server
 * with no model loaded yet (both: still loading). A server that answers but refuses the API key,
 * or is not an ACE-Step API server at all, is a configuration error that no amount of waiting
 * fixes: that throws, and start-up stops.
 */
export async function checkAcestep(options: AcestepOptions, timeoutMs = 10_000): Promise<AcestepCheck> {
  const url = options.url.replace(/\/+$/, '');
  const connection: AcestepConnection = { url, apiKey: options.apiKey ?? null, requestTimeoutMs: Math.min(timeoutMs, options.requestTimeoutMs ?? timeoutMs) };
  const signal = new AbortController().signal;
  try {
    const said = await health(connection, signal);
    await probe(connection, signal);
    const models = await listModels(connection, signal);
    if (said.modelsInitialized === false || !models.some((model) => model.loaded)) {
      return { level: 'warn', message: `ACE-Step at ${url} answers but has no DiT model loaded yet; tasks will fail (and be refunded) until it has` };
    }
    return { level: 'info', message: `ACE-Step at ${url} is reachable; DiT models loaded: ${describeModels(models)}` };
  } catch (error) {
    if (
      error instanceof AcestepError &&
      (error.failure === 'unreachable' || error.failure === 'timeout' || error.failure === 'busy' || error.failure === 'server')
    ) {
      return { level: 'warn', message: `${error.message}; tasks will fail (and be refunded) until it answers` };
    }
    throw error;
  }
}
