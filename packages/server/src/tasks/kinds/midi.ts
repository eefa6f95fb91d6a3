import { Type } from '@sinclair/typebox';
import { type FailureCode, failureMsg } from '../../callbacks/index.js';
import type { MidiInstrument, TranscribeInput } from '../../engine/types.js';
import { EngineError, SourceAudioError } from '../../engine/types.js';
import { ApiError, invalid } from '../../errors.js';
import { fileUrls, registerFile } from '../../files/index.js';
import type { Executor, TasksTable } from '../../store/index.js';
import { type Body, optionalString, requiredString } from '../fields.js';
import { writeResult } from '../lifecycle.js';
import { putTaskFile, trackFileToken } from '../track-file.js';
import { trackOrigin } from '../track-origin.js';
import type { Family, TaskKind } from './kind.js';
import { requiredCallbackUrl } from './rules.js';
import { url } from './schema.js';
import type { SeparationResult, StoredStem, VocalRemovalTaskInput } from './vocal-removal.js';

/**
 * `POST /api/v1/midi/generate` (kie-catalogue §20): the notes of a finished stem separation of the
 * caller's — one stem (`audioId`, an `originData[].id`) or all of them — per instrument, in KIE's
 * callback shape, and as a Standard MIDI File to download (a reprise extension). Stems rendered
 * from the track's own recipe have the recipe's notes (the engine's `transcribe`: exactly what
 * the synthesiser played); estimated stems are transcribed from their audio (docs/midi.md). A
 * family of its own: integer `successFlag` (0 pending, 1 success, 2 create-task failed, 3 MIDI
 * failed), epoch-ms times, and a callback with a top-level `task_id`, signed over it.
 */
export interface MidiTaskInput {
  kind: 'midi';
  /** The separation task whose stems are transcribed. */
  taskId: string;
  /** One of its stems, or all when absent. */
  audioId: string | null;
}

/** A note as KIE's callback shows it: times in seconds as strings (its examples), velocity 0–1. */
interface KieNote {
  pitch: number;
  start: string;
  end: string;
  velocity: number;
}
interface KieInstrument {
  name: string;
  notes: KieNote[];
}
interface MidiData {
  state: 'complete';
  instruments: KieInstrument[];
}

/** A finished MIDI task's result. */
interface MidiResult {
  midiData: MidiData;
  /** The token of the `.mid` file. */
  file: string;
  exact: boolean;
  method: string;
}

const MidiBody = Type.Object(
  {
    taskId: Type.String({ description: 'A stem separation task of yours that succeeded' }),
    audioId: Type.Optional(Type.String({ description: 'One of its stems (record-info originData[].id); all stems when absent' })),
    callBackUrl: url('Required: receives `{task_id, code, msg, data: {state, instruments}}`, signed over task_id'),
  },
  { additionalProperties: true },
);

export function parseMidi(body: Body): { taskId: string; audioId: string | null; callBackUrl: string } {
  const callBackUrl = requiredCallbackUrl(body);
  return { taskId: requiredString(body, 'taskId', 64), audioId: optionalString(body, 'audioId', 64) ?? null, callBackUrl };
}

/** Seconds as KIE writes them: a string, to the microsecond (the file's own resolution is finer than a note needs). */
const seconds = (value: number): string => String(Math.round(value * 1e6) / 1e6);

const kieInstrument = (instrument: MidiInstrument): KieInstrument => ({
  name: instrument.name,
  notes: instrument.notes.map((note) => ({ pitch: note.pitch, start: seconds(note.start), end: seconds(note.end), velocity: note.velocity })),
});

const resultOf = (task: TasksTable): MidiResult | null => (task.result ? (JSON.parse(task.result) as MidiResult) : null);

/** KIE's integer flag: 0 pending (queued or running), 1 success, 3 the MIDI failed. */
const successFlagOf = (task: TasksTable): 0 | 1 | 3 => (task.status === 'SUCCESS' ? 1 : task.status === 'PENDING' ? 0 : 3);

