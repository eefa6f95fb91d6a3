import { registerFile } from '../../src/files/index.js';
import { lifecycleContext } from '../../src/server.js';
import type { Services } from '../../src/services.js';
import { submitTask, writeTracks } from '../../src/tasks/index.js';
import { completeTask, type StoredTrack } from '../../src/tasks/lifecycle.js';
import { sineWav } from './audio.js';
import { TEST_PUBLIC_URL } from './services.js';

/** Stores a WAV as if it had been uploaded; returns its download URL. */
export async function uploadedWav(services: Services, accountId: string, seconds: number): Promise<string> {
  const bytes = sineWav(seconds, 22_050, 1);
  const blobKey = `uploads/test-${Math.random().toString(36).slice(2)}.wav`;
  await services.blobs.put(blobKey, bytes);
  const token = await registerFile(
    services.store.db,
    { accountId, kind: 'upload', blobKey, contentType: 'audio/wav', size: bytes.length, fileName: 'song.wav', expiresAt: Date.now() + 86_400_000 },
    Date.now(),
  );
  return `${TEST_PUBLIC_URL}/files/${token}/song.wav`;
}

/** How `finishedGenerateTask` makes its task. */
export interface GenerateFixtureOptions {
  /** The task's model (default V4_5). */
  model?: string;
  /** Tracks whose files hold `seconds` of audio (a tone per track) rather than a 1 s stand-in. */
  fullLength?: boolean;
}

/**
 * A finished generate task with two tracks of `seconds` (WAV bytes stand in for the audio).
 * Its job is held by the fixture before the tracks are written: a worker running in the same
 * test could otherwise claim it first, really render it and overwrite the stand-in files.
 */
export async function finishedGenerateTask(
  services: Services,
  accountId: string,
  seconds = 120,
  options: GenerateFixtureOptions = {},
): Promise<{ taskId: string; audioIds: string[] }> {
  let held: { taskId: string; jobId: string } | null = null;
  while (!held) held = await submitHeldGenerateTask(services, accountId, seconds, options.model ?? 'V4_5');
  const { taskId, jobId } = held;
  const tracks: StoredTrack[] = [];
  for (const idx of [0, 1]) {
    const bytes = options.fullLength ? sineWav(seconds, 8000, 1, 220 * (idx + 1)) : sineWav(1, 8000, 1);
    await services.blobs.put(`tasks/${taskId}/${idx}.mp3`, bytes);
    await services.blobs.put(`tasks/${taskId}/${idx}.jpeg`, bytes.subarray(0, 64));
    tracks.push({
      idx,
      audioBlob: `tasks/${taskId}/${idx}.mp3`,
      audioSize: bytes.length,
      imageBlob: `tasks/${taskId}/${idx}.jpeg`,
      imageSize: 64,
      durationS: seconds,
      modelName: 'm',
      title: `T${idx}`,
      tags: 'jazz',
      prompt: 'p',
    });
  }
  const lifecycle = lifecycleContext(services);
  await completeTask(lifecycle, taskId, jobId, writeTracks(lifecycle, tracks));
  const rows = await services.store.db.selectFrom('tracks').select('id').where('task_id', '=', taskId).orderBy('idx').execute();
  return { taskId, audioIds: rows.map((row) => row.id) };
}

/**
 * Submits a generate task and holds its job as a worker would (running, locked by the fixture);
 * null when a worker claimed it first (that task is then the worker's, left to finish).
 */
async function submitHeldGenerateTask(
  services: Services,
  accountId: string,
  seconds: number,
  model: string,
): Promise<{ taskId: string; jobId: string } | null> {
  const taskId = await submitTask(
    services.store,
    {
      accountId,
      type: 'GENERATE',
      param: '{}',
      input: { kind: 'generate', prompt: 'p', style: 'jazz', title: 'T', negativeTags: '', instrumental: true, customMode: false, durationS: seconds },
      parentMusicId: '',
      callbackUrl: undefined,
      model,
      price: 0,
    },
    { rateLimit: { max: 1000, windowMs: 1 }, taskTimeoutMs: 60_000 },
  );
  const now = Date.now();
  const held = await services.store.db
    .updateTable('jobs')
    .set({ state: 'running', locked_by: 'test-fixture', locked_until: now + 3_600_000, updated_at: now })
    .where('ref_id', '=', taskId)
    .where('state', '=', 'queued')
    .returning('id')
    .executeTakeFirst();
  return held ? { taskId, jobId: held.id } : null;
}
