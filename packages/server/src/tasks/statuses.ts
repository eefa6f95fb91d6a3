import type { TaskStatus } from '@reprise/sdk';

/** Every status a task of the music family can have, in the order a task goes through them. */
export const TASK_STATUSES: readonly TaskStatus[] = [
  'PENDING',
  'TEXT_SUCCESS',
  'FIRST_SUCCESS',
  'SUCCESS',
  'CREATE_TASK_FAILED',
  'GENERATE_AUDIO_FAILED',
  'CALLBACK_EXCEPTION',
  'SENSITIVE_WORD_ERROR',
];
