import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeAudio } from '../../src/audio/codecs/probe.js';
import { type FakeAcestep, startFakeAcestep } from '../engine/fake-acestep.js';
import { sineWav } from '../helpers/audio.js';
import { freePort, kill, runCli, startServe } from '../helpers/process.js';
import type { Json } from '../helpers/serve.js';
import { storeTargets, tempDir } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

/**
 * `reprise serve` with REPRISE_ENGINE=acestep, pointed at the fake ACE-Step
 * server: a replace-section task goes through ACE-Step's repaint and comes
 * back as a track of the source's length.
 */
interface TaskRecord {
  status: string;
  response: { sunoData: Array<{ duration: number; modelName: string; title: string; tags: string; audioUrl: string }> };
}

describe('reprise serve with the acestep engine', () => {
  const KEY = 'gpu-secret';
  const [sqlite] = storeTargets();
  let fake: FakeAcestep;
  let server: ChildProcess;
  let base: string;
  let apiKey: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    fake = await startFakeAcestep(KEY);
    env = {
      REPRISE_DATA_DIR: tempDir('acestep'),
      DATABASE_URL: await sqlite!.fresh(),
      REPRISE_ENGINE: 'acestep',
      ACESTEP_URL: fake.url,
      ACESTEP_API_KEY: KEY,
      ACESTEP_POLL_MS: '50',
      LOG_LEVEL: 'error',
    };
    const created = await runCli(['accounts', 'create', '--name', 'gpu', '--credits', '100'], env);
    expect(created.code).toBe(0);
    apiKey = JSON.parse(created.stdout).apiKey;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = await startServe(env, port);
  });
  afterAll(async () => {
    if (server) await kill(server, 'SIGTERM');
    await fake.close();
  });

  it('replaces seconds 12–24 of an uploaded song through ACE-Step’s repaint', async () => {
    const auth = { authorization: `Bearer ${apiKey}` };
    const form = new FormData();
    form.append('file', new Blob([sineWav(30, 44_100, 2)], { type: 'audio/wav' }), 'song.wav');
    form.append('uploadPath', 'songs');
    const upload = (await (await fetch(`${base}/api/file-stream-upload`, { method: 'POST', headers: auth, body: form })).json()) as {
      data: { downloadUrl: string };
    };
    const submitted = (await (
      await fetch(`${base}/api/v1/generate/replace-section`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          uploadUrl: upload.data.downloadUrl,
          prompt: 'a new chorus',
          tags: 'Jazz',
          title: 'Repainted',
          infillStartS: 12,
          infillEndS: 24,
        }),
      })
    ).json()) as { code: number; data: { taskId: string } };
    expect(submitted.code).toBe(200);
    const data = await waitFor(
      async () => {
        const response = await fetch(`${base}/api/v1/generate/record-info?taskId=${submitted.data.taskId}`, { headers: auth });
        const record = ((await response.json()) as { data: TaskRecord }).data;
        return ['SUCCESS', 'GENERATE_AUDIO_FAILED'].includes(record.status) ? record : undefined;
      },
      60_000,
      'the task',
      100,
    );
    expect(data.status).toBe('SUCCESS');
    const track = data.response.sunoData[0]!;
    expect(track).toMatchObject({ duration: 30, modelName: 'acestep-v15-turbo', title: 'Repainted', tags: 'Jazz' });
    expect(fake.tasks).toHaveLength(1);
    expect(fake.tasks[0]!.fields).toMatchObject({
      task_type: 'repaint',
      lyrics: 'a new chorus',
      prompt: 'Jazz',
      repainting_start: '12',
      repainting_end: '24',
      audio_duration: '30',
    });
    const mp3 = new Uint8Array(await (await fetch(track.audioUrl)).arrayBuffer());
    expect(probeAudio(mp3)).toMatchObject({ format: 'mp3', durationS: 30 });
  });

  it('extends through ACE-Step, and fails a mashup cleanly as not supported, refunded', async () => {
    const auth = { authorization: `Bearer ${apiKey}` };
    const post = async (path: string, body: unknown) =>
      (await (
        await fetch(`${base}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) })
      ).json()) as {
        code: number;
        data: { taskId: string };
      };
    const settled = (taskId: string) =>
      waitFor(
        async () => {
          const response = await fetch(`${base}/api/v1/generate/record-info?taskId=${taskId}`, { headers: auth });
          const record = ((await response.json()) as { data: TaskRecord & { errorCode: number | null; errorMessage: string | null } }).data;
          return ['SUCCESS', 'GENERATE_AUDIO_FAILED'].includes(record.status) ? record : undefined;
        },
        60_000,
        `task ${taskId}`,
        100,
      );
    const balance = async () => ((await (await fetch(`${base}/api/v1/chat/credit`, { headers: auth })).json()) as { data: number }).data;
    const upload = async (seconds: number, frequency: number) => {
      const form = new FormData();
      form.append('file', new Blob([sineWav(seconds, 44_100, 2, frequency)], { type: 'audio/wav' }), `tone-${frequency}.wav`);
      form.append('uploadPath', 'songs');
      return (
        (await (await fetch(`${base}/api/file-stream-upload`, { method: 'POST', headers: auth, body: form })).json()) as { data: { downloadUrl: string } }
      ).data.downloadUrl;
    };
    const first = await upload(20, 440);
    const second = await upload(20, 330);
    const tasksBefore = fake.tasks.length;

    const extended = await post('/api/v1/generate/upload-extend', {
      uploadUrl: first,
      defaultParamFlag: true,
      instrumental: true,
      continueAt: 10,
      style: 'ambient',
      title: 'Longer',
      callBackUrl: 'http://127.0.0.1:9/cb',
    });
    expect(extended.code).toBe(200);
    const extendRecord = await settled(extended.data.taskId);
    expect(extendRecord.status).toBe('SUCCESS');
    expect(fake.tasks[tasksBefore]!.fields).toMatchObject({ task_type: 'repaint', repainting_start: '10' });

    const before = await balance();
    const mashed = await post('/api/v1/generate/mashup', {
      uploadUrlList: [first, second],
      customMode: true,
      style: 'electronic',
      title: 'Both',
      callBackUrl: 'http://127.0.0.1:9/cb',
    });
    expect(mashed.code).toBe(200);
    expect(await balance()).toBe(before - 10);
    const mashRecord = await settled(mashed.data.taskId);
    expect(mashRecord).toMatchObject({ status: 'GENERATE_AUDIO_FAILED', errorCode: 531, errorMessage: 'mashup is not supported by the acestep engine' });
    expect(await balance()).toBe(before);
    // Nothing was sent to ACE-Step for it.
    expect(fake.tasks.length).toBe(tasksBefore + 1);
  });

  it('cuts a track ACE-Step made into stems on the CPU: estimated, and said so', async () => {
    const auth = { authorization: `Bearer ${apiKey}` };
    const json = async (path: string, body?: unknown): Promise<Json> => {
      const init = body ? { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) } : { headers: auth };
      return (await fetch(`${base}${path}`, init)).json();
    };
    const form = new FormData();
    form.append('file', new Blob([sineWav(20, 44_100, 2)], { type: 'audio/wav' }), 'song.wav');
    form.append('uploadPath', 'songs');
    const upload: Json = await (await fetch(`${base}/api/file-stream-upload`, { method: 'POST', headers: auth, body: form })).json();
    const replaced = await json('/api/v1/generate/replace-section', {
      uploadUrl: upload.data.downloadUrl,
      prompt: 'x',
      tags: 'Jazz',
      title: 'T',
      infillStartS: 6,
      infillEndS: 12,
    });
    const song = await waitFor(
      async () => {
        const { data } = await json(`/api/v1/generate/record-info?taskId=${replaced.data.taskId}`);
        return data.status === 'SUCCESS' || data.status === 'GENERATE_AUDIO_FAILED' ? data : undefined;
      },
      60_000,
      'the song',
      100,
    );
    expect(song.status).toBe('SUCCESS');
    const separation = await json('/api/v1/vocal-removal/generate', {
      taskId: replaced.data.taskId,
      audioId: song.response.sunoData[0].id,
      type: 'split_stem',
      callBackUrl: 'http://127.0.0.1:9/cb',
    });
    expect(separation.code).toBe(200);
    const record = await waitFor(
      async () => {
        const { data } = await json(`/api/v1/vocal-removal/record-info?taskId=${separation.data.taskId}`);
        return data.successFlag === 'PENDING' ? undefined : data;
      },
      60_000,
      'the separation',
      100,
    );
    expect(record).toMatchObject({ successFlag: 'SUCCESS', separation: { exact: false, method: expect.stringMatching(/^Estimated by signal processing/) } });
    expect(record.response.originData.length).toBeGreaterThan(0);
  });

  it('refuses to start with a key the ACE-Step server rejects, naming ACESTEP_API_KEY', async () => {
    const result = await runCli(['serve'], { ...env, ACESTEP_API_KEY: 'wrong', PORT: String(await freePort()) });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/refused POST \/query_result \(401: Invalid API key\); check ACESTEP_API_KEY/);
  });
});
