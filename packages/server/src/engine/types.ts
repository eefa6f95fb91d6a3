/**
 * The contract between the worker and whatever renders audio. An engine receives
 * plain data (bytes and numbers) and returns plain data; it never touches the
 * database, the blob store or the network of the service (except an engine that
 * is itself a network adapter, such as `acestep`).
 */

/** One finished track, ready to be stored and served. */
/** A master on the render host's disk (see `RenderedTrack.masterFile`). */
export interface MasterFile {
  path: string;
  bytes: number;
}

export interface RenderedTrack {
  /** MP3 bytes served as `audio_url` / `stream_audio_url`. */
  mp3: Uint8Array;
  /**
   * The same audio losslessly (a WAV of exactly the samples the MP3 was encoded from).
   * Kept with the track and edited instead of the MP3 when a later task names the track,
   * so chains of edits lose nothing and never shift. Engines that have none leave it out.
   */
  master?: Uint8Array;
  /**
   * The master written to a file instead, for a song the engine never held whole (an edit of a
   * long MP3 decodes only around the edit): the same bytes `master` would hold. Whoever stores
   * the track moves it into the blob store and removes the file.
   */
  masterFile?: MasterFile;
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
  /**
   * What the track sings, with the time of every word as the renderer placed it: exact, so
   * timestamped lyrics of the track need no alignment. Absent on instrumentals and on engines
   * that cannot tell.
   */
  sung?: SungLyrics;
  /** Where a part of the track came from (extend: the source's end), in seconds. */
  continuedAtS?: number;
}

/**
 * Every track of an operation, in order; null where the track was already handed over at
 * `first` (the thread gives each track away once, so that it does not hold a finished song's
 * samples while it renders the next).
 */
export type RenderedTracks = (RenderedTrack | null)[];

/** One sung word (or syllable group) and when it sounds, in seconds of the track. */
export interface SungWord {
  word: string;
  startS: number;
  endS: number;
}

