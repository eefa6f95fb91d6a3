import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpStatusFor } from '../../src/api/errors.js';
import { DEFAULT_PRICES } from '../../src/config.js';
import { registerFile } from '../../src/files/index.js';
import type { Services } from '../../src/services.js';
import { submitTask } from '../../src/tasks/index.js';
import { coverImageKind } from '../../src/tasks/kinds/cover-image.js';
import { sineWav } from '../helpers/audio.js';
import { finishedGenerateTask, uploadedWav } from '../helpers/fixtures.js';
import { closeServices, countRows, createTestAccount, createTestApp, createTestServices, TEST_PUBLIC_URL, type TestAccount } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';

/**
 * The "bad input" proof of the Suno-family routes through the HTTP API: each bad body gets the
 * exact KIE envelope `{code, msg, data}` (HTTP 200 for 4xx codes but 401/413/429) and leaves
 * tasks, jobs, ledger, files, personas and the balance as they were; one good body per route
 * is accepted with one task, one job and one debit of the configured price.
 */

const CB = 'https://example.com/cb';
const HEX32 = /^[0-9a-f]{32}$/;
const UNKNOWN_TASK = 'f'.repeat(32);
const UNKNOWN_AUDIO = 'e231c8a0-0000-4000-8000-00008cadc7dc';
const MODELS_MSG = 'model: must be one of V3_5, V4, V4_5, V4_5PLUS, V4_5ALL, V5, V5_5, V6';
const LAYER_MODELS_MSG = 'model: must be one of V4_5PLUS, V5, V5_5';
const VOCALS_MODELS_MSG = 'model: must be one of V4_5PLUS, V5';

/** Everything the cases refer to, made once per store before the tables run. */
interface Fixtures {
  /** Alice's finished task: two 40 s tracks whose audio really is 40 s long. */
  parent: { taskId: string; audioIds: string[] };
  /** Another one, for the accepted persona and cover requests. */
  spare: { taskId: string; audioIds: string[] };
  /** Bob's finished task (Alice must see it as unknown). */
  foreign: { taskId: string; audioIds: string[] };
  /** Alice's task still PENDING, and one at FIRST_SUCCESS that already has a track. */
  pending: string;
  halfway: { taskId: string; audioIds: string[] };
  /** Alice's task made with V3_5 (personas refuse it). */
  v35: { taskId: string; audioIds: string[] };
  /** Alice's finished task whose tracks' files have expired. */
  expired: { taskId: string; audioIds: string[] };
  /** Uploads of Alice: 20 s, 21 s (other bytes), 481 s (over 8 minutes), a text file, an expired WAV. */
  wav20: string;
  wav20again: string;
  wav21: string;
  long: string;
  text: string;
  expiredUpload: string;
  /** A file URL of this service whose token is unknown. */
  missingFile: string;
  /** Bob's persona. */
  bobPersona: string;
}

