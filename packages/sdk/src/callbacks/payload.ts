import { CallbackPayloadError } from '../errors.js';
import type {
  CallbackPayload,
  CallbackTrack,
  CoverImageCallbackPayload,
  ErrorCallbackPayload,
  LyricsCallbackItem,
  LyricsCallbackPayload,
  MarketCallbackPayload,
  MarketResult,
  MarketTaskRecord,
  MidiCallbackPayload,
  MidiData,
  MidiInstrument,
  MidiNote,
  MusicVideoCallbackPayload,
  SeparatedStem,
  SuccessCallbackPayload,
  SunoTrack,
  VocalSeparationCallbackPayload,
  VocalSeparationInfo,
  VocalSeparationUrlKey,
  WavCallbackPayload,
} from '../types.js';
import { findTaskId } from '../webhooks/task-id.js';

/**
 * Shape checks of verified callback bodies, one per family. Strict where a
 * receiver relies on a value (the task id, `callbackType`, track ids), lenient
 * where KIE is known to send nulls (a missing string becomes "", a missing
 * duration 0), and extra fields are ignored: KIE adds fields over time.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function text(object: Json, key: string, path: string): string {
  const value = object[key];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new CallbackPayloadError(`${path}.${key}`, 'must be a string');
  return value;
}

const STRING_FIELDS = ['audio_url', 'stream_audio_url', 'image_url', 'prompt', 'model_name', 'title', 'tags', 'createTime'] as const;
/** Present only on tracks made from an upload; kept absent (not "") elsewhere so a receiver can tell. */
const SOURCE_FIELDS = ['source_audio_url', 'source_stream_audio_url', 'source_image_url'] as const;

/** Every family's body has `code` and `msg`: the integer code, the message ("" when absent) and the body itself. */
function headOf(value: unknown): { code: number; msg: string; body: Json } {
  if (!isObject(value)) throw new CallbackPayloadError('(body)', 'must be a JSON object');
  const { code, msg } = value;
  if (typeof code !== 'number' || !Number.isInteger(code)) throw new CallbackPayloadError('code', 'must be an integer');
  if (msg !== undefined && msg !== null && typeof msg !== 'string') throw new CallbackPayloadError('msg', 'must be a string');
  return { code, msg: typeof msg === 'string' ? msg : '', body: value };
}

/** Every family's body but MIDI's is `{code, msg, data: {…}}`: the head and the data object. */
function envelopeOf(value: unknown): { code: number; msg: string; data: Json } {
  const { code, msg, body } = headOf(value);
  if (!isObject(body.data)) throw new CallbackPayloadError('data', 'must be an object');
  return { code, msg, data: body.data };
}

/** One snake_case track (callbacks, and Market `resultJson.data[]`). */
export function parseCallbackTrack(value: unknown, path: string): CallbackTrack {
  if (!isObject(value)) throw new CallbackPayloadError(path, 'must be an object');
  if (typeof value.id !== 'string' || value.id === '') throw new CallbackPayloadError(`${path}.id`, 'must be a non-empty string');
  const duration = value.duration ?? 0;
  if (typeof duration !== 'number' || !Number.isFinite(duration)) throw new CallbackPayloadError(`${path}.duration`, 'must be a number');
  const fields = Object.fromEntries(STRING_FIELDS.map((key) => [key, text(value, key, path)])) as Record<(typeof STRING_FIELDS)[number], string>;
  const track: CallbackTrack = { id: value.id, ...fields, duration };
  for (const key of SOURCE_FIELDS) if (value[key] !== undefined && value[key] !== null) track[key] = text(value, key, path);
  return track;
}

/**
 * A music-track callback body (generate, extend, upload-cover, upload-extend,
 * add-instrumental, add-vocals, mashup, replace-section) → its typed form, or
 * a {@link CallbackPayloadError} naming the field. `callbackType: "error"` or
 * a code other than 200 is a failure; both of KIE's failure bodies are read
 * (`data.error` as a string, or `data.data: null` with the reason in `msg`).
 */
