import type { AddInstrumentalTaskInput } from './kinds/add-instrumental.js';
import type { AddVocalsTaskInput } from './kinds/add-vocals.js';
import type { CoverImageTaskInput } from './kinds/cover-image.js';
import type { ExtendTaskInput } from './kinds/extend.js';
import type { GenerateTaskInput } from './kinds/generate.js';
import type { LyricsTaskInput } from './kinds/lyrics.js';
import type { BoostTaskInput, PersonaTaskInput, TimestampedLyricsTaskInput } from './kinds/market-only.js';
import type { MashupTaskInput } from './kinds/mashup.js';
import type { MidiTaskInput } from './kinds/midi.js';
import type { MusicVideoTaskInput } from './kinds/music-video.js';
import type { ReplaceTaskInput } from './kinds/replace-section.js';
import type { UploadCoverTaskInput } from './kinds/upload-cover.js';
import type { UploadExtendTaskInput } from './kinds/upload-extend.js';
import type { VocalRemovalTaskInput } from './kinds/vocal-removal.js';
import type { WavTaskInput } from './kinds/wav.js';

/** What the worker needs to run a task, stored as JSON in `tasks.input`; `kind` names its task kind. */
export type TaskInput =
  | GenerateTaskInput
  | ReplaceTaskInput
  | ExtendTaskInput
  | UploadExtendTaskInput
  | UploadCoverTaskInput
  | AddInstrumentalTaskInput
  | AddVocalsTaskInput
  | MashupTaskInput
  | CoverImageTaskInput
  | BoostTaskInput
  | PersonaTaskInput
  | LyricsTaskInput
  | TimestampedLyricsTaskInput
  | WavTaskInput
  | MusicVideoTaskInput
  | VocalRemovalTaskInput
  | MidiTaskInput;

export type { AddInstrumentalTaskInput } from './kinds/add-instrumental.js';
export type { AddVocalsTaskInput } from './kinds/add-vocals.js';
export type { CoverImageTaskInput } from './kinds/cover-image.js';
export type { ExtendTaskInput } from './kinds/extend.js';
export type { GenerateTaskInput } from './kinds/generate.js';
export type { LyricsTaskInput } from './kinds/lyrics.js';
export type { MashupTaskInput } from './kinds/mashup.js';
export type { MidiTaskInput } from './kinds/midi.js';
export type { ReplaceTaskInput } from './kinds/replace-section.js';
export type { UploadCoverTaskInput } from './kinds/upload-cover.js';
export type { UploadExtendTaskInput } from './kinds/upload-extend.js';
export type { VocalRemovalTaskInput } from './kinds/vocal-removal.js';
export type { WavTaskInput } from './kinds/wav.js';

export const TERMINAL_STATUSES = ['SUCCESS', 'CREATE_TASK_FAILED', 'GENERATE_AUDIO_FAILED', 'CALLBACK_EXCEPTION', 'SENSITIVE_WORD_ERROR'] as const;