describe.each(storeTargets())('refusals of the new routes on $name', (target) => {
  let services: Services;
  let app: FastifyInstance;
  let alice: TestAccount;
  let bob: TestAccount;
  const f = {} as Fixtures;

  /** A finished task whose two tracks hold `seconds` of real audio (the shared fixture's WAVs are 1 s long by default). */
  const taskWithAudio = (accountId: string, seconds: number, model = 'V4_5') => finishedGenerateTask(services, accountId, seconds, { model, fullLength: true });

  /** Stores bytes as if they had been uploaded (as fixtures.ts uploadedWav does), whatever they hold. */
  async function uploaded(accountId: string, bytes: Uint8Array, fileName: string, contentType: string, expiresAt = Date.now() + 86_400_000): Promise<string> {
    const blobKey = `uploads/test-${Math.random().toString(36).slice(2)}`;
    await services.blobs.put(blobKey, bytes);
    const token = await registerFile(
      services.store.db,
      { accountId, kind: 'upload', blobKey, contentType, size: bytes.length, fileName, expiresAt },
      Date.now(),
    );
    return `${TEST_PUBLIC_URL}/files/${token}/${fileName}`;
  }

  async function pendingTask(accountId: string): Promise<string> {
    return submitTask(
      services.store,
      {
        accountId,
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
  }

  beforeAll(async () => {
    services = await createTestServices(target, { REPRISE_RATE_LIMIT: '1000/10s' });
    app = await createTestApp(services);
    alice = await createTestAccount(services, 1000);
    bob = await createTestAccount(services, 1000);
    const db = services.store.db;

    f.parent = await taskWithAudio(alice.account.id, 40);
    f.spare = await taskWithAudio(alice.account.id, 40);
    f.foreign = await taskWithAudio(bob.account.id, 40);
    f.pending = await pendingTask(alice.account.id);
    f.halfway = await finishedGenerateTask(services, alice.account.id, 40);
    await db.updateTable('tasks').set({ status: 'FIRST_SUCCESS' }).where('id', '=', f.halfway.taskId).execute();
    f.v35 = await taskWithAudio(alice.account.id, 40, 'V3_5');
    f.expired = await finishedGenerateTask(services, alice.account.id, 40);
    const expiredFiles = db.selectFrom('tracks').select('audio_file').where('task_id', '=', f.expired.taskId);
    await db
      .updateTable('files')
      .set({ expires_at: Date.now() - 1000 })
      .where('id', 'in', expiredFiles)
      .execute();

    f.wav20 = await uploadedWav(services, alice.account.id, 20);
    f.wav20again = await uploadedWav(services, alice.account.id, 20);
    f.wav21 = await uploadedWav(services, alice.account.id, 21);
    f.long = await uploaded(alice.account.id, sineWav(481, 8000, 1), 'long.wav', 'audio/wav');
    f.text = await uploaded(alice.account.id, new TextEncoder().encode('These are my notes, not a song at all.\n'), 'notes.txt', 'text/plain');
    f.expiredUpload = await uploaded(alice.account.id, sineWav(20, 8000, 1), 'old.wav', 'audio/wav', Date.now() - 1000);
    f.missingFile = `${TEST_PUBLIC_URL}/files/${'A'.repeat(32)}/gone.wav`;

    const persona = await app.inject({
      method: 'POST',
      url: '/api/v1/generate/generate-persona',
      headers: bob.auth,
      payload: { taskId: f.foreign.taskId, audioId: f.foreign.audioIds[0], name: 'Bob', description: 'Bob’s voice', vocalStart: 0, vocalEnd: 20 },
    });
    expect(persona.json()).toMatchObject({ code: 200, data: { personaId: expect.stringMatching(HEX32) } });
    f.bobPersona = persona.json().data.personaId;
  });

  afterAll(async () => {
    await app.close();
    await closeServices(services);
  });

  /** What a refused request must leave unchanged. */
  async function snapshot(accountId: string) {
    const db = services.store.db;
    const count = (table: 'tasks' | 'jobs' | 'ledger' | 'files' | 'personas') => countRows(services, table);
    const balance = Number((await db.selectFrom('accounts').select('balance').where('id', '=', accountId).executeTakeFirstOrThrow()).balance);
    return {
      tasks: await count('tasks'),
      jobs: await count('jobs'),
      ledger: await count('ledger'),
      files: await count('files'),
      personas: await count('personas'),
      balance,
    };
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
    const task = await services.store.db
      .selectFrom('tasks')
      .select(['price', 'account_id', 'status'])
      .where('id', '=', body.data.taskId)
      .executeTakeFirstOrThrow();
    expect(task).toEqual({ price, account_id: alice.account.id, status: 'PENDING' });
    const debit = await services.store.db.selectFrom('ledger').select(['amount', 'kind']).where('task_id', '=', body.data.taskId).execute();
    // `+ 0`: a free task's debit is stored as 0 (not -0).
    expect(debit.map((row) => ({ kind: row.kind, amount: Number(row.amount) + 0 }))).toEqual([{ kind: 'debit', amount: -price + 0 }]);
    return body.data.taskId;
  }

  interface Case {
    name: string;
    body: () => unknown;
    msg: string | (() => string);
    code?: number;
  }
  const table = (cases: Case[]) => cases.map((c) => [c.name, c] as const);
  const run = (url: string) => async (_: string, c: Case) => expectRefusal(url, c.body(), c.code ?? 422, typeof c.msg === 'function' ? c.msg() : c.msg);

  /** Refusals every route shares: not an object, an empty body. */
  const shape = (): Case[] => [
    { name: 'a JSON array as the body', body: () => [1, 2], msg: 'body: must be a JSON object' },
    { name: 'a JSON string as the body', body: () => '"hello"', msg: 'body: must be a JSON object' },
    { name: 'an empty body', body: () => '', code: 400, msg: 'body: empty, expected a JSON object' },
  ];

  // --- extend --------------------------------------------------------------------------------

  describe('POST /api/v1/generate/extend', () => {
    const url = '/api/v1/generate/extend';
    const good = () => ({
      defaultParamFlag: true,
      audioId: f.parent.audioIds[0],
      continueAt: 10,
      style: 'jazz',
      title: 'More',
      prompt: 'la la',
      callBackUrl: CB,
    });
    const cases: Case[] = [
      ...shape(),
      { name: 'no callBackUrl', body: () => ({ ...good(), callBackUrl: undefined }), msg: 'Please enter callBackUrl.' },
      { name: 'callBackUrl null', body: () => ({ ...good(), callBackUrl: null }), msg: 'Please enter callBackUrl.' },
      { name: 'callBackUrl ftp', body: () => ({ ...good(), callBackUrl: 'ftp://example.com/cb' }), msg: 'callBackUrl: must use http:// or https://' },
      { name: 'callBackUrl not a URL', body: () => ({ ...good(), callBackUrl: 'cb' }), msg: 'callBackUrl: must be an absolute http:// or https:// URL' },
      { name: 'no defaultParamFlag', body: () => ({ ...good(), defaultParamFlag: undefined }), msg: 'defaultParamFlag: is required' },
      { name: 'defaultParamFlag "true"', body: () => ({ ...good(), defaultParamFlag: 'true' }), msg: 'defaultParamFlag: must be true or false' },
      { name: 'no audioId', body: () => ({ ...good(), audioId: undefined }), msg: 'audioId: is required' },
      { name: 'audioId a number', body: () => ({ ...good(), audioId: 7 }), msg: 'audioId: must be a string' },
      { name: 'audioId blank', body: () => ({ ...good(), audioId: '  ' }), msg: 'audioId: must not be empty' },
      { name: 'model V9', body: () => ({ ...good(), model: 'V9' }), msg: MODELS_MSG },
      { name: 'model lower case', body: () => ({ ...good(), model: 'v5' }), msg: MODELS_MSG },
      {
        name: 'flag true without continueAt',
        body: () => ({ ...good(), continueAt: undefined }),
        msg: 'continueAt: is required when defaultParamFlag is true',
      },
      { name: 'continueAt a string', body: () => ({ ...good(), continueAt: '10' }), msg: 'continueAt: must be a number of seconds' },
      { name: 'flag true without style', body: () => ({ ...good(), style: undefined }), msg: 'style: is required' },
      { name: 'flag true without title', body: () => ({ ...good(), title: undefined }), msg: 'title: is required' },
      { name: 'title 101 on V5', body: () => ({ ...good(), model: 'V5', title: 'x'.repeat(101) }), msg: 'title: must be at most 100 characters' },
      { name: 'title 81 on V4', body: () => ({ ...good(), model: 'V4', title: 'x'.repeat(81) }), msg: 'title: must be at most 80 characters' },
      { name: 'title 81 on V4_5ALL', body: () => ({ ...good(), model: 'V4_5ALL', title: 'x'.repeat(81) }), msg: 'title: must be at most 80 characters' },
      { name: 'style 201 on V4', body: () => ({ ...good(), model: 'V4', style: 'x'.repeat(201) }), msg: 'style: must be at most 200 characters' },
      { name: 'style 1001 on V5', body: () => ({ ...good(), model: 'V5', style: 'x'.repeat(1001) }), msg: 'style: must be at most 1000 characters' },
      { name: 'prompt 3001 on V4', body: () => ({ ...good(), model: 'V4', prompt: 'x'.repeat(3001) }), msg: 'prompt: must be at most 3000 characters' },
      { name: 'prompt 5001 on V5_5', body: () => ({ ...good(), model: 'V5_5', prompt: 'x'.repeat(5001) }), msg: 'prompt: must be at most 5000 characters' },
      { name: 'vocalGender x', body: () => ({ ...good(), vocalGender: 'x' }), msg: 'vocalGender: must be one of m, f' },
      { name: 'styleWeight 1.5', body: () => ({ ...good(), styleWeight: 1.5 }), msg: 'styleWeight: must be between 0 and 1' },
      { name: 'weirdnessConstraint -0.1', body: () => ({ ...good(), weirdnessConstraint: -0.1 }), msg: 'weirdnessConstraint: must be between 0 and 1' },
      { name: 'audioWeight "0.5"', body: () => ({ ...good(), audioWeight: '0.5' }), msg: 'audioWeight: must be a number' },
      { name: 'unknown audioId', body: () => ({ ...good(), audioId: UNKNOWN_AUDIO }), msg: `audioId: no track ${UNKNOWN_AUDIO} for this account` },
      {
        name: 'another account’s audioId',
        body: () => ({ ...good(), audioId: f.foreign.audioIds[0] }),
        msg: () => `audioId: no track ${f.foreign.audioIds[0]} for this account`,
      },
      {
        name: 'a track of a task not yet succeeded',
        body: () => ({ ...good(), audioId: f.halfway.audioIds[0] }),
        msg: () => `audioId: the task of track ${f.halfway.audioIds[0]} has not succeeded (status FIRST_SUCCESS)`,
      },
      { name: 'an expired track', body: () => ({ ...good(), audioId: f.expired.audioIds[0] }), msg: 'audioId: the track has expired and was deleted' },
      { name: 'continueAt 0', body: () => ({ ...good(), continueAt: 0 }), msg: 'continueAt: must be greater than 0' },
      { name: 'continueAt -5', body: () => ({ ...good(), continueAt: -5 }), msg: 'continueAt: must be greater than 0' },
      {
        name: 'continueAt at the end of the source',
        body: () => ({ ...good(), continueAt: 40 }),
        msg: 'continueAt: must be less than the source duration (40 s)',
      },
      { name: 'continueAt beyond the source', body: () => ({ ...good(), continueAt: 95.5 }), msg: 'continueAt: must be less than the source duration (40 s)' },
      { name: 'an unknown personaId', body: () => ({ ...good(), personaId: 'nope' }), msg: 'personaId: no persona nope for this account' },
      {
        name: 'another account’s personaId',
        body: () => ({ ...good(), personaId: f.bobPersona }),
        msg: () => `personaId: no persona ${f.bobPersona} for this account`,
      },
    ];
    it.each(table(cases))('refuses %s', run(url));

    it('accepts a continuation of a finished track (and, with defaultParamFlag false, audioId alone)', async () => {
      await expectAccepted(url, good(), DEFAULT_PRICES.extend);
      await expectAccepted(url, { defaultParamFlag: false, audioId: f.parent.audioIds[1], callBackUrl: CB }, DEFAULT_PRICES.extend);
    });
  });

  // --- upload-extend -------------------------------------------------------------------------

  describe('POST /api/v1/generate/upload-extend', () => {
    const url = '/api/v1/generate/upload-extend';
    const good = () => ({ uploadUrl: f.wav20, defaultParamFlag: true, instrumental: true, continueAt: 10, style: 'jazz', title: 'Longer', callBackUrl: CB });
    const cases: Case[] = [
      ...shape(),
      { name: 'no callBackUrl', body: () => ({ ...good(), callBackUrl: undefined }), msg: 'Please enter callBackUrl.' },
      { name: 'callBackUrl empty', body: () => ({ ...good(), callBackUrl: '' }), msg: 'Please enter callBackUrl.' },
      { name: 'no uploadUrl', body: () => ({ ...good(), uploadUrl: undefined }), msg: 'uploadUrl: is required' },
      { name: 'uploadUrl a number', body: () => ({ ...good(), uploadUrl: 5 }), msg: 'uploadUrl: must be a string' },
      { name: 'uploadUrl ftp', body: () => ({ ...good(), uploadUrl: 'ftp://example.com/a.mp3' }), msg: 'uploadUrl: must use http:// or https://' },
      {
        name: 'uploadUrl with a password',
        body: () => ({ ...good(), uploadUrl: 'https://u:p@example.com/a.mp3' }),
        msg: 'uploadUrl: must not contain a user name or password',
      },
      { name: 'no defaultParamFlag', body: () => ({ ...good(), defaultParamFlag: undefined }), msg: 'defaultParamFlag: is required' },
      { name: 'instrumental "no"', body: () => ({ ...good(), instrumental: 'no' }), msg: 'instrumental: must be true or false' },
      { name: 'no continueAt', body: () => ({ ...good(), continueAt: undefined }), msg: 'continueAt: is required' },
      { name: 'continueAt 0', body: () => ({ ...good(), continueAt: 0 }), msg: 'continueAt: must be greater than 0' },
      { name: 'continueAt -1', body: () => ({ ...good(), continueAt: -1 }), msg: 'continueAt: must be greater than 0' },
      {
        name: 'continueAt at the end of the upload',
        body: () => ({ ...good(), continueAt: 20 }),
        msg: 'continueAt: must be less than the source duration (20 s)',
      },
      { name: 'continueAt beyond the upload', body: () => ({ ...good(), continueAt: 30 }), msg: 'continueAt: must be less than the source duration (20 s)' },
      { name: 'flag true, vocal, no prompt', body: () => ({ ...good(), instrumental: false }), msg: 'prompt: is required' },
      { name: 'flag false without prompt', body: () => ({ ...good(), defaultParamFlag: false }), msg: 'prompt: is required' },
      { name: 'title 101 on V4_5PLUS', body: () => ({ ...good(), model: 'V4_5PLUS', title: 'x'.repeat(101) }), msg: 'title: must be at most 100 characters' },
      { name: 'title 81 on V4', body: () => ({ ...good(), model: 'V4', title: 'x'.repeat(81) }), msg: 'title: must be at most 80 characters' },
      { name: 'style 201 on V3_5', body: () => ({ ...good(), model: 'V3_5', style: 'x'.repeat(201) }), msg: 'style: must be at most 200 characters' },
      { name: 'model V6_MINI', body: () => ({ ...good(), model: 'V6_MINI' }), msg: MODELS_MSG },
      { name: 'vocalGender M', body: () => ({ ...good(), vocalGender: 'M' }), msg: 'vocalGender: must be one of m, f' },
      { name: 'audioWeight 2', body: () => ({ ...good(), audioWeight: 2 }), msg: 'audioWeight: must be between 0 and 1' },
      { name: 'an unknown file of this service', body: () => ({ ...good(), uploadUrl: f.missingFile }), msg: 'uploadUrl: no such file (it may have expired)' },
      { name: 'an expired upload', body: () => ({ ...good(), uploadUrl: f.expiredUpload }), msg: 'uploadUrl: no such file (it may have expired)' },
      {
        name: 'a text file, not audio',
        body: () => ({ ...good(), uploadUrl: f.text }),
        msg: 'uploadUrl: is not readable MP3 or WAV audio (the content is neither MP3 nor WAV)',
      },
      {
        name: 'an upload over 8 minutes',
        body: () => ({ ...good(), uploadUrl: f.long }),
        msg: 'uploadUrl: the audio is 481 s long; at most 8 minutes are accepted',
      },
      { name: 'an unknown personaId', body: () => ({ ...good(), personaId: 'nope' }), msg: 'personaId: no persona nope for this account' },
    ];
    it.each(table(cases))('refuses %s', run(url));

    it('accepts an uploaded song continued inside it', async () => {
      await expectAccepted(url, good(), DEFAULT_PRICES.uploadExtend);
      await expectAccepted(
        url,
        { uploadUrl: f.wav21, defaultParamFlag: false, instrumental: false, continueAt: 20.5, prompt: 'la', callBackUrl: CB },
        DEFAULT_PRICES.uploadExtend,
      );
    });
  });

  // --- upload-cover --------------------------------------------------------------------------

  describe('POST /api/v1/generate/upload-cover', () => {
    const url = '/api/v1/generate/upload-cover';
    const good = () => ({
      uploadUrl: f.wav20,
      customMode: true,
      instrumental: false,
      prompt: '[Verse] la la',
      style: 'bossa nova',
      title: 'Cover',
      callBackUrl: CB,
    });
    const plain = () => ({ uploadUrl: f.wav20, customMode: false, instrumental: true, prompt: 'a calm cover', callBackUrl: CB });
    const cases: Case[] = [
      ...shape(),
      { name: 'no callBackUrl', body: () => ({ ...good(), callBackUrl: undefined }), msg: 'Please enter callBackUrl.' },
      { name: 'no uploadUrl', body: () => ({ ...good(), uploadUrl: undefined }), msg: 'uploadUrl: is required' },
      { name: 'uploadUrl empty', body: () => ({ ...good(), uploadUrl: '' }), msg: 'uploadUrl: is required' },
      { name: 'uploadUrl an object', body: () => ({ ...good(), uploadUrl: { url: f.wav20 } }), msg: 'uploadUrl: must be a string' },
      { name: 'no customMode', body: () => ({ ...good(), customMode: undefined }), msg: 'customMode: is required' },
      { name: 'customMode 1', body: () => ({ ...good(), customMode: 1 }), msg: 'customMode: must be true or false' },
      { name: 'no instrumental', body: () => ({ ...good(), instrumental: undefined }), msg: 'instrumental: is required' },
      { name: 'custom without style', body: () => ({ ...good(), style: undefined }), msg: 'style: is required' },
      { name: 'custom without title', body: () => ({ ...good(), title: undefined }), msg: 'title: is required' },
      { name: 'custom vocal without prompt', body: () => ({ ...good(), prompt: undefined }), msg: 'prompt: is required' },
      { name: 'custom title 101 on V5', body: () => ({ ...good(), model: 'V5', title: 'x'.repeat(101) }), msg: 'title: must be at most 100 characters' },
      { name: 'custom title 81 on V4_5ALL', body: () => ({ ...good(), model: 'V4_5ALL', title: 'x'.repeat(81) }), msg: 'title: must be at most 80 characters' },
      { name: 'custom prompt 3001 on V4', body: () => ({ ...good(), model: 'V4', prompt: 'x'.repeat(3001) }), msg: 'prompt: must be at most 3000 characters' },
      { name: 'non-custom without prompt', body: () => ({ ...plain(), prompt: undefined }), msg: 'prompt: is required' },
      { name: 'non-custom prompt 501', body: () => ({ ...plain(), prompt: 'x'.repeat(501) }), msg: 'prompt: must be at most 500 characters' },
      {
        name: 'non-custom with a personaId',
        body: () => ({ ...plain(), personaId: f.bobPersona }),
        msg: 'personaId: is only used in custom mode (customMode: true)',
      },
      {
        name: 'another account’s personaId',
        body: () => ({ ...good(), personaId: f.bobPersona }),
        msg: () => `personaId: no persona ${f.bobPersona} for this account`,
      },
      { name: 'model "V5 "', body: () => ({ ...good(), model: 'V5 ' }), msg: MODELS_MSG },
      { name: 'weirdnessConstraint true', body: () => ({ ...good(), weirdnessConstraint: true }), msg: 'weirdnessConstraint: must be a number' },
      { name: 'negativeTags a list', body: () => ({ ...good(), negativeTags: ['rock'] }), msg: 'negativeTags: must be a string' },
      {
        name: 'a text file, not audio',
        body: () => ({ ...good(), uploadUrl: f.text }),
        msg: 'uploadUrl: is not readable MP3 or WAV audio (the content is neither MP3 nor WAV)',
      },
      {
        name: 'an upload over 8 minutes',
        body: () => ({ ...good(), uploadUrl: f.long }),
        msg: 'uploadUrl: the audio is 481 s long; at most 8 minutes are accepted',
      },
      { name: 'an unknown file of this service', body: () => ({ ...good(), uploadUrl: f.missingFile }), msg: 'uploadUrl: no such file (it may have expired)' },
      // Other URLs are fetched through the outbound guard: private addresses are refused before any connection.
      {
        name: 'a URL on a private address',
        body: () => ({ ...good(), uploadUrl: 'http://10.0.0.1/song.mp3' }),
        msg: 'uploadUrl: could not be downloaded: destination 10.0.0.1 is in a private range (10.0.0.0/8)',
      },
      {
        name: 'a URL on loopback (not this service’s files)',
        body: () => ({ ...good(), uploadUrl: 'http://127.0.0.1:9/song.mp3' }),
        msg: 'uploadUrl: could not be downloaded: destination 127.0.0.1 is in the loopback range (127.0.0.0/8)',
      },
      // The test setup refuses external DNS lookups (test/setup/no-external-dns.ts): a host name fails to resolve.
      {
        name: 'a URL whose host does not resolve',
        body: () => ({ ...good(), uploadUrl: 'https://example.com/song.mp3' }),
        msg: 'uploadUrl: could not be downloaded: could not resolve example.com (ENOTFOUND)',
      },
    ];
    it.each(table(cases))('refuses %s', run(url));

    it('accepts an uploaded song to cover, custom and not', async () => {
      await expectAccepted(url, good(), DEFAULT_PRICES.uploadCover);
      await expectAccepted(url, plain(), DEFAULT_PRICES.uploadCover);
    });
  });

  // --- add-instrumental ----------------------------------------------------------------------

  describe('POST /api/v1/generate/add-instrumental', () => {
    const url = '/api/v1/generate/add-instrumental';
    const good = () => ({ uploadUrl: f.wav20, title: 'Backed', tags: 'acoustic guitar, soft drums', negativeTags: '', callBackUrl: CB });
    const cases: Case[] = [
      ...shape(),
      { name: 'no callBackUrl', body: () => ({ ...good(), callBackUrl: undefined }), msg: 'Please enter callBackUrl.' },
      { name: 'no uploadUrl', body: () => ({ ...good(), uploadUrl: null }), msg: 'uploadUrl: is required' },
      { name: 'no title', body: () => ({ ...good(), title: undefined }), msg: 'title: is required' },
      { name: 'title 101', body: () => ({ ...good(), title: 'x'.repeat(101) }), msg: 'title: must be at most 100 characters' },
      { name: 'no tags', body: () => ({ ...good(), tags: undefined }), msg: 'tags: is required' },
      { name: 'style instead of tags', body: () => ({ ...good(), tags: undefined, style: 'rock' }), msg: 'tags: is required' },
      { name: 'tags 1001', body: () => ({ ...good(), tags: 'x'.repeat(1001) }), msg: 'tags: must be at most 1000 characters' },
      { name: 'no negativeTags', body: () => ({ ...good(), negativeTags: undefined }), msg: 'negativeTags: is required (it may be empty)' },
      { name: 'negativeTags 5', body: () => ({ ...good(), negativeTags: 5 }), msg: 'negativeTags: must be a string' },
      { name: 'model V4_5 (not offered here)', body: () => ({ ...good(), model: 'V4_5' }), msg: LAYER_MODELS_MSG },
      { name: 'model V3_5', body: () => ({ ...good(), model: 'V3_5' }), msg: LAYER_MODELS_MSG },
      { name: 'vocalGender female', body: () => ({ ...good(), vocalGender: 'female' }), msg: 'vocalGender: must be one of m, f' },
      { name: 'styleWeight 1.01', body: () => ({ ...good(), styleWeight: 1.01 }), msg: 'styleWeight: must be between 0 and 1' },
      {
        name: 'a text file, not audio',
        body: () => ({ ...good(), uploadUrl: f.text }),
        msg: 'uploadUrl: is not readable MP3 or WAV audio (the content is neither MP3 nor WAV)',
      },
      {
        name: 'an upload over 8 minutes',
        body: () => ({ ...good(), uploadUrl: f.long }),
        msg: 'uploadUrl: the audio is 481 s long; at most 8 minutes are accepted',
      },
      { name: 'an expired upload', body: () => ({ ...good(), uploadUrl: f.expiredUpload }), msg: 'uploadUrl: no such file (it may have expired)' },
    ];
    it.each(table(cases))('refuses %s', run(url));

    it('accepts an uploaded vocal to accompany', async () => {
      await expectAccepted(url, good(), DEFAULT_PRICES.addInstrumental);
      await expectAccepted(url, { ...good(), model: 'V5_5', vocalGender: 'f', styleWeight: 0, audioWeight: 1 }, DEFAULT_PRICES.addInstrumental);
    });
  });

  // --- add-vocals ----------------------------------------------------------------------------

  describe('POST /api/v1/generate/add-vocals', () => {
    const url = '/api/v1/generate/add-vocals';
    const good = () => ({ uploadUrl: f.wav20, prompt: '[Verse] hello there', title: 'Sung', style: 'soul', negativeTags: 'metal', callBackUrl: CB });
    const cases: Case[] = [
      ...shape(),
      { name: 'no callBackUrl', body: () => ({ ...good(), callBackUrl: undefined }), msg: 'Please enter callBackUrl.' },
      { name: 'no uploadUrl', body: () => ({ ...good(), uploadUrl: undefined }), msg: 'uploadUrl: is required' },
      { name: 'uploadUrl relative', body: () => ({ ...good(), uploadUrl: '/files/abc.wav' }), msg: 'uploadUrl: must be an absolute http:// or https:// URL' },
      { name: 'no prompt', body: () => ({ ...good(), prompt: undefined }), msg: 'prompt: is required' },
      { name: 'prompt blank', body: () => ({ ...good(), prompt: ' \n ' }), msg: 'prompt: must not be empty' },
      { name: 'prompt 5001', body: () => ({ ...good(), prompt: 'x'.repeat(5001) }), msg: 'prompt: must be at most 5000 characters' },
      { name: 'no title', body: () => ({ ...good(), title: undefined }), msg: 'title: is required' },
      { name: 'title 101', body: () => ({ ...good(), title: 'x'.repeat(101) }), msg: 'title: must be at most 100 characters' },
      { name: 'no style', body: () => ({ ...good(), style: undefined }), msg: 'style: is required' },
      { name: 'tags instead of style', body: () => ({ ...good(), style: undefined, tags: 'soul' }), msg: 'style: is required' },
      { name: 'style 1001', body: () => ({ ...good(), style: 'x'.repeat(1001) }), msg: 'style: must be at most 1000 characters' },
      { name: 'no negativeTags', body: () => ({ ...good(), negativeTags: null }), msg: 'negativeTags: is required (it may be empty)' },
      { name: 'model V4', body: () => ({ ...good(), model: 'V4' }), msg: VOCALS_MODELS_MSG },
      { name: 'model V5_5 (add-instrumental only)', body: () => ({ ...good(), model: 'V5_5' }), msg: VOCALS_MODELS_MSG },
      { name: 'vocalGender 1', body: () => ({ ...good(), vocalGender: 1 }), msg: 'vocalGender: must be one of m, f' },
      { name: 'audioWeight -1', body: () => ({ ...good(), audioWeight: -1 }), msg: 'audioWeight: must be between 0 and 1' },
      {
        name: 'a text file, not audio',
        body: () => ({ ...good(), uploadUrl: f.text }),
        msg: 'uploadUrl: is not readable MP3 or WAV audio (the content is neither MP3 nor WAV)',
      },
      {
        name: 'an upload over 8 minutes',
        body: () => ({ ...good(), uploadUrl: f.long }),
        msg: 'uploadUrl: the audio is 481 s long; at most 8 minutes are accepted',
      },
      { name: 'an unknown file of this service', body: () => ({ ...good(), uploadUrl: f.missingFile }), msg: 'uploadUrl: no such file (it may have expired)' },
    ];
    it.each(table(cases))('refuses %s', run(url));

    it('accepts an uploaded instrumental to sing over', async () => {
      await expectAccepted(url, good(), DEFAULT_PRICES.addVocals);
      await expectAccepted(url, { ...good(), negativeTags: '', model: 'V5', vocalGender: 'm' }, DEFAULT_PRICES.addVocals);
    });
  });

  // --- mashup --------------------------------------------------------------------------------

  describe('POST /api/v1/generate/mashup', () => {
    const url = '/api/v1/generate/mashup';
    const good = () => ({ uploadUrlList: [f.wav20, f.wav21], customMode: false, prompt: 'both songs, one groove', callBackUrl: CB });
    const custom = () => ({
      uploadUrlList: [f.wav20, f.wav21],
      customMode: true,
      instrumental: false,
      prompt: 'la',
      style: 'funk',
      title: 'Both',
      callBackUrl: CB,
    });
    const cases: Case[] = [
      ...shape(),
      { name: 'no callBackUrl', body: () => ({ ...good(), callBackUrl: undefined }), msg: 'Please enter callBackUrl.' },
      { name: 'no uploadUrlList', body: () => ({ ...good(), uploadUrlList: undefined }), msg: 'uploadUrlList: is required: a list of exactly 2 song URLs' },
      { name: 'uploadUrlList a string', body: () => ({ ...good(), uploadUrlList: f.wav20 }), msg: 'uploadUrlList: must be a list of exactly 2 song URLs' },
      { name: 'uploadUrlList with 1 URL', body: () => ({ ...good(), uploadUrlList: [f.wav20] }), msg: 'uploadUrlList: must be a list of exactly 2 song URLs' },
      {
        name: 'uploadUrlList with 3 URLs',
        body: () => ({ ...good(), uploadUrlList: [f.wav20, f.wav21, f.wav20again] }),
        msg: 'uploadUrlList: must be a list of exactly 2 song URLs',
      },
      { name: 'uploadUrlList empty', body: () => ({ ...good(), uploadUrlList: [] }), msg: 'uploadUrlList: must be a list of exactly 2 song URLs' },
      {
        name: 'the same URL twice',
        body: () => ({ ...good(), uploadUrlList: [f.wav20, f.wav20] }),
        msg: 'uploadUrlList: the two songs must differ (both URLs are the same)',
      },
      {
        name: 'two URLs to the same bytes',
        body: () => ({ ...good(), uploadUrlList: [f.wav20, f.wav20again] }),
        msg: 'uploadUrlList: the two songs must differ (both files hold the same audio)',
      },
      {
        name: 'one file under two spellings of its URL',
        body: () => ({ ...good(), uploadUrlList: [f.wav20, `${f.wav20}?copy=1`] }),
        msg: 'uploadUrlList: the two songs must differ (both files hold the same audio)',
      },
      { name: 'a number in the list', body: () => ({ ...good(), uploadUrlList: [f.wav20, 42] }), msg: 'uploadUrlList[1]: must be an http:// or https:// URL' },
      {
        name: 'ftp in the list',
        body: () => ({ ...good(), uploadUrlList: ['ftp://example.com/a.mp3', f.wav20] }),
        msg: 'uploadUrlList[0]: must use http:// or https://',
      },
      {
        name: 'a text file in the list',
        body: () => ({ ...good(), uploadUrlList: [f.wav20, f.text] }),
        msg: 'uploadUrlList[1]: is not readable MP3 or WAV audio (the content is neither MP3 nor WAV)',
      },
      {
        name: 'an unknown file in the list',
        body: () => ({ ...good(), uploadUrlList: [f.missingFile, f.wav20] }),
        msg: 'uploadUrlList[0]: no such file (it may have expired)',
      },
      {
        name: 'an upload over 8 minutes in the list',
        body: () => ({ ...good(), uploadUrlList: [f.wav20, f.long] }),
        msg: 'uploadUrlList[1]: the audio is 481 s long; at most 8 minutes are accepted',
      },
      {
        name: 'a private address in the list',
        body: () => ({ ...good(), uploadUrlList: ['http://192.168.1.1/a.mp3', f.wav20] }),
        msg: 'uploadUrlList[0]: could not be downloaded: destination 192.168.1.1 is in a private range (192.168.0.0/16)',
      },
      { name: 'no customMode', body: () => ({ ...good(), customMode: undefined }), msg: 'customMode: is required' },
      { name: 'instrumental "yes"', body: () => ({ ...good(), instrumental: 'yes' }), msg: 'instrumental: must be true or false' },
      { name: 'non-custom without prompt', body: () => ({ ...good(), prompt: undefined }), msg: 'prompt: is required' },
      { name: 'non-custom prompt 501', body: () => ({ ...good(), prompt: 'x'.repeat(501) }), msg: 'prompt: must be at most 500 characters' },
      {
        name: 'custom title 81 on V5 (80 on every model)',
        body: () => ({ ...custom(), model: 'V5', title: 'x'.repeat(81) }),
        msg: 'title: must be at most 80 characters',
      },
      { name: 'custom style 201 on V4', body: () => ({ ...custom(), model: 'V4', style: 'x'.repeat(201) }), msg: 'style: must be at most 200 characters' },
      { name: 'custom without style', body: () => ({ ...custom(), style: undefined }), msg: 'style: is required' },
      { name: 'model V2', body: () => ({ ...good(), model: 'V2' }), msg: MODELS_MSG },
      { name: 'vocalGender x', body: () => ({ ...custom(), vocalGender: 'x' }), msg: 'vocalGender: must be one of m, f' },
      { name: 'styleWeight 3', body: () => ({ ...custom(), styleWeight: 3 }), msg: 'styleWeight: must be between 0 and 1' },
    ];
    it.each(table(cases))('refuses %s', run(url));

    it('accepts two different songs', async () => {
      await expectAccepted(url, good(), DEFAULT_PRICES.mashup);
      await expectAccepted(url, { ...custom(), instrumental: true, prompt: undefined, model: 'V4', title: 'x'.repeat(80) }, DEFAULT_PRICES.mashup);
      // KIE requires only the songs, the mode and the model: custom mode with vocals needs no prompt here.
      await expectAccepted(url, { ...custom(), prompt: undefined }, DEFAULT_PRICES.mashup);
    });
  });

  // --- cover image ---------------------------------------------------------------------------

  describe('POST /api/v1/suno/cover/generate', () => {
    const url = '/api/v1/suno/cover/generate';
    const cases: Case[] = [
      ...shape(),
      { name: 'no callBackUrl', body: () => ({ taskId: f.parent.taskId }), msg: 'Please enter callBackUrl.' },
      {
        name: 'callBackUrl javascript:',
        body: () => ({ taskId: f.parent.taskId, callBackUrl: 'javascript:alert(1)' }),
        msg: 'callBackUrl: must use http:// or https://',
      },
      { name: 'no taskId', body: () => ({ callBackUrl: CB }), msg: 'taskId: is required' },
      { name: 'taskId a number', body: () => ({ taskId: 12, callBackUrl: CB }), msg: 'taskId: must be a string' },
      { name: 'taskId 65 characters', body: () => ({ taskId: 'a'.repeat(65), callBackUrl: CB }), msg: 'taskId: must be at most 64 characters' },
      { name: 'an unknown taskId', body: () => ({ taskId: UNKNOWN_TASK, callBackUrl: CB }), msg: 'Record does not exist' },
      { name: 'another account’s taskId', body: () => ({ taskId: f.foreign.taskId, callBackUrl: CB }), msg: 'Record does not exist' },
      {
        name: 'a task not yet succeeded',
        body: () => ({ taskId: f.pending, callBackUrl: CB }),
        msg: () => `taskId: task ${f.pending} has not succeeded (status PENDING)`,
      },
      {
        name: 'a task with a first track only',
        body: () => ({ taskId: f.halfway.taskId, callBackUrl: CB }),
        msg: () => `taskId: task ${f.halfway.taskId} has not succeeded (status FIRST_SUCCESS)`,
      },
    ];
    it.each(table(cases))('refuses %s', run(url));

    it('accepts a first cover (free), then answers a second with code 400 and the first one’s taskId', async () => {
      const first = await expectAccepted(url, { taskId: f.parent.taskId, callBackUrl: CB }, DEFAULT_PRICES.coverImage);
      await expectRefusal(url, { taskId: f.parent.taskId, callBackUrl: CB }, 400, 'Cover record already exists', { taskId: first });
      // A cover task is no music task: a cover of it is unknown.
      await expectRefusal(url, { taskId: first, callBackUrl: CB }, 422, 'Record does not exist');
      // Bob cannot learn that Alice's task has a cover.
      await expectRefusal(url, { taskId: f.parent.taskId, callBackUrl: CB }, 422, 'Record does not exist', null, bob);
    });

    // "One cover per music task" is checked inside the transaction that writes the task, so two
    // requests whose admissions both ran before either task was written cannot both pass. To make
    // the interleaving certain rather than lucky, the test holds the submission transaction until
    // both requests have been admitted (or 2 s have passed). Expected: one 200, one 400 naming
    // the first; one cover task.
    it('keeps one cover per music task when two requests arrive together', async () => {
      const parent = await finishedGenerateTask(services, alice.account.id, 30);
      const originalAdmit = coverImageKind.admit;
      const originalTransaction = services.store.transaction;
      let admitted = 0;
      let release: () => void = () => {};
      const bothAdmitted = new Promise<void>((resolve) => {
        release = resolve;
      });
      const gate = Promise.race([bothAdmitted, new Promise<void>((resolve) => setTimeout(resolve, 2000))]);
      coverImageKind.admit = async (...args) => {
        const result = await originalAdmit.apply(coverImageKind, args);
        if (++admitted === 2) release();
        return result;
      };
      services.store.transaction = (async (...args: Parameters<typeof originalTransaction>) => {
        await gate;
        return originalTransaction.apply(services.store, args);
      }) as typeof originalTransaction;
      try {
        const answers = await Promise.all([0, 1].map(() => post(url, { taskId: parent.taskId, callBackUrl: CB })));
        expect(answers.map((answer) => answer.json().code).sort()).toEqual([200, 400]);
      } finally {
        coverImageKind.admit = originalAdmit;
        services.store.transaction = originalTransaction;
      }
      const covers = await services.store.db
        .selectFrom('tasks')
        .select('id')
        .where('type', '=', 'COVER_IMAGE')
        .where('parent_music_id', '=', parent.taskId)
        .execute();
      expect(covers).toHaveLength(1);
    });
  });

  // --- persona -------------------------------------------------------------------------------

  describe('POST /api/v1/generate/generate-persona', () => {
    const url = '/api/v1/generate/generate-persona';
    const good = () => ({ taskId: f.parent.taskId, audioId: f.parent.audioIds[0], name: 'Alice', description: 'warm jazz', vocalStart: 5, vocalEnd: 25 });
    const cases: Case[] = [
      ...shape(),
      { name: 'no taskId', body: () => ({ ...good(), taskId: undefined }), msg: 'taskId: is required' },
      { name: 'no audioId', body: () => ({ ...good(), audioId: undefined }), msg: 'audioId: is required' },
      { name: 'no name', body: () => ({ ...good(), name: undefined }), msg: 'name: is required' },
      { name: 'name blank', body: () => ({ ...good(), name: ' ' }), msg: 'name: must not be empty' },
      { name: 'name 101', body: () => ({ ...good(), name: 'x'.repeat(101) }), msg: 'name: must be at most 100 characters' },
      { name: 'no description', body: () => ({ ...good(), description: undefined }), msg: 'description: is required' },
      { name: 'description 1001', body: () => ({ ...good(), description: 'x'.repeat(1001) }), msg: 'description: must be at most 1000 characters' },
      { name: 'style 201', body: () => ({ ...good(), style: 'x'.repeat(201) }), msg: 'style: must be at most 200 characters' },
      { name: 'style a number', body: () => ({ ...good(), style: 1 }), msg: 'style: must be a string' },
      { name: 'vocalStart a string', body: () => ({ ...good(), vocalStart: '5' }), msg: 'vocalStart: must be a number of seconds' },
      { name: 'vocalStart -1', body: () => ({ ...good(), vocalStart: -1 }), msg: 'vocalStart: must be at least 0' },
      { name: 'vocalEnd a string', body: () => ({ ...good(), vocalEnd: 'end' }), msg: 'vocalEnd: must be a number of seconds' },
      {
        name: 'a window of 9.99 s',
        body: () => ({ ...good(), vocalStart: 5, vocalEnd: 14.99 }),
        msg: 'vocalEnd: vocalEnd - vocalStart (9.99 s) must be between 10 and 30 seconds',
      },
      {
        name: 'a window of 30.01 s',
        body: () => ({ ...good(), vocalStart: 0, vocalEnd: 30.01 }),
        msg: 'vocalEnd: vocalEnd - vocalStart (30.01 s) must be between 10 and 30 seconds',
      },
      {
        name: 'vocalEnd before vocalStart',
        body: () => ({ ...good(), vocalStart: 20, vocalEnd: 5 }),
        msg: 'vocalEnd: vocalEnd - vocalStart (-15 s) must be between 10 and 30 seconds',
      },
      {
        name: 'the default window (0–30) with vocalStart 25',
        body: () => ({ ...good(), vocalStart: 25, vocalEnd: undefined }),
        msg: 'vocalEnd: vocalEnd - vocalStart (5 s) must be between 10 and 30 seconds',
      },
      {
        name: 'vocalEnd beyond the track',
        body: () => ({ ...good(), vocalStart: 25, vocalEnd: 45 }),
        msg: "vocalEnd: must not exceed the track's duration (40 s)",
      },
      { name: 'an unknown taskId', body: () => ({ ...good(), taskId: UNKNOWN_TASK }), msg: 'Record does not exist' },
      { name: 'another account’s task', body: () => ({ ...good(), taskId: f.foreign.taskId, audioId: f.foreign.audioIds[1] }), msg: 'Record does not exist' },
      {
        name: 'another account’s audioId',
        body: () => ({ ...good(), audioId: f.foreign.audioIds[1] }),
        msg: () => `audioId: is not a track of task ${f.parent.taskId}`,
      },
      { name: 'an unknown audioId', body: () => ({ ...good(), audioId: UNKNOWN_AUDIO }), msg: () => `audioId: is not a track of task ${f.parent.taskId}` },
      {
        name: 'a track of another of my tasks',
        body: () => ({ ...good(), audioId: f.spare.audioIds[1] }),
        msg: () => `audioId: is not a track of task ${f.parent.taskId}`,
      },
      {
        name: 'a task not yet succeeded',
        body: () => ({ ...good(), taskId: f.pending }),
        msg: () => `taskId: task ${f.pending} has not succeeded (status PENDING)`,
      },
      {
        name: 'a task with a first track only',
        body: () => ({ ...good(), taskId: f.halfway.taskId, audioId: f.halfway.audioIds[0] }),
        msg: () => `taskId: task ${f.halfway.taskId} has not succeeded (status FIRST_SUCCESS)`,
      },
      {
        name: 'a V3_5 track',
        body: () => ({ ...good(), taskId: f.v35.taskId, audioId: f.v35.audioIds[0] }),
        msg: 'taskId: personas cannot be made from V3_5 tracks',
      },
    ];
    it.each(table(cases))('refuses %s', run(url));

    it('makes a persona from 20 s of a finished track, once per audioId (409 after)', async () => {
      const before = await snapshot(alice.account.id);
      const body = {
        taskId: f.spare.taskId,
        audioId: f.spare.audioIds[0],
        name: 'Alice',
        description: 'warm jazz',
        ' vocalStart': 10,
        vocalEnd: 30,
        style: 'swing',
      };
      const response = await post(url, body);
      expect(response.statusCode).toBe(200);
      const answer = response.json();
      expect(answer).toEqual({ code: 200, msg: 'success', data: { personaId: expect.stringMatching(HEX32), name: 'Alice', description: 'warm jazz' } });
      expect(await snapshot(alice.account.id)).toEqual({ ...before, personas: before.personas + 1 });
      await expectRefusal(url, body, 409, 'Persona already exists for this music');
      await expectRefusal(url, { ...body, vocalStart: 0, vocalEnd: 12, name: 'Other' }, 409, 'Persona already exists for this music');
      // The persona is Alice's: usable on her routes (accepted), refused for Bob (see the extend table).
      await expectAccepted(
        '/api/v1/generate/extend',
        {
          defaultParamFlag: true,
          audioId: f.parent.audioIds[0],
          continueAt: 5,
          style: 'jazz',
          title: 'With persona',
          personaId: answer.data.personaId,
          callBackUrl: CB,
        },
        DEFAULT_PRICES.extend,
      );
    });

    // Between a track's expiry and the retention sweep its blob is still there: a persona is
    // refused all the same, as extend refuses it (SPEC §1: expired files are deleted).
    it('refuses a track whose files have expired, as extend does', async () => {
      await expectRefusal(
        url,
        { taskId: f.expired.taskId, audioId: f.expired.audioIds[0], name: 'Late', description: 'd', vocalStart: 0, vocalEnd: 10 },
        422,
        'audioId: the track has expired and was deleted',
      );
    });

    it('lets one of two simultaneous requests for one track through', async () => {
      const before = await snapshot(alice.account.id);
      const body = { taskId: f.spare.taskId, audioId: f.spare.audioIds[1], name: 'Twin', description: 'd', vocalStart: 0, vocalEnd: 20 };
      const answers = await Promise.all([0, 1].map(() => post(url, body)));
      expect(answers.map((answer) => answer.json().code).sort()).toEqual([200, 409]);
      expect(await snapshot(alice.account.id)).toEqual({ ...before, personas: before.personas + 1 });
    });
  });

  // --- boost ---------------------------------------------------------------------------------

  describe('POST /api/v1/style/generate', () => {
    const url = '/api/v1/style/generate';
    const cases: Case[] = [
      ...shape(),
      { name: 'no content', body: () => ({}), msg: 'content: is required' },
      { name: 'content null', body: () => ({ content: null }), msg: 'content: is required' },
      { name: 'content empty', body: () => ({ content: '' }), msg: 'content: must not be empty' },
      { name: 'content blank', body: () => ({ content: '   ' }), msg: 'content: must not be empty' },
      { name: 'content a number', body: () => ({ content: 5 }), msg: 'content: must be a string' },
      { name: 'content a list', body: () => ({ content: ['Pop'] }), msg: 'content: must be a string' },
      { name: 'content 1001', body: () => ({ content: 'x'.repeat(1001) }), msg: 'content: must be at most 1000 characters' },
      { name: 'a Market-style body', body: () => ({ input: { content: 'Pop' } }), msg: 'content: is required' },
    ];
    it.each(table(cases))('refuses %s', run(url));

    it('answers a boost in the request, storing nothing at the default price (free)', async () => {
      const before = await snapshot(alice.account.id);
      const response = await post(url, { content: 'Pop, Mysterious' });
      expect(response.statusCode).toBe(200);
      const { code, msg, data } = response.json();
      expect({ code, msg }).toEqual({ code: 200, msg: 'success' });
      expect(data).toMatchObject({
        taskId: expect.stringMatching(HEX32),
        param: 'Pop, Mysterious',
        creditsConsumed: DEFAULT_PRICES.boostStyle,
        creditsRemaining: before.balance,
      });
      expect(data.result).toEqual(expect.any(String));
      expect(data.result.length).toBeGreaterThan(0);
      expect(await snapshot(alice.account.id)).toEqual(before);
    });
  });

  // --- Market form ---------------------------------------------------------------------------

  describe('POST /api/v1/jobs/createTask', () => {
    const url = '/api/v1/jobs/createTask';
    const market = (model: string, input: unknown, callBackUrl: string | null = CB) => ({ model, callBackUrl: callBackUrl ?? undefined, input });
    const cases: Case[] = [
      ...shape(),
      {
        name: 'generate: no callBackUrl',
        body: () => market('ai-music-api/generate', { custom_mode: false, instrumental: true, prompt: 'p' }, null),
        msg: 'Please enter callBackUrl.',
      },
      {
        name: 'generate: no custom_mode',
        body: () => market('ai-music-api/generate', { instrumental: true, prompt: 'p' }),
        msg: 'input.custom_mode: is required',
      },
      { name: 'generate: no input', body: () => ({ model: 'ai-music-api/generate', callBackUrl: CB }), msg: 'input.custom_mode: is required' },
      {
        name: 'generate: input.model V9',
        body: () => market('ai-music-api/generate', { custom_mode: false, instrumental: true, prompt: 'p', model: 'V9' }),
        msg: `input.${MODELS_MSG}`,
      },
      {
        name: 'generate: custom title 81',
        body: () => market('ai-music-api/generate', { custom_mode: true, instrumental: true, style: 's', title: 'x'.repeat(81), model: 'V5' }),
        msg: 'input.title: must be at most 80 characters',
      },
      {
        name: 'generate: style_weight 2',
        body: () => market('ai-music-api/generate', { custom_mode: false, instrumental: true, prompt: 'p', style_weight: 2 }),
        msg: 'input.style_weight: must be between 0 and 1',
      },
      {
        name: 'extend: unknown audio_id',
        body: () => market('ai-music-api/extend', { default_param_flag: false, audio_id: UNKNOWN_AUDIO }),
        msg: `input.audio_id: no track ${UNKNOWN_AUDIO} for this account`,
      },
      {
        name: 'extend: another account’s audio_id',
        body: () => market('ai-music-api/extend', { default_param_flag: false, audio_id: f.foreign.audioIds[0] }),
        msg: () => `input.audio_id: no track ${f.foreign.audioIds[0]} for this account`,
      },
      {
        name: 'extend: continue_at beyond the source',
        body: () => market('ai-music-api/extend', { default_param_flag: true, audio_id: f.parent.audioIds[0], continue_at: 41, style: 's', title: 't' }),
        msg: 'input.continue_at: must be less than the source duration (40 s)',
      },
      {
        name: 'extend: default_param_flag "false"',
        body: () => market('ai-music-api/extend', { default_param_flag: 'false', audio_id: f.parent.audioIds[0] }),
        msg: 'input.default_param_flag: must be true or false',
      },
      {
        name: 'upload-and-extend-audio: continue_at 0',
        body: () =>
          market('ai-music-api/upload-and-extend-audio', { upload_url: f.wav20, default_param_flag: false, instrumental: true, continue_at: 0, prompt: 'p' }),
        msg: 'input.continue_at: must be greater than 0',
      },
      {
        name: 'upload-and-cover-audio: a text file',
        body: () => market('ai-music-api/upload-and-cover-audio', { upload_url: f.text, custom_mode: false, instrumental: true, prompt: 'p' }),
        msg: 'input.upload_url: is not readable MP3 or WAV audio (the content is neither MP3 nor WAV)',
      },
      {
        name: 'add-instrumental: no negative_tags',
        body: () => market('ai-music-api/add-instrumental', { upload_url: f.wav20, title: 't', tags: 'g' }),
        msg: 'input.negative_tags: is required (it may be empty)',
      },
      {
        name: 'add-vocals: model V4',
        body: () => market('ai-music-api/add-vocals', { upload_url: f.wav20, prompt: 'p', title: 't', style: 's', negative_tags: '', model: 'V4' }),
        msg: `input.${VOCALS_MODELS_MSG}`,
      },
      {
        name: 'mashup: 1 URL',
        body: () => market('ai-music-api/mashup', { upload_url_list: [f.wav20], custom_mode: false, prompt: 'p' }),
        msg: 'input.upload_url_list: must be a list of exactly 2 song URLs',
      },
      {
        name: 'mashup: a bad second URL',
        body: () => market('ai-music-api/mashup', { upload_url_list: [f.wav20, 'ftp://example.com/b.mp3'], custom_mode: false, prompt: 'p' }),
        msg: 'input.upload_url_list[1]: must use http:// or https://',
      },
      {
        name: 'mashup: two URLs to the same bytes',
        body: () => market('ai-music-api/mashup', { upload_url_list: [f.wav20, f.wav20again], custom_mode: false, prompt: 'p' }),
        msg: 'input.upload_url_list: the two songs must differ (both files hold the same audio)',
      },
      { name: 'cover-generate: unknown task_id', body: () => market('ai-music-api/cover-generate', { task_id: UNKNOWN_TASK }), msg: 'Record does not exist' },
      { name: 'cover-generate: no task_id', body: () => market('ai-music-api/cover-generate', {}), msg: 'input.task_id: is required' },
      {
        name: 'cover-generate: a task not yet succeeded',
        body: () => market('ai-music-api/cover-generate', { task_id: f.pending }),
        msg: () => `input.task_id: task ${f.pending} has not succeeded (status PENDING)`,
      },
    ];
    it.each(table(cases))('refuses %s', run(url));

    // Boost style and persona as Market tasks (KIE's registry: `content`; `audio_id, description, name, task_id`).
    const persona = (input: Record<string, unknown>) =>
      market('ai-music-api/generate-persona', { task_id: f.parent.taskId, audio_id: f.parent.audioIds[0], name: 'n', description: 'd', ...input }, null);
    const syncTwins: Case[] = [
      { name: 'boost-music-style: no content', body: () => market('ai-music-api/boost-music-style', {}, null), msg: 'input.content: is required' },
      {
        name: 'boost-music-style: content a number',
        body: () => market('ai-music-api/boost-music-style', { content: 5 }),
        msg: 'input.content: must be a string',
      },
      {
        name: 'boost-music-style: content 1001',
        body: () => market('ai-music-api/boost-music-style', { content: 'x'.repeat(1001) }),
        msg: 'input.content: must be at most 1000 characters',
      },
      { name: 'generate-persona: no name', body: () => persona({ name: undefined }), msg: 'input.name: is required' },
      { name: 'generate-persona: no description', body: () => persona({ description: null }), msg: 'input.description: is required' },
      {
        name: 'generate-persona: a 5 s window',
        body: () => persona({ vocal_start: 0, vocal_end: 5 }),
        msg: 'input.vocal_end: vocalEnd - vocalStart (5 s) must be between 10 and 30 seconds',
      },
      {
        name: 'generate-persona: vocal_end beyond the track',
        body: () => persona({ vocal_start: 25, vocal_end: 41 }),
        msg: "input.vocal_end: must not exceed the track's duration (40 s)",
      },
      { name: 'generate-persona: unknown task_id', body: () => persona({ task_id: UNKNOWN_TASK }), msg: 'Record does not exist' },
      {
        name: 'generate-persona: another account’s task',
        body: () => persona({ task_id: f.foreign.taskId, audio_id: f.foreign.audioIds[1] }),
        msg: 'Record does not exist',
      },
      {
        name: 'generate-persona: a track of another task',
        body: () => persona({ audio_id: f.spare.audioIds[1] }),
        msg: () => `input.audio_id: is not a track of task ${f.parent.taskId}`,
      },
      {
        name: 'generate-persona: a task not yet succeeded',
        body: () => persona({ task_id: f.pending }),
        msg: () => `input.task_id: task ${f.pending} has not succeeded (status PENDING)`,
      },
    ];
    it.each(table(syncTwins))('refuses %s', run(url));

    it('refuses a Market persona for a track that already has one (409)', async () => {
      const made = await post('/api/v1/generate/generate-persona', {
        taskId: f.parent.taskId,
        audioId: f.parent.audioIds[1],
        name: 'n',
        description: 'd',
        vocalEnd: 20,
      });
      expect(made.json()).toMatchObject({ code: 200 });
      await expectRefusal(url, persona({ audio_id: f.parent.audioIds[1], vocal_end: 20 }), 409, 'Persona already exists for this music');
    });

    // parseMarket's own refusals name the top-level field the client got wrong, not `input.…`.
    const topLevel: Case[] = [
      {
        name: 'an unknown model',
        body: () => ({ model: 'ai-music-api/nope', callBackUrl: CB, input: {} }),
        msg: 'model: "ai-music-api/nope" is not a model this service runs (the version, such as "V5", goes in input.model)',
      },
      {
        name: 'a version as the model',
        body: () => ({ model: 'V6', callBackUrl: CB, input: {} }),
        msg: 'model: "V6" is not a model this service runs (the version, such as "V5", goes in input.model)',
      },
      { name: 'no model', body: () => ({ callBackUrl: CB, input: {} }), msg: 'model: is required, e.g. "ai-music-api/generate"' },
      { name: 'model a number', body: () => ({ model: 5, callBackUrl: CB, input: {} }), msg: 'model: must be a string' },
      { name: 'input a list', body: () => ({ model: 'ai-music-api/generate', callBackUrl: CB, input: [] }), msg: 'input: must be a JSON object' },
      { name: 'input a string', body: () => ({ model: 'ai-music-api/extend', callBackUrl: CB, input: 'audio_id=x' }), msg: 'input: must be a JSON object' },
    ];
    it.each(table(topLevel))('refuses %s naming the top-level field', run(url));

    it('accepts Market requests, answering taskId and recordId, and a second cover as KIE does', async () => {
      const before = await snapshot(alice.account.id);
      const response = await post(url, market('ai-music-api/extend', { default_param_flag: false, audio_id: f.parent.audioIds[0], model: 'V4_5' }));
      const { code, msg, data } = response.json();
      expect({ code, msg }).toEqual({ code: 200, msg: 'success' });
      expect(data.taskId).toMatch(HEX32);
      expect(data.recordId).toBe(data.taskId);
      expect(await snapshot(alice.account.id)).toEqual({
        ...before,
        tasks: before.tasks + 1,
        jobs: before.jobs + 1,
        ledger: before.ledger + 1,
        balance: before.balance - DEFAULT_PRICES.extend,
      });

      await expectAccepted(url, market('ai-music-api/mashup', { upload_url_list: [f.wav20, f.wav21], custom_mode: false, prompt: 'p' }), DEFAULT_PRICES.mashup);
      const cover = await expectAccepted(url, market('ai-music-api/cover-generate', { task_id: f.spare.taskId }), DEFAULT_PRICES.coverImage);
      await expectRefusal(url, market('ai-music-api/cover-generate', { task_id: f.spare.taskId }), 400, 'Cover record already exists', { taskId: cover });
      await expectRefusal('/api/v1/suno/cover/generate', { taskId: f.spare.taskId, callBackUrl: CB }, 400, 'Cover record already exists', { taskId: cover });
      // Boost and persona as Market tasks (free by default; no callBackUrl needed).
      await expectAccepted(url, market('ai-music-api/boost-music-style', { content: 'Pop, Mysterious' }, null), DEFAULT_PRICES.boostStyle);
      const personaPrice = (DEFAULT_PRICES as Record<string, number>).persona ?? 0;
      const fresh = await taskWithAudio(alice.account.id, 30);
      await expectAccepted(
        url,
        market('ai-music-api/generate-persona', { task_id: fresh.taskId, audio_id: fresh.audioIds[0], name: 'n', description: 'd', vocal_end: 20 }, null),
        personaPrice,
      );
    });
  });
});

describe.each(storeTargets())('refusals for want of credits on $name', (target) => {
  let services: Services;
  let app: FastifyInstance;
  const BOOST_PRICE = 3;

  beforeAll(async () => {
    services = await createTestServices(target, { REPRISE_RATE_LIMIT: '1000/10s', REPRISE_PRICE_BOOST_STYLE: String(BOOST_PRICE) });
    app = await createTestApp(services);
  });
  afterAll(async () => {
    await app.close();
    await closeServices(services);
  });

  async function state(accountId: string) {
    const db = services.store.db;
    const count = (table: 'tasks' | 'jobs' | 'ledger' | 'files') => countRows(services, table);
    const balance = Number((await db.selectFrom('accounts').select('balance').where('id', '=', accountId).executeTakeFirstOrThrow()).balance);
    return { tasks: await count('tasks'), jobs: await count('jobs'), ledger: await count('ledger'), files: await count('files'), balance };
  }

  const post = (who: TestAccount, url: string, payload: unknown) =>
    app.inject({ method: 'POST', url, headers: { ...who.auth, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });

  it('refuses a paid task the balance cannot cover with 402, storing and charging nothing', async () => {
    const poor = await createTestAccount(services, DEFAULT_PRICES.uploadCover - 1);
    const wav = await uploadedWav(services, poor.account.id, 20);
    const parent = await finishedGenerateTask(services, poor.account.id, 40);
    for (const [url, body, price] of [
      ['/api/v1/generate/upload-cover', { uploadUrl: wav, customMode: false, instrumental: true, prompt: 'p', callBackUrl: CB }, DEFAULT_PRICES.uploadCover],
      ['/api/v1/generate/extend', { defaultParamFlag: false, audioId: parent.audioIds[0], callBackUrl: CB }, DEFAULT_PRICES.extend],
      [
        '/api/v1/jobs/createTask',
        { model: 'ai-music-api/add-vocals', callBackUrl: CB, input: { upload_url: wav, prompt: 'p', title: 't', style: 's', negative_tags: '' } },
        DEFAULT_PRICES.addVocals,
      ],
    ] as const) {
      const before = await state(poor.account.id);
      const response = await post(poor, url, body);
      expect(response.json()).toEqual({ code: 402, msg: `Insufficient credits: this task costs ${price}`, data: null });
      expect(response.statusCode).toBe(httpStatusFor(402, false));
      expect(await state(poor.account.id)).toEqual(before);
    }
  });

  it('charges a priced boost once, and refuses it with 402 when the balance is short', async () => {
    const payer = await createTestAccount(services, BOOST_PRICE + 1);
    const before = await state(payer.account.id);
    const response = await post(payer, '/api/v1/style/generate', { content: 'Pop, Mysterious' });
    expect(response.json()).toMatchObject({ code: 200, msg: 'success', data: { creditsConsumed: BOOST_PRICE, creditsRemaining: 1 } });
    expect(await state(payer.account.id)).toEqual({ ...before, ledger: before.ledger + 1, balance: 1 });

    const again = await state(payer.account.id);
    const refused = await post(payer, '/api/v1/style/generate', { content: 'Pop' });
    expect(refused.json()).toEqual({ code: 402, msg: `Insufficient credits: a style boost costs ${BOOST_PRICE}`, data: null });
    expect(refused.statusCode).toBe(httpStatusFor(402, false));
    expect(await state(payer.account.id)).toEqual(again);
    // A bad body is refused before any charge.
    const bad = await post(payer, '/api/v1/style/generate', { content: '' });
    expect(bad.json()).toEqual({ code: 422, msg: 'content: must not be empty', data: null });
    expect(await state(payer.account.id)).toEqual(again);
  });
});
