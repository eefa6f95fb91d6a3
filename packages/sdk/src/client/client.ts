import { readMidiData } from '../callbacks/payload.js';
import { CallbackPayloadError, RepriseConnectionError, RepriseError } from '../errors.js';
import type {
  AddInstrumentalRequest,
  AddVocalsRequest,
  BoostStyleRequest,
  CallbackLogEntry,
  CoverImageFlag,
  CoverImageRecord,
  CoverImageRequest,
  ExtendRequest,
  GenerateMidiRequest,
  GeneratePersonaRequest,
  GenerateRequest,
  LyricsItem,
  LyricsRecord,
  LyricsRequest,
  MarketSubmittedTask,
  MarketTaskRecord,
  MarketTaskRequest,
  MashupRequest,
  MidiData,
  MidiFlag,
  MidiRecord,
  MusicVideoRecord,
  MusicVideoRequest,
  Persona,
  ReplaceSectionRequest,
  SeparatedStemFile,
  SeparateVocalsRequest,
  StyleBoost,
  SubmittedTask,
  SunoTrack,
  TaskEvent,
  TaskRecord,
  TaskStatus,
  TimestampedLyrics,
  TimestampedLyricsRequest,
  UploadCoverRequest,
  UploadExtendRequest,
  UploadedFile,
  VocalSeparationRecord,
  VocalSeparationResponse,
  WavRecord,
  WavRequest,
} from '../types.js';
import { SseParser } from './sse.js';
import { callApi, type RequestOptions, type SubmitOptions, type TransportConfig } from './transport.js';
import { type FinishedTask, type WaitForTaskOptions, waitForTask } from './wait.js';

