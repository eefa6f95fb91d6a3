/**
 * The contract between the worker and whatever renders audio. An engine receives
 * plain data (bytes and numbers) and returns plain data; it never touches the
 * database, the blob store or the network of the service (except an engine that
 * is itself a network adapter, such as `acestep`).
 */

/** One finished track, ready to be stored and served. */
export interface RenderedTrack {
  /** MP3 bytes served as `audio_url` / `stream_audio_url`. */
  mp3: Uint8Array;
  /**
   * The same audio losslessly (a WAV of exactly the samples the MP3 was encoded from).
   * Kept with the track and edited instead of the MP3 when a later task names the track,
   * so chains of edits lose nothing and never shift. Engines that have none leave it out.
   */
  master?: Uint8Array;
  /** JPEG cover served as `image_url`. */
  cover: Uint8Array;
  /** Exact duration of the audio in seconds (as decoded, without encoder padding). */
  durationS: number;
  /** Name reported as `model_name` / `modelName`. */
  modelName: string;
  /**
   * Replace-section only: the range that was actually replaced, in seconds of the song. It
   * differs from the one asked for where the engine moved the edges onto the song's beats.
   * Engines that cannot tell leave it out.
   */
  appliedRange?: { startS: number; endS: number };
  /**
   * Replace-section only: where the new material is faded in (ending at or before
   * `appliedRange.startS`) and out (beginning at or after its `endS`), in seconds; outside
   * them the song is the source. Engines that cannot tell leave it out.
   */
  crossfades?: { in: { startS: number; endS: number }; out: { startS: number; endS: number } };
}

/** A song to edit: the bytes of an MP3 or WAV file. */
export interface SourceAudio {
  bytes: Uint8Array;
  /** Only a hint for error messages; the format is detected from the content. */
  name?: string;
}

export interface ReplaceSectionInput {
  source: SourceAudio;
  startS: number;
  endS: number;
  prompt: string;
  tags: string;
  negativeTags: string;
  title: string;
  fullLyrics?: string;
  /** Seed derived from the task inputs: same seed + same inputs = byte-identical output. */
  seed: string;
}

export interface GenerateInput {
  prompt: string;
  style: string;
  title: string;
  negativeTags: string;
  instrumental: boolean;
  /** Lyrics given in custom mode (the prompt of a song with vocals), for the structure sheet. */
  lyrics?: string;
  /** Length of each song in seconds. */
  durationS: number;
  seed: string;
}

/** Progress reported by `generate` so the task can pass TEXT_SUCCESS and FIRST_SUCCESS. */
export type GenerateProgress = { stage: 'text'; sheet: string } | { stage: 'first'; track: RenderedTrack; index: number };

export interface Engine {
  readonly name: string;
  replaceSection(input: ReplaceSectionInput, signal: AbortSignal): Promise<RenderedTrack>;
  /** Renders exactly two songs, reporting `text` once and then `first` after the first song. */
  generate(input: GenerateInput, signal: AbortSignal, onProgress: (progress: GenerateProgress) => Promise<void>): Promise<RenderedTrack[]>;
}

/**
 * The source could not be read as audio (not MP3/WAV, truncated, unsupported
 * encoding). The task fails with callback code 400 and is refunded.
 */
export class SourceAudioError extends Error {
  override readonly name = 'SourceAudioError';
}

/** The engine itself failed (code 531, refunded). */
export class EngineError extends Error {
  override readonly name = 'EngineError';
}