export function parseCallbackPayload(value: unknown): CallbackPayload {
  const { code, msg, data } = envelopeOf(value);
  const taskId = data.task_id;
  if (typeof taskId !== 'string' || taskId === '') throw new CallbackPayloadError('data.task_id', 'must be a non-empty string');
  const type = data.callbackType;
  if (type !== 'text' && type !== 'first' && type !== 'complete' && type !== 'error') {
    throw new CallbackPayloadError('data.callbackType', 'must be one of text, first, complete, error');
  }
  if (type === 'error' || code !== 200) {
    const error = data.error ?? msg;
    if (typeof error !== 'string') throw new CallbackPayloadError('data.error', 'must be a string');
    return { code, msg, data: { callbackType: 'error', task_id: taskId, error } } satisfies ErrorCallbackPayload;
  }
  const list = data.data ?? [];
  if (!Array.isArray(list)) throw new CallbackPayloadError('data.data', 'must be an array of tracks');
  const tracks = list.map((item, index) => parseCallbackTrack(item, `data.data[${index}]`));
  return { code: 200, msg, data: { callbackType: type, task_id: taskId, data: tracks } } satisfies SuccessCallbackPayload;
}

/** A cover-image callback body (`{code, msg, data: {taskId, images}}`) → its typed form. `images` is null on failure. */
export function parseCoverImagePayload(value: unknown): CoverImageCallbackPayload {
  const { code, msg, data } = envelopeOf(value);
  const taskId = data.taskId;
  if (typeof taskId !== 'string' || taskId === '') throw new CallbackPayloadError('data.taskId', 'must be a non-empty string');
  // Required as a key (null allowed): other families also say `data.taskId`, and one of theirs must not pass for a failed cover.
  if (!('images' in data)) throw new CallbackPayloadError('data.images', 'must be an array of URLs or null');
  const images = data.images ?? null;
  if (images !== null && (!Array.isArray(images) || !images.every((url) => typeof url === 'string'))) {
    throw new CallbackPayloadError('data.images', 'must be an array of URLs or null');
  }
  return { code, msg, data: { taskId, images: images as string[] | null } };
}

/** One lyrics variation of a callback; a missing string reads as "". */
function lyricsItem(value: unknown, path: string): LyricsCallbackItem {
  if (!isObject(value)) throw new CallbackPayloadError(path, 'must be an object');
  const status = value.status ?? 'complete';
  if (status !== 'complete' && status !== 'failed') throw new CallbackPayloadError(`${path}.status`, 'must be complete or failed');
  return { text: text(value, 'text', path), title: text(value, 'title', path), status, error_message: text(value, 'error_message', path) };
}

/**
 * A lyrics callback body (`{code, msg, data: {callbackType, task_id, data: [{text, title, status,
 * error_message}]}}`) → its typed form. A code other than 200 or `callbackType: "error"` is a
 * failure; `data.data: null` (the failure body other services send) reads as no variations.
 */
export function parseLyricsPayload(value: unknown): LyricsCallbackPayload {
  const { code, msg, data } = envelopeOf(value);
  const taskId = data.task_id;
  if (typeof taskId !== 'string' || taskId === '') throw new CallbackPayloadError('data.task_id', 'must be a non-empty string');
  const type = data.callbackType ?? 'complete';
  if (type !== 'complete' && type !== 'error') throw new CallbackPayloadError('data.callbackType', 'must be complete or error');
  const list = data.data ?? [];
  if (!Array.isArray(list)) throw new CallbackPayloadError('data.data', 'must be an array of lyrics');
  const items = list.map((item, index) => lyricsItem(item, `data.data[${index}]`));
  return { code, msg, data: { callbackType: code === 200 ? type : 'error', task_id: taskId, data: items } };
}

/**
 * A WAV callback body (`{code, msg, data: {audioWavUrl, task_id}}`) → its typed form. The
 * snake_case `audio_wav_url` one of KIE's pages shows is read too; `audioWavUrl` is null on failure.
 */
export function parseWavPayload(value: unknown): WavCallbackPayload {
  const { code, msg, data } = envelopeOf(value);
  const taskId = data.task_id;
  if (typeof taskId !== 'string' || taskId === '') throw new CallbackPayloadError('data.task_id', 'must be a non-empty string');
  const key = 'audioWavUrl' in data ? 'audioWavUrl' : 'audio_wav_url';
  const url = data[key] ?? null;
  if (url !== null && typeof url !== 'string') throw new CallbackPayloadError(`data.${key}`, 'must be a URL or null');
  return { code, msg, data: { audioWavUrl: url === '' ? null : url, task_id: taskId } };
}

/**
 * A Market-form callback body (`{code, msg, data: {taskId, state, resultJson, failCode,
 * failMsg}}`) → its typed form. `resultJson` stays a string, as the Market record keeps it.
 */
