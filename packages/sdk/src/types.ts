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

/** record-info `type`: which route made the task. */
export type TaskType = 'GENERATE' | 'EXTEND' | 'UPLOAD_EXTEND' | 'UPLOAD_COVER' | 'ADD_INSTRUMENTAL' | 'ADD_VOCALS' | 'MASHUP' | 'REPLACE_SECTION';

/**
 * record-info `operationType`, snake_case. KIE documents generate, extend,
 * upload_cover and upload_extend; the other names are reprise's, following
 * the same pattern (KIE leaves them undocumented).
 */
export type OperationType = 'generate' | 'extend' | 'upload_cover' | 'upload_extend' | 'add_instrumental' | 'add_vocals' | 'mashup' | 'replace_section';

/**
 * Model versions of the dedicated routes. KIE removed `V3_5` from its enum
 * while its own examples still send it, so it stays accepted here.
 */
export type SunoModel = 'V3_5' | 'V4' | 'V4_5' | 'V4_5PLUS' | 'V4_5ALL' | 'V5' | 'V5_5';

/** `style_persona`: a persona from {@link Client.generatePersona}; `voice_persona`: a Suno Voice `voiceId`. */
export type PersonaModel = 'style_persona' | 'voice_persona';

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
  /** Upload-cover, upload-extend and add-vocals: the uploaded source audio as the service stored it. */
  sourceAudioUrl?: string;
  sourceStreamAudioUrl?: string;
  sourceImageUrl?: string;
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
  operationType: OperationType;
  errorCode: number | null;
  errorMessage: string | null;
  /** reprise only; absent on KIE.AI. */
  callback?: CallbackSummary;
}

/** Steering shared by the music routes. Weights are 0–1 in steps of 0.01; KIE says they "only increase the probability". */
export interface SunoSteering {
  negativeTags?: string;
  vocalGender?: 'm' | 'f';
  styleWeight?: number;
  weirdnessConstraint?: number;
  audioWeight?: number;
}

/** A persona to sing or style the result (custom mode only). */
export interface PersonaChoice {
  personaId?: string;
  personaModel?: PersonaModel;
}

export interface GenerateRequest extends SunoSteering, PersonaChoice {
  customMode: boolean;
  instrumental: boolean;
  model?: SunoModel;
  prompt?: string;
  style?: string;
  title?: string;
  callBackUrl?: string;
}

/**
 * `POST /api/v1/generate/extend`: continues a track (`audioId`) as a new task.
 * `defaultParamFlag: true` uses this request's `prompt`, `style`, `title` and
 * `continueAt` (seconds, inside the source); `false` inherits them from the source.
 */
export interface ExtendRequest extends SunoSteering, PersonaChoice {
  defaultParamFlag: boolean;
  audioId: string;
  prompt?: string;
  style?: string;
  title?: string;
  continueAt?: number;
  /** Must be the source track's model. */
  model: SunoModel;
  callBackUrl: string;
}

/** `POST /api/v1/generate/upload-extend`: continues an uploaded song (≤ 8 min). Same flag rules as {@link ExtendRequest}. */
export interface UploadExtendRequest extends SunoSteering, PersonaChoice {
  uploadUrl: string;
  defaultParamFlag: boolean;
  instrumental: boolean;
  /** KIE lists it as required even when `defaultParamFlag` is false; send it. */
  continueAt?: number;
  model: SunoModel;
  prompt?: string;
  style?: string;
  title?: string;
  callBackUrl: string;
}

/** `POST /api/v1/generate/upload-cover`: re-performs an uploaded song (≤ 8 min) in another style; custom-mode rules as generate. */
export interface UploadCoverRequest extends SunoSteering, PersonaChoice {
  uploadUrl: string;
  customMode: boolean;
  instrumental: boolean;
  model: SunoModel;
  prompt?: string;
  style?: string;
  title?: string;
  callBackUrl: string;
}

