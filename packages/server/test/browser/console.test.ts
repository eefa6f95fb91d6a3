import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../src/audio/codecs/wav.js';
import { kill, runCli } from '../helpers/process.js';
import { type Json, serveWithAccount } from '../helpers/serve.js';
import { storeTargets, tempDir } from '../helpers/stores.js';

/**
 * The console in a real browser (Debian's Chromium driven by playwright-core) against a real
 * `reprise serve`: sign in, upload, pick a section, submit, hear both players load, see the
 * callback in the inbox, redeliver it, and a sandbox 531 refunded in the ledger. Every page is
 * kept as a screenshot in a directory under the OS temp dir (printed), and the replace-section
 * task page is copied to docs/console-task.png.
 */
const CHROMIUM = process.env.REPRISE_CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) console.warn(`NOTICE: ${CHROMIUM} is missing: the console's browser tests are skipped (apt-get install chromium).`);

const DOCS_SCREENSHOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../docs/console-task.png');
// Kept after the run (artefacts), unlike the tests' other temporary directories.
const SHOTS = hasChromium ? fs.mkdtempSync(path.join(os.tmpdir(), 'reprise-console-screenshots-')) : '';
if (hasChromium) console.log(`console screenshots: ${SHOTS}`);

// A 20-second song: the shortest that allows a 6-second section (at most half the song).
const SONG_S = 20;
const RATE = 22_050;

/** What the tests read of an <audio> element in the page (the test code is compiled without the DOM's types). */
interface AudioLike {
  readyState: number;
  duration: number;
  currentTime: number;
}

/** A short tune at 120 bpm (a plucked note per beat over a bass per bar), so the waveform looks like music. */
function tuneWav(seconds: number): Buffer {
  const samples = new Float32Array(Math.round(seconds * RATE));
  const melody = [440, 523.25, 659.25, 523.25, 392, 493.88, 587.33, 493.88];
  const bass = [110, 98, 87.31, 98];
  for (let i = 0; i < samples.length; i += 1) {
    const t = i / RATE;
    const beat = Math.floor(t * 2);
    const sinceBeat = t - beat / 2;
    const sinceBar = t - Math.floor(t / 2) * 2;
    const note = 0.5 * Math.exp(-sinceBeat * 6) * Math.sin(2 * Math.PI * melody[beat % melody.length]! * t);
    const low = 0.3 * Math.exp(-sinceBar * 1.5) * Math.sin(2 * Math.PI * bass[Math.floor(t / 2) % bass.length]! * t);
    samples[i] = (note + low) * 0.9;
  }
  return Buffer.from(encodeWav({ sampleRate: RATE, channels: [samples] }));
}

