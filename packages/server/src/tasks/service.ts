import type { Account } from '../accounts/index.js';
import type { Config } from '../config.js';
import { checkInboxCallbackUrl } from '../inbox/store.js';
import { asBody } from './fields.js';
import { type KeyedRequest, keyedTask, replayOf } from './idempotency.js';
import type { TaskInput } from './inputs.js';
import type { TaskKind } from './kinds/kind.js';
import type { SourceContext } from './source.js';
import { precheckAdmission, type Submission, submitTaskOnce } from './submit.js';

/** What the API needs from the task domain to accept new tasks. */
export interface SubmitContext extends SourceContext {
  config: Pick<Config, 'prices' | 'rateLimit' | 'taskTimeoutMs' | 'generateDurationS' | 'extendDurationS' | 'retention' | 'sourceMaxS'>;
  /** Called after a task is committed (wakes the worker). */
  onSubmitted?: (taskId: string) => void;
}

/**
 * The context a kind admits a request with: sources longer than REPRISE_SOURCE_MAX_S are refused,
 * and the kind's price and the account's balance and rate limit are checked once before its first source
 * is fetched from outside (a kind whose price depends on the request is checked at its base price;
 * the transaction still decides). Submissions that fetch nothing skip the extra reads.
 */
function withSubmissionGuards<Input>(context: SubmitContext, kind: TaskKind<Input>, accountId: string): SubmitContext {
  let checked: Promise<void> | undefined;
  const beforeDownload = () => {
    checked ??= precheckAdmission(context.store, accountId, context.config.prices[kind.price], context.config, Date.now());
    return checked;
  };
  return { ...context, beforeDownload, sourceMaxS: context.config.sourceMaxS };
}

/**
 * Accepts a task of any kind: the kind's rules are checked and its sources looked up before
 * anything is written, so a refusal stores and charges nothing; then the task, its debit and
 * its job commit together (tasks/submit.ts). `param` is the request as received (record-info).
 */
export async function submitKind<Input>(context: SubmitContext, kind: TaskKind<Input>, account: Account, body: unknown, param: string): Promise<string> {
  return (await submitKindOnce(context, kind, account, body, param, undefined)).taskId;
}

/**
 * `submitKind` for a request that may carry an Idempotency-Key [EXT] (tasks/idempotency.ts). A key
 * that names the same request within 24 h answers with its task before anything else is done; a
 * key that names another request is a 409. Two requests with one key at once both pass that
 * first look, and the submission's transaction lets one through: the other is answered with the
 * winner's task (`replayed`), and what it fetched is let go.
 */
export async function submitKindOnce<Input>(
  context: SubmitContext,
  kind: TaskKind<Input>,
  account: Account,
  body: unknown,
  param: string,
  idempotency: KeyedRequest | undefined,
): Promise<Submission> {
  if (idempotency) {
    const earlier = await keyedTask(context.store.reader, account.id, idempotency.key, Date.now());
    if (earlier) {
      const replay = replayOf(idempotency, earlier);
      if ('error' in replay) throw replay.error;
      return { taskId: replay.taskId, replayed: true };
    }
  }
  const admitted = await kind.admit(withSubmissionGuards(context, kind, account.id), account.id, asBody(body));
  await checkInboxCallbackUrl(context.store.db, context.publicUrl, account.id, admitted.callbackUrl);
  const fetched = admitted.fetched.flatMap((source) => (source.fetched ? [{ source, bytes: source.fetched }] : []));
  for (const { source, bytes } of fetched) await context.blobs.put(source.blobKey, bytes);
  try {
    const submitted = await submitTaskOnce(
      context.store,
      {
        accountId: account.id,
        type: kind.type,
        param,
        // The kind built it; a kind's input is one of TaskInput's members by construction.
        input: admitted.input as TaskInput,
        parentMusicId: admitted.parentMusicId,
        callbackUrl: admitted.callbackUrl,
        model: admitted.model,
        price: context.config.prices[admitted.price ?? kind.price],
        ...(kind.onePerParent ? { onePerParent: kind.onePerParent } : {}),
        sourceFiles: fetched.map(({ source, bytes }) => ({
          accountId: account.id,
          kind: 'source' as const,
          blobKey: source.blobKey,
          contentType: 'application/octet-stream',
          size: bytes.byteLength,
          fileName: source.name,
          expiresAt: Date.now() + context.config.retention.generatedMs,
        })),
        ...(idempotency ? { idempotency } : {}),
      },
      context.config,
    );
    if (submitted.replayed) {
      // The first request's task has its own sources; these were fetched for nothing.
      for (const { source } of fetched) await context.blobs.delete(source.blobKey);
    } else {
      context.onSubmitted?.(submitted.taskId);
    }
    return submitted;
  } catch (error) {
    // A refused submission leaves no file behind.
    for (const { source } of fetched) await context.blobs.delete(source.blobKey);
    throw error;
  }
}
