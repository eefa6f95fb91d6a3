import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registerFile, startRetentionSweeper, sweepExpiredFiles } from '../../src/files/index.js';
import { newFileToken } from '../../src/ids.js';
import type { Services } from '../../src/services.js';
import type { FileKind } from '../../src/store/index.js';
import { submitTask } from '../../src/tasks/index.js';
import { closeServices, createTestAccount, createTestServices, type TestAccount } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

describe.each(storeTargets())('file retention on $name', (target) => {
  let services: Services;
  let alice: TestAccount;
  const NOW = Date.now();

  beforeAll(async () => {
    services = await createTestServices(target);
    alice = await createTestAccount(services);
  });
  afterAll(async () => {
    await closeServices(services);
  });
  beforeEach(async () => {
    for (const row of await services.store.db.selectFrom('files').select('blob_key').execute()) await services.blobs.delete(row.blob_key);
    await services.store.db.deleteFrom('files').execute();
  });

  async function file(blobKey: string, expiresAt: number, kind: FileKind = 'upload', writeBlob = true): Promise<string> {
    if (writeBlob && (await services.blobs.size(blobKey)) === null) await services.blobs.put(blobKey, Buffer.from(blobKey));
    return registerFile(
      services.store.db,
      { accountId: alice.account.id, kind, blobKey, contentType: 'audio/wav', size: blobKey.length, fileName: 'f.wav', expiresAt },
      NOW - 10_000,
    );
  }
  const ids = async () => (await services.store.db.selectFrom('files').select('id').orderBy('id').execute()).map((row) => row.id).sort();
  const exists = async (key: string) => (await services.blobs.size(key)) !== null;

  it('deletes expired rows and their blobs, keeping blobs a remaining row still names', async () => {
    await file('uploads/a.wav', NOW - 1);
    const b = await file('uploads/b.wav', NOW + 60_000);
    await file('uploads/cd.wav', NOW - 5);
    const d = await file('uploads/cd.wav', NOW + 60_000, 'source');
    await file('uploads/ef.wav', NOW - 5);
    await file('uploads/ef.wav', NOW);
    expect(await sweepExpiredFiles(services, NOW)).toBe(4);
    expect(await ids()).toEqual([b, d].sort());
    expect(await exists('uploads/a.wav')).toBe(false);
    expect(await exists('uploads/b.wav')).toBe(true);
    expect(await exists('uploads/cd.wav')).toBe(true);
    expect(await exists('uploads/ef.wav')).toBe(false);
    // Nothing left to do: a second sweep is a no-op.
    expect(await sweepExpiredFiles(services, NOW)).toBe(0);
  });

  it('sweeps in batches until every expired row is gone', async () => {
    const rows = Array.from({ length: 1203 }, (_, i) => ({
      id: newFileToken(),
      account_id: alice.account.id,
      kind: 'audio' as const,
      blob_key: `tasks/batch/${i}.mp3`,
      content_type: 'audio/mpeg',
      size: 1,
      file_path: null,
      file_name: 'x.mp3',
      created_at: NOW - 10,
      expires_at: NOW - (i % 7),
    }));
    for (let i = 0; i < rows.length; i += 100)
      await services.store.db
        .insertInto('files')
        .values(rows.slice(i, i + 100))
        .execute();
    await services.blobs.put('tasks/batch/0.mp3', Buffer.from('x'));
    const live = await file('uploads/live.wav', NOW + 1);
    expect(await sweepExpiredFiles(services, NOW)).toBe(1203);
    expect(await ids()).toEqual([live]);
    expect(await exists('tasks/batch/0.mp3')).toBe(false);
  });

  it('keeps an expired file while an unfinished task reads it as its source', async () => {
    const used = await file('uploads/source.wav', NOW - 1);
    await file('uploads/other.wav', NOW - 1);
    const taskId = await submitTask(
      services.store,
      {
        accountId: alice.account.id,
        type: 'REPLACE_SECTION',
        param: '{}',
        input: {
          kind: 'replace',
          sourceBlob: 'uploads/source.wav',
          sourceName: 'source.wav',
          sourceDurationS: 60,
          startS: 10,
          endS: 20,
          prompt: 'p',
          tags: 't',
          negativeTags: '',
          title: 'T',
          fullLyrics: '',
        },
        parentMusicId: '',
        callbackUrl: undefined,
        model: '',
        price: 0,
      },
      { rateLimit: { max: 1000, windowMs: 1 }, taskTimeoutMs: 60_000 },
    );
    expect(await sweepExpiredFiles(services, NOW)).toBe(1);
    expect(await ids()).toEqual([used]);
    expect(await exists('uploads/source.wav')).toBe(true);
    expect(await exists('uploads/other.wav')).toBe(false);

    await services.store.db.updateTable('tasks').set({ status: 'SUCCESS', finished_at: NOW }).where('id', '=', taskId).execute();
    expect(await sweepExpiredFiles(services, NOW)).toBe(1);
    expect(await ids()).toEqual([]);
    expect(await exists('uploads/source.wav')).toBe(false);
  });

  it('keeps the master of a track while an unfinished edit of that track (mode 1) may read it', async () => {
    const limits = { rateLimit: { max: 1000, windowMs: 1 }, taskTimeoutMs: 60_000 };
    const base = { accountId: alice.account.id, param: '{}', callbackUrl: undefined, model: '', price: 0 };
    const parentId = await submitTask(
      services.store,
      {
        ...base,
        type: 'GENERATE',
        input: { kind: 'generate', prompt: 'p', style: 's', title: 'T', negativeTags: '', instrumental: true, customMode: false, durationS: 30 },
        parentMusicId: '',
      },
      limits,
    );
    const audio = await file('tasks/parent/0.mp3', NOW - 1, 'audio');
    const image = await file('tasks/parent/0.jpeg', NOW - 1, 'image');
    const master = await file('tasks/parent/0.master.wav', NOW - 1, 'master');
    const trackId = '6f2c1a4e-0000-4000-8000-000000000001';
    await services.store.db
      .insertInto('tracks')
      .values({
        id: trackId,
        task_id: parentId,
        idx: 0,
        title: 'T',
        tags: 't',
        prompt: 'p',
        model_name: 'm',
        duration: 30,
        audio_file: audio,
        image_file: image,
        master_file: master,
        created_at: NOW,
      })
      .execute();
    const editId = await submitTask(
      services.store,
      {
        ...base,
        type: 'REPLACE_SECTION',
        input: {
          kind: 'replace',
          sourceBlob: 'tasks/parent/0.mp3',
          sourceName: 'T.mp3',
          sourceDurationS: 30,
          startS: 10,
          endS: 20,
          prompt: 'p',
          tags: 't',
          negativeTags: '',
          title: 'T',
          fullLyrics: '',
        },
        parentMusicId: trackId,
      },
      limits,
    );
    // The image goes; the MP3 (the task's source) and the master (what the worker reads first) stay.
    expect(await sweepExpiredFiles(services, NOW)).toBe(1);
    expect((await ids()).sort()).toEqual([audio, master].sort());
    expect(await exists('tasks/parent/0.master.wav')).toBe(true);

    await services.store.db.updateTable('tasks').set({ status: 'SUCCESS', finished_at: NOW }).where('id', '=', editId).execute();
    expect(await sweepExpiredFiles(services, NOW)).toBe(2);
    expect(await exists('tasks/parent/0.master.wav')).toBe(false);
  });

  it('runs in the background until stopped', async () => {
    const errors: unknown[] = [];
    const sweeper = startRetentionSweeper(services, 20, (error) => errors.push(error));
    await file('uploads/soon.wav', Date.now() - 1);
    await waitFor(async () => ((await ids()).length === 0 ? true : undefined), 5000, 'the sweeper to delete the expired file');
    expect(await exists('uploads/soon.wav')).toBe(false);
    sweeper.stop();
    await new Promise((resolve) => setTimeout(resolve, 60));
    const kept = await file('uploads/later.wav', Date.now() - 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await ids()).toEqual([kept]);
    expect(errors).toEqual([]);
  });
});