async function launch(): Promise<BrowserContext> {
  return chromium.launchPersistentContext(tempDir('chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

describe.skipIf(!hasChromium).each(storeTargets())('the console in Chromium on $name', (target) => {
  let server: ChildProcess;
  let base: string;
  let apiKey: string;
  let env: Record<string, string>;
  let browser: BrowserContext;
  let page: Page;
  let taskId: string;

  const shot = async (name: string) => {
    const file = path.join(SHOTS, `${target.name}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  };
  const api = async (key: string, route: string, init: RequestInit = {}): Promise<Json> =>
    (await fetch(`${base}${route}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers ?? {}) } })).json();
  const signIn = async (key: string) => {
    await page.goto(`${base}/console/`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Tasks' }).waitFor();
  };

  beforeAll(async () => {
    env = {
      REPRISE_DATA_DIR: tempDir('console'),
      DATABASE_URL: await target.fresh(),
      REPRISE_CALLBACK_SCHEDULE: '0,0.2',
      LOG_LEVEL: 'error',
    };
    ({ server, base, apiKey } = await serveWithAccount(env, 100));
    browser = await launch();
    page = await browser.newPage();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    if (server) await kill(server, 'SIGTERM');
  });

  it('refuses a wrong key with a clear message, then signs in', async () => {
    await page.goto(`${base}/console/`);
    await page.getByLabel('API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('This API key was not accepted');
    await shot('sign-in-refused');
    expect(await page.evaluate("sessionStorage.getItem('reprise.apiKey')")).toBeNull();

    await signIn(apiKey);
    expect(await page.evaluate("sessionStorage.getItem('reprise.apiKey')")).toBe(apiKey);
    expect(await page.evaluate('localStorage.length')).toBe(0);
  });

  it('uploads a song, takes the section dragged on its waveform, and plays before and after', async () => {
    await page.goto(`${base}/console/#/new`);
    await page.getByLabel('Song (MP3 or WAV)').setInputFiles({ name: 'song.wav', mimeType: 'audio/wav', buffer: tuneWav(SONG_S) });
    const canvas = page.locator('canvas.waveform');
    await canvas.waitFor();
    await expect.poll(() => page.getByLabel('Start (seconds)').inputValue()).not.toBe('');

    // Drag from 30 % to 65 % of the song: seconds 6 to 13.
    const box = (await canvas.boundingBox())!;
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width * 0.3, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, y, { steps: 4 });
    await page.mouse.move(box.x + box.width * 0.65, y, { steps: 4 });
    await page.mouse.up();
    const start = Number(await page.getByLabel('Start (seconds)').inputValue());
    const end = Number(await page.getByLabel('End (seconds)').inputValue());
    expect(start).toBeCloseTo(SONG_S * 0.3, 0);
    expect(end).toBeCloseTo(SONG_S * 0.65, 0);

    await page.getByRole('button', { name: 'Use my inbox' }).click();
    await expect.poll(() => page.getByLabel('callBackUrl').inputValue()).toMatch(/\/inbox\/[^/]+$/);
    await page.getByLabel('Prompt (words and mood)').fill('soft jazz piano');
    await shot('new-task');
    await page.getByRole('button', { name: 'Replace the section' }).click();

    await page.waitForURL(/#\/tasks\/[0-9a-f]{32}$/);
    taskId = page.url().split('/').at(-1)!;
    const submitted = await api(apiKey, `/api/v1/tasks/${taskId}`);
    expect(submitted.data.param).toMatchObject({ infillStartS: start, infillEndS: end, prompt: 'soft jazz piano' });

    // The page re-renders itself when the task finishes: both players then load their audio.
    const comparison = page.getByRole('region', { name: 'Before and after' });
    await comparison.waitFor({ timeout: 90_000 });
    // A string: it runs in the page, and the test code is compiled without the DOM's types.
    await page.waitForFunction(
      `((players) => players.length === 2 && players.every((player) => player.readyState >= 1 && player.duration > 0))(
        [...document.querySelectorAll('section[aria-label="Before and after"] audio')])`,
      undefined,
      { timeout: 30_000 },
    );
    const durations = await comparison.locator('audio').evaluateAll((players) => players.map((player) => (player as unknown as AudioLike).duration));
    for (const duration of durations) expect(duration).toBeCloseTo(SONG_S, 0);

    // A/B keeps the position: the after player at 9 s, switch to A, the before player is at 9 s.
    await page.getByLabel('After: the result').evaluate((player) => {
      (player as unknown as AudioLike).currentTime = 9;
    });
    await page.getByRole('button', { name: 'A: before' }).click();
    expect(await page.getByRole('button', { name: 'A: before' }).getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByLabel('Before: the source').evaluate((player) => (player as unknown as AudioLike).currentTime)).toBeCloseTo(9, 1);
    await page.getByRole('button', { name: 'B: after' }).click();

    await expect.poll(() => page.locator('body').textContent()).toContain('"status": "SUCCESS"');
    await shot('task-replace-section');
    if (process.env.REPRISE_DOCS_SCREENSHOT === '1' && target.name === 'sqlite') {
      // Only on request: a run must not change a tracked file.
      await page.screenshot({ path: DOCS_SCREENSHOT });
      console.log(`updated ${DOCS_SCREENSHOT}`);
    }
  });

  it('lists the task, filtered by kind and status', async () => {
    await page.goto(`${base}/console/#/tasks`);
    const row = page.locator(`tr[data-task-id="${taskId}"]`);
    await row.waitFor();
    await page.getByLabel('Status').selectOption('GENERATE_AUDIO_FAILED');
    await expect.poll(() => row.count()).toBe(0);
    await page.getByLabel('Status').selectOption('SUCCESS');
    await page.getByLabel('Kind').selectOption('replace');
    await row.waitFor();
    await shot('tasks');
  });

  it('shows the signed callback in the inbox, and redelivers it', async () => {
    await page.goto(`${base}/console/#/inbox`);
    const requests = page.locator('section[data-request-id]');
    await requests.first().waitFor({ timeout: 30_000 });
    expect(await requests.count()).toBe(1);
    expect(await requests.first().textContent()).toContain(taskId);
    expect(await requests.first().textContent()).toContain('KIE signature: valid');
    await shot('inbox');

    await page.goto(`${base}/console/#/tasks/${taskId}/deliveries`);
    await page.getByText('HTTP 200').first().waitFor();
    // The headers the inbox recorded for this webhook-id, both signatures verified.
    // (The first visible one: each attempt's own headers are folded away in a <details>.)
    await page.getByText('x-webhook-signature').filter({ visible: true }).first().waitFor();
    expect(await page.getByText('KIE signature: valid').count()).toBeGreaterThan(0);
    // And the headers each attempt was sent with, whatever the receiver.
    expect(await page.getByText('Headers sent (signatures)').count()).toBeGreaterThan(0);
    await shot('deliveries');
    await page.getByRole('button', { name: 'Redeliver the latest callback' }).click();
    await page.getByText('Attempt 2').waitFor({ timeout: 20_000 });
    await page.goto(`${base}/console/#/inbox`);
    await expect.poll(() => requests.count(), { timeout: 20_000 }).toBe(2);
    await shot('deliveries-redelivered');
  });

  it('shows the account, its ledger and keys', async () => {
    await page.goto(`${base}/console/#/account`);
    await page.locator('tr[data-kind="debit"]').first().waitFor();
    expect(await page.locator('#credits').textContent()).toBe('95');
    await shot('account');
  });

  it('plays the music video of the result on its task page', async () => {
    const track = (await api(apiKey, `/api/v1/generate/record-info?taskId=${taskId}`)).data.response.sunoData[0];
    const callBackUrl = (await api(apiKey, `/api/v1/tasks/${taskId}`)).data.param.callBackUrl;
    const submitted = await api(apiKey, '/api/v1/mp4/generate', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ taskId, audioId: track.id, author: 'Ada', domainName: 'music.example', callBackUrl }),
    });
    expect(submitted.code, submitted.msg).toBe(200);
    const videoTaskId = submitted.data.taskId as string;
    await expect
      .poll(async () => (await api(apiKey, `/api/v1/mp4/record-info?taskId=${videoTaskId}`)).data?.successFlag, { timeout: 60_000, interval: 500 })
      .toBe('SUCCESS');

    await page.goto(`${base}/console/#/tasks/${videoTaskId}`);
    const video = page.locator('video');
    await video.waitFor();
    // Chromium decodes the file: its length is the track's, and it has a picture.
    interface VideoLike extends AudioLike {
      videoWidth: number;
      videoHeight: number;
      muted: boolean;
      play(): Promise<void>;
      getVideoPlaybackQuality(): { totalVideoFrames: number };
    }
    const read = () =>
      video.evaluate((element) => {
        const v = element as unknown as VideoLike;
        return {
          ready: v.readyState,
          duration: v.duration,
          width: v.videoWidth,
          height: v.videoHeight,
          time: v.currentTime,
          frames: v.getVideoPlaybackQuality().totalVideoFrames,
        };
      });
    await expect.poll(async () => (await read()).ready >= 1 && (await read()).width > 0, { timeout: 30_000 }).toBe(true);
    const meta = await read();
    expect(Math.abs(meta.duration - track.duration)).toBeLessThan(0.1);
    expect(meta).toMatchObject({ width: 640, height: 640 });
    // And plays it: time moves and frames are decoded (muted, so that autoplay rules allow it).
    await video.evaluate(async (element) => {
      const v = element as unknown as VideoLike;
      v.muted = true;
      await v.play();
    });
    await expect
      .poll(
        async () => {
          const now = await read();
          return now.time > 1 && now.frames > 10;
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    await shot('task-music-video');
  });

  it('explains an unknown task and a redelivery with nothing to send', async () => {
    await page.goto(`${base}/console/#/tasks/${'0'.repeat(32)}`);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain(`no task ${'0'.repeat(32)} for this account`);
    await shot('task-unknown');
  });

  it('rehearses a 531 in the sandbox: the task fails and its credits come back', async () => {
    // Made while the server runs: the CLI writes to the same store.
    const sandbox = await runCli(['accounts', 'create', '--name', 'rehearsal', '--credits', '20', '--sandbox'], env);
    expect(sandbox.code, sandbox.stderr).toBe(0);
    const sandboxKey = (JSON.parse(sandbox.stdout) as { apiKey: string }).apiKey;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(sandboxKey);
    await page.goto(`${base}/console/#/sandbox`);
    await page.getByRole('button', { name: 'Add a scenario' }).click();
    await page.getByLabel('Outcome').selectOption('fail');
    await page.getByLabel('Failure code').selectOption('531');
    await page.getByRole('button', { name: 'Save the queue' }).click();
    await page.getByText('Saved:').waitFor();
    await shot('sandbox');
    expect((await api(sandboxKey, '/api/v1/sandbox')).data.scenarios).toEqual([{ outcome: 'fail', failCode: 531 }]);

    // Another account's task answers as an unknown one.
    await page.goto(`${base}/console/#/tasks/${taskId}`);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain(`no task ${taskId} for this account`);

    // The tasks page is open while an unmodified KIE client's request (no callBackUrl) comes in:
    // the task appears and fails on the page by itself (the live feed), as the scenario says.
    await page.goto(`${base}/console/#/tasks`);
    await page.getByText('Live:').waitFor();
    const form = new FormData();
    form.append('file', new Blob([tuneWav(SONG_S)], { type: 'audio/wav' }), 'rehearsal.wav');
    form.append('uploadPath', 'songs');
    const upload = await api(sandboxKey, '/api/file-stream-upload', { method: 'POST', body: form });
    const submitted = await api(sandboxKey, '/api/v1/generate/replace-section', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uploadUrl: upload.data.downloadUrl, prompt: 'x', tags: 'Jazz', title: 'rehearsal', infillStartS: 2, infillEndS: 9 }),
    });
    const failed = submitted.data.taskId as string;
    await page.locator(`tr[data-task-id="${failed}"] .badge.GENERATE_AUDIO_FAILED`).waitFor({ timeout: 60_000 });
    await shot('tasks-live-sandbox');

    await page.goto(`${base}/console/#/tasks/${failed}`);
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('531');
    expect(await page.locator('.badge.simulated').count()).toBeGreaterThan(0);
    await shot('task-sandbox-531');

    await page.goto(`${base}/console/#/account`);
    await page.locator('tr[data-kind="refund"]').waitFor();
    expect(await page.locator('tr[data-kind="refund"]').textContent()).toContain(failed);
    expect(await page.locator('#credits').textContent()).toBe('20');
    await shot('account-sandbox-refund');

    await page.goto(`${base}/console/#/tasks/${failed}/deliveries`);
    await page.getByRole('button', { name: 'Redeliver the latest callback' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('owes no callback');
    await shot('deliveries-none');
  });
});

describe('the console files', () => {
  it('are served with their content types, revalidated by ETag, and nothing else is', async () => {
    const Fastify = (await import('fastify')).default;
    const { registerConsoleRoutes } = await import('../../src/api/console.js');
    const app = Fastify();
    registerConsoleRoutes(app);
    const index = await app.inject({ url: '/console/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.body).toContain('<script type="module" src="app.js">');
    expect((await app.inject({ url: '/console' })).headers.location).toBe('/console/');
    const script = await app.inject({ url: '/console/pages/task.js' });
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const again = await app.inject({ url: '/console/pages/task.js', headers: { 'if-none-match': script.headers.etag as string } });
    expect(again.statusCode).toBe(304);
    const meta = JSON.parse((await app.inject({ url: '/console/meta.json' })).body) as { kinds: string[]; statuses: string[] };
    expect(meta.kinds).toContain('replace');
    expect(meta.statuses).toContain('SUCCESS');
    for (const url of ['/console/nope.js', '/console/../package.json', '/console/%2e%2e/server/package.json']) {
      expect((await app.inject({ url })).statusCode).toBe(404);
    }
    await app.close();
  });
});
