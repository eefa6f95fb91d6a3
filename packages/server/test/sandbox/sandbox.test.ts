import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../helpers/serve.js';
import { storeTargets } from '../helpers/stores.js';
import { waitFor } from '../helpers/wait.js';
import { type Client, type Harness, startHarness } from '../inbox/harness.js';

const GENERATE = { customMode: false, instrumental: true, prompt: 'calm piano' };
const GENERATE_PRICE = 10;

/**
 * Sandbox scenarios [EXT], through the same API a KIE client uses: each new task of a sandbox
 * account takes the next scenario; failures carry KIE's codes and refund rules, successes are
 * real renders, and scripted receiver failures show in the delivery history.
 */
describe.each(storeTargets())('sandbox scenarios on $name', (target) => {
  let harness: Harness;
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver('{"ok":true}');
    harness = await startHarness(target, { REPRISE_OUTBOUND_ALLOW: '127.0.0.0/8' });
  });
  afterAll(async () => {
    await harness.stop();
    await receiver.close();
  });

  const sandbox = () => harness.account({ sandbox: true });
  const inboxOf = async (me: Client): Promise<{ inboxId: string; url: string }> => (await me.post('/api/v1/inbox')).data;
  const submit = async (me: Client, callBackUrl: string, body: object = GENERATE): Promise<string> => {
    const answer = await me.post('/api/v1/generate', { ...body, callBackUrl });
    expect(answer.code).toBe(200);
    return answer.data.taskId;
  };

  it('a scripted 531 fails the task, refunds it, says so in its callback, and is marked simulated', async () => {
    const me = await sandbox();
    const inbox = await inboxOf(me);
    expect(await me.put('/api/v1/sandbox', { scenarios: [{ outcome: 'fail', failCode: 531 }] })).toEqual({
      code: 200,
      msg: 'success',
      data: { scenarios: [{ outcome: 'fail', failCode: 531 }] },
    });
    const before = await me.credit();
    const taskId = await submit(me, inbox.url);
    // The task took the scenario: the queue is empty again.
    expect((await me.get('/api/v1/sandbox')).data).toEqual({ scenarios: [] });

    const record = await me.finished(taskId);
    expect(record).toMatchObject({ status: 'GENERATE_AUDIO_FAILED', errorCode: 531, simulated: true });
    expect(await me.credit()).toBe(before);
    const [request] = await me.inboxRequests(inbox.inboxId, 1);
    expect(JSON.parse(request.body)).toEqual({
      code: 531,
      msg: 'Generation failed, credits refunded',
      data: { callbackType: 'error', task_id: taskId, error: 'the engine failed (sandbox scenario: failCode 531)' },
    });
    expect(request.verified).toEqual({ kie: true, standardWebhooks: true });
    // The Market details route says it too.
    expect((await me.get(`/api/v1/jobs/recordInfo?taskId=${taskId}`)).data).toMatchObject({ state: 'fail', simulated: true });
  });

  it('a scripted 408 after a delay, and a 501 that keeps the credits (KIE: refunds disabled)', async () => {
    const me = await sandbox();
    const inbox = await inboxOf(me);
    await me.put('/api/v1/sandbox', {
      scenarios: [
        { outcome: 'fail', failCode: 408, delayMs: 200 },
        { outcome: 'fail', failCode: 501 },
      ],
    });
    const before = await me.credit();
    const timedOut = await submit(me, inbox.url);
    const kept = await submit(me, inbox.url);
    expect(await me.finished(timedOut)).toMatchObject({ status: 'GENERATE_AUDIO_FAILED', errorCode: 408 });
    expect(await me.finished(kept)).toMatchObject({ status: 'GENERATE_AUDIO_FAILED', errorCode: 501 });
    expect(await me.credit()).toBe(before - GENERATE_PRICE);
    const bodies = (await me.inboxRequests(inbox.inboxId, 2)).map((request) => JSON.parse(request.body));
    expect(bodies.find((body) => body.data.task_id === timedOut)).toMatchObject({ code: 408, msg: 'Generation timed out, credits refunded' });
    expect(bodies.find((body) => body.data.task_id === kept)).toMatchObject({ code: 501, msg: 'Audio generation failed.' });
  });

  it('a delayed success runs the real engine, and skipped stages send no callback', async () => {
    const me = await sandbox();
    const inbox = await inboxOf(me);
    await me.put('/api/v1/sandbox', { scenarios: [{ outcome: 'succeed', delayMs: 300, skipStages: ['text', 'first'] }] });
    const taskId = await submit(me, inbox.url);
    const record = await me.finished(taskId);
    expect(record).toMatchObject({ status: 'SUCCESS', simulated: true });
    // Both tracks are real files, the first one included although its stage was not reported.
    expect(record.response.sunoData).toHaveLength(2);
    for (const track of record.response.sunoData) {
      const audio = await fetch(track.audioUrl);
      expect(audio.status).toBe(200);
      expect((await audio.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
    }
    const market = (await me.get(`/api/v1/jobs/recordInfo?taskId=${taskId}`)).data;
    expect(market.completeTime - market.createTime).toBeGreaterThanOrEqual(300);
    const log = await me.get(`/api/v1/tasks/${taskId}/callbacks`);
    expect(log.data.map((entry: { stage: string }) => entry.stage)).toEqual(['complete']);
    const [request] = await me.inboxRequests(inbox.inboxId, 1);
    expect(JSON.parse(request.body).data).toMatchObject({ callbackType: 'complete', task_id: taskId });
  });

  it('an empty queue: a sandbox task runs normally, every stage reported, still simulated', async () => {
    const me = await sandbox();
    const inbox = await inboxOf(me);
    const taskId = await submit(me, inbox.url);
    expect(await me.finished(taskId)).toMatchObject({ status: 'SUCCESS', simulated: true });
    const stages = await waitFor(
      async () => {
        const log = await me.get(`/api/v1/tasks/${taskId}/callbacks`);
        return log.data.length === 3 && log.data.every((entry: { status: string }) => entry.status === 'delivered') ? log.data : undefined;
      },
      10_000,
      'three delivered callbacks',
    );
    expect(stages.map((entry: { stage: string }) => entry.stage).sort()).toEqual(['complete', 'first', 'text']);
  });

  it('two scripted receiver failures, then the real delivery: the history shows all three', async () => {
    const me = await sandbox();
    await me.put('/api/v1/sandbox', { scenarios: [{ outcome: 'fail', failCode: 500, callbackFailures: 2, callbackFailureStatus: 503 }] });
    const taskId = await submit(me, receiver.url);
    await me.finished(taskId);
    const [entry] = await waitFor(
      async () => {
        const log = await me.get(`/api/v1/tasks/${taskId}/callbacks`);
        return log.data[0]?.status === 'delivered' ? log.data : undefined;
      },
      10_000,
      'the callback delivered',
    );
    expect(entry.attempts).toBe(3);
    expect(entry.attemptLog.map((attempt: { httpStatus: number | null }) => attempt.httpStatus)).toEqual([503, 503, 200]);
    expect(entry.attemptLog[0].responseBody).toMatch(/^simulated by the sandbox scenario/);
    // Only the real attempt reached the receiver.
    const got = receiver.received.filter((request) => JSON.parse(request.body).data.task_id === taskId);
    expect(got).toHaveLength(1);
    expect(JSON.parse(got[0]!.body)).toMatchObject({ code: 500, msg: 'Internal error, credits refunded' });
  });

  it('a receiver that refuses connections for longer than the schedule: the callback fails, then a redelivery gets through', async () => {
    const me = await sandbox();
    await me.put('/api/v1/sandbox', { scenarios: [{ outcome: 'fail', failCode: 400, callbackFailures: 3, callbackFailureStatus: 0 }] });
    const taskId = await submit(me, receiver.url);
    await me.finished(taskId);
    const failed = await waitFor(
      async () => {
        const log = await me.get(`/api/v1/tasks/${taskId}/callbacks`);
        return log.data[0]?.status === 'failed' ? log.data[0] : undefined;
      },
      10_000,
      'the callback to fail',
    );
    expect(failed.attemptLog.map((attempt: { errorClass: string | null }) => attempt.errorClass)).toEqual(['connect', 'connect', 'connect']);
    expect(failed.lastError).toMatch(/^connect: connection refused \(simulated by the sandbox scenario/);
    await me.post(`/api/v1/tasks/${taskId}/callbacks/redeliver`);
    await waitFor(
      async () => ((await me.get(`/api/v1/tasks/${taskId}/callbacks`)).data[0]?.status === 'delivered' ? true : undefined),
      10_000,
      'the redelivery',
    );
  });

  it('refuses a non-sandbox account with 403 and bad scenarios with precise messages, changing nothing', async () => {
    const plain = await harness.account();
    const notSandbox = {
      code: 403,
      msg: 'sandbox: this account is not a sandbox account (an operator creates one with `reprise accounts create --sandbox`)',
      data: null,
    };
    expect(await plain.get('/api/v1/sandbox')).toEqual(notSandbox);
    expect(await plain.put('/api/v1/sandbox', { scenarios: [{ outcome: 'fail', failCode: 531 }] })).toEqual(notSandbox);
    // A plain account's task is not simulated.
    const inbox = await inboxOf(plain);
    const real = await submit(plain, inbox.url);
    expect((await plain.finished(real)).simulated).toBeUndefined();

    const me = await sandbox();
    await me.put('/api/v1/sandbox', { scenarios: [{ outcome: 'succeed' }] });
    expect(await me.put('/api/v1/sandbox', { scenarios: [{ outcome: 'fail', failCode: 532 }] })).toEqual({
      code: 422,
      msg: 'scenarios[0].failCode: must be one of 400, 408, 500, 501, 531',
      data: null,
    });
    expect((await me.put('/api/v1/sandbox', { scenarios: [{ outcome: 'succeed' }, { outcome: 'succeed', delayMs: 600_001 }] })).msg).toBe(
      'scenarios[1].delayMs: must be a whole number from 0 to 600000',
    );
    expect((await me.get('/api/v1/sandbox')).data).toEqual({ scenarios: [{ outcome: 'succeed' }] });
  });
});