/** The separation named by a MIDI request: the caller's, finished, its stems not expired. */
async function findSeparation(db: Executor, accountId: string, taskId: string, audioId: string | null): Promise<StoredStem[]> {
  const task = await db
    .selectFrom('tasks')
    .select(['status', 'type', 'result'])
    .where('id', '=', taskId)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  // KIE's recorded answer for an id that names no separation.
  if (task?.type !== 'VOCAL_REMOVAL') throw new ApiError(422, 'Record does not exist');
  if (task.status !== 'SUCCESS' || !task.result) throw invalid('taskId', `separation ${taskId} has not succeeded (status ${task.status})`);
  const { stems } = JSON.parse(task.result) as SeparationResult;
  const chosen = audioId === null ? stems : stems.filter((stem) => stem.id === audioId);
  if (chosen.length === 0) throw invalid('audioId', `is not a stem of separation ${taskId} (its originData ids)`);
  const files = await db
    .selectFrom('files')
    .select(['id', 'expires_at'])
    .where(
      'id',
      'in',
      chosen.map((stem) => stem.file),
    )
    .execute();
  if (files.length < chosen.length || files.some((file) => Number(file.expires_at) <= Date.now())) {
    throw invalid(audioId === null ? 'taskId' : 'audioId', 'the stems have expired and were deleted');
  }
  return chosen;
}

const MidiNoteSchema = Type.Object({ pitch: Type.Integer(), start: Type.String(), end: Type.String(), velocity: Type.Number() });
const MidiDataSchema = Type.Object({
  state: Type.String(),
  instruments: Type.Array(Type.Object({ name: Type.String(), notes: Type.Array(MidiNoteSchema) })),
});

const MidiRecord = Type.Object(
  {
    taskId: Type.String(),
    recordTaskId: Type.Integer({ description: 'KIE shows −1' }),
    audioId: Type.Union([Type.String(), Type.Null()], { description: 'The stem transcribed; null for all of them' }),
    callbackUrl: Type.Union([Type.String(), Type.Null()]),
    completeTime: Type.Union([Type.Integer({ description: 'epoch ms' }), Type.Null()]),
    createTime: Type.Integer({ description: 'epoch ms' }),
    midiData: Type.Union([MidiDataSchema, Type.Null()]),
    successFlag: Type.Integer({ description: '0 pending, 1 success, 2 create-task failed, 3 MIDI failed' }),
    errorCode: Type.Union([Type.String(), Type.Null()], { description: 'a string here, as KIE types it' }),
    errorMessage: Type.Union([Type.String(), Type.Null()]),
    midiUrl: Type.Union([Type.String(), Type.Null()], { description: 'reprise extension: the notes as a Standard MIDI File' }),
    transcription: Type.Union([Type.Object({ exact: Type.Boolean(), method: Type.String() }), Type.Null()], {
      description: 'reprise extension: whether the notes are the recipe’s own or estimated from the audio, and how',
    }),
  },
  { additionalProperties: true },
);

const midiUrlOf = (task: TasksTable, publicUrl: string): string | null => {
  const token = trackFileToken(task);
  return token ? fileUrls(publicUrl, token).named('notes.mid') : null;
};

export const midiFamily: Family = {
  name: 'midi',
  detailsPath: '/api/v1/midi/record-info',
  detailsSchema: MidiRecord,
  errorBody: (code: FailureCode, taskId: string, message: string) => ({ task_id: taskId, code, msg: failureMsg(code, message), data: null }),
  async details(_db, task, publicUrl) {
    const input = JSON.parse(task.input) as MidiTaskInput;
    const result = resultOf(task);
    return {
      taskId: task.id,
      recordTaskId: -1,
      audioId: input.audioId,
      callbackUrl: task.callback_url,
      completeTime: task.finished_at,
      createTime: task.created_at,
      midiData: result?.midiData ?? null,
      successFlag: successFlagOf(task),
      errorCode: task.error_code === null ? null : String(task.error_code),
      errorMessage: task.error_message,
      midiUrl: midiUrlOf(task, publicUrl),
      transcription: result ? { exact: result.exact, method: result.method } : null,
    };
  },
  async resultJson(_db, task, publicUrl) {
    const midi = midiUrlOf(task, publicUrl);
    return { resultUrls: midi ? [midi] : [], resultObject: resultOf(task)?.midiData ?? null };
  },
};

