import { WebhookVerificationError } from '../errors.js';

/** SPEC §5.3 and every Standard Webhooks library: ±5 minutes. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const DIGITS = /^[0-9]{1,15}$/;

export interface FreshnessOptions {
  /** Accepted clock difference in seconds, both directions. Default 300. */
  toleranceSeconds?: number;
  /** The receiver's clock: a Date or milliseconds since the epoch. Default: now. */
  now?: Date | number;
}

export function nowSeconds(now: Date | number | undefined): number {
  const ms = now === undefined ? Date.now() : typeof now === 'number' ? now : now.getTime();
  return Math.floor(ms / 1000);
}

export function checkTolerance(toleranceSeconds: number | undefined): number {
  const tolerance = toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (typeof tolerance !== 'number' || Number.isNaN(tolerance) || tolerance < 0) throw new TypeError('toleranceSeconds must be a number ≥ 0');
  return tolerance;
}

/**
 * The header's Unix seconds, checked against the clock. Only plain digits are
 * accepted: `parseInt` would read "1614265330abc" or "1e9" as a time.
 */
export function checkTimestamp(raw: string, header: string, options: FreshnessOptions): number {
  if (!DIGITS.test(raw)) throw new WebhookVerificationError('invalid_timestamp', `${header}: expected integer Unix seconds`, header);
  const timestamp = Number(raw);
  const now = nowSeconds(options.now);
  const tolerance = checkTolerance(options.toleranceSeconds);
  if (now - timestamp > tolerance)
    throw new WebhookVerificationError('timestamp_too_old', `${header}: ${now - timestamp} s old (tolerance ${tolerance} s)`, header);
  if (timestamp - now > tolerance)
    throw new WebhookVerificationError('timestamp_too_new', `${header}: ${timestamp - now} s in the future (tolerance ${tolerance} s)`, header);
  return timestamp;
}
