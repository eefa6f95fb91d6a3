import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpStatusFor } from '../../src/api/errors.js';
import { DEFAULT_PRICES } from '../../src/config.js';
import { registerFile } from '../../src/files/index.js';
import { lifecycleContext } from '../../src/server.js';
import type { Services } from '../../src/services.js';
import { completeTask, submitTask, writeResult } from '../../src/tasks/index.js';
import { LYRICS_PROMPT_MAX } from '../../src/tasks/kinds/lyrics.js';
import type { SeparationResult } from '../../src/tasks/kinds/vocal-removal.js';
import { WAVEFORM_POINTS } from '../../src/tasks/timestamped-lyrics.js';
import { sineWav } from '../helpers/audio.js';
import { finishedGenerateTask } from '../helpers/fixtures.js';
import { closeServices, countRows, createTestAccount, createTestApp, createTestServices, type TestAccount } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';

/**
 * The "bad input" proof of the audio tools' routes (issue 13 items 1–3) through the HTTP API:
 * every bad body gets KIE's envelope with a precise `msg` and leaves tasks, jobs, ledger, files
 * and the balance as they were; a good body is accepted with one task, one job and one debit of
 * the configured price. Both API generations where KIE has both.
 */

const CB = 'https://example.com/cb';
const HEX32 = /^[0-9a-f]{32}$/;
const UNKNOWN_TASK = 'f'.repeat(32);
const UNKNOWN_AUDIO = 'e231c8a0-0000-4000-8000-00008cadc7dc';

type Tracks = { taskId: string; audioIds: string[] };

/** Everything the track-naming cases refer to, made once per store. */
interface Fixtures {
  /** Alice's finished instrumental generate tasks (two tracks each, real WAV audio). */
  parent: Tracks;
  spare: Tracks;
  /** Bob's finished task (Alice must see it as unknown). */
  foreign: Tracks;
  /** Alice's task still PENDING, and one at FIRST_SUCCESS that already has tracks. */
  pending: string;
  halfway: Tracks;
  /** Alice's finished task whose tracks' files have expired. */
  expired: Tracks;
  /** Alice's finished song with vocals whose word times were never recorded (an engine that does not report them). */
  untimed: Tracks;
  /** Alice's lyrics task: a task, but one that makes no tracks. */
  lyrics: string;
  /** A finished task of the account without credits. */
  brokeTracks: Tracks;
  /** Alice's finished separation (two stems), Bob's, and Alice's whose stems expired. */
  separation: { taskId: string; stemIds: string[] };
  foreignSeparation: { taskId: string; stemIds: string[] };
  expiredSeparation: { taskId: string; stemIds: string[] };
}

/** A finished separate_vocal of `track` whose two stems are registered files (a WAV stands in for each MP3). */
async function finishedSeparation(services: Services, accountId: string, track: Tracks, expiresAt = Date.now() + 86_400_000) {
  const taskId = await submitTask(
    services.store,
    {
      accountId,
      type: 'VOCAL_REMOVAL',
      param: '{}',
      input: { kind: 'vocal-removal', type: 'separate_vocal', taskId: track.taskId, audioId: track.audioIds[0]!, musicIndex: 0 },
      parentMusicId: track.audioIds[0]!,
      callbackUrl: undefined,
      model: '',
      price: 0,
    },
    { rateLimit: { max: 1000, windowMs: 1 }, taskTimeoutMs: 60_000 },
  );
  const job = await services.store.db.selectFrom('jobs').select('id').where('ref_id', '=', taskId).executeTakeFirstOrThrow();
  const stemIds = [randomUUID(), randomUUID()];
  await completeTask(lifecycleContext(services), taskId, job.id, async (tx, row, now) => {
    const stems: SeparationResult['stems'] = [];
    for (const [i, name] of (['vocal', 'instrumental'] as const).entries()) {
      const blobKey = `tasks/${taskId}/${stemIds[i]}.mp3`;
      await services.blobs.put(blobKey, sineWav(1, 8000, 1));
      const file = await registerFile(tx, { accountId, kind: 'audio', blobKey, contentType: 'audio/mpeg', size: 1, fileName: 'x.mp3', expiresAt }, now);
      stems.push({ id: stemIds[i]!, name, file, durationS: 1, exact: false });
    }
    await writeResult(tx, row.id, { stems, method: 'test' } satisfies SeparationResult);
    return { code: 200, msg: 'ok', data: { task_id: row.id } };
  });
  return { taskId, stemIds };
}

