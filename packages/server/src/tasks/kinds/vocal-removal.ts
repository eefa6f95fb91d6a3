import { Type } from '@sinclair/typebox';
import { type FailureCode, failureMsg } from '../../callbacks/index.js';
import type { RenderedStem, SeparationType, StemName } from '../../engine/types.js';
import { SourceAudioError, SPLIT_STEM_NAMES } from '../../engine/types.js';
import { invalid } from '../../errors.js';
import { fileUrls, registerFile } from '../../files/index.js';
import { newAudioId } from '../../ids.js';
import { releaseAllNow } from '../../memory.js';
import type { BlobStore } from '../../storage/index.js';
import type { TasksTable } from '../../store/index.js';
import { type Body, camelCase, optionalEnum } from '../fields.js';
import { writeResult } from '../lifecycle.js';
import { trackOrigin } from '../track-origin.js';
import { findFinishedTrack, parseTrackRef, readTrackAudio, type TrackRef } from '../track-ref.js';
import type { Family, TaskKind } from './kind.js';
import { requiredCallbackUrl } from './rules.js';
import { url } from './schema.js';

/**
 * `POST /api/v1/vocal-removal/generate` (kie-catalogue §19): one of the caller's tracks cut into
 * stems — `separate_vocal` into vocal and instrumental, `split_stem` into KIE's twelve instrument
 * stems — by the engine's `separate` operation (docs/stems.md). Where the track's recipe renders
 * it again (a generate, a cover, an add-vocals of this service), the stems are exact and sum to
 * the track; otherwise they are estimated by signal processing, and the task's record says so.
 * A family of its own: string `successFlag`, epoch-ms times, and a callback `{code, msg, data:
 * {task_id, vocal_separation_info}}` signed over `data.task_id`. Every stem has an id
 * (`originData[].id`), which MIDI takes as `audioId`.
 */
export interface VocalRemovalTaskInput {
  kind: 'vocal-removal';
  type: SeparationType;
  taskId: string;
  audioId: string;
  /** The track's place in its task (record-info `musicIndex`). */
  musicIndex: number;
}

/** One stored stem: its id (`originData[].id`), what it holds, and the token of its MP3. */
export interface StoredStem {
  id: string;
  name: StemName;
  file: string;
  durationS: number;
  exact: boolean;
}

/** A finished separation's result. */
export interface SeparationResult {
  stems: StoredStem[];
  /** How the stems were made, in words (the engine's `method`). */
  method: string;
}

const SEPARATION_TYPES = ['separate_vocal', 'split_stem'] as const satisfies readonly SeparationType[];

const VocalRemovalBody = Type.Object(
  {
    taskId: Type.String({ description: 'A music task of yours that succeeded' }),
    audioId: Type.String({ description: 'One of its tracks' }),
    type: Type.Optional(
      Type.String({ enum: [...SEPARATION_TYPES], description: 'separate_vocal (default): vocal and instrumental; split_stem: up to twelve instrument stems' }),
    ),
    callBackUrl: url('Required: receives `{code, msg, data: {task_id, vocal_separation_info}}`, signed over data.task_id'),
  },
  { additionalProperties: true },
);

export function parseVocalRemoval(body: Body): TrackRef & { type: SeparationType; callBackUrl: string } {
  const callBackUrl = requiredCallbackUrl(body);
  const ref = parseTrackRef(body);
  // KIE's Market form names one stem to extract (split_stem_advanced); reprise does not offer it.
  if (body.stemName !== undefined && body.stemName !== null) {
    throw invalid('stemName', 'extracting one named stem (split_stem_advanced) is not offered; use type separate_vocal or split_stem');
  }
  return { ...ref, type: optionalEnum(body, 'type', SEPARATION_TYPES) ?? 'separate_vocal', callBackUrl };
}

/** How KIE names a stem in file names and `originData[].stem_type_group_name`. */
const STEM_LABEL: Record<StemName, string> = {
  vocal: 'Vocals',
  instrumental: 'Instrumental',
  backing_vocals: 'Backing Vocals',
  drums: 'Drums',
  bass: 'Bass',
  guitar: 'Guitar',
  keyboard: 'Keyboard',
  percussion: 'Percussion',
  strings: 'Strings',
  synth: 'Synth',
  fx: 'FX',
  brass: 'Brass',
  woodwinds: 'Woodwinds',
  other: 'Other',
};

/** The stem fields of the details' `response`, in KIE's order: its `piano` (which reprise's stems never fill) after `guitar`, reprise's `other` last. */
const DETAILS_STEMS = ['instrumental', ...SPLIT_STEM_NAMES.slice(0, 5), 'piano', ...SPLIT_STEM_NAMES.slice(5), 'other'] as const;

const resultOf = (task: TasksTable): SeparationResult | null => (task.result ? (JSON.parse(task.result) as SeparationResult) : null);

