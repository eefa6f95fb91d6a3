/**
 * The wire contract as a client sees it (SPEC §2, §3, §5). Duplicated from the
 * server on purpose: the SDK must build and run without it, and it also talks
 * to KIE.AI itself.
 */

export type TaskStatus =
  | 'PENDING'
  | 'TEXT_SUCCESS'
  | 'FIRST_SUCCESS'
  | 'SUCCESS'
  | 'CREATE_TASK_FAILED'
  | 'GENERATE_AUDIO_FAILED'
  | 'CALLBACK_EXCEPTION'
  | 'SENSITIVE_WORD_ERROR';

export const TERMINAL_STATUSES = ['SUCCESS', 'CREATE_TASK_FAILED', 'GENERATE_AUDIO_FAILED', 'CALLBACK_EXCEPTION', 'SENSITIVE_WORD_ERROR'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export function isTerminalStatus(status: string): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

export type TaskType = 'GENERATE' | 'REPLACE_SECTION';
export type SunoModel = 'V3_5' | 'V4' | 'V4_5' | 'V4_5PLUS' | 'V4_5ALL' | 'V5';

/** A track as record-info shows it (camelCase). Callback tracks are converted to this shape too. */
export interface SunoTrack {
  /** The audioId: pass it with the taskId to replace a section of this track (mode 1). */
  id: string;
  audioUrl: string;
  streamAudioUrl: string;
  imageUrl: string;
  prompt: string;
  modelName: string;
  title: string;
  tags: string;
  createTime: string;
  duration: number;
  /**
   * [reprise extension] Replace-section tracks: the range that was actually replaced, in
   * seconds. reprise moves the edges onto the song's beats (by at most half a second), so it
   * can differ from the `infillStartS`/`infillEndS` asked for. Absent on KIE.AI and on generated tracks.
   */
  infillStartS?: number;
  infillEndS?: number;
}

/** [reprise extension] How delivery of the task's callbacks is going. */
export interface CallbackSummary {
  status: 'pending' | 'delivered' | 'failed' | 'none';
  attempts: number;
  lastError: string | null;
}

/** `GET /api/v1/generate/record-info` → `data`. */
export interface TaskRecord {
  taskId: string;
  parentMusicId: string;
  /** The submitted request body as a JSON string. */
  param: string;
  /** KIE sends `null` while a task is pending; the client turns that into an empty list. */
  response: { taskId: string; sunoData: SunoTrack[] };
  status: TaskStatus;
  type: TaskType;
  operationType: string;
  errorCode: number | null;
  errorMessage: string | null;
  /** reprise only; absent on KIE.AI. */
  callback?: CallbackSummary;
}

export interface GenerateRequest {
  customMode: boolean;
  instrumental: boolean;
  model?: SunoModel;
  prompt?: string;
  style?: string;
  title?: string;
  negativeTags?: string;
  vocalGender?: 'm' | 'f';
  styleWeight?: number;
  weirdnessConstraint?: number;
  audioWeight?: number;
  callBackUrl?: string;
}

interface ReplaceSectionCommon {
  prompt: string;
  tags: string;
  title: string;
  negativeTags?: string;
  infillStartS: number;
  infillEndS: number;
  fullLyrics?: string;
  callBackUrl?: string;
}

/** Mode 1: a track of a task that succeeded. */
export interface ReplaceSectionFromTask extends ReplaceSectionCommon {
  taskId: string;
  audioId: string;
  uploadUrl?: never;
}

/** Mode 2: an MP3 or WAV by URL, e.g. an upload's `downloadUrl`. */
export interface ReplaceSectionFromUpload extends ReplaceSectionCommon {
  uploadUrl: string;
  model?: string;
  taskId?: never;
  audioId?: never;
}

export type ReplaceSectionRequest = ReplaceSectionFromTask | ReplaceSectionFromUpload;

export interface SubmittedTask {
  taskId: string;
}

/** File Upload API answer `data`. */
export interface UploadedFile {
  fileName: string;
  filePath: string;
  downloadUrl: string;
  fileUrl?: string;
  fileSize: number;
  mimeType: string;
  uploadedAt: string;
}

/** `GET /api/v1/tasks/{taskId}/callbacks` → one entry [reprise extension]. */
export interface CallbackLogEntry {
  deliveryId: string;
  stage: CallbackStage;
  url: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
  payload: unknown;
  attemptLog: Array<{ startedAt: number; durationMs: number; httpStatus: number | null; errorClass: string | null; responseBody: string | null }>;
}

/** One Server-Sent Event of `GET /api/v1/tasks/{taskId}/events` [reprise extension]. */
export interface TaskEvent {
  taskId: string;
  status: TaskStatus;
}

// ---------------------------------------------------------------------------
// Callback bodies (SPEC §5.2): snake_case `task_id`, `audio_url`… but camelCase
// `callbackType` and `createTime`, exactly as KIE sends them.

export type CallbackStage = 'text' | 'first' | 'complete' | 'error';

export interface CallbackTrack {
  id: string;
  audio_url: string;
  stream_audio_url: string;
  image_url: string;
  prompt: string;
  model_name: string;
  title: string;
  tags: string;
  createTime: string;
  duration: number;
}

export interface SuccessCallbackPayload {
  code: 200;
  msg: string;
  data: { callbackType: 'text' | 'first' | 'complete'; task_id: string; data: CallbackTrack[] };
}

export interface ErrorCallbackPayload {
  code: number;
  msg: string;
  data: { callbackType: 'error'; task_id: string; error: string };
}

export type CallbackPayload = SuccessCallbackPayload | ErrorCallbackPayload;
