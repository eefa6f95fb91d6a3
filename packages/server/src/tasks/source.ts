import { probeAudio } from '../audio/codecs/probe.js';
import { ApiError, invalid } from '../errors.js';
import { tokenFromOwnUrl } from '../files/index.js';
import { newFileToken } from '../ids.js';
import { download, type OutboundClient, OutboundError } from '../outbound/index.js';
import { BlobNotFoundError, type BlobStore } from '../storage/index.js';
import { prepare, type Runner, type Store } from '../store/index.js';

/**
 * Where a task's source audio comes from: a track of the caller's own finished task (by task
 * and audio id, or by audio id alone as extend names it), or a URL (a file this service handed
 * out, or one fetched through the outbound guard). `field` names the request field in messages.
 */
export type SourceRef =
  | { mode: 'track'; taskId: string; audioId: string }
  | { mode: 'audio'; audioId: string }
  | { mode: 'url'; uploadUrl: string; field?: string };

/** Where a task's source audio lives, and how long it is. */
export interface ResolvedSource {
  blobKey: string;
  name: string;
  durationS: number;
  /** The source track's audioId (record-info `parentMusicId`), empty for URLs. */
  parentMusicId: string;
  /** The track's title, tags and prompt (what extend inherits), for track sources. */
  track: { title: string; tags: string; prompt: string } | null;
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
  /**
   * Asked before anything is fetched from outside: throws when the submission would be refused
   * anyway (price, balance, rate limit), so a refused caller costs the server no download.
   */
  beforeDownload?: () => Promise<void>;
  /** Longest source accepted, in seconds (REPRISE_SOURCE_MAX_S); unset, any length. */
  sourceMaxS?: number;
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
  title: string;
  tags: string;
  prompt: string;
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
  const track = (await trackSource.execute<TrackRow>(reader, { taskId, audioId })).rows[0];
  if (!track) throw invalid('audioId', `is not a track of task ${taskId}`);
  const facts = factsOf(track);
  if (!known) {
    known = new Map();
    knownTracks.set(reader, known);
  }
  if (known.size >= KNOWN_TRACKS_MAX) known.delete(known.keys().next().value as string);
  known.set(key, facts);
  return facts;
}

interface TrackRow {
  duration: number;
  title: string;
  tags: string;
  prompt: string;
  blob_key: string;
  expires_at: number;
}

const factsOf = (track: TrackRow): TrackFacts => ({
  blobKey: track.blob_key,
  name: `${track.title}.mp3`,
  durationS: track.duration,
  expiresAt: Number(track.expires_at),
  title: track.title,
  tags: track.tags,
  prompt: track.prompt,
});

/** A track named by its audioId alone (extend): it must belong to one of the caller's tasks that succeeded. */
async function lookUpAudio(reader: Runner, accountId: string, audioId: string): Promise<TrackFacts> {
  const row = (await trackByAudioId.execute<TrackRow & { status: string; task_id: string }>(reader, { audioId, accountId })).rows[0];
  if (!row) throw invalid('audioId', `no track ${audioId} for this account`);
  if (row.status !== 'SUCCESS') throw invalid('audioId', `the task of track ${audioId} has not succeeded (status ${row.status})`);
  return factsOf(row);
}

/** Mode 1 (SPEC §2): a track of one of the caller's own finished tasks. */
async function fromTrack(context: SourceContext, accountId: string, ref: Extract<SourceRef, { mode: 'track' | 'audio' }>): Promise<ResolvedSource> {
  const track =
    ref.mode === 'track'
      ? await lookUpTrack(context.store.reader, accountId, ref.taskId, ref.audioId)
      : await lookUpAudio(context.store.reader, accountId, ref.audioId);
  if (track.expiresAt <= Date.now()) throw invalid('audioId', 'the track has expired and was deleted');
  return {
    blobKey: track.blobKey,
    name: track.name,
    durationS: track.durationS,
    parentMusicId: ref.audioId,
    track: { title: track.title, tags: track.tags, prompt: track.prompt },
    fetched: null,
  };
}