const urlOf = (publicUrl: string, stem: StoredStem): string => fileUrls(publicUrl, stem.file).named(`${stem.id}_${STEM_LABEL[stem.name]}.mp3`);

/**
 * The callback's `vocal_separation_info`: KIE's keys for the type, null for a stem the track has
 * none of. `origin_url` is empty, as in KIE's examples. An estimate's leftover (`other`, which
 * KIE has no key for) is added as `other_url` only where there is one.
 */
function separationInfo(type: SeparationType, result: SeparationResult, publicUrl: string): Record<string, string | null> {
  const byName = new Map(result.stems.map((stem) => [stem.name, urlOf(publicUrl, stem)]));
  const info: Record<string, string | null> = {};
  if (type === 'separate_vocal') {
    info.instrumental_url = byName.get('instrumental') ?? null;
    info.origin_url = '';
    info.vocal_url = byName.get('vocal') ?? null;
  } else {
    info.origin_url = '';
    for (const name of SPLIT_STEM_NAMES) info[`${name}_url`] = byName.get(name) ?? null;
  }
  const other = byName.get('other');
  if (other) info.other_url = other;
  return info;
}

/** The details' `response`, camelCase as KIE's. */
function detailsResponse(result: SeparationResult | null, publicUrl: string) {
  const byName = new Map((result?.stems ?? []).map((stem) => [stem.name, urlOf(publicUrl, stem)]));
  const urls = Object.fromEntries(
    DETAILS_STEMS.map((name) => [
      `${camelCase(name)}Url`,
      // A stem the type does not make, or the track does not have, is null, as KIE shows it.
      byName.get(name as StemName) ?? null,
    ]),
  );
  return {
    id: null,
    originUrl: null,
    originData: (result?.stems ?? []).map((stem) => ({
      duration: stem.durationS,
      audio_url: urlOf(publicUrl, stem),
      stem_type_group_name: STEM_LABEL[stem.name],
      id: stem.id,
    })),
    ...urls,
  };
}

const nullableUrl = Type.Union([Type.String(), Type.Null()]);
const VocalRemovalRecord = Type.Object(
  {
    taskId: Type.String(),
    musicId: Type.String({ description: 'The audioId that was separated' }),
    callbackUrl: Type.Union([Type.String(), Type.Null()]),
    musicIndex: Type.Integer({ description: 'The track’s place in its task: 0 or 1' }),
    completeTime: Type.Union([Type.Integer({ description: 'epoch ms' }), Type.Null()]),
    response: Type.Object(
      {
        id: Type.Null(),
        originUrl: Type.Null(),
        originData: Type.Array(
          Type.Object({
            duration: Type.Number(),
            audio_url: Type.String(),
            stem_type_group_name: Type.String(),
            id: Type.String({ description: 'The stem’s id: MIDI’s audioId' }),
          }),
        ),
        ...Object.fromEntries(
          DETAILS_STEMS.map((name) => [
            `${camelCase(name)}Url`,
            name === 'other'
              ? Type.Union([Type.String(), Type.Null()], { description: 'reprise extension: what an estimate could not tell apart' })
              : nullableUrl,
          ]),
        ),
      },
      { additionalProperties: true },
    ),
    successFlag: Type.String({ enum: ['PENDING', 'SUCCESS', 'CREATE_TASK_FAILED', 'GENERATE_AUDIO_FAILED', 'CALLBACK_EXCEPTION'] }),
    createTime: Type.Integer({ description: 'epoch ms' }),
    errorCode: Type.Union([Type.Integer(), Type.Null()]),
    errorMessage: Type.Union([Type.String(), Type.Null()]),
    separation: Type.Union([Type.Object({ exact: Type.Boolean(), method: Type.String() }), Type.Null()], {
      description: 'reprise extension: whether the stems are exact (rendered from the track’s recipe) or estimated, and how',
    }),
  },
  { additionalProperties: true },
);

export const vocalRemovalFamily: Family = {
  name: 'vocal-removal',
  detailsPath: '/api/v1/vocal-removal/record-info',
  detailsSchema: VocalRemovalRecord,
  errorBody: (code: FailureCode, taskId: string, message: string) => ({
    code,
    msg: failureMsg(code, message),
    data: { task_id: taskId, vocal_separation_info: null },
  }),
  async details(_db, task, publicUrl) {
    const input = JSON.parse(task.input) as VocalRemovalTaskInput;
    const result = resultOf(task);
    return {
      taskId: task.id,
      musicId: input.audioId,
      callbackUrl: task.callback_url,
      musicIndex: input.musicIndex,
      completeTime: task.finished_at,
      response: detailsResponse(result, publicUrl),
      successFlag: task.status,
      createTime: task.created_at,
      errorCode: task.error_code,
      errorMessage: task.error_message,
      separation: result ? { exact: result.stems.every((stem) => stem.exact), method: result.method } : null,
    };
  },
  async resultJson(_db, task, publicUrl) {
    const input = JSON.parse(task.input) as VocalRemovalTaskInput;
    const result = resultOf(task);
    return {
      resultUrls: (result?.stems ?? []).map((stem) => urlOf(publicUrl, stem)),
      vocal_separation_info: result ? separationInfo(input.type, result, publicUrl) : null,
    };
  },
};

