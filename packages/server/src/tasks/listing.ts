import { type TaskStatus, TERMINAL_STATUSES } from '@reprise/sdk';
import { fileUrls, tokenFromOwnUrl } from '../files/index.js';
import type { Executor, TasksTable, TaskType } from '../store/index.js';
import type { TaskKind } from './kinds/kind.js';
import type { StoredSource } from './kinds/music.js';
import { KINDS, kindOf } from './kinds/registry.js';
import { tracksOf } from './tracks.js';

/**
 * The console's view of an account's tasks [EXT]: one summary per task whatever its family, the
 * list newest first, one task with its inputs and outputs, and the tasks that changed (the
 * account's feed). Plain queries; no HTTP here.
 */

export { TASK_STATUSES } from './statuses.js';

export const isTerminal = (status: string): boolean => (TERMINAL_STATUSES as readonly string[]).includes(status);

/** Each kind has its own `type` (tasks.type), which is what lets a list filter and name kinds without reading every task's input. */
const kindByType = new Map<string, TaskKind<never>>(KINDS.map((kind) => [kind.type, kind]));
export const KIND_NAMES: readonly string[] = KINDS.map((kind) => kind.name);
export const kindNamed = (name: string): TaskKind<never> | undefined => KINDS.find((kind) => kind.name === name);

export interface TaskSummary {
  taskId: string;
  /** The kind's registry name. */
  kind: string;
  type: TaskType;
  status: TaskStatus;
  createTime: number;
  completeTime: number | null;
  callBackUrl: string | null;
  errorCode: number | null;
  errorMessage: string | null;
  simulated: boolean;
  /** The kind's own KIE details route for this task (Market form where the kind has no other). */
  recordInfoUrl: string;
}

/** The columns a summary reads: never the request or input text, which can be large. */
const SUMMARY_COLUMNS = ['id', 'type', 'status', 'created_at', 'finished_at', 'callback_url', 'error_code', 'error_message', 'simulated'] as const;
type SummaryRow = Pick<TasksTable, (typeof SUMMARY_COLUMNS)[number]>;

function kindOfRow(row: SummaryRow): TaskKind<never> {
  const kind = kindByType.get(row.type);
  if (!kind) throw new Error(`task ${row.id} has type ${row.type}, which no task kind makes`);
  return kind;
}

export function summaryOf(row: SummaryRow, kind: TaskKind<never> = kindOfRow(row)): TaskSummary {
  const details = kind.family.detailsPath ?? '/api/v1/jobs/recordInfo';
  return {
    taskId: row.id,
    kind: kind.name,
    type: row.type,
    status: row.status,
    createTime: Number(row.created_at),
    completeTime: row.finished_at === null ? null : Number(row.finished_at),
    callBackUrl: row.callback_url,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    simulated: Number(row.simulated) === 1,
    recordInfoUrl: `${details}?taskId=${row.id}`,
  };
}

export interface TaskFilter {
  /** A kind's registry name (checked by the caller against KIND_NAMES). */
  kind?: string;
  status?: TaskStatus;
}

export interface Position {
  at: number;
  id: string;
}

/** `limit + 1` of the account's tasks older than `after`, newest first (the extra one tells whether a next page exists). */
export async function taskPage(db: Executor, accountId: string, filter: TaskFilter, limit: number, after: Position | null): Promise<TaskSummary[]> {
  let query = db.selectFrom('tasks').select(SUMMARY_COLUMNS).where('account_id', '=', accountId);
  const kind = filter.kind === undefined ? undefined : kindNamed(filter.kind);
  if (kind) query = query.where('type', '=', kind.type);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (after) query = query.where((eb) => eb.or([eb('created_at', '<', after.at), eb.and([eb('created_at', '=', after.at), eb('id', '<', after.id)])]));
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  return rows.map((row) => summaryOf(row));
}

export interface TaskTrackView {
  id: string;
  audioUrl: string;
  imageUrl: string;
  duration: number;
  title: string;
  /** Replace-section tracks: the range actually replaced, in seconds. */
  appliedRange: { start: number; end: number } | null;
}

export interface TaskView extends TaskSummary {
  /** The request body as received. */
  param: Record<string, unknown>;
  tracks: TaskTrackView[];
  /** The audio the task read (replace-section, upload-*, add-*, extend, mashup's first song), while reprise still serves it. */
  sourceUrl: string | null;
}

