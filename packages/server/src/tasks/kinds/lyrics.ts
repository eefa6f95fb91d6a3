import { Type } from '@sinclair/typebox';
import { FAILURE_MSG, type FailureCode } from '../../callbacks/index.js';
import type { TasksTable } from '../../store/index.js';
import { type Body, requiredString } from '../fields.js';
import { writeResult } from '../lifecycle.js';
import type { Family, TaskKind } from './kind.js';
import { requiredCallbackUrl } from './rules.js';
import { url } from './schema.js';

/**
 * `POST /api/v1/lyrics` (kie-catalogue §17): lyrics for a prompt, no music. The words come from
 * reprise's offline lyric writer (audio/synthesis/lyrics.ts): line templates, a rhyme table and
 * the prompt's own words, chosen by the task's seed. It is not a language model. A family of its
 * own: string `status`, `type: "LYRICS"`, and one callback whose items are `{text, title, status,
 * error_message}`, signed over `data.task_id`.
 */
export interface LyricsTaskInput {
  kind: 'lyrics';
  prompt: string;
}

/** KIE: "maximum … 200 characters". */
export const LYRICS_PROMPT_MAX = 200;

/** One variation as a finished task keeps it and record-info shows it (camelCase `errorMessage`). */
interface LyricsItem {
  text: string;
  title: string;
  status: 'complete' | 'failed';
  errorMessage: string;
}

interface LyricsResult {
  data: LyricsItem[];
}

const LyricsBody = Type.Object(
  {
    prompt: Type.String({ description: `What the song is about, at most ${LYRICS_PROMPT_MAX} characters` }),
    callBackUrl: url('Required: receives `{code, msg, data: {callbackType: "complete", task_id, data: [{text, title, status, error_message}]}}`, signed'),
  },
  { additionalProperties: true },
);

export function parseLyricsRequest(body: Body): { prompt: string; callBackUrl: string } {
  const callBackUrl = requiredCallbackUrl(body);
  return { prompt: requiredString(body, 'prompt', LYRICS_PROMPT_MAX), callBackUrl };
}

/** record-info `status` of a lyrics task: the task's own, with KIE's name for this family's failure. */
function statusOf(task: TasksTable): string {
  return task.status === 'GENERATE_AUDIO_FAILED' ? 'GENERATE_LYRICS_FAILED' : task.status;
}

const itemsOf = (task: TasksTable): LyricsItem[] => (task.result ? (JSON.parse(task.result) as LyricsResult).data : []);

/** The `response` of record-info, also the Market `resultObject`. */
function responseOf(task: TasksTable) {
  const items = itemsOf(task);
  // The catalogue's schema names the list `data`, KIE's current page example `lyricsData`: clients read one or the other.
  return { taskId: task.id, data: items, lyricsData: items };
}

const LyricsItemSchema = Type.Object({
  text: Type.String(),
  title: Type.String(),
  status: Type.String({ enum: ['complete', 'failed'] }),
  errorMessage: Type.String(),
});

/** lyrics record-info `data`: the schema of `lyricsFamily.details`. */
const LyricsRecord = Type.Object(
  {
    taskId: Type.String(),
    param: Type.String({ description: 'The request body as received' }),
    response: Type.Object({
      taskId: Type.String(),
      data: Type.Array(LyricsItemSchema),
      lyricsData: Type.Array(LyricsItemSchema, { description: 'The same list as `data` (KIE’s pages use both names)' }),
    }),
    status: Type.String({ enum: ['PENDING', 'SUCCESS', 'CREATE_TASK_FAILED', 'GENERATE_LYRICS_FAILED', 'CALLBACK_EXCEPTION', 'SENSITIVE_WORD_ERROR'] }),
    type: Type.Literal('LYRICS'),
    errorCode: Type.Union([Type.Integer(), Type.Null()]),
    errorMessage: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: true },
);

export const lyricsFamily: Family = {
  name: 'lyrics',
  detailsPath: '/api/v1/lyrics/record-info',
  detailsSchema: LyricsRecord,
  // KIE's lyrics body on failure: the one callback, `error` as its type, its item failed and saying why.
  errorBody: (code: FailureCode, taskId: string, message: string) => ({
    code,
    msg: FAILURE_MSG[code],
    data: { callbackType: 'error', task_id: taskId, data: [{ text: '', title: '', status: 'failed', error_message: message }] },
  }),
  async details(_db, task) {
    return {
      taskId: task.id,
      param: task.param,
      response: responseOf(task),
      status: statusOf(task),
      type: 'LYRICS',
      errorCode: task.error_code,
      errorMessage: task.error_message,
    };
  },
  async resultJson(_db, task) {
    // KIE's Market form shows text results as `resultObject`.
    return { resultObject: responseOf(task) };
  },
};

export const lyricsKind: TaskKind<LyricsTaskInput> = {
  name: 'lyrics',
  type: 'LYRICS',
  operationType: 'generate_lyrics',
  price: 'lyrics',
  route: { path: '/api/v1/lyrics', summary: 'Write lyrics for a prompt (two variations)', body: LyricsBody },
  market: 'ai-music-api/generate-lyrics',
  family: lyricsFamily,
  async admit(_context, _accountId, body) {
    const request = parseLyricsRequest(body);
    return { input: { kind: 'lyrics', prompt: request.prompt }, parentMusicId: '', model: '', callbackUrl: request.callBackUrl, fetched: [] };
  },
  async run(_runtime, task) {
    // Loaded here, not with the module: the serving process holds the audio library only once it needs it.
    const { SHEET_FORMS, writeLyricSheet } = await import('../../audio/synthesis/lyrics.js');
    // KIE returns two or three variations; reprise writes one per form, each with its own seed.
    const items: LyricsItem[] = SHEET_FORMS.map((form, i) => ({
      ...writeLyricSheet(task.input.prompt, `${task.seed}-${i}`, form),
      status: 'complete',
      errorMessage: '',
    }));
    return async (tx) => {
      await writeResult(tx, task.id, { data: items } satisfies LyricsResult);
      return {
        code: 200,
        msg: 'All generated successfully.',
        data: {
          callbackType: 'complete',
          task_id: task.id,
          data: items.map((item) => ({ text: item.text, title: item.title, status: item.status, error_message: item.errorMessage })),
        },
      };
    };
  },
};