/** The stems' MP3s as they arrive, each stored at once; all of them deleted if the task does not succeed. */
class StemFiles {
  readonly stored: Array<Omit<StoredStem, 'file'> & { blobKey: string; size: number }> = [];
  constructor(
    private readonly blobs: BlobStore,
    private readonly taskId: string,
  ) {}

  async add(stem: RenderedStem): Promise<void> {
    const id = newAudioId();
    // Named by the stem alone: a run again after a crash writes over what the first one left.
    const blobKey = `tasks/${this.taskId}/${STEM_LABEL[stem.name].replace(' ', '')}.mp3`;
    await this.blobs.put(blobKey, stem.mp3);
    this.stored.push({ id, name: stem.name, durationS: Math.round(stem.durationS * 100) / 100, exact: stem.exact, blobKey, size: stem.mp3.byteLength });
    // Stored, and the lossless stem is not served (KIE serves MP3s): their memory goes back now.
    void releaseAllNow([stem.mp3, stem.master]);
  }

  async discard(): Promise<void> {
    for (const stem of this.stored) await this.blobs.delete(stem.blobKey);
  }
}

export const vocalRemovalKind: TaskKind<VocalRemovalTaskInput> = {
  name: 'vocal-removal',
  type: 'VOCAL_REMOVAL',
  operationType: 'vocal_removal',
  price: 'separateVocal',
  route: {
    path: '/api/v1/vocal-removal/generate',
    summary: 'Separate a track into stems: vocal and instrumental, or up to twelve instruments',
    body: VocalRemovalBody,
  },
  market: 'ai-music-api/separate-vocals',
  family: vocalRemovalFamily,
  async admit(context, accountId, body) {
    const request = parseVocalRemoval(body);
    const found = await findFinishedTrack(context.store.db, accountId, request);
    return {
      input: { kind: 'vocal-removal', type: request.type, taskId: request.taskId, audioId: request.audioId, musicIndex: found.track.idx },
      parentMusicId: request.audioId,
      model: '',
      callbackUrl: request.callBackUrl,
      fetched: [],
      // KIE: 10 credits for two stems, 50 for up to twelve.
      price: request.type === 'split_stem' ? 'splitStem' : 'separateVocal',
    };
  },
  async run(runtime, task, signal) {
    const { store, blobs, lifecycle } = runtime;
    const { type, taskId: trackTaskId, audioId, musicIndex } = task.input;
    const track = await store.db
      .selectFrom('tracks')
      .innerJoin('files', 'files.id', 'tracks.audio_file')
      .select(['tracks.id', 'files.blob_key'])
      .where('tracks.id', '=', audioId)
      .executeTakeFirst();
    if (!track) throw new SourceAudioError('the track is no longer available');
    const made = await trackOrigin(runtime, trackTaskId, musicIndex);
    const origin = typeof made === 'string' ? { noOrigin: made } : { origin: made };
    // With a recipe the audio is only checked against it: the MP3 does, and is 15× smaller than the master.
    const audio =
      'origin' in origin && (await blobs.size(track.blob_key)) !== null
        ? { bytes: await blobs.get(track.blob_key), from: 'mp3' as const }
        : await readTrackAudio({ db: store.db, blobs }, track.id, track.blob_key);
    if (!audio) throw new SourceAudioError('the track’s audio is no longer available');
    const files = new StemFiles(blobs, task.id);
    let method: string;
    try {
      const separated = await runtime.separate({ type, audio: { bytes: audio.bytes, name: `track ${audioId}` }, ...origin }, signal, (stem) => files.add(stem));
      for (const stem of separated.stems) if (stem) await files.add(stem);
      method = separated.method;
      signal.throwIfAborted();
    } catch (error) {
      await files.discard();
      throw error;
    }
    return async (tx, row, now) => {
      const stems: StoredStem[] = [];
      for (const { blobKey, size, ...stem } of files.stored) {
        const file = await registerFile(
          tx,
          {
            accountId: row.account_id,
            kind: 'audio',
            blobKey,
            contentType: 'audio/mpeg',
            size,
            fileName: `${stem.id}_${STEM_LABEL[stem.name]}.mp3`,
            expiresAt: now + lifecycle.generatedRetentionMs,
          },
          now,
        );
        stems.push({ ...stem, file });
      }
      const result: SeparationResult = { stems, method };
      await writeResult(tx, row.id, result);
      return {
        code: 200,
        msg: 'vocal separation generated successfully.',
        data: { task_id: row.id, vocal_separation_info: separationInfo(type, result, lifecycle.publicUrl) },
      };
    };
  },
};