/** The caller's own task with its inputs and outputs, or null (another account's task reads as unknown). */
export async function taskView(db: Executor, accountId: string, taskId: string, publicUrl: string, now = Date.now()): Promise<TaskView | null> {
  const task = await db.selectFrom('tasks').selectAll().where('id', '=', taskId).where('account_id', '=', accountId).executeTakeFirst();
  if (!task) return null;
  const kind = kindOf(task.input);
  const tracks = await tracksOf(db, task.id);
  return {
    ...summaryOf(task, kind),
    param: paramOf(task.param),
    tracks: tracks.map((row) => ({
      id: row.id,
      audioUrl: fileUrls(publicUrl, row.audio_file).audio,
      imageUrl: fileUrls(publicUrl, row.image_file).image,
      duration: row.duration,
      title: row.title,
      appliedRange: row.applied_start_s !== null && row.applied_end_s !== null ? { start: row.applied_start_s, end: row.applied_end_s } : null,
    })),
    sourceUrl: await sourceUrlOf(db, task, publicUrl, now),
  };
}

/** `param` is the body as received, always a JSON object when accepted; anything else shows as empty rather than failing the page. */
function paramOf(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Where a task's input keeps its source: replace-section its blob, the other song kinds a StoredSource (mashup two). */
interface SourceInput {
  sourceBlob?: string;
  source?: StoredSource;
  sources?: StoredSource[];
}

/**
 * The URL of the source audio a task read, while one of the account's files still serves it:
 * the edited track's own file (mode 1), the upload the request named, or the copy reprise
 * fetched. A lossless master is never published, so it is never the answer.
 */
async function sourceUrlOf(db: Executor, task: TasksTable, publicUrl: string, now: number): Promise<string | null> {
  const input = JSON.parse(task.input) as SourceInput;
  const source = input.source ?? input.sources?.[0];
  const blob = input.sourceBlob ?? source?.blob;
  if (!blob) return null;
  const trackId = source?.trackId ?? (task.type === 'REPLACE_SECTION' && task.parent_music_id !== '' ? task.parent_music_id : null);
  const named = source?.url || (typeof paramOf(task.param).uploadUrl === 'string' ? (paramOf(task.param).uploadUrl as string) : '');
  // The cheap lookups first (by primary key), then the account's files holding that blob.
  const candidates: string[] = [];
  if (trackId) {
    const track = await db.selectFrom('tracks').select('audio_file').where('id', '=', trackId).executeTakeFirst();
    if (track) candidates.push(track.audio_file);
  }
  const token = named ? tokenFromOwnUrl(publicUrl, named) : null;
  if (token) candidates.push(token);
  for (const id of candidates) {
    const file = await db.selectFrom('files').select(['id', 'blob_key', 'expires_at', 'account_id']).where('id', '=', id).executeTakeFirst();
    if (file && file.account_id === task.account_id && file.blob_key === blob && Number(file.expires_at) > now) return fileUrls(publicUrl, file.id).stream;
  }
  const held = await db
    .selectFrom('files')
    .select('id')
    .where('account_id', '=', task.account_id)
    .where('blob_key', '=', blob)
    .where('kind', 'in', ['audio', 'upload', 'source'])
    .where('expires_at', '>', now)
    .orderBy('expires_at', 'desc')
    .executeTakeFirst();
  return held ? fileUrls(publicUrl, held.id).stream : null;
}

/** The account's tasks not finished yet, with their status: the only ones whose status can still change. */
export async function unfinishedTasks(db: Executor, accountId: string): Promise<TaskSummary[]> {
  const rows = await db.selectFrom('tasks').select(SUMMARY_COLUMNS).where('account_id', '=', accountId).where('finished_at', 'is', null).execute();
  return rows.map((row) => summaryOf(row));
}

/** The account's tasks created at or after `since` (epoch ms), oldest first, at most `limit`. */
export async function tasksCreatedSince(db: Executor, accountId: string, since: number, limit: number): Promise<TaskSummary[]> {
  const rows = await db
    .selectFrom('tasks')
    .select(SUMMARY_COLUMNS)
    .where('account_id', '=', accountId)
    .where('created_at', '>=', since)
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((row) => summaryOf(row));
}

/** The account's tasks among `ids` (another account's never come back). */
export async function tasksByIds(db: Executor, accountId: string, ids: readonly string[]): Promise<TaskSummary[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('tasks').select(SUMMARY_COLUMNS).where('account_id', '=', accountId).where('id', 'in', ids).execute();
  return rows.map((row) => summaryOf(row));
}
