import { createHash } from 'node:crypto';
import type { TSchema } from '@sinclair/typebox';
import type { MusicVideo, MusicVideoInput } from '../../audio/video/music-video.js';
import type { CallbackBody, FailureCode } from '../../callbacks/index.js';
import type { PriceName } from '../../config.js';
import type { OnProgress, OnStem, Operation, RenderedTracks, SeparatedStems, SeparateInput, TranscribedMidi, TranscribeInput } from '../../engine/types.js';
import type { ApiError } from '../../errors.js';
import type { BlobStore } from '../../storage/index.js';
import type { Executor, Store, TasksTable, TaskType } from '../../store/index.js';
import type { Body } from '../fields.js';
import type { LifecycleContext, WriteOutcome } from '../lifecycle.js';
import type { SubmitContext } from '../service.js';
import type { ResolvedSource } from '../source.js';

/**
 * A task kind is the unit of the catalogue (ARCHITECTURE "growing to the whole Suno family"):
 * its route and schema, the rules that admit a request, its price, how it runs, which callback
 * body it owes and how its details read. The API registers routes from the list of kinds, the
 * worker runs a task by its kind, and the dispatcher sends whatever body the kind built.
 */
export interface TaskKind<Input = unknown> {
  /** Registry key and `kind` recorded in the task's input. */
  readonly name: string;
  /** record-info `type` and `operationType`. */
  readonly type: TaskType;
  readonly operationType: string;
  readonly price: PriceName;
  /**
   * KIE's dedicated route (the older API generation), documented by `body`. Absent where the
   * dedicated route answers at once without a task (boost style, persona: api/sync.ts), so only
   * the Market form makes a task of it.
   */
  readonly route?: { path: string; summary: string; body: TSchema };
  /** KIE's Market model id (`POST /api/v1/jobs/createTask`), e.g. "ai-music-api/extend". */
  readonly market: string;
  readonly family: Family;
  /** At most one live task of this kind per parent: the refusal to give when one exists (cover images, personas). */
  readonly onePerParent?: (existingTaskId: string) => ApiError;
  /**
   * Checks the request and looks up what it names. Throws an ApiError (KIE envelope, precise
   * `msg`) before anything is stored; what it fetched is stored only once the task is accepted.
   */
  admit(context: SubmitContext, accountId: string, body: Body): Promise<Admitted<Input>>;
  /** Does the work and says what to write when it succeeded. Errors fail the task (SPEC §4). */
  run(runtime: KindRuntime, task: RunningTask<Input>, signal: AbortSignal): Promise<WriteOutcome>;
  /**
   * The engine operation a song-making task ran, built again from its stored input and seed:
   * the same object the engine received. Only kinds whose tracks an engine can render again from
   * the operation alone have it (their stems and notes are then exact); the others' tracks hold
   * audio a user uploaded, whose parts can only be estimated.
   */
  operation?(runtime: KindRuntime, task: RunningTask<Input>): Promise<Operation>;
}

/** Same inputs, same seed: the procedural engine's output is then byte-identical. */
export const seedOf = (input: unknown): string => createHash('sha256').update(JSON.stringify(input)).digest('hex').slice(0, 16);

export interface Admitted<Input> {
  input: Input;
  parentMusicId: string;
  model: string;
  callbackUrl: string | undefined;
  /** Sources fetched from outside: put in the blob store and registered with the task. */
  fetched: ResolvedSource[];
  /** Where the price depends on the request (a separation's type): the price to charge instead of the kind's. */
  price?: PriceName;
}

/** What a running kind may use: the engine through the render pool, storage, and the task's state changes. */
export interface KindRuntime {
  store: Store;
  blobs: BlobStore;
  /**
   * Runs an engine operation off the main thread (the worker's render pool and configured
   * engine). Each track comes once: the one handed to `first` is null in the result.
   */
  render(operation: Operation, signal: AbortSignal, onProgress?: OnProgress): Promise<RenderedTracks>;
  /** Cuts a track into stems off the main thread; each stem goes to `onStem` when finished (null in the result). */
  separate(input: SeparateInput, signal: AbortSignal, onStem: OnStem): Promise<SeparatedStems>;
  /** The notes of stems, per instrument, off the main thread. */
  transcribe(input: TranscribeInput, signal: AbortSignal): Promise<TranscribedMidi>;
  /** Makes a track's music video off the main thread (audio/video; the same whatever the engine). */
  renderVideo(input: MusicVideoInput, signal: AbortSignal): Promise<MusicVideo>;
  lifecycle: LifecycleContext;
}

export interface RunningTask<Input> {
  id: string;
  input: Input;
  parentMusicId: string;
  /** Same inputs, same seed: the procedural engine's output is then byte-identical. */
  seed: string;
}

/**
 * What kinds of one family share: the callback body on failure, and the views of a task —
 * the family's own `record-info` and its `resultJson` for `GET /api/v1/jobs/recordInfo`.
 */
export interface Family {
  readonly name: string;
  /** The family's dedicated details route; absent for kinds read only through `jobs/recordInfo`. */
  readonly detailsPath?: string;
  /** What `details` answers (OpenAPI and serialisation of the details route). */
  readonly detailsSchema?: TSchema;
  errorBody(code: FailureCode, taskId: string, message: string): CallbackBody;
  /** The family's details view of a task of `kind` (one of its own kinds). */
  details(db: Executor, task: TasksTable, publicUrl: string, kind: Pick<TaskKind<never>, 'operationType' | 'type'>): Promise<unknown>;
  resultJson(db: Executor, task: TasksTable, publicUrl: string): Promise<unknown>;
}
