import type { TaskType as MusicTaskType, TaskStatus } from '@reprise/sdk';
import type { Generated } from 'kysely';

/**
 * The database as Kysely sees it. Times are epoch milliseconds, ids are text,
 * JSON is text: the same rows on SQLite and PostgreSQL.
 */
export interface Database {
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  ledger: LedgerTable;
  tasks: TasksTable;
  tracks: TracksTable;
  files: FilesTable;
  jobs: JobsTable;
  callbacks: CallbacksTable;
  callback_attempts: CallbackAttemptsTable;
  process_leases: ProcessLeasesTable;
  personas: PersonasTable;
  idempotency_keys: IdempotencyKeysTable;
  fleet_settings: FleetSettingsTable;
  inboxes: InboxesTable;
  inbox_requests: InboxRequestsTable;
  sandbox_scenarios: SandboxScenariosTable;
}

export interface AccountsTable {
  id: string;
  name: string;
  /** Materialised sum of the ledger; the CHECK keeps it ≥ 0. */
  balance: number;
  webhook_key: string | null;
  /** The previous key keeps signing until `webhook_key_prev_until` (rotation overlap). */
  webhook_key_prev: string | null;
  webhook_key_prev_until: number | null;
  created_at: number;
  /** 1: a sandbox account [EXT] (play-money credits, scripted scenarios, its tasks simulated); 0 otherwise. */
  sandbox: number;
}

export interface ApiKeysTable {
  id: string;
  account_id: string;
  /** First characters of the key, shown to operators and used by `keys revoke`. */
  prefix: string;
  /** SHA-256 of the whole key, hex. The key itself is never stored. */
  hash: string;
  created_at: number;
  revoked_at: number | null;
}

export type LedgerKind = 'grant' | 'debit' | 'refund';

export interface LedgerTable {
  id: string;
  account_id: string;
  /** Set for debits and refunds; UNIQUE (task_id, kind) makes charging and refunding happen once. */
  task_id: string | null;
  kind: LedgerKind;
  /** Signed: grants and refunds positive, debits negative. */
  amount: number;
  created_at: number;
}

// Status values are the wire contract's, defined once in the SDK.
export type { TaskStatus };

/** Every task kind's `type` (tasks/kinds): the music family's, as the SDK defines them, and the kinds read elsewhere. */
export type TaskType =
  | MusicTaskType
  | 'COVER_IMAGE'
  | 'BOOST_STYLE'
  | 'PERSONA'
  | 'LYRICS'
  | 'WAV'
  | 'TIMESTAMPED_LYRICS'
  | 'MUSIC_VIDEO'
  | 'VOCAL_REMOVAL'
  | 'MIDI';

export interface TasksTable {
  id: string;
  account_id: string;
  type: TaskType;
  status: TaskStatus;
  /** The request body as received, JSON text (record-info `param`). */
  param: string;
  /** The normalised input the worker needs, JSON text. */
  input: string;
  parent_music_id: string;
  callback_url: string | null;
  price: number;
  model: string;
  error_code: number | null;
  error_message: string | null;
  /** Text stage output (structure sheet) for generate tasks. */
  sheet: string | null;
  /** Results of kinds whose output is not tracks (cover images …), JSON text; null until it succeeds. */
  result: string | null;
  created_at: number;
  updated_at: number;
  deadline_at: number;
  finished_at: number | null;
  /** 1: a sandbox account's task [EXT] (record-info says `simulated: true`); 0 otherwise. */
  simulated: number;
}

export interface TracksTable {
  id: string;
  task_id: string;
  idx: number;
  title: string;
  tags: string;
  prompt: string;
  model_name: string;
  duration: number;
  audio_file: string;
  image_file: string;
  /** The lossless master (a `master` file, never handed out by URL); null for tracks made before masters or by an engine without one. */
  master_file: string | null;
  /** Replace-section tracks: the range actually replaced, in seconds (null for generated tracks and older rows). */
  applied_start_s: number | null;
  applied_end_s: number | null;
  /** What the track sings, with each word's time as rendered (engine SungLyrics), JSON text; null for instrumentals. */
  sung: string | null;
  created_at: number;
}

/** A persona (`personaId`): the fingerprint measured on one track, applied by later generations. */
export interface PersonasTable {
  id: string;
  account_id: string;
  /** The track it was made from: one persona per track (KIE: "Persona already exists for this music"). */
  audio_id: string;
  task_id: string;
  name: string;
  description: string;
  /** engine PersonaFingerprint, JSON text. */
  fingerprint: string;
  created_at: number;
}

/**
 * An `Idempotency-Key` [EXT] and the task its first request made (tasks/idempotency.ts): written in
 * the task's own transaction; primary key (account_id, key). Rows older than 24 h no longer count
 * and are swept by the retention sweeper.
 */
