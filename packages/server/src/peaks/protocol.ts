import type { MinMaxPeaks } from '../audio/analysis/min-max.js';

/** Messages between the peaks thread and the process that asks it (peaks/thread.ts). */
export interface PeaksRequest {
  id: number;
  /** The whole file, moved to the thread (not copied). */
  bytes: Uint8Array;
  points: number;
}

export type PeaksReply = { id: number; peaks: MinMaxPeaks } | { id: number; error: string; unreadable: boolean };
