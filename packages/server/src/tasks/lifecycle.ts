import { refundTask } from '../accounts/index.js';
import { type CallbackBody, type FailureCode, oweCallback, successPayload, withJitter } from '../callbacks/index.js';
import type { SungLyrics } from '../engine/types.js';
import { registerFile } from '../files/index.js';
import { newAudioId } from '../ids.js';
import { finishJob } from '../jobs/index.js';
import type { Db, Executor, TaskStatus, TasksTable, Tx } from '../store/index.js';
import { TERMINAL_STATUSES } from './inputs.js';
import { type TrackSource, toCallbackTrack, tracksOf } from './tracks.js';

/**
 * State changes of a running task. Each is one transaction that moves the task,
 * writes what it produced, settles credits and owes its callback together. Each is
 * idempotent: a task re-run after a crash replays them and changes nothing twice.
 */
export interface LifecycleContext {
  db: Db;
  publicUrl: string;
  refunds: boolean;
  generatedRetentionMs: number;
  /** Delay before a callback's first attempt (REPRISE_CALLBACK_SCHEDULE's first step). */
  firstCallbackDelayMs: number;
  /** Called after a commit that changed a task (wakes the dispatcher, feeds SSE). */
  onChange?: (taskId: string, status: TaskStatus) => void;
}

/** A track whose files are already in the blob store. */
export interface StoredTrack {
  idx: number;
  audioBlob: string;
  audioSize: number;
  imageBlob: string;
  imageSize: number;
  /** The lossless master, if the engine made one. */
  master?: { blob: string; size: number } | null;
  durationS: number;
  /** Replace-section: the range the engine actually replaced, if it reported one. */
  appliedRange?: { startS: number; endS: number } | null;
  modelName: string;
  title: string;
  tags: string;
  prompt: string;
  /** What the track sings and when (engine SungLyrics). */
  sung?: SungLyrics | null;
}

const isTerminal = (status: TaskStatus): boolean => (TERMINAL_STATUSES as readonly string[]).includes(status);

/**
 * Reads the task through a write: on PostgreSQL this locks its row, so two
 * processes finishing the same task (a lapsed lease) serialise and the second
 * sees the first's outcome; on SQLite it takes the write lock up front, so the
 * transaction never has to upgrade a read lock.
 */
async function lockTask(tx: Executor, taskId: string, now: number): Promise<TasksTable> {
  return tx.updateTable('tasks').set({ updated_at: now }).where('id', '=', taskId).returningAll().executeTakeFirstOrThrow();
}

/** Inserts the tracks not yet recorded (a re-run keeps the first recording and its audioId). */
export async function recordTracks(tx: Tx, task: TasksTable, tracks: StoredTrack[], context: LifecycleContext, now: number): Promise<void> {
  const existing = new Set((await tracksOf(tx, task.id)).map((row) => row.idx));
  const expiresAt = now + context.generatedRetentionMs;
  for (const track of tracks) {
    if (existing.has(track.idx)) continue;
    const audioFile = await registerFile(
      tx,
      {
        accountId: task.account_id,
        kind: 'audio',
        blobKey: track.audioBlob,
        contentType: 'audio/mpeg',
        size: track.audioSize,
        fileName: `${track.title}.mp3`,
        expiresAt,
      },
      now,
    );
    const imageFile = await registerFile(
      tx,
      {
        accountId: task.account_id,
        kind: 'image',
        blobKey: track.imageBlob,
        contentType: 'image/jpeg',
        size: track.imageSize,
        fileName: `${track.title}.jpeg`,
        expiresAt,
      },
      now,
    );
    // The master lives and expires with the track's other files; its token is never put in a URL.
    const masterFile = track.master
      ? await registerFile(
          tx,
          {
            accountId: task.account_id,
            kind: 'master',
            blobKey: track.master.blob,
            contentType: 'audio/wav',
            size: track.master.size,
            fileName: `${track.title}.wav`,
            expiresAt,
          },
          now,
        )
      : null;
    await tx
      .insertInto('tracks')
      .values({
        id: newAudioId(),
        task_id: task.id,
        idx: track.idx,
        title: track.title,
        tags: track.tags,
        prompt: track.prompt,
        model_name: track.modelName,
        duration: track.durationS,
        audio_file: audioFile,
        image_file: imageFile,
        master_file: masterFile,
        applied_start_s: track.appliedRange?.startS ?? null,
        applied_end_s: track.appliedRange?.endS ?? null,
        sung: track.sung ? JSON.stringify(track.sung) : null,
        created_at: now,
      })
      .execute();
  }
}