export interface ClientOptions {
  apiKey: string;
  /** Default `https://api.kie.ai`; a reprise server, e.g. `http://127.0.0.1:3000`. Paths are the same. */
  baseUrl?: string;
  /**
   * Where the File Upload API lives. Default: `baseUrl`, except that for
   * `https://api.kie.ai` it is KIE's upload host `https://kieai.redpandaai.co`.
   */
  uploadBaseUrl?: string;
  /** Per-attempt time limit for API calls (default 30 s). */
  timeoutMs?: number;
  /** Per-attempt time limit for uploads (default 120 s). */
  uploadTimeoutMs?: number;
  /** Extra attempts for idempotent calls (GET) on 429/455/5xx or a failed connection (default 3). */
  retries?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

const KIE_API = 'https://api.kie.ai';
const KIE_UPLOADS = 'https://kieai.redpandaai.co';

const trimSlash = (url: string): string => url.replace(/\/+$/, '');

/** A body part: bytes, or a Blob (e.g. `await fs.openAsBlob(path)`, which streams from disk). */
export type FileData = Uint8Array | ArrayBuffer | Blob;

export interface UploadTarget {
  /** Folder, e.g. `songs`. */
  uploadPath: string;
  /** Without it the server picks a random name. */
  fileName?: string;
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RepriseError(502, `${what}: expected an object in data`, 200, value);
  return value as Record<string, unknown>;
}

function taskIdOf(data: unknown): SubmittedTask {
  const taskId = object(data, 'submit').taskId;
  if (typeof taskId !== 'string' || taskId === '') throw new RepriseError(502, 'submit: data.taskId is missing', 200, data);
  return { taskId };
}

/**
 * A details route's `data`. api.kie.ai answers an unknown task with HTTP 200
 * `{"code":200,"msg":"success","data":null}`; reprise answers code 404. Both
 * become the same RepriseError (code 404), so callers, and waitForTask, which
 * stops on a 404, need not know which service they talk to.
 */
function found(data: unknown, route: string, taskId: string): Record<string, unknown> {
  if (data === null || data === undefined) throw new RepriseError(404, `${route}: no task ${taskId} (the answer's data is null)`, 200, null);
  return object(data, route);
}

/** KIE answers `response: null` (and `sunoData: null`) while a task runs; callers get empty lists instead. */
function taskRecordOf(data: unknown, taskId: string): TaskRecord {
  const record = found(data, 'record-info', taskId) as unknown as TaskRecord & { response: { sunoData: SunoTrack[] | null } | null };
  if (typeof record.status !== 'string') throw new RepriseError(502, 'record-info: data.status is missing', 200, data);
  const sunoData = record.response?.sunoData ?? [];
  return { ...record, response: { taskId: record.response?.taskId ?? record.taskId, sunoData } };
}

/** The integer flags, and the names KIE's prose also uses for them. */
const COVER_FLAGS: Record<string, CoverImageFlag> = {
  '0': 0,
  '1': 1,
  '2': 2,
  '3': 3,
  PENDING: 0,
  SUCCESS: 1,
  GENERATING: 2,
  CREATE_TASK_FAILED: 3,
  GENERATE_COVER_FAILED: 3,
};

function coverImageRecordOf(data: unknown, taskId: string): CoverImageRecord {
  const record = found(data, 'cover record-info', taskId);
  const flag = COVER_FLAGS[String(record.successFlag)];
  if (flag === undefined) throw new RepriseError(502, 'cover record-info: data.successFlag is not 0, 1, 2 or 3', 200, data);
  const response = record.response as { images?: unknown } | null | undefined;
  const images = Array.isArray(response?.images) ? response.images.filter((url): url is string => typeof url === 'string') : [];
  return { ...(record as unknown as CoverImageRecord), successFlag: flag, response: { images } };
}

/** KIE names the variations `data` in its schema and `lyricsData` in its page example, and sends `response: null` while running. */
function lyricsRecordOf(data: unknown, taskId: string): LyricsRecord {
  const record = found(data, 'lyrics record-info', taskId);
  if (typeof record.status !== 'string') throw new RepriseError(502, 'lyrics record-info: data.status is missing', 200, data);
  const response = record.response as { taskId?: unknown; data?: unknown; lyricsData?: unknown } | null | undefined;
  const list = Array.isArray(response?.data) ? response.data : Array.isArray(response?.lyricsData) ? response.lyricsData : [];
  const items = (list as LyricsItem[]).filter((item) => typeof item === 'object' && item !== null && typeof item.text === 'string');
  const id = typeof response?.taskId === 'string' ? response.taskId : String(record.taskId);
  return { ...(record as unknown as LyricsRecord), response: { taskId: id, data: items } };
}

const WAV_FLAGS = new Set(['PENDING', 'SUCCESS', 'CREATE_TASK_FAILED', 'GENERATE_WAV_FAILED', 'CALLBACK_EXCEPTION']);

/** KIE sends `response: null` until the WAV exists; callers always get `response.audioWavUrl` (null until then). */
function wavRecordOf(data: unknown, taskId: string): WavRecord {
  const record = found(data, 'wav record-info', taskId);
  if (typeof record.successFlag !== 'string' || !WAV_FLAGS.has(record.successFlag))
    throw new RepriseError(
      502,
      'wav record-info: data.successFlag is not PENDING, SUCCESS, CREATE_TASK_FAILED, GENERATE_WAV_FAILED or CALLBACK_EXCEPTION',
      200,
      data,
    );
  const response = record.response as { audioWavUrl?: unknown } | null | undefined;
  const audioWavUrl = typeof response?.audioWavUrl === 'string' && response.audioWavUrl !== '' ? response.audioWavUrl : null;
  return { ...(record as unknown as WavRecord), musicIndex: Number(record.musicIndex), response: { audioWavUrl } };
}

const MUSIC_VIDEO_FLAGS = new Set(['PENDING', 'SUCCESS', 'CREATE_TASK_FAILED', 'GENERATE_MP4_FAILED', 'CALLBACK_EXCEPTION']);

function musicVideoRecordOf(data: unknown, taskId: string): MusicVideoRecord {
  const record = found(data, 'mp4 record-info', taskId);
  if (typeof record.successFlag !== 'string' || !MUSIC_VIDEO_FLAGS.has(record.successFlag))
    throw new RepriseError(
      502,
      'mp4 record-info: data.successFlag is not PENDING, SUCCESS, CREATE_TASK_FAILED, GENERATE_MP4_FAILED or CALLBACK_EXCEPTION',
      200,
      data,
    );
  const response = record.response as { videoUrl?: unknown } | null | undefined;
  const videoUrl = typeof response?.videoUrl === 'string' && response.videoUrl !== '' ? response.videoUrl : null;
  return { ...(record as unknown as MusicVideoRecord), musicIndex: Number(record.musicIndex), response: { videoUrl } };
}

const SEPARATION_FLAGS = new Set(['PENDING', 'SUCCESS', 'CREATE_TASK_FAILED', 'GENERATE_AUDIO_FAILED', 'CALLBACK_EXCEPTION']);

/** record-info's camelCase stem URL fields (`otherUrl`, reprise's, is added only when sent). */
const SEPARATION_URL_FIELDS = [
  'originUrl',
  'instrumentalUrl',
  'vocalUrl',
  'backingVocalsUrl',
  'drumsUrl',
  'bassUrl',
  'guitarUrl',
  'pianoUrl',
  'keyboardUrl',
  'percussionUrl',
  'stringsUrl',
  'synthUrl',
  'fxUrl',
  'brassUrl',
  'woodwindsUrl',
] as const satisfies ReadonlyArray<keyof VocalSeparationResponse>;
type SeparationUrlField = (typeof SEPARATION_URL_FIELDS)[number];

const urlOrNull = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** Epoch milliseconds on this route in KIE's examples, `YYYY-MM-DD HH:MM:SS` elsewhere: either is kept as sent. */
const timeOrNull = (value: unknown): number | string | null => (typeof value === 'number' || typeof value === 'string' ? value : null);

const isStemFile = (item: unknown): item is SeparatedStemFile =>
  typeof item === 'object' && item !== null && typeof (item as SeparatedStemFile).id === 'string' && typeof (item as SeparatedStemFile).audio_url === 'string';

/** The stem files a caller can use (MIDI takes their `id`): entries without an id or a URL are left out. */
const stemFilesOf = (value: unknown): SeparatedStemFile[] => (Array.isArray(value) ? value.filter(isStemFile) : []);

/** KIE sends `response: null` while the task runs; callers always get every URL field (null until there is one) and a list. */
function separationResponseOf(value: unknown): VocalSeparationResponse {
  const response = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const urls = Object.fromEntries(SEPARATION_URL_FIELDS.map((key) => [key, urlOrNull(response[key])])) as Record<SeparationUrlField, string | null>;
  return {
    id: typeof response.id === 'string' ? response.id : null,
    ...urls,
    originData: stemFilesOf(response.originData),
    ...('otherUrl' in response ? { otherUrl: urlOrNull(response.otherUrl) } : {}),
  };
}

function separationRecordOf(data: unknown, taskId: string): VocalSeparationRecord {
  const record = found(data, 'vocal-removal record-info', taskId);
  if (typeof record.successFlag !== 'string' || !SEPARATION_FLAGS.has(record.successFlag))
    throw new RepriseError(
      502,
      'vocal-removal record-info: data.successFlag is not PENDING, SUCCESS, CREATE_TASK_FAILED, GENERATE_AUDIO_FAILED or CALLBACK_EXCEPTION',
      200,
      data,
    );
  return {
    ...(record as unknown as VocalSeparationRecord),
    musicIndex: Number(record.musicIndex),
    completeTime: timeOrNull(record.completeTime),
    response: separationResponseOf(record.response),
  };
}

/** The integer flags, and the same digits as strings. */
const MIDI_FLAGS: Record<string, MidiFlag> = { '0': 0, '1': 1, '2': 2, '3': 3 };

/** `midiData` with its note times as numbers (KIE sends numeric strings); a malformed one is the server's fault (502). */
function midiDataOf(value: unknown, data: unknown): MidiData | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  try {
    return readMidiData(value as Record<string, unknown>, 'midiData');
  } catch (error) {
    if (error instanceof CallbackPayloadError) throw new RepriseError(502, `midi record-info: data.${error.message}`, 200, data);
    throw error;
  }
}

