/**
 * When the next attempt happens (SPEC §5.1), as plain functions of data.
 * `schedule[n]` is the delay before attempt n+1: attempt 1 counts from the
 * stage's completion, later ones from the end of the previous attempt.
 */
export const JITTER = 0.2;

/** A delay spread by ±20 % so receivers recovering from an outage are not hit in lockstep. */
export function withJitter(delayMs: number, random: () => number = Math.random): number {
  if (delayMs === 0) return 0;
  return Math.round(delayMs * (1 - JITTER + 2 * JITTER * random()));
}

/** `Retry-After` as seconds or an HTTP date, in ms from `now`; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * Delay before the attempt after `attemptsMade` (1-based count of attempts so far
 * in this round), or null when the schedule is exhausted. A receiver's
 * Retry-After is honoured within [step, 2 × step]; otherwise the step is jittered.
 */
export function nextDelay(schedule: readonly number[], attemptsMade: number, retryAfterMs: number | null, random: () => number = Math.random): number | null {
  const step = schedule[attemptsMade];
  if (step === undefined) return null;
  if (retryAfterMs !== null) return Math.min(Math.max(retryAfterMs, step), 2 * step);
  return withJitter(step, random);
}
