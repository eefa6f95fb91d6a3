import type {
  CoverImageCallbackPayload,
  ErrorCallbackPayload,
  LyricsCallbackPayload,
  LyricsItem,
  MarketCallbackPayload,
  MidiCallbackPayload,
  MidiInstrument,
  MusicVideoCallbackPayload,
  SeparatedStems,
  SuccessCallbackPayload,
  SunoTrack,
  VocalSeparationCallbackPayload,
  WavCallbackPayload,
} from '../types.js';

/** What a verified, validated callback hands to your code. */
interface CallbackEventBase {
  taskId: string;
  /** `webhook-id` (reprise, Standard Webhooks): the same on every delivery of this callback. Null under the KIE scheme. */
  webhookId: string | null;
  /** The signed timestamp, Unix seconds. */
  timestamp: number;
  /** Which signature scheme vouched for it. `kie` covers the task id and time, not the rest of the body. */
  scheme: 'standard' | 'kie';
}

/** A music-track task (generate, extend, upload-*, add-*, mashup, replace-section) reached a stage. */
export interface SuccessCallbackEvent extends CallbackEventBase {
  family: 'music';
  stage: 'text' | 'first' | 'complete';
  code: 200;
  msg: string;
  /** The tracks ready so far, in record-info's camelCase. Empty at the `text` stage. */
  tracks: SunoTrack[];
  payload: SuccessCallbackPayload;
}

/** A music-track task failed. */
export interface ErrorCallbackEvent extends CallbackEventBase {
  family: 'music';
  stage: 'error';
  /** SPEC §4: 531 refunded, 400 unreadable source, 408 timed out, 500 internal, 501 not refunded. */
  code: number;
  msg: string;
  error: string;
  payload: ErrorCallbackPayload;
}

/** The music family's events: what waitForTask and `handler.waitFor` deal in. */
export type CallbackEvent = SuccessCallbackEvent | ErrorCallbackEvent;

/** A cover-image task finished, either way: `stage` says which. */
export interface CoverImageCallbackEvent extends CallbackEventBase {
  family: 'cover_image';
  /** `complete` when the body's code is 200 and `images` is a list, else `error`. */
  stage: 'complete' | 'error';
  code: number;
  msg: string;
  /** The image URLs; empty on failure (KIE sends `images: null`). */
  images: string[];
  /** The failure's `msg`; null on success. */
  error: string | null;
  payload: CoverImageCallbackPayload;
}

/** A lyrics task finished, either way: `stage` says which. */
export interface LyricsCallbackEvent extends CallbackEventBase {
  family: 'lyrics';
  /** `complete` when the body's code is 200 and its type is not `error`, else `error`. */
  stage: 'complete' | 'error';
  code: number;
  msg: string;
  /** The variations, in record-info's camelCase; a failure's item is `failed` with its `errorMessage`. */
  lyrics: LyricsItem[];
  /** Why it failed (the failed item's message, else `msg`); null on success. */
  error: string | null;
  payload: LyricsCallbackPayload;
}

/** A WAV task finished, either way: `stage` says which. */
export interface WavCallbackEvent extends CallbackEventBase {
  family: 'wav';
  /** `complete` when the body's code is 200 and it carries a URL, else `error`. */
  stage: 'complete' | 'error';
  code: number;
  msg: string;
  /** The WAV's URL; null on failure. */
  audioWavUrl: string | null;
  /** The failure's `msg`; null on success. */
  error: string | null;
  payload: WavCallbackPayload;
}

/** Any callback a receiver accepts. */
export type ReceivedCallbackEvent =
  | CallbackEvent
  | CoverImageCallbackEvent
  | LyricsCallbackEvent
  | WavCallbackEvent
  | MarketCallbackEvent
  | MusicVideoCallbackEvent
  | VocalSeparationCallbackEvent
  | MidiCallbackEvent;

export const isFinalEvent = (event: CallbackEvent): boolean => event.stage === 'complete' || event.stage === 'error';

/** A task made in the Market form whose kind has no callback body of its own (persona, Boost Music Style, timestamped lyrics) finished. */
export interface MarketCallbackEvent extends CallbackEventBase {
  family: 'market';
  /** `complete` when the record's state is `success`, else `error`. */
  stage: 'complete' | 'error';
  code: number;
  msg: string;
  /** `resultJson` parsed: for these kinds `{resultObject: …}`, the answer the dedicated route gives; null on failure. */
  result: unknown;
  /** The record's `failMsg` (else `msg`); null on success. */
  error: string | null;
  payload: MarketCallbackPayload;
}

/** A music-video task finished, either way: `stage` says which. */
export interface MusicVideoCallbackEvent extends CallbackEventBase {
  family: 'music_video';
  /** `complete` when the body's code is 200 and it carries a URL, else `error`. */
  stage: 'complete' | 'error';
  code: number;
  msg: string;
  videoUrl: string | null;
  /** The failure's `msg`; null on success. */
  error: string | null;
  payload: MusicVideoCallbackPayload;
}

/** A stem-separation task finished, either way: `stage` says which. */
export interface VocalSeparationCallbackEvent extends CallbackEventBase {
  family: 'vocal_separation';
  /** `complete` when the body's code is 200 and it carries the info object, else `error`. */
  stage: 'complete' | 'error';
  code: number;
  msg: string;
  /** The track separated; null on failure (and when the body gives it as ""). */
  originUrl: string | null;
  /** The stems the body named, e.g. `{ vocal, instrumental }` for `separate_vocal`; empty on failure. */
  stems: SeparatedStems;
  /** The failure's `msg`; null on success. */
  error: string | null;
  payload: VocalSeparationCallbackPayload;
}

/** A MIDI task finished, either way: `stage` says which. */
export interface MidiCallbackEvent extends CallbackEventBase {
  family: 'midi';
  /** `complete` when the body's code is 200 and its data's state is `complete` (or absent), else `error`. */
  stage: 'complete' | 'error';
  code: number;
  msg: string;
  /** The notes per instrument, times in seconds as numbers; empty on failure. */
  instruments: MidiInstrument[];
  /** [reprise extension] A downloadable `.mid`; null on KIE.AI and on failure. */
  midiUrl: string | null;
  /** The failure's `msg`; null on success. */
  error: string | null;
  payload: MidiCallbackPayload;
}
