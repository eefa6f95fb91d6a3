import type { CallbackTrack, SunoTrack } from '@reprise/sdk';
import { fileUrls } from '../files/index.js';
import { formatCreateTime } from '../ids.js';
import type { Executor, TracksTable } from '../store/index.js';

/** A track as record-info shows it (`sunoData[]`, camelCase): the SDK's type. */
export type { SunoTrack };

/** Seconds as record-info shows the applied range: to the millisecond (a frame is 23 µs; nobody places a section finer). */
const toMs = (seconds: number) => Math.round(seconds * 1000) / 1000;

export function toSunoTrack(row: TracksTable, publicUrl: string): SunoTrack {
  const audio = fileUrls(publicUrl, row.audio_file);
  // [EXT] Only where known: KIE clients ignore the extra fields, and generated tracks have no range.
  const applied =
    row.applied_start_s !== null && row.applied_end_s !== null ? { infillStartS: toMs(row.applied_start_s), infillEndS: toMs(row.applied_end_s) } : {};
  return {
    id: row.id,
    audioUrl: audio.audio,
    streamAudioUrl: audio.stream,
    imageUrl: fileUrls(publicUrl, row.image_file).image,
    prompt: row.prompt,
    modelName: row.model_name,
    title: row.title,
    tags: row.tags,
    createTime: formatCreateTime(row.created_at),
    duration: row.duration,
    ...applied,
  };
}

/**
 * Where a track's source audio is, for the kinds whose callback items name it (upload-cover,
 * upload-extend, add-vocals: `source_audio_url`, `source_stream_audio_url`, `source_image_url`).
 */
export interface TrackSource {
  audioUrl: string;
  streamUrl: string;
}

/** A callback item: the track, plus its source's URLs where the kind's body carries them. */
export type CallbackItem = CallbackTrack & { source_audio_url?: string; source_stream_audio_url?: string; source_image_url?: string };

/** The same track as callbacks carry it (snake_case, SPEC §5.2), in KIE's field order. */
export function toCallbackTrack(row: TracksTable, publicUrl: string, source?: TrackSource | null): CallbackItem {
  const t = toSunoTrack(row, publicUrl);
  // KIE's order puts each source URL after its own; an upload has no picture, so its image is the new track's cover.
  return {
    id: t.id,
    audio_url: t.audioUrl,
    ...(source ? { source_audio_url: source.audioUrl } : {}),
    stream_audio_url: t.streamAudioUrl,
    ...(source ? { source_stream_audio_url: source.streamUrl } : {}),
    image_url: t.imageUrl,
    ...(source ? { source_image_url: t.imageUrl } : {}),
    prompt: t.prompt,
    model_name: t.modelName,
    title: t.title,
    tags: t.tags,
    createTime: t.createTime,
    duration: t.duration,
  };
}

export async function tracksOf(db: Executor, taskId: string): Promise<TracksTable[]> {
  return db.selectFrom('tracks').selectAll().where('task_id', '=', taskId).orderBy('idx').execute();
}

/**
 * The blob key of a track's lossless master, or null if it has none (made before masters
 * existed, or by an engine without one). Expiry is not checked: a task that names the track
 * was accepted while the track was live, and the worker falls back to the MP3 if the blob is gone.
 */
export async function masterBlobOf(db: Executor, trackId: string): Promise<string | null> {
  const row = await db
    .selectFrom('tracks')
    .innerJoin('files', 'files.id', 'tracks.master_file')
    .select('files.blob_key')
    .where('tracks.id', '=', trackId)
    .executeTakeFirst();
  return row?.blob_key ?? null;
}
