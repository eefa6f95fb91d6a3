/**
 * Where a callback body carries its task id. KIE's families disagree: the
 * music tracks, WAV, separation and MP4 use `data.task_id`; cover images and
 * Suno Voice use `data.taskId`; MIDI and recovery put `task_id` at the top.
 * The KIE signature covers that id only, so the verifier and the payload
 * parser must read it from the same place: this function is that place.
 */

export type TaskIdKey = 'data.task_id' | 'data.taskId' | 'task_id';

export type TaskIdLookup = { taskId: string; key: TaskIdKey } | { taskId: null; reason: string };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The body's task id and the key it was under. A body naming two different ids
 * is refused: a signature made for one must not vouch for a body whose reader
 * picks the other.
 */
export function findTaskId(payload: unknown): TaskIdLookup {
  if (!isObject(payload)) return { taskId: null, reason: 'the body is not a JSON object' };
  const data = isObject(payload.data) ? payload.data : {};
  const candidates: Array<[TaskIdKey, unknown]> = [
    ['data.task_id', data.task_id],
    ['data.taskId', data.taskId],
    ['task_id', payload.task_id],
  ];
  let found: { taskId: string; key: TaskIdKey } | null = null;
  for (const [key, value] of candidates) {
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || value === '') return { taskId: null, reason: `${key}: must be a non-empty string` };
    if (found && found.taskId !== value) return { taskId: null, reason: `${found.key} and ${key} name different tasks` };
    found ??= { taskId: value, key };
  }
  return found ?? { taskId: null, reason: 'no task id (data.task_id, data.taskId or task_id)' };
}
