import { Type } from '@sinclair/typebox';
import { resolveSource } from '../source.js';
import { checkSectionAgainstSource, parseReplaceSection } from '../validate.js';
import type { TaskKind } from './kind.js';
import { musicFamily, runSongs, type StoredSource, sourceAudio } from './music.js';
import { url } from './schema.js';

/** `POST /api/v1/generate/replace-section` (SPEC §2): seconds A–B of a song made anew. */
export interface ReplaceTaskInput {
  kind: 'replace';
  /** Blob holding the source audio (a track's MP3, an upload, or a fetched file). */
  sourceBlob: string;
  sourceName: string;
  sourceDurationS: number;
  startS: number;
  endS: number;
  prompt: string;
  tags: string;
  negativeTags: string;
  title: string;
  fullLyrics: string | undefined;
}

const ReplaceSectionBody = Type.Object(
  {
    taskId: Type.Optional(Type.String({ description: 'Mode 1: the parent task (must have succeeded)' })),
    audioId: Type.Optional(Type.String({ description: 'Mode 1: one of the parent task’s tracks' })),
    uploadUrl: Type.Optional(url('Mode 2: an http(s) URL of an MP3 or WAV file, e.g. a File Upload API downloadUrl')),
    model: Type.Optional(Type.String({ description: 'Mode 2: accepted and recorded' })),
    prompt: Type.String({ minLength: 1, maxLength: 3000, description: 'Lyrics or a description of the new section' }),
    tags: Type.String({ minLength: 1, maxLength: 200, description: 'Style tags, e.g. "Jazz"' }),
    title: Type.String({ minLength: 1, maxLength: 100 }),
    negativeTags: Type.Optional(Type.String({ maxLength: 200, description: 'Styles to avoid' })),
    infillStartS: Type.Number({ minimum: 0, multipleOf: 0.01, description: 'Section start in seconds (≤ 2 decimals)' }),
    infillEndS: Type.Number({ minimum: 0, multipleOf: 0.01, description: 'Section end; 6–60 s after the start, ≤ the source duration, section ≤ 50% of it' }),
    fullLyrics: Type.Optional(Type.String({ maxLength: 5000 })),
    callBackUrl: Type.Optional(url('Receives the signed `complete` or `error` callback')),
  },
  { additionalProperties: true },
);

export const replaceSectionKind: TaskKind<ReplaceTaskInput> = {
  // 'replace' is the name older task rows carry in their input.
  name: 'replace',
  type: 'REPLACE_SECTION',
  operationType: 'replace_section',
  price: 'replaceSection',
  route: { path: '/api/v1/generate/replace-section', summary: 'Replace a section of a song', body: ReplaceSectionBody },
  market: 'ai-music-api/replace-section',
  family: musicFamily,
  async admit(context, accountId, body) {
    const request = parseReplaceSection(body);
    const source = await resolveSource(context, accountId, request.source);
    checkSectionAgainstSource(request, source.durationS);
    return {
      input: {
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
      },
      parentMusicId: source.parentMusicId,
      model: request.source.mode === 'url' ? (request.source.model ?? '') : '',
      callbackUrl: request.callBackUrl,
      fetched: source.fetched ? [source] : [],
    };
  },
  async run(runtime, task, signal) {
    const { input } = task;
    // parent_music_id is the audioId of the edited track in mode 1, empty otherwise.
    const stored: StoredSource = {
      blob: input.sourceBlob,
      name: input.sourceName,
      durationS: input.sourceDurationS,
      trackId: task.parentMusicId || null,
      url: '',
    };
    const source = await sourceAudio(runtime, stored);
    return runSongs(
      runtime,
      task,
      {
        op: 'replaceSection',
        input: {
          source,
          startS: input.startS,
          endS: input.endS,
          prompt: input.prompt,
          tags: input.tags,
          negativeTags: input.negativeTags,
          title: input.title,
          fullLyrics: input.fullLyrics,
          seed: task.seed,
        },
      },
      { title: () => input.title, tags: input.tags, prompt: input.prompt },
      signal,
    );
  },
};