/** `POST /api/v1/generate/add-instrumental`: accompaniment under an uploaded vocal. Note `tags`, not `style`. */
export interface AddInstrumentalRequest extends Omit<SunoSteering, 'negativeTags'> {
  uploadUrl: string;
  title: string;
  tags: string;
  negativeTags: string;
  /** Default `V4_5PLUS`. */
  model?: 'V4_5PLUS' | 'V5' | 'V5_5';
  callBackUrl: string;
}

/** `POST /api/v1/generate/add-vocals`: a sung part over an uploaded instrumental. Note `style`, not `tags`. */
export interface AddVocalsRequest extends Omit<SunoSteering, 'negativeTags'> {
  uploadUrl: string;
  prompt: string;
  title: string;
  style: string;
  negativeTags: string;
  /** Default `V4_5PLUS`. */
  model?: 'V4_5PLUS' | 'V5';
  callBackUrl: string;
}

/** `POST /api/v1/generate/mashup`: exactly two uploaded songs blended into one. Steering applies in custom mode only. */
export interface MashupRequest extends SunoSteering {
  uploadUrlList: [string, string];
  customMode: boolean;
  model: SunoModel;
  instrumental?: boolean;
  prompt?: string;
  style?: string;
  title?: string;
  callBackUrl: string;
}

/** `POST /api/v1/generate/generate-persona`: a reusable voice/style from a finished track (10–30 s of it). */
export interface GeneratePersonaRequest {
  taskId: string;
  audioId: string;
  name: string;
  description: string;
  /** Seconds; default 0. */
  vocalStart?: number;
  /** Seconds; default 30; `vocalEnd − vocalStart` must be 10–30. */
  vocalEnd?: number;
  style?: string;
}

/** generate-persona answers at once (no task, no callback). Pass `personaId` to generate, extend or the upload routes. */
export interface Persona {
  personaId: string;
  name: string;
  description: string;
}

/** `POST /api/v1/style/generate`. */
export interface BoostStyleRequest {
  /** A style description, e.g. `Pop, Mysterious`. */
  content: string;
}

/**
 * The boosted style, answered at once. Loosely typed where KIE is loose:
 * api.kie.ai was seen answering `successFlag: "成功"` and an epoch-ms
 * `createTime`, while the published schema says `"0"|"1"|"2"` and a time string.
 */
export interface StyleBoost {
  taskId: string;
  /** What was sent as `content`. */
  param: string;
  /** The boosted style text. */
  result: string;
  creditsConsumed: number;
  creditsRemaining: number;
  successFlag: string;
  errorCode: number | null;
  errorMsg: string | null;
  createTime: number | string;
}

/** `POST /api/v1/suno/cover/generate`: cover art (usually two images) for a music task. */
export interface CoverImageRequest {
  /** The music task the art is for. */
  taskId: string;
  callBackUrl: string;
}

/** `successFlag` of a cover-image task: 0 pending, 1 success, 2 generating, 3 failed. */
export type CoverImageFlag = 0 | 1 | 2 | 3;

/** `GET /api/v1/suno/cover/record-info` → `data`. */
export interface CoverImageRecord {
  taskId: string;
  /** The music task the art is for. */
  parentTaskId: string;
  callbackUrl: string | null;
  /** ISO-8601, or null while running. */
  completeTime: string | null;
  /** KIE sends `null` while the task runs; the client turns that into an empty list. */
  response: { images: string[] };
  successFlag: CoverImageFlag;
  /** ISO-8601. */
  createTime: string;
  errorCode: number | null;
  errorMessage: string | null;
}

// ---------------------------------------------------------------------------
// Lyrics (`POST /api/v1/lyrics`): words for a prompt, no music.

/** `POST /api/v1/lyrics`. */
export interface LyricsRequest {
  /** What the song is about; at most 200 characters. */
  prompt: string;
  callBackUrl: string;
}

/** `status` of a lyrics task (a string, as on record-info, with this family's own failure name). */
export type LyricsStatus = 'PENDING' | 'SUCCESS' | 'CREATE_TASK_FAILED' | 'GENERATE_LYRICS_FAILED' | 'CALLBACK_EXCEPTION' | 'SENSITIVE_WORD_ERROR';

