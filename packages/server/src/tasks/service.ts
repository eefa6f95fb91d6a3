import type { Account } from '../accounts/index.js';
import type { Config } from '../config.js';
import { asBody } from './fields.js';
import type { TaskInput } from './inputs.js';
import type { TaskKind } from './kinds/kind.js';
import type { SourceContext } from './source.js';
import { submitTask } from './submit.js';

/** What the API needs from the task domain to accept new tasks. */
export interface SubmitContext extends SourceContext {
  config: Pick<Config, 'prices' | 'rateLimit' | 'taskTimeoutMs' | 'generateDurationS' | 'extendDurationS' | 'retention'>;
  /** Called after a task is committed (wakes the worker). */
  onSubmitted?: (taskId: string) => void;
}

/**
 * Accepts a task of any kind: the kind's rules are checked and its sources looked up before
 * anything is written, so a refusal stores and charges nothing; then the task, its debit and
 * its job commit together (tasks/submit.ts). `param` is the request as received (record-info).
 */
export async function submitKind<Input>(context: SubmitContext, kind: TaskKind<Input>, account: Account, body: unknown, param: string): Promise<string> {
  const admitted = await kind.admit(context, account.id, asBody(body));
  const fetched = admitted.fetched.flatMap((source) => (source.fetched ? [{ source, bytes: source.fetched }] : []));
  for (const { source, bytes } of fetched) await context.blobs.put(source.blobKey, bytes);
  try {
    const taskId = await submitTask(
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
      },
      context.config,
    );
    context.onSubmitted?.(taskId);
    return taskId;
  } catch (error) {
    // A refused submission leaves no file behind.
    for (const { source } of fetched) await context.blobs.delete(source.blobKey);
    throw error;
  }
}