function midiRecordOf(data: unknown, taskId: string): MidiRecord {
  const record = found(data, 'midi record-info', taskId);
  const flag = MIDI_FLAGS[String(record.successFlag)];
  if (flag === undefined) throw new RepriseError(502, 'midi record-info: data.successFlag is not 0, 1, 2 or 3', 200, data);
  const { midiUrl, ...rest } = record;
  return {
    ...(rest as unknown as Omit<MidiRecord, 'midiUrl'>),
    audioId: typeof record.audioId === 'string' && record.audioId !== '' ? record.audioId : null,
    completeTime: typeof record.completeTime === 'number' ? record.completeTime : null,
    midiData: midiDataOf(record.midiData, data),
    successFlag: flag,
    // Other routes send the code as a number; this one's type says string.
    errorCode: record.errorCode === undefined || record.errorCode === null ? null : String(record.errorCode),
    ...(typeof midiUrl === 'string' && midiUrl !== '' ? { midiUrl } : {}),
  };
}

/** The timestamped words are what a caller iterates over: check that they are a list. */
function timestampedLyricsOf(data: unknown): TimestampedLyrics {
  const value = object(data, 'get-timestamped-lyrics');
  if (!Array.isArray(value.alignedWords)) throw new RepriseError(502, 'get-timestamped-lyrics: data.alignedWords is missing', 200, data);
  return { ...(value as unknown as TimestampedLyrics), waveformData: Array.isArray(value.waveformData) ? (value.waveformData as number[]) : [] };
}

