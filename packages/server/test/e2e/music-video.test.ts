import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createCallbackHandler } from '@reprise/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kill } from '../helpers/process.js';
import { apiSession, type Received, type Receiver, serveWithAccount, startReceiver, TRACK_TOOL_RECORD_KEYS } from '../helpers/serve.js';
import { storeTargets, tempDir } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';

const hasFfprobe = spawnSync('sh', ['-c', 'command -v ffprobe'], { stdio: 'ignore' }).status === 0;
if (!hasFfprobe) console.warn('ffprobe is not installed: the music video is checked by its MP4 boxes only, not decoded (.ci/run installs ffmpeg)');

/** The streams and length ffprobe reads in an MP4. */
function probe(file: string): { duration: number; streams: { codec_type: string; codec_name: string }[] } {
  const result = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,codec_name', '-of', 'json', file], {
    encoding: 'utf8',
  });
  expect(result.status, result.stderr).toBe(0);
  const parsed = JSON.parse(result.stdout) as { format: { duration: string }; streams: { codec_type: string; codec_name: string }[] };
  return { duration: Number(parsed.format.duration), streams: parsed.streams };
}

/**
 * KIE's "Create Music Video" (issue 13 item 6) against a real `reprise serve`, on every store:
 * a rendered track → `POST /api/v1/mp4/generate` → the signed callback key by key (kie-catalogue
 * §21.2) → the family's details route and the Market one → an MP4 that downloads (Range too)
 * and holds an H.264 picture and the track's sound for the track's length.
 */
