import { Type } from '@sinclair/typebox';
import { errorPayload, successPayload } from '../../callbacks/index.js';
import type { Operation, RenderedTrack, SourceAudio } from '../../engine/types.js';
import { SourceAudioError } from '../../engine/types.js';
import { fileUrls, tokenFromOwnUrl } from '../../files/index.js';
import { releaseNow } from '../../memory.js';
import { putFileAndRemove } from '../../storage/index.js';
import { type LifecycleContext, recordFirstStage, recordTextStage, recordTracks, type StoredTrack, type WriteOutcome } from '../lifecycle.js';
import type { SubmitContext } from '../service.js';
import { type ResolvedSource, resolveSource } from '../source.js';
import { TASK_STATUSES } from '../statuses.js';
import { masterBlobOf, type TrackSource, toCallbackTrack, toSunoTrack, tracksOf } from '../tracks.js';
import { callbackSummary } from '../view.js';
import type { Family, KindRuntime, RunningTask } from './kind.js';
import { checkUploadLength } from './rules.js';

/**
 * The music family (KIE: generate, extend, upload-*, add-*, mashup, replace-section): tasks
 * that make tracks, report `text` → `first` → `complete` (or `error`) with the body of SPEC
 * §5.2, and read through `GET /api/v1/generate/record-info`.
 */

/** A source as a task's input keeps it: the blob, and the track it came from (whose lossless master is edited instead). */
export interface StoredSource {
  blob: string;
  name: string;
  durationS: number;
  /** The audioId of a reprise track, or null for uploads. */
  trackId: string | null;
  /** The URL the request named (callback items' `source_audio_url`), empty for tracks. */
  url: string;
}

/** What the words of a stored request give every song-making operation (engine SongWords). */
export const wordsOf = (input: { prompt: string; style: string; title: string; negativeTags: string }) => ({
  prompt: input.prompt,
  style: input.style,
  title: input.title,
  negativeTags: input.negativeTags,
});

/** Custom mode sings the prompt as written; otherwise the engine writes its own lyrics (engine Vocals). */
export const vocalsOf = (input: { instrumental: boolean; customMode: boolean; prompt: string; vocalGender?: 'm' | 'f' }) => ({
  instrumental: input.instrumental,
  ...(input.customMode && !input.instrumental ? { lyrics: input.prompt } : {}),
  ...(input.vocalGender ? { vocalGender: input.vocalGender } : {}),
});

/**
 * A song named by URL (upload-*, add-*, mashup): a file this service handed out, or one fetched
 * through the guard; at most 8 minutes; kept as the task's source. `fetched` is what the task
 * must store if it is accepted.
 */
export async function admitUpload(
  context: SubmitContext,
  accountId: string,
  url: string,
  field = 'uploadUrl',
): Promise<{ source: StoredSource; fetched: ResolvedSource[] }> {
  const resolved = await resolveSource(context, accountId, { mode: 'url', uploadUrl: url, field });
  checkUploadLength(field, resolved.durationS);
  return {
    source: { blob: resolved.blobKey, name: resolved.name, durationS: resolved.durationS, trackId: null, url },
    fetched: resolved.fetched ? [resolved] : [],
  };
}

/** How the tracks of a task are titled and tagged. */
export interface TrackMeta {
  title: (index: number) => string;
  tags: string;
  prompt: string;
}

const SunoTrackSchema = Type.Object({
  id: Type.String({ description: 'audioId' }),
  audioUrl: Type.String(),
  streamAudioUrl: Type.String(),
  imageUrl: Type.String(),
  prompt: Type.String(),
  modelName: Type.String(),
  title: Type.String(),
  tags: Type.String(),
  createTime: Type.String(),
  duration: Type.Number(),
  infillStartS: Type.Optional(Type.Number({ description: 'reprise extension, replace-section tracks: where the replaced range actually starts, seconds' })),
  infillEndS: Type.Optional(Type.Number({ description: 'reprise extension, replace-section tracks: where the replaced range actually ends, seconds' })),
});