const MARKET_STATES = new Set(['waiting', 'queuing', 'generating', 'success', 'fail']);

/** KIE sends `resultJson: ""` (sometimes null) before a result exists; callers always get a string. */
function marketRecordOf(data: unknown, taskId: string): MarketTaskRecord {
  const record = found(data, 'jobs/recordInfo', taskId);
  if (typeof record.state !== 'string' || !MARKET_STATES.has(record.state))
    throw new RepriseError(502, 'jobs/recordInfo: data.state is not waiting, queuing, generating, success or fail', 200, data);
  return {
    ...(record as unknown as MarketTaskRecord),
    param: typeof record.param === 'string' ? record.param : '',
    resultJson: typeof record.resultJson === 'string' ? record.resultJson : '',
  };
}

function marketSubmittedOf(data: unknown): MarketSubmittedTask {
  const { taskId } = taskIdOf(data);
  const recordId = (data as { recordId?: unknown }).recordId;
  return { taskId, recordId: typeof recordId === 'string' && recordId !== '' ? recordId : taskId };
}

/** The synchronous routes answer their result at once; check the one field a caller cannot do without. */
function syncResultOf<T>(data: unknown, route: string, required: keyof T & string): T {
  const value = object(data, route);
  if (typeof value[required] !== 'string') throw new RepriseError(502, `${route}: data.${required} is missing`, 200, data);
  return value as T;
}

function uploadedOf(data: unknown): UploadedFile {
  const file = object(data, 'upload') as unknown as UploadedFile;
  if (typeof file.downloadUrl !== 'string') throw new RepriseError(502, 'upload: data.downloadUrl is missing', 200, data);
  return file;
}

function toBlob(file: FileData, type: string | undefined): Blob {
  if (file instanceof Blob) return file;
  return new Blob([file instanceof ArrayBuffer ? new Uint8Array(file) : file], type ? { type } : {});
}

/**
 * A typed client for reprise and for KIE.AI's Suno API (same paths, same
 * envelope). Every method resolves with the envelope's `data` or rejects with
 * a {@link RepriseError} (`code`, `msg`) or a {@link RepriseConnectionError}.
 * Reads are retried with backoff on 429/455/5xx; submissions and uploads are
 * sent once, never retried, so nothing is charged or stored twice.
 */
export class Client {
  readonly baseUrl: string;
  readonly uploadBaseUrl: string;
  readonly #config: TransportConfig;
  readonly #uploadTimeoutMs: number;

