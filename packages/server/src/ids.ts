import { createHash, randomBytes, randomFillSync, randomUUID } from 'node:crypto';

/**
 * Random hex for ids, cut from a pooled buffer refilled 4 KiB at a time: one
 * getrandom call per few hundred ids rather than one per id, which showed up in
 * profiles of the submission path. Secrets (keys, file tokens) keep their own calls.
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;
function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
}

/**
 * `taskId`: 32 lowercase hex characters, as KIE hands out: 48 bits of creation time then 80
 * random bits. Time first so new rows land at the end of every index keyed by task id
 * (appending is several times cheaper for SQLite than inserting at random places).
 */
export const newTaskId = (): string => Date.now().toString(16).padStart(12, '0') + randomHex(10);
/** `audioId`: a UUID v4. */
export const newAudioId = (): string => randomUUID();
/** Internal row ids: short, sortable enough by creation and unique. */
export const newId = (prefix: string): string => `${prefix}_${Date.now().toString(36)}${randomHex(8)}`;
/** Unguessable capability token for file URLs (192 bits). */
export const newFileToken = (): string => randomBytes(24).toString('base64url');
export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** KIE's `createTime`: `YYYY-MM-DD HH:MM:SS` in UTC. */
export function formatCreateTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ');
}
