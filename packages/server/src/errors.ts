/**
 * A refusal that reaches the client as the KIE envelope `{code, msg, data: null}`.
 * Codes are KIE's (SPEC §1); the HTTP status is api/errors.ts `httpStatusFor`.
 */
export type ApiErrorCode = 400 | 401 | 402 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 455 | 500 | 503 | 505;

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    /** Forces the HTTP status: file downloads are plain HTTP, where "not found" must be a 404. */
    readonly httpStatus?: number,
    /** The envelope's `data`, where KIE answers a refusal with one (a second cover request names the first). */
    readonly data: unknown = null,
  ) {
    super(message);
  }
}

export const unauthorized = () => new ApiError(401, 'You do not have access permissions');
export const invalid = (field: string, rule: string) => new ApiError(422, `${field}: ${rule}`);
