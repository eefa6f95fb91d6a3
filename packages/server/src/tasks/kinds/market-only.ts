import { ApiError } from '../../errors.js';
import { parseBoost } from '../boost.js';
import { optionalHttpUrl } from '../fields.js';
import { writeResult } from '../lifecycle.js';
import { type AdmittedPersona, admitPersona, makePersona } from '../persona.js';
import { admitTimestampedLyrics, timestampedLyricsOf } from '../timestamped-lyrics.js';
import type { Family, TaskKind } from './kind.js';

/**
 * Boost style, persona and timestamped lyrics answer at once on their dedicated routes
 * (api/sync.ts). KIE's Market form makes tasks of them too (`ai-music-api/boost-music-style`,
 * `ai-music-api/generate-persona`, `ai-music-api/timeStamped-lyrics`): these kinds run the same
 * work as a task, read through `jobs/recordInfo` only.
 */

/** Market tasks of other KIE models carry this callback body; its Suno form is not documented (kie-catalogue §25.1). */
export const marketFamily: Family = {
  name: 'market',
  errorBody: (code, taskId, message) => ({ code, msg: message, data: { taskId, state: 'fail', resultJson: '', failCode: String(code), failMsg: message } }),
  async details(_db, task) {
    return task.result === null ? null : JSON.parse(task.result);
  },
  async resultJson(_db, task) {
    // KIE's Market form shows text results as `resultObject`.
    return { resultObject: task.result === null ? null : JSON.parse(task.result) };
  },
};

const completeBody = (taskId: string, result: unknown) => ({
  code: 200,
  msg: 'success',
  data: { taskId, state: 'success', resultJson: JSON.stringify({ resultObject: result }), failCode: null, failMsg: null },
});

export interface BoostTaskInput {
  kind: 'boost-style';
  content: string;
}

export const boostStyleKind: TaskKind<BoostTaskInput> = {
  name: 'boost-style',
  type: 'BOOST_STYLE',
  operationType: 'boost_style',
  price: 'boostStyle',
  market: 'ai-music-api/boost-music-style',
  family: marketFamily,
  async admit(_context, _accountId, body) {
    // KIE: the callback URL is optional here.
    const callbackUrl = typeof body.callBackUrl === 'string' && body.callBackUrl !== '' ? body.callBackUrl : undefined;
    return { input: { kind: 'boost-style', content: parseBoost(body) }, parentMusicId: '', model: '', callbackUrl, fetched: [] };
  },
  async run(_runtime, task) {
    const { boostStyle } = await import('../../audio/synthesis/boost.js');
    const result = { param: task.input.content, result: boostStyle(task.input.content) };
    return async (tx) => {
      await writeResult(tx, task.id, result);
      return completeBody(task.id, result);
    };
  },
};

export interface PersonaTaskInput {
  kind: 'persona';
  request: AdmittedPersona;
}

export const personaKind: TaskKind<PersonaTaskInput> = {
  name: 'persona',
  type: 'PERSONA',
  operationType: 'generate_persona',
  price: 'persona',
  market: 'ai-music-api/generate-persona',
  family: marketFamily,
  // One persona per track: a second request while the first is still a task is refused as one made already.
  onePerParent: () => new ApiError(409, 'Persona already exists for this music'),
  async admit(context, accountId, body) {
    const request = await admitPersona(context.store.db, accountId, body);
    const callbackUrl = typeof body.callBackUrl === 'string' && body.callBackUrl !== '' ? body.callBackUrl : undefined;
    return { input: { kind: 'persona', request }, parentMusicId: request.audioId, model: '', callbackUrl, fetched: [] };
  },
  async run(runtime, task) {
    const row = await runtime.store.db.selectFrom('tasks').select('account_id').where('id', '=', task.id).executeTakeFirstOrThrow();
    const persona = await makePersona({ db: runtime.store.db, blobs: runtime.blobs }, row.account_id, task.input.request);
    return async (tx) => {
      await writeResult(tx, task.id, persona);
      return completeBody(task.id, persona);
    };
  },
};

export interface TimestampedLyricsTaskInput {
  kind: 'timestamped-lyrics';
  taskId: string;
  audioId: string;
}

export const timestampedLyricsKind: TaskKind<TimestampedLyricsTaskInput> = {
  name: 'timestamped-lyrics',
  type: 'TIMESTAMPED_LYRICS',
  operationType: 'timestamped_lyrics',
  price: 'timestampedLyrics',
  // KIE's registry spells it so (kie-catalogue §13).
  market: 'ai-music-api/timeStamped-lyrics',
  family: marketFamily,
  async admit(context, accountId, body) {
    // KIE's registry does not require a callback here; one that is given must be a URL reprise can call.
    const callbackUrl = optionalHttpUrl(body, 'callBackUrl');
    const admitted = await admitTimestampedLyrics(context.store.db, accountId, body);
    return {
      input: { kind: 'timestamped-lyrics', taskId: admitted.taskId, audioId: admitted.audioId },
      parentMusicId: admitted.audioId,
      model: '',
      callbackUrl,
      fetched: [],
    };
  },
  async run(runtime, task) {
    const db = runtime.store.db;
    const row = await db.selectFrom('tasks').select('account_id').where('id', '=', task.id).executeTakeFirstOrThrow();
    // Looked up again: the track may have expired since the task was accepted (then the task fails, refunded, saying so).
    const admitted = await admitTimestampedLyrics(db, row.account_id, { taskId: task.input.taskId, audioId: task.input.audioId });
    const result = await timestampedLyricsOf({ db, blobs: runtime.blobs }, admitted);
    return async (tx) => {
      await writeResult(tx, task.id, result);
      return completeBody(task.id, result);
    };
  },
};