/** record-info `data` of a music task: the schema of `musicFamily.details` (OpenAPI, serialisation). */
const MusicRecord = Type.Object(
  {
    taskId: Type.String(),
    parentMusicId: Type.String(),
    param: Type.String({ description: 'The request body as received' }),
    response: Type.Object({ taskId: Type.String(), sunoData: Type.Array(SunoTrackSchema) }),
    status: Type.String({ enum: [...TASK_STATUSES] }),
    type: Type.String({ enum: ['GENERATE', 'REPLACE_SECTION', 'EXTEND', 'UPLOAD_EXTEND', 'UPLOAD_COVER', 'ADD_INSTRUMENTAL', 'ADD_VOCALS', 'MASHUP'] }),
    operationType: Type.String({
      enum: ['generate', 'replace_section', 'extend', 'upload_extend', 'upload_cover', 'add_instrumental', 'add_vocals', 'mashup'],
    }),
    errorCode: Type.Union([Type.Integer(), Type.Null()]),
    errorMessage: Type.Union([Type.String(), Type.Null()]),
    callback: Type.Object(
      {
        status: Type.String({ enum: ['pending', 'delivered', 'failed', 'none'] }),
        attempts: Type.Integer(),
        lastError: Type.Union([Type.String(), Type.Null()]),
      },
      { description: 'reprise extension: how delivery of the callbacks is going' },
    ),
  },
  { additionalProperties: true },
);
export const musicFamily: Family = {
  name: 'music',
  detailsPath: '/api/v1/generate/record-info',
  detailsSchema: MusicRecord,
  errorBody: errorPayload,
  async details(db, task, publicUrl, kind) {
    const tracks = await tracksOf(db, task.id);
    return {
      taskId: task.id,
      parentMusicId: task.parent_music_id,
      param: task.param,
      response: { taskId: task.id, sunoData: tracks.map((row) => toSunoTrack(row, publicUrl)) },
      status: task.status,
      type: task.type,
      operationType: kind.operationType,
      errorCode: task.error_code,
      errorMessage: task.error_message,
      callback: await callbackSummary(db, task.id, task.callback_url !== null),
    };
  },
  async resultJson(db, task, publicUrl) {
    const tracks = await tracksOf(db, task.id);
    const source = namedSource(JSON.parse(task.input) as { kind: string; source?: StoredSource }, publicUrl);
    // KIE's Market form for Suno tasks is undocumented here; clients read either key, so both are given.
    return { sunoData: tracks.map((row) => toSunoTrack(row, publicUrl)), data: tracks.map((row) => toCallbackTrack(row, publicUrl, source)) };
  },
};

/**
 * The audio of a source. A reprise track is read from its lossless master, so chains of
 * edits add no coding loss and no shift; the MP3 is the fallback (tracks without a master,
 * or whose master is gone). Anything else is read as stored.
 */
export async function sourceAudio(runtime: KindRuntime, source: StoredSource): Promise<SourceAudio> {
  if (source.trackId) {
    const master = await masterBlobOf(runtime.store.db, source.trackId);
    if (master && (await runtime.blobs.size(master)) !== null) return { bytes: await runtime.blobs.get(master), name: source.name };
  }
  if ((await runtime.blobs.size(source.blob)) === null) throw new SourceAudioError(`the source file "${source.name}" is no longer available`);
  return { bytes: await runtime.blobs.get(source.blob), name: source.name };
}

/** The kinds whose callback items name their source (kie-catalogue §11): upload-cover, upload-extend, add-vocals. */
const KINDS_NAMING_SOURCE = new Set(['upload-cover', 'upload-extend', 'add-vocals']);

/** A task's source URLs, where its kind's items carry them. */
function namedSource(input: { kind: string; source?: StoredSource }, publicUrl: string): TrackSource | null {
  return KINDS_NAMING_SOURCE.has(input.kind) && input.source ? trackSourceOf(publicUrl, input.source) : null;
}