/** One variation of a lyrics task, as record-info shows it (camelCase `errorMessage`). */
export interface LyricsItem {
  /** The lyrics, sections tagged `[Verse]`, `[Chorus]` … */
  text: string;
  title: string;
  status: 'complete' | 'failed';
  errorMessage: string;
}

/** `GET /api/v1/lyrics/record-info` → `data`. */
export interface LyricsRecord {
  taskId: string;
  /** The request body as a JSON string. */
  param: string;
  /**
   * The variations. KIE's schema names the list `data` and its current page example
   * `lyricsData`; reprise sends both, and the client fills `data` from either.
   */
  response: { taskId: string; data: LyricsItem[]; lyricsData?: LyricsItem[] };
  status: LyricsStatus;
  type: 'LYRICS';
  errorCode: number | null;
  errorMessage: string | null;
}

// ---------------------------------------------------------------------------
// Timestamped lyrics (`POST /api/v1/generate/get-timestamped-lyrics`, answered at once).

/** `POST /api/v1/generate/get-timestamped-lyrics`: a track of a music task that succeeded. */
export interface TimestampedLyricsRequest {
  taskId: string;
  audioId: string;
}

/** One word with its time, in seconds of the track. */
export interface AlignedWord {
  /** The word; the first of a section starts with its tag (`"[Verse]\nWaggin'"`). */
  word: string;
  success: boolean;
  startS: number;
  endS: number;
  palign: number;
}

/** The answer's `data`. An instrumental has no `alignedWords`. */
export interface TimestampedLyrics {
  alignedWords: AlignedWord[];
  /** The track's waveform for display, each point 0–1. */
  waveformData: number[];
  /** The alignment's character error rate (0 on reprise: the times are the renderer's own). */
  hootCer: number;
  isStreamed: boolean;
}

// ---------------------------------------------------------------------------
// WAV conversion (`POST /api/v1/wav/generate`).

/** `POST /api/v1/wav/generate`: one WAV per track (a second request is refused with code 409). */
export interface WavRequest {
  taskId: string;
  audioId: string;
  callBackUrl: string;
}

/** `successFlag` of a WAV task: a string on this family's record-info. */
export type WavStatus = 'PENDING' | 'SUCCESS' | 'CREATE_TASK_FAILED' | 'GENERATE_WAV_FAILED' | 'CALLBACK_EXCEPTION';

/** `GET /api/v1/wav/record-info` → `data`. Times are `YYYY-MM-DD HH:MM:SS`. */
export interface WavRecord {
  taskId: string;
  /** The audioId converted. */
  musicId: string;
  /** Note the lower-case b, as KIE spells it here. */
  callbackUrl: string | null;
  musicIndex: number;
  completeTime: string | null;
  /** `audioWavUrl` is null until the task succeeds. */
  response: { audioWavUrl: string | null };
  successFlag: WavStatus;
  createTime: string;
  errorCode: number | null;
  errorMessage: string | null;
}

// ---------------------------------------------------------------------------
// Music video (`POST /api/v1/mp4/generate`).

/** `POST /api/v1/mp4/generate`: a music video of track `audioId`. */
export interface MusicVideoRequest {
  taskId: string;
  audioId: string;
  callBackUrl: string;
  /** Signed on the cover, at most 50 characters. */
  author?: string;
  /** A watermark at the bottom, at most 50 characters. */
  domainName?: string;
}

/** `successFlag` of a music-video task: a string on this family's record-info. */
export type MusicVideoStatus = 'PENDING' | 'SUCCESS' | 'CREATE_TASK_FAILED' | 'GENERATE_MP4_FAILED' | 'CALLBACK_EXCEPTION';

/** `GET /api/v1/mp4/record-info` → `data`. Times are `YYYY-MM-DD HH:MM:SS`. */
export interface MusicVideoRecord {
  taskId: string;
  /** The audioId the video is of. */
  musicId: string;
  callbackUrl: string | null;
  musicIndex: number;
  completeTime: string | null;
  /** `videoUrl` is null until the task succeeds. */
  response: { videoUrl: string | null };
  successFlag: MusicVideoStatus;
  createTime: string;
  errorCode: number | null;
  errorMessage: string | null;
}

