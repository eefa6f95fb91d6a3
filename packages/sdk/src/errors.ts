/**
 * Every failure the SDK reports has its own class and a machine-readable
 * `code`, so callers branch on data rather than on message text.
 */

/** The API answered, and the answer was not a success: KIE's envelope `code` and `msg`. */
export class RepriseError extends Error {
  override readonly name = 'RepriseError';
  /** The envelope's `code` (KIE's: 401, 402, 404, 413, 422, 429, 455, 500, …), or the HTTP status when the body was not an envelope. */
  readonly code: number;
  /** The envelope's `msg`: for validation errors it names the field and the rule. */
  readonly msg: string;
  readonly httpStatus: number;
  readonly data: unknown;

  constructor(code: number, msg: string, httpStatus: number, data: unknown = null) {
    super(`${code}: ${msg}`);
    this.code = code;
    this.msg = msg;
    this.httpStatus = httpStatus;
    this.data = data;
  }
}

/** No answer: the connection failed or the per-request time limit passed. */
export class RepriseConnectionError extends Error {
  override readonly name = 'RepriseConnectionError';
  readonly timedOut: boolean;

  constructor(message: string, options: { timedOut: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.timedOut = options.timedOut;
  }
}

export type WebhookVerificationErrorCode =
  /** A configured key is empty, not base64, the wrong kind (a `whsk_` signing key given to a verifier) or the wrong length. */
  | 'invalid_key'
  /** A required header is absent or empty. */
  | 'missing_header'
  /** A header is repeated where one value is needed, too long, or holds characters no sender produces. */
  | 'malformed_header'
  /** The timestamp header is not a non-negative integer of Unix seconds. */
  | 'invalid_timestamp'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  /** No signature of a supported version matches any trusted key. */
  | 'no_matching_signature'
  /** The body is not JSON (when it had to be parsed). */
  | 'invalid_json'
  /** KIE scheme: the JSON body has no task id (`data.task_id`, `data.taskId` or `task_id`) to check the signature against, or names two different ones. */
  | 'invalid_payload';

/** A webhook that must not be trusted. Never a raw SyntaxError or TypeError. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  readonly code: WebhookVerificationErrorCode;
  /** The header concerned, when there is one. */
  readonly header: string | null;

  constructor(code: WebhookVerificationErrorCode, message: string, header: string | null = null) {
    super(message);
    this.code = code;
    this.header = header;
  }
}

/** A verified callback whose JSON does not have the shape of its family's body. */
export class CallbackPayloadError extends Error {
  override readonly name = 'CallbackPayloadError';
  readonly code = 'invalid_payload' as const;
  /** Where the problem is, e.g. `data.task_id` or `data.data[0].duration`. */
  readonly path: string;

  constructor(path: string, rule: string) {
    super(`${path}: ${rule}`);
    this.path = path;
  }
}

/** waitForTask gave up: the task had not finished within `timeoutMs`. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
  readonly code = 'timeout' as const;
  readonly taskId: string;
  readonly timeoutMs: number;

  constructor(taskId: string, timeoutMs: number) {
    super(`task ${taskId} did not finish within ${timeoutMs} ms`);
    this.taskId = taskId;
    this.timeoutMs = timeoutMs;
  }
}
