import { AudioFormatError, type AudioProbe, decodeAudio, encodeMp3, hashString, type Pcm, probeAudio, renderCover } from '../audio/index.js';
import {
  type AcestepConnection,
  AcestepError,
  downloadAudio,
  probe,
  queryResult,
  releaseTask,
  seconds,
  type TaskResult,
  type UploadedAudio,
} from './acestep-client.js';
import { type Engine, EngineError, type GenerateInput, type RenderedTrack, type ReplaceSectionInput, SourceAudioError } from './types.js';

/**
 * The GPU engine: an adapter to an ACE-Step 1.5 API server. Replace-section is
 * ACE-Step's `repaint` task (neural regeneration of a time range of the
 * uploaded song, conditioned on its caption and lyrics); generate is its
 * `text2music` task with a batch of two. ACE-Step's WAV result is decoded here,
 * held to the exact length asked for and encoded to MP3 with the same codec and
 * cover art as every other engine.
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

/** ACE-Step's integer seed, derived from the task's seed: the same task asks for the same seed. */
export const acestepSeed = (seed: string): number => hashString(seed) >>> 1;

/**
 * The `/release_task` fields of a replace-section. KIE's `prompt` (lyrics or a
 * description of the new section) becomes ACE-Step's lyrics, unless the whole
 * song's lyrics are given (`fullLyrics`), which suit ACE-Step better since it
 * conditions the whole song; `tags` become its caption (sent as `prompt`, the
 * field's name, and `caption`, its alias).
 */
export function repaintFields(input: ReplaceSectionInput, sourceDurationS: number): Record<string, string> {
  const lyrics = input.fullLyrics?.trim() ? input.fullLyrics : input.prompt;
  return {
    task_type: 'repaint',
    prompt: input.tags,
    caption: input.tags,
    lyrics,
    repainting_start: String(input.startS),
    repainting_end: String(input.endS),
    audio_duration: String(sourceDurationS),
    batch_size: '1',
    audio_format: RESULT_FORMAT,
    use_random_seed: 'false',
    seed: String(acestepSeed(input.seed)),
  };
}

/**
 * The `/release_task` fields of a generate: custom mode (a style was given)
 * sends the style as caption and the prompt as lyrics; otherwise the prompt
 * is the caption. Instrumental songs get the lyrics `[Instrumental]`.
 */
export function text2musicFields(input: GenerateInput): Record<string, string> {
  const custom = input.style.trim() !== '';
  const caption = custom ? input.style : input.prompt;
  const lyrics = input.instrumental ? '[Instrumental]' : custom ? input.prompt : '';
  return {
    task_type: 'text2music',
    prompt: caption,
    caption,
    lyrics,
    audio_duration: String(input.durationS),
    batch_size: '2',
    audio_format: RESULT_FORMAT,
    use_random_seed: 'false',
    seed: String(acestepSeed(input.seed)),
  };
}

function probeSource(input: ReplaceSectionInput): AudioProbe {
  const what = input.source.name ? `the source audio "${input.source.name}"` : 'the source audio';
  try {
    return probeAudio(input.source.bytes);
  } catch (error) {
    if (error instanceof AudioFormatError) throw new SourceAudioError(`${what} is not readable MP3 or WAV: ${error.message}`);
    throw error;
  }
}

