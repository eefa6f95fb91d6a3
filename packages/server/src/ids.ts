import { createHash, randomBytes, randomUUID } from 'node:crypto';

/**
 * `taskId`: 32 lowercase hex characters, as KIE hands out: 48 bits of creation time then 80
 * random bits. Time first so new rows land at the end of every index keyed by task id
 * (appending is several times cheaper for SQLite than inserting at random places).
 */
export const newTaskId = (): string => Date.now().toString(16).padStart(12, '0') + randomBytes(10).toString('hex');
/** `audioId`: a UUID v4. */
export const newAudioId = (): string => randomUUID();
/** Internal row ids: short, sortable enough by creation and unique. */
export const newId = (prefix: string): string => `${prefix}_${Date.now().toString(36)}${randomBytes(8).toString('hex')}`;
/** Unguessable capability token for file URLs (192 bits). */
export const newFileToken = (): string => randomBytes(24).toString('base64url');
export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** KIE's `createTime`: `YYYY-MM-DD HH:MM:SS` in UTC. */
export function formatCreateTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ');
}