export const midiKind: TaskKind<MidiTaskInput> = {
  name: 'midi',
  type: 'MIDI',
  operationType: 'generate_midi',
  price: 'midi',
  route: { path: '/api/v1/midi/generate', summary: 'The notes of a stem separation, per instrument, and as a MIDI file', body: MidiBody },
  market: 'ai-music-api/generate-midi-from-audio',
  family: midiFamily,
  async admit(context, accountId, body) {
    const request = parseMidi(body);
    await findSeparation(context.store.db, accountId, request.taskId, request.audioId);
    return {
      input: { kind: 'midi', taskId: request.taskId, audioId: request.audioId },
      parentMusicId: request.audioId ?? '',
      model: '',
      callbackUrl: request.callBackUrl,
      fetched: [],
    };
  },
  async run(runtime, task, signal) {
    const { store, blobs, lifecycle } = runtime;
    const separation = await store.db.selectFrom('tasks').select(['input', 'result']).where('id', '=', task.input.taskId).executeTakeFirst();
    if (!separation?.result) throw new SourceAudioError('the separation is no longer available');
    const made = JSON.parse(separation.input) as VocalRemovalTaskInput;
    const { stems: all } = JSON.parse(separation.result) as SeparationResult;
    const stems = task.input.audioId === null ? all : all.filter((stem) => stem.id === task.input.audioId);
    // Exact stems were rendered from the track's recipe: their notes are read from it. The others are heard.
    const origin = stems.some((stem) => stem.exact) ? await trackOrigin(runtime, made.taskId, made.musicIndex) : null;
    const recipe = origin !== null && typeof origin !== 'string' ? origin : undefined;
    const noOrigin = typeof origin === 'string' ? origin : 'the stems were estimated when the track was separated';
    const input: TranscribeInput = { stems: [], ...(recipe ? { origin: recipe } : { noOrigin }) };
    for (const stem of stems) {
      if (recipe && stem.exact) {
        input.stems.push({ name: stem.name });
        continue;
      }
      const file = await store.db.selectFrom('files').select('blob_key').where('id', '=', stem.file).executeTakeFirst();
      if (!file || (await blobs.size(file.blob_key)) === null) throw new SourceAudioError(`the ${stem.name} stem’s audio is no longer available`);
      input.stems.push({ name: stem.name, audio: { bytes: await blobs.get(file.blob_key), name: `${stem.name} stem` } });
    }
    const midi = await runtime.transcribe(input, signal);
    const { encodeMidiFile } = await import('../../audio/index.js');
    let bytes: Uint8Array;
    try {
      bytes = encodeMidiFile(midi.instruments, { title: `reprise ${task.id}` });
    } catch (error) {
      throw new EngineError(`writing the MIDI file failed: ${(error as Error).message}`);
    }
    // Written whole or not at all; registered only when the task succeeds.
    const key = `tasks/${task.id}/notes.mid`;
    await putTaskFile(blobs, key, bytes, signal);
    const midiData: MidiData = { state: 'complete', instruments: midi.instruments.map(kieInstrument) };
    return async (tx, row, now) => {
      const file = { kind: 'audio', blobKey: key, contentType: 'audio/midi', size: bytes.byteLength, fileName: 'notes.mid' } as const;
      const token = await registerFile(tx, { ...file, accountId: row.account_id, expiresAt: now + lifecycle.generatedRetentionMs }, now);
      await writeResult(tx, row.id, { midiData, file: token, exact: midi.exact, method: midi.method } satisfies MidiResult);
      return { task_id: row.id, code: 200, msg: 'success', data: { ...midiData, midi_url: fileUrls(lifecycle.publicUrl, token).named('notes.mid') } };
    };
  },
};