export interface IdempotencyKeysTable {
  account_id: string;
  /** The header's value: 1–255 visible ASCII characters. */
  key: string;
  /** SHA-256 (hex) of the route and the canonical JSON of the body: a reuse with another request is a 409. */
  fingerprint: string;
  task_id: string;
  created_at: number;
}

/** `master`: a track's lossless master, read by later edits of the track; its token is never published. */
export type FileKind = 'audio' | 'image' | 'upload' | 'source' | 'master' | 'video';

export interface FilesTable {
  /** Unguessable token used in the file's URL. */
  id: string;
  account_id: string;
  kind: FileKind;
  /** Key in the blob store. */
  blob_key: string;
  content_type: string;
  size: number;
  /** For uploads: `uploadPath/fileName`, unique per account (a new upload replaces it). */
  file_path: string | null;
  file_name: string;
  created_at: number;
  expires_at: number;
}

export type JobQueue = 'task';
export type JobState = 'queued' | 'running' | 'done';

export interface JobsTable {
  id: string;
  queue: JobQueue;
  /** The task the job runs. */
  ref_id: string;
  state: JobState;
  run_at: number;
  locked_until: number | null;
  locked_by: string | null;
  attempts: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export type CallbackStage = 'text' | 'first' | 'complete' | 'error';
export type CallbackStatus = 'pending' | 'delivered' | 'failed';

export interface CallbacksTable {
  /** Also the Standard Webhooks `webhook-id`: stable across retries and redeliveries. */
  id: string;
  task_id: string;
  account_id: string;
  stage: CallbackStage;
  url: string;
  /** The exact JSON body to POST. */
  payload: string;
  status: CallbackStatus;
  /** All attempts ever made. */
  attempts: number;
  /** Attempts in the current round: the schedule restarts at 0 on redelivery. */
  round_attempts: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
  /**
   * While pending: when the next attempt may start. On PostgreSQL a claim sets it to the lease's
   * end, so a callback whose dispatcher died is due again once the lease lapses; on SQLite the
   * one dispatcher holds its claims in memory (see callbacks/deliveries.ts). Null once delivered or failed.
   */
  due_at: number | null;
  /** PostgreSQL: the dispatcher holding the row's lease, if any (for operators: the claim's due_at is what guards it). */
  leased_by: string | null;
}

export interface CallbackAttemptsTable {
  id: Generated<number>;
  callback_id: string;
  started_at: number;
  duration_ms: number;
  http_status: number | null;
  error_class: string | null;
  response_body: string | null;
  /** JSON object of the headers the attempt was sent with (its signatures among them); null when none was sent. */
  request_headers: string | null;
}

/** A role that one process at a time may hold on the store, such as sending SQLite's callbacks (store/process-lease.ts). */
export interface ProcessLeasesTable {
  name: string;
  /** Random per holder: tells a holder from an earlier process that had the same pid. */
  owner: string;
  host: string;
  pid: number;
  until: number;
}

/** The fleet's recorded settings (fleet-config.ts): one row, id `fleet`. */
export interface FleetSettingsTable {
  id: string;
  /** JSON object: environment variable → its value in canonical form, e.g. `{"REPRISE_RATE_LIMIT":"20/10s"}`. */
  settings: string;
  /** 1 when first recorded, one more at each change: a change applies only to the revision it read. */
  revision: number;
  updated_at: number;
  /** Who made the last change, for operators: a process (`reprise serve, pid 12 on host-a`) or `reprise fleet-config set`. */
  updated_by: string;
}

/** A local webhook inbox [EXT]: `<public url>/inbox/<token>` records what is POSTed to it (inbox/). */
export interface InboxesTable {
  id: string;
  account_id: string;
  /** Unguessable: the URL is public and needs no API key. */
  token: string;
  created_at: number;
}

/** One request an inbox received (a callback delivered to it, or anything POSTed to its URL). */
export interface InboxRequestsTable {
  id: Generated<number>;
  inbox_id: string;
  received_at: number;
  method: string;
  path: string;
  /** JSON object of the headers kept (content type, user agent, signature headers). */
  headers: string;
  body: string;
  /** 1 / 0 when the account had a webhook key on arrival (signature valid or not), null when it had none. */
  kie_verified: number | null;
  standard_verified: number | null;
}

/**
 * A sandbox account's scripted scenario [EXT] (sandbox/): queued while `task_id` is null (in
 * `position` order), then the record of what the task that took it does.
 */
export interface SandboxScenariosTable {
  id: string;
  account_id: string;
  position: number;
  /** sandbox Scenario, JSON text. */
  scenario: string;
  task_id: string | null;
  taken_at: number | null;
}
