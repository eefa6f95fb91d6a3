import type { Account } from '../accounts/index.js';
import type { Config } from '../config.js';
import type { GenerateTaskInput, ReplaceTaskInput } from './inputs.js';
import { resolveSource, type SourceContext } from './source.js';
import { submitTask } from './submit.js';
import { checkSectionAgainstSource, parseGenerate, parseReplaceSection } from './validate.js';

/** What the API needs from the task domain to accept new tasks. */
export interface SubmitContext extends SourceContext {
  config: Pick<Config, 'prices' | 'rateLimit' | 'taskTimeoutMs' | 'generateDurationS' | 'retention'>;
  /** Called after a task is committed (wakes the worker). */
  onSubmitted?: (taskId: string) => void;
}

/** SPEC §2. Every rule is checked before anything is written; a refusal stores and charges nothing. */
export async function submitReplaceSection(context: SubmitContext, account: Account, body: unknown, rawBody: string): Promise<string> {
  const request = parseReplaceSection(body);
  const source = await resolveSource(context, account.id, request.source);
  checkSectionAgainstSource(request, source.durationS);
  const input: ReplaceTaskInput = {
    kind: 'replace',
    sourceBlob: source.blobKey,
    sourceName: source.name,
    sourceDurationS: source.durationS,
    startS: request.infillStartS,
    endS: request.infillEndS,
    prompt: request.prompt,
    tags: request.tags,
    negativeTags: request.negativeTags,
    title: request.title,
    fullLyrics: request.fullLyrics,
  };
  if (source.fetched) await context.blobs.put(source.blobKey, source.fetched);
  try {
    const taskId = await submitTask(
      context.store,
      {
        accountId: account.id,
        type: 'REPLACE_SECTION',
        param: rawBody,
        input,
        parentMusicId: source.parentMusicId,
        callbackUrl: request.callBackUrl,
        model: request.source.mode === 'url' ? (request.source.model ?? '') : '',
        price: context.config.prices.replaceSection,
        sourceFile: source.fetched
          ? {
              accountId: account.id,
              kind: 'source',
              blobKey: source.blobKey,
              contentType: 'application/octet-stream',
              size: source.fetched.byteLength,
              fileName: source.name,
              expiresAt: Date.now() + context.config.retention.generatedMs,
            }
          : undefined,
      },
      context.config,
    );
    context.onSubmitted?.(taskId);
    return taskId;
  } catch (error) {
    // A refused submission leaves no file behind.
    if (source.fetched) await context.blobs.delete(source.blobKey);
    throw error;
  }
}

/** SPEC §3 `POST /api/v1/generate`: two songs, three callback stages. */
export async function submitGenerate(context: SubmitContext, account: Account, body: unknown, rawBody: string): Promise<string> {
  const request = parseGenerate(body);
  const input: GenerateTaskInput = {
    kind: 'generate',
    prompt: request.prompt,
    style: request.style,
    title: request.title,
    negativeTags: request.negativeTags,
    instrumental: request.instrumental,
    customMode: request.customMode,
    durationS: context.config.generateDurationS,
  };
  const taskId = await submitTask(
    context.store,
    {
      accountId: account.id,
      type: 'GENERATE',
      param: rawBody,
      input,
      parentMusicId: '',
      callbackUrl: request.callBackUrl,
      model: request.model,
      price: context.config.prices.generate,
    },
    context.config,
  );
  context.onSubmitted?.(taskId);
  return taskId;
}