/** Exactly `durationS` long: ACE-Step's padding trimmed, a few missing frames filled with silence. */
export function fitLength(pcm: Pcm, durationS: number): Pcm {
  const frames = Math.round(durationS * pcm.sampleRate);
  const have = pcm.channels[0]?.length ?? 0;
  if (Math.abs(have - frames) > LENGTH_TOLERANCE_S * pcm.sampleRate) {
    throw new EngineError(`ACE-Step returned ${(have / pcm.sampleRate).toFixed(2)} s of audio where ${durationS.toFixed(2)} s were asked`);
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
    const files: Array<{ bytes: Uint8Array; modelName: string }> = [];
    for (const result of results) {
      const bytes = await bounded(taskId, () => downloadAudio(connection, result.file, signal, left()));
      files.push({ bytes, modelName: options.modelName ?? result.ditModel ?? DEFAULT_MODEL_NAME });
    }
    return { taskId, files };
  }

  async function finish(
    file: { bytes: Uint8Array; modelName: string },
    durationS: number,
    meta: { title: string; tags: string; variant?: string },
    signal: AbortSignal,
  ): Promise<RenderedTrack> {
    let decoded: Pcm;
    try {
      decoded = await decodeAudio(file.bytes);
    } catch (error) {
      if (error instanceof AudioFormatError) throw new EngineError(`ACE-Step returned audio reprise cannot read: ${error.message}`);
      throw error;
    }
    const pcm = fitLength(decoded, durationS);
    signal.throwIfAborted();
    const mp3 = await encodeMp3(pcm);
    signal.throwIfAborted();
    const cover = await renderCover({ title: meta.title, tags: meta.tags, variant: meta.variant, channels: pcm.channels });
    return { mp3, cover, durationS: (pcm.channels[0]?.length ?? 0) / pcm.sampleRate, modelName: file.modelName };
  }

  return {
    name: 'acestep',

    async replaceSection(input: ReplaceSectionInput, signal: AbortSignal): Promise<RenderedTrack> {
      signal.throwIfAborted();
      const source = probeSource(input);
      if (!(Number.isFinite(input.startS) && Number.isFinite(input.endS) && input.startS >= 0 && input.endS > input.startS)) {
        throw new EngineError(`invalid section ${input.startS}–${input.endS} s`);
      }
      if (input.startS >= source.durationS) {
        throw new SourceAudioError(`the section ${input.startS}–${input.endS} s lies outside the ${source.durationS.toFixed(2)} s of source audio`);
      }
      // The API checked the range against the same probe; clamping only absorbs rounding.
      const clamped = { ...input, endS: Math.min(input.endS, source.durationS) };
      const upload: UploadedAudio = {
        bytes: input.source.bytes,
        fileName: `source.${source.format}`,
        mimeType: source.format === 'wav' ? 'audio/wav' : 'audio/mpeg',
      };
      const { files } = await runTask(repaintFields(clamped, source.durationS), upload, signal);
      return finish(files[0]!, source.durationS, { title: input.title, tags: input.tags }, signal);
    },

    async generate(input: GenerateInput, signal: AbortSignal, onProgress): Promise<RenderedTrack[]> {
      signal.throwIfAborted();
      if (!(Number.isFinite(input.durationS) && input.durationS >= 10 && input.durationS <= 600)) {
        throw new EngineError(`ACE-Step makes songs of 10 to 600 s, not ${input.durationS}`);
      }
      const fields = text2musicFields(input);
      const { files } = await runTask(fields, null, signal, async (taskId) => {
        const lines = [
          `ACE-Step text2music task ${taskId}: 2 songs of ${input.durationS} s.`,
          `Caption: ${fields.caption || '(none)'}`,
          `Lyrics: ${fields.lyrics || '(none)'}`,
        ];
        await onProgress({ stage: 'text', sheet: lines.join('\n') });
      });
      if (files.length < 2) throw new EngineError(`ACE-Step returned ${files.length} song where 2 were asked (batch_size=2)`);
      const tracks: RenderedTrack[] = [];
      for (const [index, file] of files.slice(0, 2).entries()) {
        const track = await finish(file, input.durationS, { title: input.title, tags: input.style, variant: String(index) }, signal);
        tracks.push(track);
        if (index === 0) await onProgress({ stage: 'first', track, index });
      }
      return tracks;
    },
  };
}

/** How the start-up check went: fine, or worth a warning (the server may come up later). */
export interface AcestepCheck {
  level: 'info' | 'warn';
  message: string;
}

/**
 * Called once at start-up. An unreachable or overloaded server is a warning:
 * GPU hosts often start after reprise or restart on their own, and tasks that
 * fail meanwhile are refunded; so is a 5xx answer (a server still loading its
 * models). A server that answers but refuses the API key, or is not an ACE-Step
 * API server at all, is a configuration error that no amount of waiting fixes:
 * that throws, and start-up stops.
 */
export async function checkAcestep(options: AcestepOptions, timeoutMs = 10_000): Promise<AcestepCheck> {
  const url = options.url.replace(/\/+$/, '');
  const connection: AcestepConnection = { url, apiKey: options.apiKey ?? null, requestTimeoutMs: Math.min(timeoutMs, options.requestTimeoutMs ?? timeoutMs) };
  try {
    await probe(connection, new AbortController().signal);
    return { level: 'info', message: `ACE-Step at ${url} is reachable` };
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
