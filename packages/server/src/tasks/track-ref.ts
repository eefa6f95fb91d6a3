import type { TaskType as MusicTaskType } from '@reprise/sdk';
import { ApiError, invalid } from '../errors.js';
import type { BlobStore } from '../storage/index.js';
import type { Executor, TracksTable } from '../store/index.js';
import { type Body, requiredString } from './fields.js';
import { masterBlobOf } from './tracks.js';

/**
 * A track named the way KIE's audio tools name one (timestamped lyrics, WAV, and later stems,
 * MIDI, video): `taskId` of a music task and `audioId` of one of its tracks. The checks are the
 * same for every tool, so the refusals read the same too.
 */
export interface TrackRef {
  taskId: string;
  audioId: string;
}

export function parseTrackRef(body: Body): TrackRef {
  return { taskId: requiredString(body, 'taskId', 64), audioId: requiredString(body, 'audioId', 64) };
}

/** The tasks that make tracks (the music family); any other task id names no track. */
const MUSIC_TASK_TYPES: readonly string[] = [
  'GENERATE',
  'EXTEND',
  'UPLOAD_EXTEND',
  'UPLOAD_COVER',
  'ADD_INSTRUMENTAL',
  'ADD_VOCALS',
  'MASHUP',
  'REPLACE_SECTION',
] satisfies MusicTaskType[];

/** A finished track of the caller's, with what the tools read of it. */
export interface FoundTrack {
  track: TracksTable;
  /** The blob of its MP3 (`audio_url`). */
  audioBlob: string;
  /** Its task's stored input (`kind`, and whether it was made instrumental). */
  taskInput: { kind: string; instrumental?: boolean };
}

/**
 * The caller's track `audioId` of task `taskId`, which must have succeeded and not expired. An
 * unknown task, another account's, or one that makes no tracks is answered in KIE's recorded
 * words for its tool routes ("Record does not exist"); the other refusals say what is wrong.
 */
export async function findFinishedTrack(db: Executor, accountId: string, ref: TrackRef): Promise<FoundTrack> {
  const task = await db
    .selectFrom('tasks')
    .select(['status', 'type', 'input'])
    .where('id', '=', ref.taskId)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  if (!task || !MUSIC_TASK_TYPES.includes(task.type)) throw new ApiError(422, 'Record does not exist');
  if (task.status !== 'SUCCESS') throw invalid('taskId', `task ${ref.taskId} has not succeeded (status ${task.status})`);
  const row = await db
    .selectFrom('tracks')
    .innerJoin('files', 'files.id', 'tracks.audio_file')
    .selectAll('tracks')
    .select(['files.blob_key', 'files.expires_at'])
    .where('tracks.task_id', '=', ref.taskId)
    .where('tracks.id', '=', ref.audioId)
    .executeTakeFirst();
  if (!row) throw invalid('audioId', `is not a track of task ${ref.taskId}`);
  if (Number(row.expires_at) <= Date.now()) throw invalid('audioId', 'the track has expired and was deleted');
  const { blob_key, expires_at: _expires, ...track } = row;
  return { track, audioBlob: blob_key, taskInput: JSON.parse(task.input) as FoundTrack['taskInput'] };
}

/** A track's audio as the tools read it: its lossless master where it has one, else its MP3. */
export interface TrackAudio {
  bytes: Uint8Array;
  from: 'master' | 'mp3';
}

/**
 * The samples of a track, best first: the master the engine rendered (32-bit float, exactly
 * what was sung and played) and, for tracks without one or whose master is gone, the MP3.
 * Null when neither is in the blob store any more.
 */
export async function readTrackAudio(context: { db: Executor; blobs: BlobStore }, trackId: string, audioBlob: string): Promise<TrackAudio | null> {
  const master = await masterBlobOf(context.db, trackId);
  if (master && (await context.blobs.size(master)) !== null) return { bytes: await context.blobs.get(master), from: 'master' };
  if ((await context.blobs.size(audioBlob)) !== null) return { bytes: await context.blobs.get(audioBlob), from: 'mp3' };
  return null;
}