async function setStatus(tx: Tx, taskId: string, from: readonly TaskStatus[], to: TaskStatus, now: number, extra: Partial<TasksTable> = {}): Promise<boolean> {
  const result = await tx
    .updateTable('tasks')
    .set({ status: to, updated_at: now, ...extra })
    .where('id', '=', taskId)
    .where('status', 'in', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

async function owe(context: LifecycleContext, tx: Tx, task: TasksTable, payload: CallbackBody, now: number): Promise<void> {
  await oweCallback(tx, task, payload, now, withJitter(context.firstCallbackDelayMs));
}

/** Generate's text stage: the structure sheet is ready (TEXT_SUCCESS). */
export async function recordTextStage(context: LifecycleContext, taskId: string, sheet: string): Promise<void> {
  const now = Date.now();
  const changed = await context.db.transaction().execute(async (tx) => {
    const task = await lockTask(tx, taskId, now);
    if (!(await setStatus(tx, taskId, ['PENDING'], 'TEXT_SUCCESS', now, { sheet }))) return false;
    await owe(context, tx, task, successPayload('text', taskId, []), now);
    return true;
  });
  if (changed) context.onChange?.(taskId, 'TEXT_SUCCESS');
}

/** A song-making task's first track is stored (FIRST_SUCCESS). */
export async function recordFirstStage(context: LifecycleContext, taskId: string, track: StoredTrack, source: TrackSource | null = null): Promise<void> {
  const now = Date.now();
  const changed = await context.db.transaction().execute(async (tx) => {
    const task = await lockTask(tx, taskId, now);
    if (isTerminal(task.status) || task.status === 'FIRST_SUCCESS') return false;
    await recordTracks(tx, task, [track], context, now);
    await setStatus(tx, taskId, ['PENDING', 'TEXT_SUCCESS'], 'FIRST_SUCCESS', now);
    const rows = await tracksOf(tx, taskId);
    await owe(
      context,
      tx,
      task,
      successPayload(
        'first',
        taskId,
        rows.map((row) => toCallbackTrack(row, context.publicUrl, source)),
      ),
      now,
    );
    return true;
  });
  if (changed) context.onChange?.(taskId, 'FIRST_SUCCESS');
}

/**
 * What a kind writes when its task succeeds, inside the completing transaction: its results
 * (tracks, images …), and the body of the `complete` callback it owes.
 */
export type WriteOutcome = (tx: Tx, task: TasksTable, now: number) => Promise<CallbackBody>;

/** The work is done: results written, SUCCESS, the complete callback owed, the job done. Returns false if already finished. */
export async function completeTask(context: LifecycleContext, taskId: string, jobId: string, write: WriteOutcome): Promise<boolean> {
  const now = Date.now();
  const changed = await context.db.transaction().execute(async (tx) => {
    const task = await lockTask(tx, taskId, now);
    await finishJob(tx, jobId, now);
    if (isTerminal(task.status)) return false;
    const body = await write(tx, task, now);
    await setStatus(tx, taskId, ['PENDING', 'TEXT_SUCCESS', 'FIRST_SUCCESS'], 'SUCCESS', now, { finished_at: now });
    await owe(context, tx, task, body, now);
    return true;
  });
  if (changed) context.onChange?.(taskId, 'SUCCESS');
  return changed;
}

/** A finished task's results that no callback carries, written with its SUCCESS. */
export async function writeResult(tx: Tx, taskId: string, result: unknown): Promise<void> {
  await tx
    .updateTable('tasks')
    .set({ result: JSON.stringify(result) })
    .where('id', '=', taskId)
    .execute();
}

/**
 * The task failed (SPEC §4): GENERATE_AUDIO_FAILED, its price refunded once (code
 * as given) or kept when refunds are disabled (code 501), the error callback owed.
 */
export async function failTask(
  context: LifecycleContext,
  taskId: string,
  jobId: string | null,
  code: Exclude<FailureCode, 501>,
  message: string,
  errorBody: (code: FailureCode, taskId: string, message: string) => CallbackBody,
): Promise<boolean> {
  const now = Date.now();
  const finalCode: FailureCode = context.refunds ? code : 501;
  const changed = await context.db.transaction().execute(async (tx) => {
    const task = await lockTask(tx, taskId, now);
    if (jobId) await finishJob(tx, jobId, now);
    if (isTerminal(task.status)) return false;
    await setStatus(tx, taskId, ['PENDING', 'TEXT_SUCCESS', 'FIRST_SUCCESS'], 'GENERATE_AUDIO_FAILED', now, {
      finished_at: now,
      error_code: finalCode,
      error_message: message,
    });
    if (context.refunds) await refundTask(tx, task.account_id, taskId, task.price, now);
    await owe(context, tx, task, errorBody(finalCode, taskId, message), now);
    return true;
  });
  if (changed) context.onChange?.(taskId, 'GENERATE_AUDIO_FAILED');
  return changed;
}