export function parseMarketCallbackPayload(value: unknown): MarketCallbackPayload {
  const { code, msg, data } = envelopeOf(value);
  const taskId = data.taskId;
  if (typeof taskId !== 'string' || taskId === '') throw new CallbackPayloadError('data.taskId', 'must be a non-empty string');
  if (data.state !== 'success' && data.state !== 'fail') throw new CallbackPayloadError('data.state', 'must be success or fail');
  const resultJson = data.resultJson ?? '';
  if (typeof resultJson !== 'string') throw new CallbackPayloadError('data.resultJson', 'must be a string');
  const optionalText = (key: 'failCode' | 'failMsg'): string | null => {
    const field = data[key] ?? null;
    if (field !== null && typeof field !== 'string') throw new CallbackPayloadError(`data.${key}`, 'must be a string or null');
    return field;
  };
  return {
    code,
    msg,
    data: { taskId, state: data.state, resultJson, failCode: optionalText('failCode'), failMsg: optionalText('failMsg') },
  };
}

/** A music-video callback body (`{code, msg, data: {task_id, video_url}}`) → its typed form; `video_url` is null on failure. */
export function parseMusicVideoPayload(value: unknown): MusicVideoCallbackPayload {
  const { code, msg, data } = envelopeOf(value);
  const taskId = data.task_id;
  if (typeof taskId !== 'string' || taskId === '') throw new CallbackPayloadError('data.task_id', 'must be a non-empty string');
  const url = data.video_url ?? null;
  if (url !== null && typeof url !== 'string') throw new CallbackPayloadError('data.video_url', 'must be a URL or null');
  return { code, msg, data: { task_id: taskId, video_url: url === '' ? null : url } };
}

/** A separation event's stem names and the callback keys they are read from. */
export const SEPARATION_STEMS = {
  vocal: 'vocal_url',
  instrumental: 'instrumental_url',
  backingVocals: 'backing_vocals_url',
  drums: 'drums_url',
  bass: 'bass_url',
  guitar: 'guitar_url',
  piano: 'piano_url',
  keyboard: 'keyboard_url',
  percussion: 'percussion_url',
  strings: 'strings_url',
  synth: 'synth_url',
  fx: 'fx_url',
  brass: 'brass_url',
  woodwinds: 'woodwinds_url',
  other: 'other_url',
} as const satisfies Record<SeparatedStem, VocalSeparationUrlKey>;

const SEPARATION_URL_KEYS: readonly VocalSeparationUrlKey[] = ['origin_url', ...Object.values(SEPARATION_STEMS)];
/** KIE's English page says `vocal_separation_info`; its Chinese page and sunoapi.org say `vocal_removal_info`. */
const SEPARATION_INFO_KEYS = ['vocal_separation_info', 'vocal_removal_info'] as const;

/** The info object's URLs, only the keys it has; "" reads as null (KIE's own example sends `origin_url: ""`). */
function separationInfo(value: unknown, path: string): VocalSeparationInfo | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) throw new CallbackPayloadError(path, 'must be an object or null');
  const info: VocalSeparationInfo = {};
  for (const key of SEPARATION_URL_KEYS) {
    if (!(key in value)) continue;
    const url = value[key] ?? null;
    if (url !== null && typeof url !== 'string') throw new CallbackPayloadError(`${path}.${key}`, 'must be a URL or null');
    info[key] = url === '' ? null : url;
  }
  return info;
}

/**
 * A stem-separation callback body (`{code, msg, data: {task_id, vocal_separation_info}}`) → its
 * typed form. The object is read under either of its names and given as `vocal_separation_info`;
 * it is null on failure.
 */
export function parseVocalSeparationPayload(value: unknown): VocalSeparationCallbackPayload {
  const { code, msg, data } = envelopeOf(value);
  const taskId = data.task_id;
  if (typeof taskId !== 'string' || taskId === '') throw new CallbackPayloadError('data.task_id', 'must be a non-empty string');
  // Required as a key (null allowed): otherwise any `data.task_id` body would pass for a failed separation.
  const key = SEPARATION_INFO_KEYS.find((name) => isObject(data[name])) ?? SEPARATION_INFO_KEYS.find((name) => name in data);
  if (key === undefined) throw new CallbackPayloadError('data.vocal_separation_info', 'must be an object or null');
  return { code, msg, data: { task_id: taskId, vocal_separation_info: separationInfo(data[key], `data.${key}`) } };
}

/** A note's number: KIE documents the times as `number | string` and sends numeric strings ("0.0364…"). */
function numeric(value: unknown, path: string): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number)) throw new CallbackPayloadError(path, 'must be a number or a numeric string');
  return number;
}

function midiNote(value: unknown, path: string): MidiNote {
  if (!isObject(value)) throw new CallbackPayloadError(path, 'must be an object');
  return {
    pitch: numeric(value.pitch, `${path}.pitch`),
    start: numeric(value.start, `${path}.start`),
    end: numeric(value.end, `${path}.end`),
    velocity: numeric(value.velocity, `${path}.velocity`),
  };
}

