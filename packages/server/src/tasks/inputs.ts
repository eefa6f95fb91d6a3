/** What the worker needs to run a task, stored as JSON in `tasks.input`. */
export interface ReplaceTaskInput {
  kind: 'replace';
  /** Blob holding the source audio (a track's MP3, an upload, or a fetched file). */
  sourceBlob: string;
  sourceName: string;
  sourceDurationS: number;
  startS: number;
  endS: number;
  prompt: string;
  tags: string;
  negativeTags: string;
  title: string;
  fullLyrics: string | undefined;
}

export interface GenerateTaskInput {
  kind: 'generate';
  prompt: string;
  style: string;
  title: string;
  negativeTags: string;
  instrumental: boolean;
  customMode: boolean;
  durationS: number;
}

export type TaskInput = ReplaceTaskInput | GenerateTaskInput;

export const TERMINAL_STATUSES = ['SUCCESS', 'CREATE_TASK_FAILED', 'GENERATE_AUDIO_FAILED', 'CALLBACK_EXCEPTION', 'SENSITIVE_WORD_ERROR'] as const;