// Prepared: mode 1 is the common way to edit a song reprise made.
const parentStatus = prepare<{ taskId: string; accountId: string }>((db, arg) =>
  db.selectFrom('tasks').select(['status']).where('id', '=', arg('taskId')).where('account_id', '=', arg('accountId')),
);
const trackSource = prepare<{ taskId: string; audioId: string }>((db, arg) =>
  db
    .selectFrom('tracks')
    .innerJoin('files', 'files.id', 'tracks.audio_file')
    .select(['tracks.duration', 'tracks.title', 'tracks.tags', 'tracks.prompt', 'files.blob_key', 'files.expires_at'])
    .where('tracks.task_id', '=', arg('taskId'))
    .where('tracks.id', '=', arg('audioId')),
);
const trackByAudioId = prepare<{ audioId: string; accountId: string }>((db, arg) =>
  db
    .selectFrom('tracks')
    .innerJoin('tasks', 'tasks.id', 'tracks.task_id')
    .innerJoin('files', 'files.id', 'tracks.audio_file')
    .select(['tracks.duration', 'tracks.title', 'tracks.tags', 'tracks.prompt', 'files.blob_key', 'files.expires_at', 'tasks.status', 'tasks.id as task_id'])
    .where('tracks.id', '=', arg('audioId'))
    .where('tasks.account_id', '=', arg('accountId')),
);

/** A file's row outlived its blob (removed from the store behind reprise's back): the caller's source is gone, not a server fault. */
async function readStoredSource(blobs: BlobStore, blobKey: string, field: string): Promise<Buffer> {
  try {
    return await blobs.get(blobKey);
  } catch (error) {
    if (error instanceof BlobNotFoundError) throw invalid(field, 'source no longer available (its file is gone from storage)');
    throw error;
  }
}

/** Mode 2: a file this service handed out is read from storage, anything else is fetched through the guard. */
async function fromUrl(context: SourceContext, uploadUrl: string, field: string): Promise<ResolvedSource> {
  const token = tokenFromOwnUrl(context.publicUrl, uploadUrl);
  if (token) {
    const file = await context.store.db.selectFrom('files').select(['blob_key', 'file_name', 'expires_at']).where('id', '=', token).executeTakeFirst();
    if (!file || file.expires_at <= Date.now()) throw invalid(field, 'no such file (it may have expired)');
    const bytes = await readStoredSource(context.blobs, file.blob_key, field);
    return { blobKey: file.blob_key, name: file.file_name, durationS: durationOf(bytes, field), parentMusicId: '', track: null, fetched: null };
  }
  await context.beforeDownload?.();
  let bytes: Uint8Array;
  try {
    bytes = await download(context.outbound, uploadUrl, { timeoutMs: 30_000, maxBytes: context.uploadMaxBytes });
  } catch (error) {
    if (error instanceof OutboundError) throw invalid(field, `could not be downloaded: ${error.message}`);
    throw error;
  }
  const name = decodeURIComponent(new URL(uploadUrl).pathname.split('/').pop() || 'source');
  // The letter first: a base64url token may begin with "-" or "_", which the blob store refuses as a key's start.
  return { blobKey: `sources/s${newFileToken()}`, name, durationS: durationOf(bytes, field), parentMusicId: '', track: null, fetched: bytes };
}

export async function resolveSource(context: SourceContext, accountId: string, source: SourceRef): Promise<ResolvedSource> {
  if (source.mode !== 'url') return withinLength(context, await fromTrack(context, accountId, source), 'audioId');
  const field = source.field ?? 'uploadUrl';
  if (source.uploadUrl.length > 2048) throw new ApiError(422, `${field}: must be at most 2048 characters`);
  return withinLength(context, await fromUrl(context, source.uploadUrl, field), field);
}

/**
 * A source longer than the service renders is refused here, at submission, before anything is
 * stored or charged: decoding and rendering it would cost memory in proportion to its length.
 */
function withinLength(context: SourceContext, source: ResolvedSource, field: string): ResolvedSource {
  const maxS = context.sourceMaxS;
  if (maxS !== undefined && source.durationS > maxS) {
    throw invalid(field, `the source is ${Math.round(source.durationS)} s long; sources of at most ${maxS} s are accepted`);
  }
  return source;
}