// ---------------------------------------------------------------------------
// Stem separation (`POST /api/v1/vocal-removal/generate`).

/** `separate_vocal` (default): vocals and instrumental; `split_stem`: up to twelve instrument stems. */
export type VocalSeparationType = 'separate_vocal' | 'split_stem';

/** `POST /api/v1/vocal-removal/generate`: the stems of track `audioId`. Each request is charged, even for the same track. */
export interface SeparateVocalsRequest {
  taskId: string;
  audioId: string;
  /** Default `separate_vocal`. */
  type?: VocalSeparationType;
  callBackUrl: string;
}

/** `successFlag` of a separation task: a string on this family's record-info. */
export type VocalSeparationStatus = 'PENDING' | 'SUCCESS' | 'CREATE_TASK_FAILED' | 'GENERATE_AUDIO_FAILED' | 'CALLBACK_EXCEPTION';

/** One stem file of a separation (note the snake_case inside the camelCase record). Its `id` is the `audioId` MIDI takes. */
export interface SeparatedStemFile {
  id: string;
  audio_url: string;
  /** E.g. `Vocals`, `Drums`. */
  stem_type_group_name: string;
  duration: number;
}

/** record-info's `response`: every stem URL is null until the task succeeds, and null for stems the mode or the track has none of. */
export interface VocalSeparationResponse {
  /** KIE sends null. */
  id: string | null;
  originUrl: string | null;
  originData: SeparatedStemFile[];
  /** `separate_vocal` only. */
  instrumentalUrl: string | null;
  vocalUrl: string | null;
  backingVocalsUrl: string | null;
  drumsUrl: string | null;
  bassUrl: string | null;
  guitarUrl: string | null;
  pianoUrl: string | null;
  keyboardUrl: string | null;
  percussionUrl: string | null;
  stringsUrl: string | null;
  synthUrl: string | null;
  fxUrl: string | null;
  brassUrl: string | null;
  woodwindsUrl: string | null;
  /** [reprise extension] What no other stem took; absent on KIE.AI. */
  otherUrl?: string | null;
}

/**
 * `GET /api/v1/vocal-removal/record-info` → `data`. KIE's examples give the times as epoch
 * milliseconds on this route and as `YYYY-MM-DD HH:MM:SS` elsewhere, so both are typed.
 */
export interface VocalSeparationRecord {
  taskId: string;
  /** The audioId separated. */
  musicId: string;
  callbackUrl: string | null;
  musicIndex: number;
  completeTime: number | string | null;
  /** KIE sends `response: null` while the task runs; the client fills in nulls and an empty `originData`. */
  response: VocalSeparationResponse;
  successFlag: VocalSeparationStatus;
  createTime: number | string;
  errorCode: number | null;
  errorMessage: string | null;
  /** [reprise extension] How the stems were made: `exact` when they sum back to the track. Absent on KIE.AI. */
  separation?: { exact: boolean; method: string } | null;
}

// ---------------------------------------------------------------------------
// MIDI (`POST /api/v1/midi/generate`).

/** `POST /api/v1/midi/generate`: MIDI notes of a finished separation task's stems. */
export interface GenerateMidiRequest {
  /** A separation task that succeeded, not a music task. */
  taskId: string;
  /** One stem (an `originData[].id` of the separation); omit it for every stem. */
  audioId?: string;
  callBackUrl: string;
}

/** One note. Times are seconds of the track; KIE sends them as numeric strings and the SDK reads them as numbers. */
export interface MidiNote {
  /** 0–127. */
  pitch: number;
  start: number;
  end: number;
  /** 0–1. */
  velocity: number;
}

export interface MidiInstrument {
  /** E.g. `Drums`. */
  name: string;
  notes: MidiNote[];
}