export interface SungLyrics {
  /** The lyrics as sung, with section tags ("[Verse]"). */
  text: string;
  words: SungWord[];
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

/** What the words of a request ask for: the style chooser reads them, most important first. */
export interface SongWords {
  prompt: string;
  style: string;
  title: string;
  negativeTags: string;
}

/**
 * Whether a song is sung, and what. `lyrics` are sung as given (custom mode); without them a
 * song with vocals gets lyrics the engine writes from the prompt (non-custom mode).
 */
export interface Vocals {
  instrumental: boolean;
  lyrics?: string;
  vocalGender?: 'm' | 'f';
}

/**
 * A persona (`personaId`): what was measured on the track it was made from, applied to new songs.
 * Its words (style, key, tempo) reach every engine already added to the request's `style`; an
 * engine uses the rest (the voice). Plain data so it can be stored as JSON and sent to a render thread.
 */
export interface PersonaFingerprint {
  /** Tempo range in BPM the new song stays within (the source's tempo ± a little). */
  tempoBpm: [number, number];
  /** Key and mode, e.g. "D minor"; null where the reading was unsure. */
  key: string | null;
  /** Instrument and genre words of the source, added to the new song's style. */
  styleWords: string[];
  /** The voice: gender, and the vocal range in MIDI notes. */
  voice: { gender: 'm' | 'f'; lowMidi: number; highMidi: number } | null;
}

export interface GenerateInput extends SongWords, Vocals {
  /** Length of each song in seconds. */
  durationS: number;
  persona?: PersonaFingerprint;
  seed: string;
}

/** Extend and upload-extend: the source up to `continueAtS`, then `addS` seconds of new music. */
export interface ExtendInput extends SongWords, Vocals {
  source: SourceAudio;
  continueAtS: number;
  addS: number;
  persona?: PersonaFingerprint;
  seed: string;
}

/** Upload-cover: the source's tempo, chords, form and length, re-arranged in the asked style. */
export interface CoverInput extends SongWords, Vocals {
  source: SourceAudio;
  persona?: PersonaFingerprint;
  seed: string;
}

/** Add-instrumental: an accompaniment for the uploaded vocal (the style words are KIE's `tags`). */
export interface AddInstrumentalInput extends SongWords {
  source: SourceAudio;
  seed: string;
}

/** Add-vocals: a sung line over the uploaded instrumental; `prompt` is what is sung. */
export interface AddVocalsInput extends SongWords {
  source: SourceAudio;
  vocalGender?: 'm' | 'f';
  seed: string;
}

/** Mashup: two songs brought to one tempo and key and woven together, bar-aligned. */
export interface MashupInput extends SongWords, Vocals {
  sources: [SourceAudio, SourceAudio];
  seed: string;
}

/**
 * KIE's stem names for `split_stem` (its callback's keys without `_url`), in its order. A
 * `separate_vocal` gives `vocal` and `instrumental`. `other` is reprise's own: what a
 * signal-processing separation could not tell apart (the harmony and melody instruments
 * together), which KIE has no field for.
 */
export const SPLIT_STEM_NAMES = [
  'vocal',
  'backing_vocals',
  'drums',
  'bass',
  'guitar',
  'keyboard',
  'percussion',
  'strings',
  'synth',
  'fx',
  'brass',
  'woodwinds',
] as const;
export type SplitStemName = (typeof SPLIT_STEM_NAMES)[number];
export type StemName = SplitStemName | 'instrumental' | 'other';

/** KIE's `type`: two stems (vocal, instrumental) or up to twelve instrument stems. */
export type SeparationType = 'separate_vocal' | 'split_stem';

/**
 * Stem separation of one track. Where reprise made the track (`origin`), the stems are rendered
 * again from its own plan, part by part, and sum to its master; otherwise (or where the track
 * holds audio a user uploaded, or no longer renders the same) they are estimated from the audio.
 */
export interface SeparateInput {
  type: SeparationType;
  /** The track: its lossless master (float WAV) where the service kept one, else its MP3. */
  audio: SourceAudio;
  /**
   * How the track was made, when a task of this service made it: the operation exactly as the
   * engine received it (the parent task's input and seed) and which of its tracks this is.
   */
  origin?: { operation: Operation; trackIndex: number };
  /** Without an origin: why the track has none, in words, for the result's `method`. */
  noOrigin?: string;
}

/** One stem, ready to be stored and served. */
export interface RenderedStem {
  name: StemName;
  /** MP3 bytes (the stem's `*_url`). */
  mp3: Uint8Array;
  /** The same audio losslessly: a 32-bit float WAV of exactly the samples the MP3 was encoded from. */
  master: Uint8Array;
  durationS: number;
  /**
   * True where the stem is exactly what its instruments contributed to the track (re-rendered
   * from the track's plan, or a known part of it); false where it is a signal-processing estimate.
   */
  exact: boolean;
}

export interface SeparatedStems {
  /**
   * The stems that hold sound, in KIE's order (`instrumental` after `vocal`, `other` last); null
   * where the stem was already handed over at `onStem`.
   */
  stems: (RenderedStem | null)[];
  /**
   * The names the type offers that have no stem: instruments the track does not play, and for an
   * estimate those it cannot tell apart. KIE reports them as null.
   */
  absent: StemName[];
  /** How the stems were made, in plain words, for the task's record. */
  method: string;
  /** Name reported as `model_name`. */
  modelName: string;
}

/** Each stem as soon as it is finished, so a caller can store it and let it go. */
export type OnStem = (stem: RenderedStem, index: number) => Promise<void>;

/**
 * Transcription ("Generate MIDI from Audio") of the stems of one separation: each named stem's
 * notes, per instrument. Where the track's separation was exact (reprise rendered it from its own
 * recipe), the notes are read from that recipe: the very notes the synthesiser played. Otherwise
 * each stem's audio is transcribed by signal processing, an estimate.
 */
export interface TranscribeInput {
  /** The stems to transcribe, each by name, with its audio (the stem's MP3) where there is no recipe to read. */
  stems: Array<{ name: StemName; audio?: SourceAudio }>;
  /**
   * How the track was made, when its separation was exact (rendered from its recipe): the notes
   * then come from that recipe. The caller vouches for it (the separation's stems were exact);
   * it is not checked against the audio again.
   */
  origin?: { operation: Operation; trackIndex: number };
  /** Without an origin: why the track has none, in words, for the result's `method`. */
  noOrigin?: string;
}

/** One note: seconds from the track's start, `velocity` 0..1 (KIE's callback fields). */
export interface MidiNote {
  /** MIDI note number 0–127 (General MIDI drum numbers on a drum instrument). */
  pitch: number;
  start: number;
  end: number;
  velocity: number;
}

export interface MidiInstrument {
  /** In words, as KIE names them ("Drums", "Electric Piano", "Bass"). */
  name: string;
  /** The stem it was transcribed from. */
  stem: StemName;
  /** General MIDI program 0–127 (ignored on a drum instrument, which plays on channel 10). */
  program: number;
  isDrum: boolean;
  /** True where the notes are the recipe's own; false where they are estimated from the stem's audio. */
  exact: boolean;
  /** By start time. */
  notes: MidiNote[];
}

export interface TranscribedMidi {
  /** Instruments with at least one note; a silent stem (or one the recipe plays nothing on) gives none. */
  instruments: MidiInstrument[];
  /** True only where every instrument was read from the recipe. */
  exact: boolean;
  /** How the notes were made, in plain words, for the task's record. */
  method: string;
  /** Name reported as `model_name`. */
  modelName: string;
}

/** Progress reported by song-making operations so the task can pass TEXT_SUCCESS and FIRST_SUCCESS. */
export type GenerateProgress = { stage: 'text'; sheet: string } | { stage: 'first'; track: RenderedTrack; index: number };
export type OnProgress = (progress: GenerateProgress) => Promise<void>;

/**
 * Every operation an engine may offer, with its input. The engine interface grows by
 * operation: an engine leaves out what it cannot do, and `runOperation` turns the gap
 * into an `UnsupportedOperation` (a clean, refunded failure).
 */
export interface OperationInputs {
  replaceSection: ReplaceSectionInput;
  generate: GenerateInput;
  extend: ExtendInput;
  cover: CoverInput;
  addInstrumental: AddInstrumentalInput;
  addVocals: AddVocalsInput;
  mashup: MashupInput;
  separate: SeparateInput;
  transcribe: TranscribeInput;
}
export type OperationName = keyof OperationInputs;
/** Any operation with its input. */
export type EngineOperation = { [K in OperationName]: { op: K; input: OperationInputs[K] } }[OperationName];
/** The operations that make songs (all but `separate` and `transcribe`): each returns tracks and reports `OnProgress`. */
export type Operation = Exclude<EngineOperation, { op: 'separate' | 'transcribe' }>;
export type SeparateOperation = Extract<EngineOperation, { op: 'separate' }>;
export type TranscribeOperation = Extract<EngineOperation, { op: 'transcribe' }>;

export interface Engine {
  readonly name: string;
  replaceSection(input: ReplaceSectionInput, signal: AbortSignal): Promise<RenderedTrack>;
  /** Renders exactly two songs, reporting `text` once and then `first` after the first song. */
  generate(input: GenerateInput, signal: AbortSignal, onProgress: OnProgress): Promise<RenderedTrack[]>;
  extend?(input: ExtendInput, signal: AbortSignal, onProgress: OnProgress): Promise<RenderedTrack[]>;
  cover?(input: CoverInput, signal: AbortSignal, onProgress: OnProgress): Promise<RenderedTrack[]>;
  addInstrumental?(input: AddInstrumentalInput, signal: AbortSignal, onProgress: OnProgress): Promise<RenderedTrack[]>;
  addVocals?(input: AddVocalsInput, signal: AbortSignal, onProgress: OnProgress): Promise<RenderedTrack[]>;
  mashup?(input: MashupInput, signal: AbortSignal, onProgress: OnProgress): Promise<RenderedTrack[]>;
  /** Cuts a track into stems, handing each to `onStem` when it is finished. */
  separate?(input: SeparateInput, signal: AbortSignal, onStem: OnStem): Promise<SeparatedStems>;
  /** Notes of the stems of a separation, per instrument (MIDI from audio). */
  transcribe?(input: TranscribeInput, signal: AbortSignal): Promise<TranscribedMidi>;
}

/** Runs one operation on an engine; an operation the engine does not offer is refused, typed. */
export function runOperation(engine: Engine, operation: Operation, signal: AbortSignal, onProgress: OnProgress): Promise<RenderedTrack[]>;
export function runOperation(engine: Engine, operation: SeparateOperation, signal: AbortSignal, onStem: OnStem): Promise<SeparatedStems>;
export function runOperation(engine: Engine, operation: TranscribeOperation, signal: AbortSignal): Promise<TranscribedMidi>;
export async function runOperation(
  engine: Engine,
  operation: EngineOperation,
  signal: AbortSignal,
  report?: OnProgress | OnStem,
): Promise<RenderedTrack[] | SeparatedStems | TranscribedMidi> {
  switch (operation.op) {
    case 'replaceSection':
      return [await engine.replaceSection(operation.input, signal)];
    case 'generate':
      return engine.generate(operation.input, signal, report as OnProgress);
    case 'separate': {
      if (!engine.separate) throw new UnsupportedOperation(`separate is not supported by the ${engine.name} engine`);
      return engine.separate(operation.input, signal, report as OnStem);
    }
    case 'transcribe': {
      if (!engine.transcribe) throw new UnsupportedOperation(`transcription (MIDI from audio) is not supported by the ${engine.name} engine`);
      return engine.transcribe(operation.input, signal);
    }
    default: {
      const onProgress = report as OnProgress;
      const method = engine[operation.op] as ((input: unknown, signal: AbortSignal, onProgress: OnProgress) => Promise<RenderedTrack[]>) | undefined;
      if (!method) throw new UnsupportedOperation(`${operation.op} is not supported by the ${engine.name} engine`);
      return method.call(engine, operation.input, signal, onProgress);
    }
  }
}

/**
 * The source could not be read as audio (not MP3/WAV, truncated, unsupported
 * encoding). The task fails with callback code 400 and is refunded.
 */
export class SourceAudioError extends Error {
  override readonly name = 'SourceAudioError';
}

/** The engine cannot do this operation at all (code 531, refunded, "not supported by this engine"). */
export class UnsupportedOperation extends Error {
  override readonly name = 'UnsupportedOperation';
}

/** The engine itself failed (code 531, refunded). */
export class EngineError extends Error {
  override readonly name = 'EngineError';
}