describe.each(storeTargets())('the music video on $name', (target) => {
  let server: ChildProcess;
  let base: string;
  let apiKey: string;
  let secret: string;
  let receiver: Receiver;
  let receiverUrl: string;
  let received: Received[];
  let dataDir: string;
  let track: { taskId: string; id: string; duration: number };
  let second: string;

  beforeAll(async () => {
    receiver = await startReceiver('ok');
    ({ url: receiverUrl, received } = receiver);
    dataDir = tempDir('video');
    ({ server, base, apiKey, secret } = await serveWithAccount(
      {
        REPRISE_DATA_DIR: dataDir,
        DATABASE_URL: await target.fresh(),
        REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8',
        REPRISE_GENERATE_DURATION_S: '10',
        REPRISE_CALLBACK_SCHEDULE: '0,0.2',
        REPRISE_RATE_LIMIT: '1000/10s',
        REPRISE_PRICE_MUSIC_VIDEO: '3',
        LOG_LEVEL: 'error',
      },
      1000,
    ));
    const taskId = await submit('/api/v1/generate', {
      model: 'V5',
      customMode: false,
      instrumental: true,
      prompt: 'a calm piano piece',
      callBackUrl: receiverUrl,
    });
    const data = await details('/api/v1/generate/record-info', taskId, (d) => d.status === 'SUCCESS' || d.status === 'GENERATE_AUDIO_FAILED');
    expect(data.status).toBe('SUCCESS');
    const first = data.response.sunoData[0];
    track = { taskId, id: first.id, duration: first.duration };
    second = data.response.sunoData[1].id;
  }, 120_000);
  afterAll(async () => {
    await kill(server, 'SIGTERM');
    await receiver.close();
  });

  const { post, get, credit, submit, details, callbackOf, verified } = apiSession(() => ({ base, apiKey, received, secret }));

  it('POST /api/v1/mp4/generate: a signed callback with the video URL, record-info, the Market view; charged; an MP4 of the whole track', async () => {
    const before = await credit();
    const taskId = await submit('/api/v1/mp4/generate', {
      taskId: track.taskId,
      audioId: track.id,
      callBackUrl: receiverUrl,
      author: 'Ada',
      domainName: 'music.example',
    });
    expect(await credit()).toBe(before - 3);

    const callback = await callbackOf(taskId);
    const body = verified(callback, taskId);
    expect(Object.keys(body)).toEqual(['code', 'msg', 'data']);
    expect(body).toEqual({
      code: 200,
      msg: 'MP4 generated successfully.',
      data: { task_id: taskId, video_url: expect.stringMatching(/\/files\/[A-Za-z0-9_-]{32}\.mp4$/) },
    });
    const answer = await createCallbackHandler({ secret, scheme: 'kie', dedupe: false }).handle({ headers: callback.headers, body: callback.body });
    expect(answer.event).toMatchObject({ family: 'music_video', taskId, stage: 'complete', videoUrl: body.data.video_url, error: null });

    const data = await details('/api/v1/mp4/record-info', taskId, (d) => d.successFlag !== 'PENDING');
    expect(Object.keys(data)).toEqual(TRACK_TOOL_RECORD_KEYS);
    expect(data).toMatchObject({
      taskId,
      musicId: track.id,
      callbackUrl: receiverUrl,
      musicIndex: 0,
      response: { videoUrl: body.data.video_url },
      successFlag: 'SUCCESS',
    });
    expect(data.createTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const market = (await get(`/api/v1/jobs/recordInfo?taskId=${taskId}`)).data;
    expect(market).toMatchObject({ taskId, model: 'ai-music-api/create-music-video', state: 'success' });
    expect(JSON.parse(market.resultJson)).toEqual({ resultUrls: [body.data.video_url] });

    const response = await fetch(body.data.video_url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('video/mp4');
    const mp4 = Buffer.from(await response.arrayBuffer());
    expect(mp4.subarray(4, 8).toString('latin1')).toBe('ftyp');
    const partial = await fetch(body.data.video_url, { headers: { range: 'bytes=0-99' } });
    expect(partial.status).toBe(206);
    expect(Buffer.from(await partial.arrayBuffer()).equals(mp4.subarray(0, 100))).toBe(true);
    if (hasFfprobe) {
      const file = path.join(dataDir, 'downloaded.mp4');
      fs.writeFileSync(file, mp4);
      const probed = probe(file);
      expect(Math.abs(probed.duration - track.duration)).toBeLessThan(0.1 + 0.011);
      expect(probed.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort()).toEqual(['audio:aac', 'video:h264']);
    }
  }, 180_000);

  it('the Market form ai-music-api/create-music-video, readable through both details routes', async () => {
    const created = await post('/api/v1/jobs/createTask', {
      model: 'ai-music-api/create-music-video',
      callBackUrl: receiverUrl,
      input: { task_id: track.taskId, audio_id: track.id, author: 'Ada' },
    });
    expect(created).toMatchObject({ code: 200, msg: 'success' });
    const taskId = created.data.taskId as string;
    const market = await waitFor(
      async () => {
        const { data } = await get(`/api/v1/jobs/recordInfo?taskId=${taskId}`);
        return data?.state === 'success' || data?.state === 'fail' ? data : undefined;
      },
      120_000,
      'the Market record',
      200,
    );
    expect(market.state).toBe('success');
    const data = (await get(`/api/v1/mp4/record-info?taskId=${taskId}`)).data;
    expect(JSON.parse(market.resultJson)).toEqual({ resultUrls: [data.response.videoUrl] });
  }, 180_000);

  it('fails a task whose track’s audio is gone with a signed error callback, refunded, leaving no file', async () => {
    // The second track's files are removed behind the service's back, as a full disk or an operator might.
    for (const name of ['1.mp3', '1.master.wav']) fs.rmSync(path.join(dataDir, 'blobs', 'tasks', track.taskId, name));
    const before = await credit();
    const taskId = await submit('/api/v1/mp4/generate', { taskId: track.taskId, audioId: second, callBackUrl: receiverUrl });
    const callback = await callbackOf(taskId);
    expect(JSON.parse(callback.body)).toEqual({
      code: 400,
      msg: expect.stringContaining('the track’s audio is no longer available'),
      data: { task_id: taskId, video_url: null },
    });
    const data = await details('/api/v1/mp4/record-info', taskId, (d) => d.successFlag !== 'PENDING');
    expect(data).toMatchObject({ successFlag: 'GENERATE_MP4_FAILED', errorCode: 400, response: { videoUrl: null } });
    expect(await credit()).toBe(before);
    expect(fs.existsSync(path.join(dataDir, 'blobs', 'tasks', taskId))).toBe(false);
  }, 120_000);

  it('refuses unknown tracks and over-long text before anything is stored or charged', async () => {
    const before = await credit();
    const refused = async (body: Record<string, unknown>) =>
      post('/api/v1/mp4/generate', { taskId: track.taskId, audioId: track.id, callBackUrl: receiverUrl, ...body });
    expect(await refused({ taskId: '0'.repeat(32) })).toEqual({ code: 422, msg: 'Record does not exist', data: null });
    expect(await refused({ audioId: 'nope' })).toMatchObject({ code: 422, msg: `audioId: is not a track of task ${track.taskId}` });
    expect(await refused({ author: 'a'.repeat(51) })).toMatchObject({ code: 422, msg: 'author: must be at most 50 characters' });
    expect(await refused({ domainName: 7 })).toMatchObject({ code: 422, msg: 'domainName: must be a string' });
    expect(await refused({ callBackUrl: undefined })).toMatchObject({ code: 422, msg: 'Please enter callBackUrl.' });
    expect(await credit()).toBe(before);
  });
});