/** The transcription. `state` is `complete` when it succeeded, the only value KIE documents; the SDK reads any other as a failure. */
export interface MidiData {
  state: string;
  instruments: MidiInstrument[];
}

/** `successFlag` of a MIDI task, an integer: 0 pending, 1 success, 2 create-task failed, 3 MIDI failed. */
export type MidiFlag = 0 | 1 | 2 | 3;

/** `GET /api/v1/midi/record-info` → `data`. Times are epoch milliseconds. */
export interface MidiRecord {
  taskId: string;
  /** KIE's example shows -1. */
  recordTaskId: number;
  /** The stem asked for; null when every stem was. */
  audioId: string | null;
  callbackUrl: string | null;
  completeTime: number | null;
  createTime: number;
  /** Null until the task succeeds (and may stay empty after a `split_stem` separation). */
  midiData: MidiData | null;
  successFlag: MidiFlag;
  /** A string on this route, unlike the others. */
  errorCode: string | null;
  errorMessage: string | null;
  /** [reprise extension] A downloadable `.mid` of the notes; absent on KIE.AI. */
  midiUrl?: string;
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

// ---------------------------------------------------------------------------
// KIE's newer "Market" form of the same operations: one route for every
// operation, the operation named by `model`, inputs in snake_case.

/** Market inputs also take the V6 family (never as the outer `model`). */
export type MarketSunoModel = SunoModel | 'V6' | 'V6_MINI' | 'V6_WILD';

interface MarketSteering {
  negative_tags?: string;
  vocal_gender?: 'm' | 'f';
  style_weight?: number;
  weirdness_constraint?: number;
  audio_weight?: number;
}

interface MarketPersona {
  persona_id?: string;
  persona_model?: PersonaModel;
}

/** `input` of each `ai-music-api/<op>`; required fields as KIE's model registry lists them. */
export interface MarketInputs {
  'ai-music-api/generate': MarketSteering &
    MarketPersona & {
      custom_mode: boolean;
      instrumental: boolean;
      model: MarketSunoModel;
      prompt?: string;
      /** Sung as written; takes priority over `prompt`. */
      lyrics?: string;
      style?: string;
      title?: string;
      /** Seconds (V6 models). */
      duration?: number;
    };
  'ai-music-api/extend': MarketSteering &
    MarketPersona & {
      audio_id: string;
      model: MarketSunoModel;
      default_param_flag?: boolean;
      prompt?: string;
      style?: string;
      title?: string;
      continue_at?: number;
    };
  'ai-music-api/upload-and-cover-audio': MarketSteering &
    MarketPersona & {
      upload_url: string;
      instrumental: boolean;
      model: MarketSunoModel;
      custom_mode?: boolean;
      prompt?: string;
      style?: string;
      title?: string;
    };
  'ai-music-api/upload-and-extend-audio': MarketSteering &
    MarketPersona & {
      upload_url: string;
      model: MarketSunoModel;
      default_param_flag?: boolean;
      instrumental?: boolean;
      continue_at?: number;
      prompt?: string;
      style?: string;
      title?: string;
    };
  'ai-music-api/add-instrumental': Omit<MarketSteering, 'negative_tags'> & {
    upload_url: string;
    title: string;
    tags: string;
    negative_tags: string;
    model?: 'V4_5PLUS' | 'V5' | 'V5_5';
  };
  'ai-music-api/add-vocals': Omit<MarketSteering, 'negative_tags'> & {
    upload_url: string;
    title: string;
    style: string;
    negative_tags: string;
    prompt?: string;
    model?: 'V4_5PLUS' | 'V5';
  };
  'ai-music-api/mashup': MarketSteering & {
    upload_url_list: [string, string];
    model: MarketSunoModel;
    style: string;
    title: string;
    custom_mode?: boolean;
    instrumental?: boolean;
    prompt?: string;
  };
  /** Mode 1 names `task_id` + `audio_id`; mode 2 names `upload_url`. */
  'ai-music-api/replace-section': {
    prompt: string;
    tags: string;
    title: string;
    infill_start_s: number;
    infill_end_s: number;
    full_lyrics: string;
    negative_tags?: string;
    task_id?: string;
    audio_id?: string;
    upload_url?: string;
    model?: string;
  };
  'ai-music-api/boost-music-style': { content: string };
  'ai-music-api/cover-generate': { task_id: string };
  'ai-music-api/generate-lyrics': { prompt: string };
  'ai-music-api/timeStamped-lyrics': { task_id: string; audio_id: string };
  'ai-music-api/convert-to-wav-format': { task_id: string; audio_id: string };
  'ai-music-api/create-music-video': { task_id: string; audio_id: string; author?: string; domain_name?: string };
  'ai-music-api/generate-persona': {
    task_id: string;
    audio_id: string;
    name: string;
    description: string;
    vocal_start?: number;
    vocal_end?: number;
    style?: string;
  };
}

export type MarketModel = keyof MarketInputs;

/** `POST /api/v1/jobs/createTask` body; `model` decides the shape of `input`. */
export type MarketTaskRequest = {
  [M in MarketModel]: { model: M; callBackUrl?: string; input: MarketInputs[M] };
}[MarketModel];

export interface MarketSubmittedTask {
  taskId: string;
  /** KIE answers it equal to `taskId`; older docs omit it, and then the client fills in `taskId`. */
  recordId: string;
}

export type MarketTaskState = 'waiting' | 'queuing' | 'generating' | 'success' | 'fail';

/** `GET /api/v1/jobs/recordInfo` → `data`. Times are epoch milliseconds. */
export interface MarketTaskRecord {
  taskId: string;
  /** The `model` it was created with, e.g. `ai-music-api/generate` (other KIE models appear here too). */
  model: string;
  state: MarketTaskState;
  /** The createTask body as a JSON string. */
  param: string;
  /** The result as a JSON string; `""` until there is one. Read it with {@link parseMarketResult}. */
  resultJson: string;
  failCode: string | number | null;
  failMsg: string | null;
  /** Milliseconds. */
  costTime: number | null;
  completeTime: number | null;
  createTime: number;
  updateTime?: number | null;
}

/**
 * `resultJson`, parsed. Music tasks carry the tracks twice, as reprise writes
 * them (and as the clients in the wild read them): `sunoData` in record-info's
 * camelCase and `data` in the callbacks' snake_case. Image and video models
 * use `resultUrls`, text models `resultObject`.
 */
export interface MarketResult {
  sunoData?: SunoTrack[];
  data?: CallbackTrack[];
  resultUrls?: string[];
  resultObject?: unknown;
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
  attemptLog: Array<{
    startedAt: number;
    durationMs: number;
    httpStatus: number | null;
    errorClass: string | null;
    responseBody: string | null;
    /** The headers the attempt was sent with, signatures included; null when nothing was sent (or recorded before reprise kept them). */
    requestHeaders: Record<string, string> | null;
  }>;
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
  /** Upload-cover, upload-extend and add-vocals only: the uploaded source. */
  source_audio_url?: string;
  source_stream_audio_url?: string;
  source_image_url?: string;
}

export interface SuccessCallbackPayload {
  code: 200;
  msg: string;
  data: { callbackType: 'text' | 'first' | 'complete'; task_id: string; data: CallbackTrack[] };
}

/**
 * A music task's failure. KIE documents two bodies: `data.error` as a string,
 * or `data.data: null` with the reason only in `msg`; parsing gives this one
 * shape for both, with `error` taken from `msg` when the body has none.
 */
export interface ErrorCallbackPayload {
  code: number;
  msg: string;
  data: { callbackType: 'error'; task_id: string; error: string };
}

/** The music-track family's body: generate, extend, the upload routes, add-*, mashup, replace-section. */
export type CallbackPayload = SuccessCallbackPayload | ErrorCallbackPayload;

/**
 * The cover-image family's body (`POST /api/v1/suno/cover/generate`): note the
 * camelCase `data.taskId`, and `images: null` on failure.
 */
export interface CoverImageCallbackPayload {
  code: number;
  msg: string;
  data: { taskId: string; images: string[] | null };
}

/** One variation in a lyrics callback (snake_case `error_message`, unlike record-info). */
export interface LyricsCallbackItem {
  text: string;
  title: string;
  status: 'complete' | 'failed';
  error_message: string;
}

/**
 * The lyrics family's body (`POST /api/v1/lyrics`): one callback per task, its task id under
 * `data.task_id`. On failure `callbackType` is `error` and the item is `failed`, saying why.
 */
export interface LyricsCallbackPayload {
  code: number;
  msg: string;
  data: { callbackType: 'complete' | 'error'; task_id: string; data: LyricsCallbackItem[] };
}

/**
 * The WAV family's body (`POST /api/v1/wav/generate`): camelCase `audioWavUrl`, snake_case
 * `data.task_id`. On failure `audioWavUrl` is null and `msg` says why.
 */
export interface WavCallbackPayload {
  code: number;
  msg: string;
  data: { audioWavUrl: string | null; task_id: string };
}

/** The music-video family's body (`POST /api/v1/mp4/generate`): `video_url` is null on failure and `msg` says why. */
export interface MusicVideoCallbackPayload {
  code: number;
  msg: string;
  data: { task_id: string; video_url: string | null };
}

/** The URL keys of a separation callback's info object: `separate_vocal` and `split_stem` keys, `piano_url` (record-info has it), and reprise's `other_url`. */
export type VocalSeparationUrlKey =
  | 'origin_url'
  | 'instrumental_url'
  | 'vocal_url'
  | 'backing_vocals_url'
  | 'drums_url'
  | 'bass_url'
  | 'guitar_url'
  | 'piano_url'
  | 'keyboard_url'
  | 'percussion_url'
  | 'strings_url'
  | 'synth_url'
  | 'fx_url'
  | 'brass_url'
  | 'woodwinds_url'
  | 'other_url';

/** A separation event's stem names: the callback's URL keys in camelCase, without `_url`. */
export type SeparatedStem =
  | 'vocal'
  | 'instrumental'
  | 'backingVocals'
  | 'drums'
  | 'bass'
  | 'guitar'
  | 'piano'
  | 'keyboard'
  | 'percussion'
  | 'strings'
  | 'synth'
  | 'fx'
  | 'brass'
  | 'woodwinds'
  | 'other';

/** Only the stems the body named; a URL is null for a stem the track has none of. */
export type SeparatedStems = { [K in SeparatedStem]?: string | null };

/** Only the keys the body had; a URL is null for a stem the track has none of. */
export type VocalSeparationInfo = { [K in VocalSeparationUrlKey]?: string | null };

/**
 * The separation family's body (`POST /api/v1/vocal-removal/generate`). KIE's English page names
 * the object `vocal_separation_info`, its Chinese page and sunoapi.org `vocal_removal_info`:
 * parsing reads either and gives it under the first name. It is null on failure.
 */
export interface VocalSeparationCallbackPayload {
  code: number;
  msg: string;
  data: { task_id: string; vocal_separation_info: VocalSeparationInfo | null };
}

/**
 * The MIDI family's body (`POST /api/v1/midi/generate`). KIE's English page puts `task_id` at the
 * top, its Chinese page `taskId` inside `data`; parsing gives it at the top either way, with the
 * note times as numbers. `data` is null when a failure sent none.
 */
export interface MidiCallbackPayload {
  code: number;
  msg: string;
  task_id: string;
  /** `midi_url`: [reprise extension] a downloadable `.mid`. */
  data: (MidiData & { midi_url?: string }) | null;
}

/**
 * The callback of a task made in the Market form whose kind has no body of its own (persona,
 * Boost Music Style, timestamped lyrics): the Market record's own fields, signed over `data.taskId`.
 */
export interface MarketCallbackPayload {
  code: number;
  msg: string;
  data: { taskId: string; state: 'success' | 'fail'; resultJson: string; failCode: string | null; failMsg: string | null };
}
