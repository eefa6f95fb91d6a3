import { CallbackPayloadError } from '../errors.js';
import type { CallbackPayload, CallbackTrack, ErrorCallbackPayload, SuccessCallbackPayload, SunoTrack } from '../types.js';

/**
 * Shape check of a verified callback body (SPEC §5.2). Strict where a receiver
 * relies on a value (`task_id`, `callbackType`, track ids), lenient where KIE is
 * known to send nulls (a missing string becomes "", a missing duration 0), and
 * extra fields are ignored: KIE adds fields over time.
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

function track(value: unknown, path: string): CallbackTrack {
  if (!isObject(value)) throw new CallbackPayloadError(path, 'must be an object');
  if (typeof value.id !== 'string' || value.id === '') throw new CallbackPayloadError(`${path}.id`, 'must be a non-empty string');
  const duration = value.duration ?? 0;
  if (typeof duration !== 'number' || !Number.isFinite(duration)) throw new CallbackPayloadError(`${path}.duration`, 'must be a number');
  const fields = Object.fromEntries(STRING_FIELDS.map((key) => [key, text(value, key, path)])) as Record<(typeof STRING_FIELDS)[number], string>;
  return { id: value.id, ...fields, duration };
}

/**
 * A callback body → its typed form, or a {@link CallbackPayloadError} naming
 * the field. `callbackType: "error"` or a code other than 200 is a failure.
 */
export function parseCallbackPayload(value: unknown): CallbackPayload {
  if (!isObject(value)) throw new CallbackPayloadError('(body)', 'must be a JSON object');
  const { code, msg, data } = value;
  if (typeof code !== 'number' || !Number.isInteger(code)) throw new CallbackPayloadError('code', 'must be an integer');
  if (msg !== undefined && msg !== null && typeof msg !== 'string') throw new CallbackPayloadError('msg', 'must be a string');
  if (!isObject(data)) throw new CallbackPayloadError('data', 'must be an object');
  const taskId = data.task_id;
  if (typeof taskId !== 'string' || taskId === '') throw new CallbackPayloadError('data.task_id', 'must be a non-empty string');
  const type = data.callbackType;
  if (type !== 'text' && type !== 'first' && type !== 'complete' && type !== 'error') {
    throw new CallbackPayloadError('data.callbackType', 'must be one of text, first, complete, error');
  }
  const message = typeof msg === 'string' ? msg : '';
  if (type === 'error' || code !== 200) {
    const error = data.error ?? message;
    if (typeof error !== 'string') throw new CallbackPayloadError('data.error', 'must be a string');
    return { code, msg: message, data: { callbackType: 'error', task_id: taskId, error } } satisfies ErrorCallbackPayload;
  }
  const list = data.data ?? [];
  if (!Array.isArray(list)) throw new CallbackPayloadError('data.data', 'must be an array of tracks');
  const tracks = list.map((item, index) => track(item, `data.data[${index}]`));
  return { code: 200, msg: message, data: { callbackType: type, task_id: taskId, data: tracks } } satisfies SuccessCallbackPayload;
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
  };
}