/** The source URLs callback items carry for kinds that name them: the file as the request named it. */
function trackSourceOf(publicUrl: string, source: StoredSource): TrackSource {
  const token = tokenFromOwnUrl(publicUrl, source.url);
  return { audioUrl: source.url, streamUrl: token ? fileUrls(publicUrl, token).stream : source.url };
}

async function storeTrack(runtime: KindRuntime, taskId: string, idx: number, track: RenderedTrack, meta: TrackMeta): Promise<StoredTrack> {
  const { blobs } = runtime;
  const audioBlob = `tasks/${taskId}/${idx}.mp3`;
  const imageBlob = `tasks/${taskId}/${idx}.jpeg`;
  // The master first: a scratch file (masterFile) is removed whatever happens after.
  let master: StoredTrack['master'] = null;
  if (track.master) {
    master = { blob: `tasks/${taskId}/${idx}.master.wav`, size: track.master.byteLength };
    await blobs.put(master.blob, track.master);
    // Stored: its memory goes back now, not while the engine renders the next song.
    void releaseNow(track.master);
  } else if (track.masterFile) {
    master = { blob: `tasks/${taskId}/${idx}.master.wav`, size: track.masterFile.bytes };
    await putFileAndRemove(blobs, master.blob, track.masterFile.path);
  }
  const audioSize = track.mp3.byteLength;
  await blobs.put(audioBlob, track.mp3);
  // Stored: the MP3's memory goes back now too (it is megabytes, and this thread's collections are rare).
  void releaseNow(track.mp3);
  await blobs.put(imageBlob, track.cover);
  return {
    idx,
    audioBlob,
    audioSize,
    imageBlob,
    imageSize: track.cover.byteLength,
    master,
    durationS: Math.round(track.durationS * 100) / 100,
    appliedRange: track.appliedRange ?? null,
    modelName: track.modelName,
    title: meta.title(idx),
    tags: meta.tags,
    prompt: track.sung?.text ?? meta.prompt,
    sung: track.sung ?? null,
  };
}

/**
 * Runs a song-making operation: its text stage (the sheet) and first track are recorded as
 * they arrive (TEXT_SUCCESS, FIRST_SUCCESS, each with its callback), every track is stored, and
 * the returned writer records the rest with the `complete` callback.
 */
export async function runSongs(
  runtime: KindRuntime,
  task: RunningTask<unknown>,
  operation: Operation,
  meta: TrackMeta,
  signal: AbortSignal,
): Promise<WriteOutcome> {
  const { lifecycle } = runtime;
  const source = namedSource(task.input as { kind: string; source?: StoredSource }, lifecycle.publicUrl);
  // The first song is stored when it is ready (FIRST_SUCCESS); it is not written again at the end.
  const stored = new Map<number, StoredTrack>();
  const tracks = await runtime.render(operation, signal, async (progress) => {
    if (progress.stage === 'text') await recordTextStage(lifecycle, task.id, progress.sheet);
    else {
      const first = await storeTrack(runtime, task.id, progress.index, progress.track, meta);
      stored.set(progress.index, first);
      await recordFirstStage(lifecycle, task.id, first, source);
    }
  });
  if (tracks.length === 0) throw new Error('the engine returned no track');
  const all = await Promise.all(
    tracks.map((track, i) => {
      const done = stored.get(i);
      if (done) return done;
      if (!track) throw new Error(`track ${i} was handed over but never stored`);
      return storeTrack(runtime, task.id, i, track, meta);
    }),
  );
  return writeTracks(lifecycle, all, source);
}

/** The music family's success: the tracks recorded (those not yet), and the `complete` body carrying all of them. */
export function writeTracks(lifecycle: LifecycleContext, tracks: StoredTrack[], source: TrackSource | null = null): WriteOutcome {
  return async (tx, row, now) => {
    await recordTracks(tx, row, tracks, lifecycle, now);
    const rows = await tracksOf(tx, row.id);
    return successPayload(
      'complete',
      row.id,
      rows.map((r) => toCallbackTrack(r, lifecycle.publicUrl, source)),
    );
  };
}