describe.each(storeTargets())('refusals of the audio tools on $name', (target) => {
  let services: Services;
  let app: FastifyInstance;
  let alice: TestAccount;
  let broke: TestAccount;
  let bob: TestAccount;
  const f = {} as Fixtures;

  beforeAll(async () => {
    services = await createTestServices(target, { REPRISE_RATE_LIMIT: '1000/10s' });
    app = await createTestApp(services);
    alice = await createTestAccount(services, 1000);
    broke = await createTestAccount(services, 0);
    bob = await createTestAccount(services, 1000);
    const db = services.store.db;
    f.parent = await finishedGenerateTask(services, alice.account.id, 1);
    f.spare = await finishedGenerateTask(services, alice.account.id, 1);
    f.foreign = await finishedGenerateTask(services, bob.account.id, 1);
    f.brokeTracks = await finishedGenerateTask(services, broke.account.id, 1);
    f.pending = await submitTask(
      services.store,
      {
        accountId: alice.account.id,
        type: 'GENERATE',
        param: '{}',
        input: { kind: 'generate', prompt: 'p', style: 'jazz', title: 'T', negativeTags: '', instrumental: true, customMode: false, durationS: 30 },
        parentMusicId: '',
        callbackUrl: undefined,
        model: 'V4_5',
        price: 0,
      },
      { rateLimit: { max: 1000, windowMs: 1 }, taskTimeoutMs: 60_000 },
    );
    f.halfway = await finishedGenerateTask(services, alice.account.id, 1);
    await db.updateTable('tasks').set({ status: 'FIRST_SUCCESS' }).where('id', '=', f.halfway.taskId).execute();
    f.expired = await finishedGenerateTask(services, alice.account.id, 1);
    await db
      .updateTable('files')
      .set({ expires_at: Date.now() - 1000 })
      .where('id', 'in', db.selectFrom('tracks').select('audio_file').where('task_id', '=', f.expired.taskId))
      .execute();
    f.untimed = await finishedGenerateTask(services, alice.account.id, 1);
    const sung = { kind: 'generate', prompt: 'p', style: 'jazz', title: 'T', negativeTags: '', instrumental: false, customMode: false, durationS: 1 };
    await db
      .updateTable('tasks')
      .set({ input: JSON.stringify(sung) })
      .where('id', '=', f.untimed.taskId)
      .execute();
    f.separation = await finishedSeparation(services, alice.account.id, f.parent);
    f.foreignSeparation = await finishedSeparation(services, bob.account.id, f.foreign);
    f.expiredSeparation = await finishedSeparation(services, alice.account.id, f.parent, Date.now() - 1000);
    const lyrics = await post('/api/v1/lyrics', { prompt: 'coffee', callBackUrl: CB });
    f.lyrics = lyrics.json().data.taskId;
  });

  afterAll(async () => {
    await app.close();
    await closeServices(services);
  });

  /** What a refused request must leave unchanged. */
  async function snapshot(accountId: string) {
    const db = services.store.db;
    const count = (table: 'tasks' | 'jobs' | 'ledger' | 'files') => countRows(services, table);
    const balance = Number((await db.selectFrom('accounts').select('balance').where('id', '=', accountId).executeTakeFirstOrThrow()).balance);
    return { tasks: await count('tasks'), jobs: await count('jobs'), ledger: await count('ledger'), files: await count('files'), balance };
  }

  function post(url: string, payload: unknown, who: TestAccount = alice): Promise<LightMyRequestResponse> {
    return app.inject({
      method: 'POST',
      url,
      headers: { ...who.auth, 'content-type': 'application/json' },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  }

  async function expectRefusal(url: string, payload: unknown, code: number, msg: string, data: unknown = null, who: TestAccount = alice): Promise<void> {
    const before = await snapshot(who.account.id);
    const response = await post(url, payload, who);
    expect(response.json()).toEqual({ code, msg, data });
    expect(response.statusCode).toBe(httpStatusFor(code, false));
    expect(await snapshot(who.account.id)).toEqual(before);
  }

  /** Accepted: code 200, a new 32-hex taskId, exactly one task, one job and one debit of `price`. */
  async function expectAccepted(url: string, payload: unknown, price: number): Promise<string> {
    const before = await snapshot(alice.account.id);
    const response = await post(url, payload);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect({ code: body.code, msg: body.msg }).toEqual({ code: 200, msg: 'success' });
    expect(body.data.taskId).toMatch(HEX32);
    expect(await snapshot(alice.account.id)).toEqual({
      ...before,
      tasks: before.tasks + 1,
      jobs: before.jobs + 1,
      ledger: before.ledger + 1,
      balance: before.balance - price,
    });
    const task = await services.store.db.selectFrom('tasks').select(['price', 'status']).where('id', '=', body.data.taskId).executeTakeFirstOrThrow();
    expect(task).toEqual({ price, status: 'PENDING' });
    return body.data.taskId;
  }

  interface Case {
    name: string;
    body: () => unknown;
    msg: string | (() => string);
    code?: number;
    data?: () => unknown;
  }
  const table = (cases: Case[]) => cases.map((c) => [c.name, c] as const);
  const run = (url: string) => async (_: string, c: Case) =>
    expectRefusal(url, c.body(), c.code ?? 422, typeof c.msg === 'function' ? c.msg() : c.msg, c.data?.() ?? null);
  const market = (model: string, input: unknown) => ({ model, callBackUrl: CB, input });

  /** Refusals every route shares: not an object, an empty body. */
  const shape = (): Case[] => [
    { name: 'a JSON array as the body', body: () => [1, 2], msg: 'body: must be a JSON object' },
    { name: 'a JSON string as the body', body: () => '"hello"', msg: 'body: must be a JSON object' },
    { name: 'an empty body', body: () => '', code: 400, msg: 'body: empty, expected a JSON object' },
  ];

  it('documents every new route in the OpenAPI document', async () => {
    const openapi = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(Object.keys(openapi.json().paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/lyrics',
        '/api/v1/lyrics/record-info',
        '/api/v1/generate/get-timestamped-lyrics',
        '/api/v1/wav/generate',
        '/api/v1/wav/record-info',
        '/api/v1/vocal-removal/generate',
        '/api/v1/vocal-removal/record-info',
        '/api/v1/midi/generate',
        '/api/v1/midi/record-info',
      ]),
    );
  });

  // --- lyrics --------------------------------------------------------------------------------

  describe('POST /api/v1/lyrics', () => {
    const url = '/api/v1/lyrics';
    const good = () => ({ prompt: 'A short song about morning coffee', callBackUrl: CB });
    const cases: Case[] = [
      ...shape(),
      { name: 'no callBackUrl', body: () => ({ ...good(), callBackUrl: undefined }), msg: 'Please enter callBackUrl.' },
      { name: 'callBackUrl empty', body: () => ({ ...good(), callBackUrl: '' }), msg: 'Please enter callBackUrl.' },
      { name: 'callBackUrl ftp', body: () => ({ ...good(), callBackUrl: 'ftp://example.com/cb' }), msg: 'callBackUrl: must use http:// or https://' },
      {
        name: 'callBackUrl with a password',
        body: () => ({ ...good(), callBackUrl: 'https://u:p@example.com/cb' }),
        msg: 'callBackUrl: must not contain a user name or password',
      },
      { name: 'no prompt', body: () => ({ ...good(), prompt: undefined }), msg: 'prompt: is required' },
      { name: 'prompt null', body: () => ({ ...good(), prompt: null }), msg: 'prompt: is required' },
      { name: 'prompt blank', body: () => ({ ...good(), prompt: ' \n ' }), msg: 'prompt: must not be empty' },
      { name: 'prompt a number', body: () => ({ ...good(), prompt: 42 }), msg: 'prompt: must be a string' },
      {
        name: `prompt of ${LYRICS_PROMPT_MAX + 1} characters`,
        body: () => ({ ...good(), prompt: 'é'.repeat(LYRICS_PROMPT_MAX + 1) }),
        msg: `prompt: must be at most ${LYRICS_PROMPT_MAX} characters`,
      },
    ];
    it.each(table(cases))('%s', run(url));

    it('refuses with too few credits (402), nothing stored', async () => {
      await expectRefusal(url, good(), 402, `Insufficient credits: this task costs ${DEFAULT_PRICES.lyrics}`, null, broke);
    });

    it('accepts a prompt of exactly the limit (characters, not UTF-16 units), charging the lyrics price', async () => {
      await expectAccepted(url, good(), DEFAULT_PRICES.lyrics);
      await expectAccepted(url, { ...good(), prompt: '🎵'.repeat(LYRICS_PROMPT_MAX), extra: 'ignored' }, DEFAULT_PRICES.lyrics);
    });

    it('the Market form ai-music-api/generate-lyrics: same rules, named as written, same price', async () => {
      const create = '/api/v1/jobs/createTask';
      await expectRefusal(create, market('ai-music-api/generate-lyrics', {}), 422, 'input.prompt: is required');
      await expectRefusal(
        create,
        market('ai-music-api/generate-lyrics', { prompt: 'x'.repeat(LYRICS_PROMPT_MAX + 1) }),
        422,
        `input.prompt: must be at most ${LYRICS_PROMPT_MAX} characters`,
      );
      await expectRefusal(create, { model: 'ai-music-api/generate-lyrics', input: { prompt: 'coffee' } }, 422, 'Please enter callBackUrl.');
      await expectAccepted(create, market('ai-music-api/generate-lyrics', { prompt: 'coffee' }), DEFAULT_PRICES.lyrics);
    });
  });

  // --- what names a track: shared by timestamped lyrics and WAV ------------------------------

  /** The refusals of a route that names a track by `taskId` + `audioId` (tasks/track-ref.ts). */
  const trackCases = (good: () => Record<string, unknown>): Case[] => [
    { name: 'no taskId', body: () => ({ ...good(), taskId: undefined }), msg: 'taskId: is required' },
    { name: 'taskId a number', body: () => ({ ...good(), taskId: 7 }), msg: 'taskId: must be a string' },
    { name: 'taskId blank', body: () => ({ ...good(), taskId: ' ' }), msg: 'taskId: must not be empty' },
    { name: 'taskId of 65 characters', body: () => ({ ...good(), taskId: 'a'.repeat(65) }), msg: 'taskId: must be at most 64 characters' },
    { name: 'no audioId', body: () => ({ ...good(), audioId: undefined }), msg: 'audioId: is required' },
    { name: 'audioId null', body: () => ({ ...good(), audioId: null }), msg: 'audioId: is required' },
    { name: 'audioId an object', body: () => ({ ...good(), audioId: {} }), msg: 'audioId: must be a string' },
    { name: 'an unknown taskId', body: () => ({ ...good(), taskId: UNKNOWN_TASK }), msg: 'Record does not exist' },
    {
      name: 'another account’s task',
      body: () => ({ ...good(), taskId: f.foreign.taskId, audioId: f.foreign.audioIds[0] }),
      msg: 'Record does not exist',
    },
    { name: 'a task that makes no tracks (lyrics)', body: () => ({ ...good(), taskId: f.lyrics }), msg: 'Record does not exist' },
    {
      name: 'a task still pending',
      body: () => ({ ...good(), taskId: f.pending }),
      msg: () => `taskId: task ${f.pending} has not succeeded (status PENDING)`,
    },
    {
      name: 'a task still rendering (first track done)',
      body: () => ({ ...good(), taskId: f.halfway.taskId, audioId: f.halfway.audioIds[0] }),
      msg: () => `taskId: task ${f.halfway.taskId} has not succeeded (status FIRST_SUCCESS)`,
    },
    { name: 'an unknown audioId', body: () => ({ ...good(), audioId: UNKNOWN_AUDIO }), msg: () => `audioId: is not a track of task ${f.parent.taskId}` },
    {
      name: 'a track of another of her tasks',
      body: () => ({ ...good(), audioId: f.spare.audioIds[0] }),
      msg: () => `audioId: is not a track of task ${f.parent.taskId}`,
    },
    {
      name: 'an expired track',
      body: () => ({ ...good(), taskId: f.expired.taskId, audioId: f.expired.audioIds[0] }),
      msg: 'audioId: the track has expired and was deleted',
    },
  ];

  // --- timestamped lyrics --------------------------------------------------------------------

  describe('POST /api/v1/generate/get-timestamped-lyrics', () => {
    const url = '/api/v1/generate/get-timestamped-lyrics';
    const good = () => ({ taskId: f.parent.taskId, audioId: f.parent.audioIds[0] });
    const cases: Case[] = [
      ...shape(),
      ...trackCases(good),
      {
        name: 'a sung track whose word times were never recorded',
        body: () => ({ taskId: f.untimed.taskId, audioId: f.untimed.audioIds[0] }),
        msg: () =>
          `audioId: no word times were recorded for track ${f.untimed.audioIds[0]}: they are known for songs reprise sang itself (generate and add-vocals with vocals), and an instrumental song has none`,
      },
    ];
    it.each(table(cases))('%s', run(url));

    it('refuses with too few credits (402), nothing charged', async () => {
      await expectRefusal(
        url,
        { taskId: f.brokeTracks.taskId, audioId: f.brokeTracks.audioIds[0] },
        402,
        `Insufficient credits: timestamped lyrics costs ${DEFAULT_PRICES.timestampedLyrics}`,
        null,
        broke,
      );
    });

    it('answers an instrumental at once, as KIE does (no words), charging its price and storing no task', async () => {
      const before = await snapshot(alice.account.id);
      const response = await post(url, { ...good(), extra: 1 });
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect({ code: body.code, msg: body.msg }).toEqual({ code: 200, msg: 'success' });
      expect(Object.keys(body.data)).toEqual(['alignedWords', 'waveformData', 'hootCer', 'isStreamed']);
      expect(body.data).toMatchObject({ alignedWords: [], hootCer: 0, isStreamed: false });
      expect(body.data.waveformData).toHaveLength(WAVEFORM_POINTS);
      expect(await snapshot(alice.account.id)).toEqual({ ...before, ledger: before.ledger + 1, balance: before.balance - DEFAULT_PRICES.timestampedLyrics });
    });

    it('the Market form ai-music-api/timeStamped-lyrics: same rules, named as written, made a task', async () => {
      const create = '/api/v1/jobs/createTask';
      const model = 'ai-music-api/timeStamped-lyrics';
      await expectRefusal(create, market(model, {}), 422, 'input.task_id: is required');
      await expectRefusal(create, market(model, { task_id: f.parent.taskId }), 422, 'input.audio_id: is required');
      await expectRefusal(create, market(model, { task_id: UNKNOWN_TASK, audio_id: UNKNOWN_AUDIO }), 422, 'Record does not exist');
      await expectRefusal(
        create,
        { model, callBackUrl: 'ftp://x/cb', input: { task_id: f.parent.taskId, audio_id: f.parent.audioIds[0] } },
        422,
        'callBackUrl: must use http:// or https://',
      );
      await expectAccepted(create, market(model, { task_id: f.parent.taskId, audio_id: f.parent.audioIds[0] }), DEFAULT_PRICES.timestampedLyrics);
      // KIE's registry does not require a callback for it.
      await expectAccepted(create, { model, input: { task_id: f.parent.taskId, audio_id: f.parent.audioIds[1] } }, DEFAULT_PRICES.timestampedLyrics);
    });
  });

  // --- WAV -----------------------------------------------------------------------------------

  describe('POST /api/v1/wav/generate', () => {
    const url = '/api/v1/wav/generate';
    const good = () => ({ taskId: f.parent.taskId, audioId: f.parent.audioIds[0], callBackUrl: CB });
    const cases: Case[] = [
      ...shape(),
      { name: 'no callBackUrl', body: () => ({ ...good(), callBackUrl: undefined }), msg: 'Please enter callBackUrl.' },
      { name: 'callBackUrl not a URL', body: () => ({ ...good(), callBackUrl: 'cb' }), msg: 'callBackUrl: must be an absolute http:// or https:// URL' },
      ...trackCases(good),
    ];
    it.each(table(cases))('%s', run(url));

    it('refuses with too few credits (402), nothing stored', async () => {
      await expectRefusal(
        url,
        { taskId: f.brokeTracks.taskId, audioId: f.brokeTracks.audioIds[0], callBackUrl: CB },
        402,
        `Insufficient credits: this task costs ${DEFAULT_PRICES.wav}`,
        null,
        broke,
      );
    });

    it('accepts a track once, charging the WAV price; a second request names the first task (409), nothing stored', async () => {
      const first = await expectAccepted(url, good(), DEFAULT_PRICES.wav);
      await expectRefusal(url, good(), 409, 'WAV record already exists', { taskId: first });
      // The other track of the same task is its own WAV.
      await expectAccepted(url, { ...good(), audioId: f.parent.audioIds[1] }, DEFAULT_PRICES.wav);
    });

    it('the Market form ai-music-api/convert-to-wav-format: same rules, named as written, same price, one per track', async () => {
      const create = '/api/v1/jobs/createTask';
      const model = 'ai-music-api/convert-to-wav-format';
      await expectRefusal(create, market(model, {}), 422, 'input.task_id: is required');
      await expectRefusal(
        create,
        market(model, { task_id: f.spare.taskId, audio_id: UNKNOWN_AUDIO }),
        422,
        `input.audio_id: is not a track of task ${f.spare.taskId}`,
      );
      await expectRefusal(create, { model, input: { task_id: f.spare.taskId, audio_id: f.spare.audioIds[0] } }, 422, 'Please enter callBackUrl.');
      const first = await expectAccepted(create, market(model, { task_id: f.spare.taskId, audio_id: f.spare.audioIds[0] }), DEFAULT_PRICES.wav);
      await expectRefusal(create, market(model, { task_id: f.spare.taskId, audio_id: f.spare.audioIds[0] }), 409, 'WAV record already exists', {
        taskId: first,
      });
    });
  });

  // --- stems ---------------------------------------------------------------------------------

  describe('POST /api/v1/vocal-removal/generate', () => {
    const url = '/api/v1/vocal-removal/generate';
    const good = () => ({ taskId: f.spare.taskId, audioId: f.spare.audioIds[1], callBackUrl: CB });
    const cases: Case[] = [
      ...shape(),
      { name: 'no callBackUrl', body: () => ({ ...good(), callBackUrl: undefined }), msg: 'Please enter callBackUrl.' },
      ...trackCases(() => ({ ...good(), taskId: f.parent.taskId, audioId: f.parent.audioIds[0] })),
      { name: 'an unknown type', body: () => ({ ...good(), type: 'split_stem_advanced' }), msg: 'type: must be one of separate_vocal, split_stem' },
      { name: 'a type that is no string', body: () => ({ ...good(), type: 2 }), msg: 'type: must be one of separate_vocal, split_stem' },
      {
        name: 'one named stem',
        body: () => ({ ...good(), stemName: 'drums' }),
        msg: 'stemName: extracting one named stem (split_stem_advanced) is not offered; use type separate_vocal or split_stem',
      },
    ];
    it.each(table(cases))('%s', run(url));

    it('refuses with too few credits (402), nothing stored', async () => {
      await expectRefusal(
        url,
        { taskId: f.brokeTracks.taskId, audioId: f.brokeTracks.audioIds[0], callBackUrl: CB },
        402,
        `Insufficient credits: this task costs ${DEFAULT_PRICES.separateVocal}`,
        null,
        broke,
      );
    });

    it('charges by type, and again for the same track (KIE keeps no cache); the Market form names fields as written', async () => {
      await expectAccepted(url, good(), DEFAULT_PRICES.separateVocal);
      await expectAccepted(url, good(), DEFAULT_PRICES.separateVocal);
      await expectAccepted(url, { ...good(), type: 'split_stem' }, DEFAULT_PRICES.splitStem);
      const create = '/api/v1/jobs/createTask';
      const model = 'ai-music-api/separate-vocals';
      await expectRefusal(create, market(model, { audio_id: f.spare.audioIds[1] }), 422, 'input.task_id: is required');
      await expectRefusal(
        create,
        market(model, { task_id: f.spare.taskId, audio_id: f.spare.audioIds[1], type: 'x' }),
        422,
        'input.type: must be one of separate_vocal, split_stem',
      );
      await expectRefusal(
        create,
        market(model, { task_id: f.spare.taskId, audio_id: f.spare.audioIds[1], stem_name: 'bass' }),
        422,
        'input.stem_name: extracting one named stem (split_stem_advanced) is not offered; use type separate_vocal or split_stem',
      );
      await expectAccepted(create, market(model, { task_id: f.spare.taskId, audio_id: f.spare.audioIds[1], type: 'split_stem' }), DEFAULT_PRICES.splitStem);
    });
  });

  // --- MIDI ----------------------------------------------------------------------------------

  describe('POST /api/v1/midi/generate', () => {
    const url = '/api/v1/midi/generate';
    const good = () => ({ taskId: f.separation.taskId, callBackUrl: CB });
    const cases: Case[] = [
      ...shape(),
      { name: 'no callBackUrl', body: () => ({ ...good(), callBackUrl: undefined }), msg: 'Please enter callBackUrl.' },
      { name: 'no taskId', body: () => ({ ...good(), taskId: undefined }), msg: 'taskId: is required' },
      { name: 'taskId of 65 characters', body: () => ({ ...good(), taskId: 'a'.repeat(65) }), msg: 'taskId: must be at most 64 characters' },
      { name: 'KIE’s recorded bogus id', body: () => ({ ...good(), taskId: 'apicity-test-bogus-vocal-removal-task-id' }), msg: 'Record does not exist' },
      { name: 'a music task, not a separation', body: () => ({ ...good(), taskId: f.parent.taskId }), msg: 'Record does not exist' },
      { name: 'another account’s separation', body: () => ({ ...good(), taskId: f.foreignSeparation.taskId }), msg: 'Record does not exist' },
      {
        name: 'a stem of another separation',
        body: () => ({ ...good(), audioId: f.foreignSeparation.stemIds[0] }),
        msg: () => `audioId: is not a stem of separation ${f.separation.taskId} (its originData ids)`,
      },
      { name: 'audioId a number', body: () => ({ ...good(), audioId: 3 }), msg: 'audioId: must be a string' },
      { name: 'expired stems', body: () => ({ ...good(), taskId: f.expiredSeparation.taskId }), msg: 'taskId: the stems have expired and were deleted' },
      {
        name: 'an expired stem',
        body: () => ({ ...good(), taskId: f.expiredSeparation.taskId, audioId: f.expiredSeparation.stemIds[1] }),
        msg: 'audioId: the stems have expired and were deleted',
      },
    ];
    it.each(table(cases))('%s', run(url));

    it('refuses a separation that has not finished, naming its status', async () => {
      const pending = await expectAccepted(
        '/api/v1/vocal-removal/generate',
        { taskId: f.parent.taskId, audioId: f.parent.audioIds[1], callBackUrl: CB },
        DEFAULT_PRICES.separateVocal,
      );
      await expectRefusal(url, { ...good(), taskId: pending }, 422, `taskId: separation ${pending} has not succeeded (status PENDING)`);
    });

    it('accepts all stems or one, free as on KIE, through both forms', async () => {
      await expectAccepted(url, good(), DEFAULT_PRICES.midi);
      await expectAccepted(url, { ...good(), audioId: f.separation.stemIds[1] }, DEFAULT_PRICES.midi);
      await expectAccepted('/api/v1/jobs/createTask', market('ai-music-api/generate-midi-from-audio', { task_id: f.separation.taskId }), DEFAULT_PRICES.midi);
    });
  });
});