function midiInstrument(value: unknown, path: string): MidiInstrument {
  if (!isObject(value)) throw new CallbackPayloadError(path, 'must be an object');
  const notes = value.notes ?? [];
  if (!Array.isArray(notes)) throw new CallbackPayloadError(`${path}.notes`, 'must be an array of notes');
  return { name: text(value, 'name', path), notes: notes.map((note, index) => midiNote(note, `${path}.notes[${index}]`)) };
}

/**
 * MIDI's `{state, instruments}` (a callback's `data`, record-info's `midiData`) with the note
 * times as numbers. A missing `state` reads as "" and missing instruments as none: a failure
 * may send neither.
 */
export function readMidiData(value: Json, path: string): MidiData {
  const instruments = value.instruments ?? [];
  if (!Array.isArray(instruments)) throw new CallbackPayloadError(`${path}.instruments`, 'must be an array of instruments');
  return { state: text(value, 'state', path), instruments: instruments.map((item, index) => midiInstrument(item, `${path}.instruments[${index}]`)) };
}

/**
 * A MIDI callback body (`{task_id, code, msg, data: {state, instruments}}`) → its typed form. The
 * task id is read where the signature reads it (the top-level `task_id` of KIE's English page or
 * the `data.taskId` of its Chinese one) and given at the top; `data: null` is kept as null.
 */
export function parseMidiPayload(value: unknown): MidiCallbackPayload {
  const { code, msg, body } = headOf(value);
  const found = findTaskId(body);
  if (found.taskId === null) throw new CallbackPayloadError('task_id', found.reason);
  if (body.data === undefined || body.data === null) return { code, msg, task_id: found.taskId, data: null };
  if (!isObject(body.data)) throw new CallbackPayloadError('data', 'must be an object or null');
  const midi = readMidiData(body.data, 'data');
  const url = body.data.midi_url ?? null;
  if (url !== null && typeof url !== 'string') throw new CallbackPayloadError('data.midi_url', 'must be a URL or null');
  return { code, msg, task_id: found.taskId, data: url === null || url === '' ? midi : { ...midi, midi_url: url } };
}

/** The callback families a receiver understands. */
export type CallbackFamily = 'music' | 'cover_image' | 'lyrics' | 'wav' | 'market' | 'music_video' | 'vocal_separation' | 'midi';

/** A lyrics body's items carry `text` where a music body's tracks carry `id`. */
const isLyricsList = (list: unknown): boolean =>
  Array.isArray(list) && list.length > 0 && list.every((item) => isObject(item) && 'text' in item && !('id' in item));

/** A MIDI body's data holds the transcription (`instruments`) or at least its `state`. */
const isMidiData = (data: Json): boolean => 'instruments' in data || 'state' in data;

/** Of the bodies with `data.taskId`: a Market record (`state` and `resultJson`), a MIDI body of KIE's Chinese page, or a cover image (which always has `images`). */
function familyAtDataTaskId(data: Json): CallbackFamily {
  if ('state' in data && 'resultJson' in data) return 'market';
  return isMidiData(data) && !('images' in data) ? 'midi' : 'cover_image';
}

/** Of the bodies with `data.task_id`, by what `data` holds; anything unrecognised is read (and, if need be, refused) as music tracks. */
function familyAtDataSnakeTaskId(data: Json): CallbackFamily {
  if (isLyricsList(data.data)) return 'lyrics';
  if ('audioWavUrl' in data || 'audio_wav_url' in data) return 'wav';
  if ('video_url' in data) return 'music_video';
  if (SEPARATION_INFO_KEYS.some((key) => key in data)) return 'vocal_separation';
  return 'music';
}

/**
 * Which family a body belongs to, from where it keeps its task id and what its data holds:
 * `data.taskId` → Market, MIDI (KIE's Chinese page) or cover image; `data.task_id` → lyrics (items
 * with `text`, no `id`), WAV (`audioWavUrl`), music video (`video_url`), stem separation
 * (`vocal_separation_info` or `vocal_removal_info`) or music tracks; a top-level `task_id` with
 * `data` null or holding `instruments` or `state` → MIDI. Anything else is read (and, if need be,
 * refused) as a music-track body.
 */
