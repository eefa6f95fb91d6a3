/** Where the making of a music video failed. */
export type MusicVideoStage = 'input' | 'picture' | 'video' | 'audio' | 'mux';

/**
 * A music video could not be made. Nothing was written anywhere: the function that throws it
 * returns bytes or throws, so a caller fails the task (code 531) with nothing to clean up.
 * `stage` says which step failed and `cause` holds the error underneath, if any.
 */
export class MusicVideoError extends Error {
  override readonly name = 'MusicVideoError';
  readonly stage: MusicVideoStage;

  constructor(stage: MusicVideoStage, message: string, options?: { cause?: unknown }) {
    super(`music video (${stage}): ${message}`, options);
    this.stage = stage;
  }
}

/**
 * What to throw for `error`, met while doing `what`: an abort (a cancelled task is not a failed
 * one) and a MusicVideoError go on as they are, anything else becomes a MusicVideoError of `stage`.
 */
export function failure(stage: MusicVideoStage, what: string, error: unknown, signal?: AbortSignal): unknown {
  if ((signal?.aborted && error === signal.reason) || error instanceof MusicVideoError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new MusicVideoError(stage, `${what}: ${detail}`, { cause: error });
}

/** Runs `work`, turning its errors as `failure` does. */
export async function during<T>(stage: MusicVideoStage, what: string, work: () => Promise<T> | T, signal?: AbortSignal): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw failure(stage, what, error, signal);
  }
}
