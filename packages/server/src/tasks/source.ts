import { probeAudio } from '../audio/codecs/probe.js';
import { ApiError, invalid } from '../errors.js';
import { tokenFromOwnUrl } from '../files/index.js';
import { newFileToken } from '../ids.js';
import { download, type OutboundClient, OutboundError } from '../outbound/index.js';
import type { BlobStore } from '../storage/index.js';
import { prepare, type Runner, type Store } from '../store/index.js';
import type { ReplaceSource } from './validate.js';

/** Where a replace-section task's source audio lives, and how long it is. */
export interface ResolvedSource {
  blobKey: string;
  name: string;
  durationS: number;
  parentMusicId: string;
  /** Bytes fetched from outside that must be stored (after validation, before the task commits). */
  fetched: Uint8Array | null;
}

export interface SourceContext {
  /** Mode-1 lookups use its reader (committed data, never queued behind writes). */
  store: Store;
  blobs: BlobStore;
  publicUrl: string;
  outbound: OutboundClient;
  uploadMaxBytes: number;
}

function durationOf(bytes: Uint8Array, field: string): number {
  try {
    return probeAudio(bytes).durationS;
  } catch (error) {
    throw invalid(field, `is not readable MP3 or WAV audio (${(error as Error).message})`);
  }
}

interface TrackFacts {
  blobKey: string;
  name: string;
  durationS: number;
  expiresAt: number;
}

/**
 * What mode 1 looks up never changes once found: a task that succeeded stays
 * SUCCESS and keeps its owner, a track keeps its file, and the file's expiry is
 * fixed (checked on every use below). So found tracks are remembered, per
 * store, up to a bound, sparing two queries on the path of every edit.
 */
const knownTracks = new WeakMap<Runner, Map<string, TrackFacts>>();
const KNOWN_TRACKS_MAX = 10_000;

async function lookUpTrack(reader: Runner, accountId: string, taskId: string, audioId: string): Promise<TrackFacts> {
  const key = `${accountId} ${taskId} ${audioId}`;
  let known = knownTracks.get(reader);
  const hit = known?.get(key);
  if (hit) return hit;
  const parent = (await parentStatus.execute<{ status: string }>(reader, { taskId, accountId })).rows[0];
  if (!parent) throw invalid('taskId', `no task ${taskId} for this account`);
  if (parent.status !== 'SUCCESS') throw invalid('taskId', `task ${taskId} has not succeeded (status ${parent.status})`);
  const track = (await trackSource.execute<{ duration: number; title: string; blob_key: string; expires_at: number }>(reader, { taskId, audioId })).rows[0];
  if (!track) throw invalid('audioId', `is not a track of task ${taskId}`);
  const facts = { blobKey: track.blob_key, name: `${track.title}.mp3`, durationS: track.duration, expiresAt: Number(track.expires_at) };
  if (!known) {
    known = new Map();
    knownTracks.set(reader, known);
  }
  if (known.size >= KNOWN_TRACKS_MAX) known.delete(known.keys().next().value as string);
  known.set(key, facts);
  return facts;
}

/** Mode 1 (SPEC §2): a track of one of the caller's own finished tasks. */
async function fromTrack(context: SourceContext, accountId: string, taskId: string, audioId: string): Promise<ResolvedSource> {
  const track = await lookUpTrack(context.store.reader, accountId, taskId, audioId);
  if (track.expiresAt <= Date.now()) throw invalid('audioId', 'the track has expired and was deleted');
  return { blobKey: track.blobKey, name: track.name, durationS: track.durationS, parentMusicId: audioId, fetched: null };
}

// Prepared: mode 1 is the common way to edit a song reprise made.
const parentStatus = prepare<{ taskId: string; accountId: string }>((db, arg) =>
  db.selectFrom('tasks').select(['status']).where('id', '=', arg('taskId')).where('account_id', '=', arg('accountId')),
);
const trackSource = prepare<{ taskId: string; audioId: string }>((db, arg) =>
  db
    .selectFrom('tracks')
    .innerJoin('files', 'files.id', 'tracks.audio_file')
    .select(['tracks.duration', 'tracks.title', 'files.blob_key', 'files.expires_at'])
    .where('tracks.task_id', '=', arg('taskId'))
    .where('tracks.id', '=', arg('audioId')),
);

/** Mode 2: a file this service handed out is read from storage, anything else is fetched through the guard. */
async function fromUrl(context: SourceContext, uploadUrl: string): Promise<ResolvedSource> {
  const token = tokenFromOwnUrl(context.publicUrl, uploadUrl);
  if (token) {
    const file = await context.store.db.selectFrom('files').select(['blob_key', 'file_name', 'expires_at']).where('id', '=', token).executeTakeFirst();
    if (!file || file.expires_at <= Date.now()) throw invalid('uploadUrl', 'no such file (it may have expired)');
    const bytes = await context.blobs.get(file.blob_key);
    return { blobKey: file.blob_key, name: file.file_name, durationS: durationOf(bytes, 'uploadUrl'), parentMusicId: '', fetched: null };
  }
  let bytes: Uint8Array;
  try {
    bytes = await download(context.outbound, uploadUrl, { timeoutMs: 30_000, maxBytes: context.uploadMaxBytes });
  } catch (error) {
    if (error instanceof OutboundError) throw invalid('uploadUrl', `could not be downloaded: ${error.message}`);
    throw error;
  }
  const name = decodeURIComponent(new URL(uploadUrl).pathname.split('/').pop() || 'source');
  return { blobKey: `sources/${newFileToken()}`, name, durationS: durationOf(bytes, 'uploadUrl'), parentMusicId: '', fetched: bytes };
}

export async function resolveSource(context: SourceContext, accountId: string, source: ReplaceSource): Promise<ResolvedSource> {
  if (source.mode === 'track') return fromTrack(context, accountId, source.taskId, source.audioId);
  if (source.uploadUrl.length > 2048) throw new ApiError(422, 'uploadUrl: must be at most 2048 characters');
  return fromUrl(context, source.uploadUrl);
}