export function callbackFamilyOf(value: unknown): CallbackFamily {
  const found = findTaskId(value);
  if (found.taskId === null || !isObject(value)) return 'music';
  const data = isObject(value.data) ? value.data : {};
  if (found.key === 'data.taskId') return familyAtDataTaskId(data);
  if (found.key === 'data.task_id') return familyAtDataSnakeTaskId(data);
  // A failed MIDI task may send `data: null`; recovery, which also keeps its id at the top, sends a list and stays out.
  return value.data === undefined || value.data === null || isMidiData(data) ? 'midi' : 'music';
}

/** Callback (snake_case) → record-info (camelCase) track. */
export function toSunoTrack(track: CallbackTrack): SunoTrack {
  return {
    id: track.id,
    audioUrl: track.audio_url,
    streamAudioUrl: track.stream_audio_url,
    imageUrl: track.image_url,
    prompt: track.prompt,
    modelName: track.model_name,
    title: track.title,
    tags: track.tags,
    createTime: track.createTime,
    duration: track.duration,
    ...(track.source_audio_url !== undefined ? { sourceAudioUrl: track.source_audio_url } : {}),
    ...(track.source_stream_audio_url !== undefined ? { sourceStreamAudioUrl: track.source_stream_audio_url } : {}),
    ...(track.source_image_url !== undefined ? { sourceImageUrl: track.source_image_url } : {}),
  };
}

/**
 * A Market record's `resultJson` (or the string itself) → its parsed form;
 * null while there is no result yet (`""`). Music tracks are checked; a
 * `resultJson` that is not a JSON object throws a {@link CallbackPayloadError}
 * with path `resultJson`.
 */
export function parseMarketResult(source: MarketTaskRecord | string): MarketResult | null {
  const raw = typeof source === 'string' ? source : source.resultJson;
  // KIE sends "" before there is a result; a null is read the same way.
  if (typeof raw !== 'string' || raw.trim() === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new CallbackPayloadError('resultJson', 'must be JSON');
  }
  if (!isObject(value)) throw new CallbackPayloadError('resultJson', 'must be a JSON object');
  const result: MarketResult = {};
  if (value.sunoData !== undefined && value.sunoData !== null) {
    if (!Array.isArray(value.sunoData)) throw new CallbackPayloadError('resultJson.sunoData', 'must be an array of tracks');
    result.sunoData = value.sunoData.map((item, index) => sunoTrack(item, `resultJson.sunoData[${index}]`));
  }
  if (value.data !== undefined && value.data !== null) {
    if (!Array.isArray(value.data)) throw new CallbackPayloadError('resultJson.data', 'must be an array of tracks');
    result.data = value.data.map((item, index) => parseCallbackTrack(item, `resultJson.data[${index}]`));
  }
  if (Array.isArray(value.resultUrls)) result.resultUrls = value.resultUrls.filter((url): url is string => typeof url === 'string');
  if (value.resultObject !== undefined) result.resultObject = value.resultObject;
  return result;
}

/** The tracks of a finished Market music task: `sunoData`, or else `data` converted to camelCase; [] when there are none. */
export function marketTracksOf(record: MarketTaskRecord): SunoTrack[] {
  const result = parseMarketResult(record);
  return result?.sunoData ?? result?.data?.map(toSunoTrack) ?? [];
}

const CAMEL_STRING_FIELDS = ['audioUrl', 'streamAudioUrl', 'imageUrl', 'prompt', 'modelName', 'title', 'tags', 'createTime'] as const;
const CAMEL_SOURCE_FIELDS = ['sourceAudioUrl', 'sourceStreamAudioUrl', 'sourceImageUrl'] as const;

/** One camelCase track, with the same leniency as the snake_case one. */
function sunoTrack(value: unknown, path: string): SunoTrack {
  if (!isObject(value)) throw new CallbackPayloadError(path, 'must be an object');
  if (typeof value.id !== 'string' || value.id === '') throw new CallbackPayloadError(`${path}.id`, 'must be a non-empty string');
  const duration = value.duration ?? 0;
  if (typeof duration !== 'number' || !Number.isFinite(duration)) throw new CallbackPayloadError(`${path}.duration`, 'must be a number');
  const fields = Object.fromEntries(CAMEL_STRING_FIELDS.map((key) => [key, text(value, key, path)])) as Record<(typeof CAMEL_STRING_FIELDS)[number], string>;
  const track: SunoTrack = { id: value.id, ...fields, duration };
  for (const key of CAMEL_SOURCE_FIELDS) if (value[key] !== undefined && value[key] !== null) track[key] = text(value, key, path);
  if (typeof value.infillStartS === 'number' && typeof value.infillEndS === 'number') {
    track.infillStartS = value.infillStartS;
    track.infillEndS = value.infillEndS;
  }
  return track;
}