  constructor(options: ClientOptions) {
    if (typeof options?.apiKey !== 'string' || options.apiKey === '') throw new TypeError('Client: apiKey is required');
    this.baseUrl = trimSlash(options.baseUrl ?? KIE_API);
    this.uploadBaseUrl = trimSlash(options.uploadBaseUrl ?? (this.baseUrl === KIE_API ? KIE_UPLOADS : this.baseUrl));
    this.#config = {
      apiKey: options.apiKey,
      fetch: options.fetch ?? globalThis.fetch,
      timeoutMs: options.timeoutMs ?? 30_000,
      retries: options.retries ?? 3,
      retryBaseDelayMs: options.retryBaseDelayMs ?? 500,
      retryMaxDelayMs: options.retryMaxDelayMs ?? 10_000,
      userAgent: '@reprise/sdk',
    };
    this.#uploadTimeoutMs = options.uploadTimeoutMs ?? 120_000;
  }

  #get(path: string, options: RequestOptions = {}): Promise<unknown> {
    return callApi(this.#config, {
      method: 'GET',
      url: `${this.baseUrl}${path}`,
      idempotent: true,
      timeoutMs: options.timeoutMs ?? this.#config.timeoutMs,
      signal: options.signal,
    });
  }

  #post(url: string, body: string | FormData, timeoutMs: number, options: RequestOptions = {}): Promise<unknown> {
    return callApi(this.#config, { method: 'POST', url, body, idempotent: false, timeoutMs: options.timeoutMs ?? timeoutMs, signal: options.signal });
  }

  /** A JSON POST to the API: sent once, never retried (a retried submission could be charged twice). */
  #send(path: string, request: object, options?: RequestOptions): Promise<unknown> {
    return this.#post(`${this.baseUrl}${path}`, JSON.stringify(request), this.#config.timeoutMs, options);
  }

  /**
   * A task submission: sent once, unless it carries an idempotency key, with which the server
   * answers a repeat with the first task (so it is retried like a read).
   */
  #submit(path: string, request: object, options: SubmitOptions = {}): Promise<unknown> {
    const { idempotencyKey, ...rest } = options;
    if (idempotencyKey === undefined) return this.#send(path, request, rest);
    return callApi(this.#config, {
      method: 'POST',
      url: `${this.baseUrl}${path}`,
      body: JSON.stringify(request),
      headers: { 'idempotency-key': idempotencyKey },
      idempotent: true,
      timeoutMs: rest.timeoutMs ?? this.#config.timeoutMs,
      signal: rest.signal,
    });
  }

  /** `POST /api/v1/generate`: two songs; callbacks at `text`, `first` and `complete`. */
  async generate(request: GenerateRequest, options?: SubmitOptions): Promise<SubmittedTask> {
    return taskIdOf(await this.#submit('/api/v1/generate', request, options));
  }

  /** `POST /api/v1/generate/extend`: continues track `audioId` as a new task; music-track callbacks. */
  async extend(request: ExtendRequest, options?: SubmitOptions): Promise<SubmittedTask> {
    return taskIdOf(await this.#submit('/api/v1/generate/extend', request, options));
  }

  /** `POST /api/v1/generate/upload-extend`: continues an uploaded song; its tracks carry `source_*` URLs. */
  async uploadExtend(request: UploadExtendRequest, options?: SubmitOptions): Promise<SubmittedTask> {
    return taskIdOf(await this.#submit('/api/v1/generate/upload-extend', request, options));
  }

  /** `POST /api/v1/generate/upload-cover`: re-performs an uploaded song; its tracks carry `source_*` URLs. */
  async uploadCover(request: UploadCoverRequest, options?: SubmitOptions): Promise<SubmittedTask> {
    return taskIdOf(await this.#submit('/api/v1/generate/upload-cover', request, options));
  }

  /** `POST /api/v1/generate/add-instrumental`: accompaniment for an uploaded vocal (`tags` names the styles). */
  async addInstrumental(request: AddInstrumentalRequest, options?: SubmitOptions): Promise<SubmittedTask> {
    return taskIdOf(await this.#submit('/api/v1/generate/add-instrumental', request, options));
  }

  /** `POST /api/v1/generate/add-vocals`: vocals for an uploaded instrumental (`style` names the styles); tracks carry `source_*` URLs. */
  async addVocals(request: AddVocalsRequest, options?: SubmitOptions): Promise<SubmittedTask> {
    return taskIdOf(await this.#submit('/api/v1/generate/add-vocals', request, options));
  }

  /** `POST /api/v1/generate/mashup`: two uploaded songs into one. */
  async mashup(request: MashupRequest, options?: SubmitOptions): Promise<SubmittedTask> {
    return taskIdOf(await this.#submit('/api/v1/generate/mashup', request, options));
  }

  /** `POST /api/v1/generate/replace-section`: mode 1 (`taskId` + `audioId`) or mode 2 (`uploadUrl`). */
  async replaceSection(request: ReplaceSectionRequest, options?: SubmitOptions): Promise<SubmittedTask> {
    return taskIdOf(await this.#submit('/api/v1/generate/replace-section', request, options));
  }

  /**
   * `GET /api/v1/generate/record-info`: a music task (any of the routes above), for polling.
   * An unknown task rejects with a RepriseError of code 404, also where KIE answers `data: null`.
   */
  async getTask(taskId: string, options?: RequestOptions): Promise<TaskRecord> {
    return taskRecordOf(await this.#get(`/api/v1/generate/record-info?taskId=${encodeURIComponent(taskId)}`, options), taskId);
  }

  /** `POST /api/v1/generate/generate-persona`: answered at once, no task. Never retried: one persona per track. */
  async generatePersona(request: GeneratePersonaRequest, options?: RequestOptions): Promise<Persona> {
    return syncResultOf<Persona>(await this.#send('/api/v1/generate/generate-persona', request, options), 'generate-persona', 'personaId');
  }

  /** `POST /api/v1/style/generate`: a richer style text, answered at once (and charged). */
  async boostStyle(request: BoostStyleRequest, options?: RequestOptions): Promise<StyleBoost> {
    return syncResultOf<StyleBoost>(await this.#send('/api/v1/style/generate', request, options), 'style/generate', 'result');
  }

  /**
   * `POST /api/v1/suno/cover/generate`: cover art for music task `taskId`; the callback has
   * `data.taskId` and `data.images`. One per music task: a second request is refused
   * (KIE: code 400 with the existing `taskId` in the error's `data`).
   */
  async generateCoverImage(request: CoverImageRequest, options?: SubmitOptions): Promise<SubmittedTask> {
    return taskIdOf(await this.#submit('/api/v1/suno/cover/generate', request, options));
  }

  /** `GET /api/v1/suno/cover/record-info`: the cover-image task; an unknown one rejects with code 404. */
  async getCoverImageTask(taskId: string, options?: RequestOptions): Promise<CoverImageRecord> {
    return coverImageRecordOf(await this.#get(`/api/v1/suno/cover/record-info?taskId=${encodeURIComponent(taskId)}`, options), taskId);
  }

  /** `POST /api/v1/lyrics`: two variations of lyrics for `prompt` (≤ 200 characters); one callback with `data.data[{text, title}]`. */
  async generateLyrics(request: LyricsRequest, options?: SubmitOptions): Promise<SubmittedTask> {
    return taskIdOf(await this.#submit('/api/v1/lyrics', request, options));
  }

  /** `GET /api/v1/lyrics/record-info`: the lyrics task (`status`, `response.data`); an unknown one rejects with code 404. */
  async getLyricsTask(taskId: string, options?: RequestOptions): Promise<LyricsRecord> {
    return lyricsRecordOf(await this.#get(`/api/v1/lyrics/record-info?taskId=${encodeURIComponent(taskId)}`, options), taskId);
  }

  /**
   * `POST /api/v1/generate/get-timestamped-lyrics`: the words of track `audioId` with their times
   * and its waveform, answered at once (and charged). An instrumental has no words.
   */
  async getTimestampedLyrics(request: TimestampedLyricsRequest, options?: RequestOptions): Promise<TimestampedLyrics> {
    return timestampedLyricsOf(await this.#send('/api/v1/generate/get-timestamped-lyrics', request, options));
  }

  /**
   * `POST /api/v1/wav/generate`: a WAV of track `audioId`; the callback has `data.audioWavUrl`.
   * One per track: a second request is refused with code 409 and the first task's id in the error's `data`.
   */
  async convertToWav(request: WavRequest, options?: SubmitOptions): Promise<SubmittedTask> {
    return taskIdOf(await this.#submit('/api/v1/wav/generate', request, options));
  }

  /** `GET /api/v1/wav/record-info`: the WAV task (`successFlag`, `response.audioWavUrl`); an unknown one rejects with code 404. */
  async getWavTask(taskId: string, options?: RequestOptions): Promise<WavRecord> {
    return wavRecordOf(await this.#get(`/api/v1/wav/record-info?taskId=${encodeURIComponent(taskId)}`, options), taskId);
  }

  /** `POST /api/v1/mp4/generate`: a music video of track `audioId` (cover, title, `author`, `domainName`, a spectrum moving with the music); the callback has `data.video_url`. */
  async createMusicVideo(request: MusicVideoRequest, options?: SubmitOptions): Promise<SubmittedTask> {
    return taskIdOf(await this.#submit('/api/v1/mp4/generate', request, options));
  }

  /** `GET /api/v1/mp4/record-info`: the video task (`successFlag`, `response.videoUrl`); an unknown one rejects with code 404. */
  async getMusicVideoTask(taskId: string, options?: RequestOptions): Promise<MusicVideoRecord> {
    return musicVideoRecordOf(await this.#get(`/api/v1/mp4/record-info?taskId=${encodeURIComponent(taskId)}`, options), taskId);
  }

  /**
   * `POST /api/v1/vocal-removal/generate`: the stems of track `audioId` (`separate_vocal`: vocals and
   * instrumental; `split_stem`: up to twelve instruments); the callback has `data.vocal_separation_info`.
   */
  async separateVocals(request: SeparateVocalsRequest, options?: SubmitOptions): Promise<SubmittedTask> {
    return taskIdOf(await this.#submit('/api/v1/vocal-removal/generate', request, options));
  }

  /** `GET /api/v1/vocal-removal/record-info`: the separation task (`successFlag`, `response.*Url`, `response.originData`); an unknown one rejects with code 404. */
  async getVocalSeparationTask(taskId: string, options?: RequestOptions): Promise<VocalSeparationRecord> {
    return separationRecordOf(await this.#get(`/api/v1/vocal-removal/record-info?taskId=${encodeURIComponent(taskId)}`, options), taskId);
  }

  /** `POST /api/v1/midi/generate`: MIDI notes of a finished separation task's stems (`audioId`: one stem's `originData[].id`). */
  async generateMidi(request: GenerateMidiRequest, options?: SubmitOptions): Promise<SubmittedTask> {
    return taskIdOf(await this.#submit('/api/v1/midi/generate', request, options));
  }

  /** `GET /api/v1/midi/record-info`: the MIDI task (`successFlag` 0–3, `midiData` with numeric note times); an unknown one rejects with code 404. */
  async getMidiTask(taskId: string, options?: RequestOptions): Promise<MidiRecord> {
    return midiRecordOf(await this.#get(`/api/v1/midi/record-info?taskId=${encodeURIComponent(taskId)}`, options), taskId);
  }

  /**
   * `POST /api/v1/jobs/createTask` (KIE's "Market" form): any operation above as
   * `{ model: 'ai-music-api/<op>', callBackUrl?, input: { snake_case } }`.
   */
  async createMarketTask(request: MarketTaskRequest, options?: SubmitOptions): Promise<MarketSubmittedTask> {
    return marketSubmittedOf(await this.#submit('/api/v1/jobs/createTask', request, options));
  }

  /**
   * `GET /api/v1/jobs/recordInfo`: a Market task (`state` waiting … success | fail). Read the
   * result with `parseMarketResult(record)` or `marketTracksOf(record)`. An unknown task
   * rejects with a RepriseError (code 404 for `data: null`; KIE's own 422 "recordInfo is null" as is).
   */
  async getMarketTask(taskId: string, options?: RequestOptions): Promise<MarketTaskRecord> {
    return marketRecordOf(await this.#get(`/api/v1/jobs/recordInfo?taskId=${encodeURIComponent(taskId)}`, options), taskId);
  }

  /** `GET /api/v1/chat/credit`: the remaining credits. */
  async getCredits(options?: RequestOptions): Promise<number> {
    const data = await this.#get('/api/v1/chat/credit', options);
    if (typeof data !== 'number') throw new RepriseError(502, 'credit: data is not a number', 200, data);
    return data;
  }

  /** `POST /api/file-stream-upload` (multipart). For a large file pass `await fs.openAsBlob(path)`: it is streamed from disk. */
  async uploadFile(input: UploadTarget & { file: FileData; contentType?: string }, options?: RequestOptions): Promise<UploadedFile> {
    const form = new FormData();
    form.append('file', toBlob(input.file, input.contentType), input.fileName ?? 'upload');
    form.append('uploadPath', input.uploadPath);
    if (input.fileName !== undefined) form.append('fileName', input.fileName);
    return uploadedOf(await this.#post(`${this.uploadBaseUrl}/api/file-stream-upload`, form, this.#uploadTimeoutMs, options));
  }

  /** `POST /api/file-base64-upload`: `data` (bytes, encoded here) or `base64Data` (raw base64 or a `data:` URL). */
  async uploadBase64(
    input: UploadTarget & ({ data: Uint8Array | ArrayBuffer; base64Data?: never } | { base64Data: string; data?: never }),
    options?: RequestOptions,
  ): Promise<UploadedFile> {
    const base64Data =
      input.base64Data ?? Buffer.from(input.data instanceof ArrayBuffer ? new Uint8Array(input.data) : (input.data as Uint8Array)).toString('base64');
    const body = JSON.stringify({ base64Data, uploadPath: input.uploadPath, ...(input.fileName !== undefined ? { fileName: input.fileName } : {}) });
    return uploadedOf(await this.#post(`${this.uploadBaseUrl}/api/file-base64-upload`, body, this.#uploadTimeoutMs, options));
  }

  /** `POST /api/file-url-upload`: the server fetches `fileUrl` (30 s limit, SSRF-guarded on reprise). */
  async uploadFromUrl(input: UploadTarget & { fileUrl: string }, options?: RequestOptions): Promise<UploadedFile> {
    const body = JSON.stringify({
      fileUrl: input.fileUrl,
      uploadPath: input.uploadPath,
      ...(input.fileName !== undefined ? { fileName: input.fileName } : {}),
    });
    return uploadedOf(await this.#post(`${this.uploadBaseUrl}/api/file-url-upload`, body, this.#uploadTimeoutMs, options));
  }

  /** `GET /api/v1/tasks/{taskId}/callbacks` [reprise]: every callback of the task and its attempts. */
  async getCallbacks(taskId: string, options?: RequestOptions): Promise<CallbackLogEntry[]> {
    const data = await this.#get(`/api/v1/tasks/${encodeURIComponent(taskId)}/callbacks`, options);
    if (!Array.isArray(data)) throw new RepriseError(502, 'callbacks: data is not a list', 200, data);
    return data as CallbackLogEntry[];
  }

  /** `POST /api/v1/tasks/{taskId}/callbacks/redeliver` [reprise]: sends the latest callback again, same `webhook-id`. */
  async redeliverCallback(taskId: string, options?: RequestOptions): Promise<{ deliveryId: string }> {
    const data = object(await this.#send(`/api/v1/tasks/${encodeURIComponent(taskId)}/callbacks/redeliver`, {}, options), 'redeliver');
    if (typeof data.deliveryId !== 'string') throw new RepriseError(502, 'redeliver: data.deliveryId is missing', 200, data);
    return { deliveryId: data.deliveryId };
  }

  /**
   * `GET /api/v1/tasks/{taskId}/events` [reprise]: the task's status changes as
   * they happen, starting with the current one; the stream ends after a final
   * status. Breaking out of the loop (or aborting) closes the connection.
   * `timeoutMs` limits the wait for the stream to open, not its length.
   */
  async *events(taskId: string, options: RequestOptions = {}): AsyncGenerator<TaskEvent, void, undefined> {
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    const timeoutMs = options.timeoutMs ?? this.#config.timeoutMs;
    const url = `${this.baseUrl}/api/v1/tasks/${encodeURIComponent(taskId)}/events`;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    let response: Response;
    try {
      response = await this.#config.fetch(url, {
        headers: { authorization: `Bearer ${this.#config.apiKey}`, accept: 'text/event-stream', 'user-agent': this.#config.userAgent },
        signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new RepriseConnectionError(`GET ${url}: ${timedOut ? `no answer within ${timeoutMs} ms` : 'connection failed'}`, { timedOut, cause: error });
    } finally {
      clearTimeout(timer);
    }
    try {
      if (!response.ok || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        const text = await response.text().catch(() => '');
        let envelope: { code?: unknown; msg?: unknown } = {};
        try {
          envelope = JSON.parse(text) as typeof envelope;
        } catch {
          // not an envelope: use the HTTP status
        }
        const code = typeof envelope.code === 'number' && envelope.code !== 200 ? envelope.code : response.ok ? 502 : response.status;
        throw new RepriseError(code, typeof envelope.msg === 'string' ? envelope.msg : `events: HTTP ${response.status}`, response.status);
      }
      if (!response.body) return;
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      const parser = new SseParser();
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (options.signal?.aborted) throw options.signal.reason;
          throw new RepriseConnectionError(`GET ${url}: the event stream broke`, { timedOut: false, cause: error });
        }
        const messages = chunk.done ? [...parser.push(decoder.decode()), ...parser.end()] : parser.push(decoder.decode(chunk.value, { stream: true }));
        for (const message of messages) {
          const event = taskEventOf(message.event, message.data);
          if (event) yield event;
        }
        if (chunk.done) return;
      }
    } finally {
      controller.abort();
    }
  }

  /** Resolves when the task finishes: see {@link waitForTask}. */
  waitForTask(taskId: string, options?: WaitForTaskOptions): Promise<FinishedTask> {
    return waitForTask(this, taskId, options);
  }
}

function taskEventOf(name: string, data: string): TaskEvent | null {
  if (name !== 'status') return null;
  try {
    const value = JSON.parse(data) as { taskId?: unknown; status?: unknown };
    if (typeof value.taskId === 'string' && typeof value.status === 'string') return { taskId: value.taskId, status: value.status as TaskStatus };
  } catch {
    // A malformed event is skipped; the stream goes on.
  }
  return null;
}
