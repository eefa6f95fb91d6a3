import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minMaxAccumulator } from '../../src/audio/analysis/min-max.js';
import { encodeMp3Frames } from '../../src/audio/codecs/mp3.js';
import { decodeWav, encodeWav } from '../../src/audio/codecs/wav.js';
import { registerFile } from '../../src/files/index.js';
import { parsePoints } from '../../src/peaks/peaks.js';
import type { Services } from '../../src/services.js';
import { finishedGenerateTask } from '../helpers/fixtures.js';
import { closeServices, createTestAccount, createTestApp, createTestServices, TEST_PUBLIC_URL, type TestAccount } from '../helpers/services.js';
import { storeTargets } from '../helpers/stores.js';

type App = Awaited<ReturnType<typeof createTestApp>>;

/** What the answer must hold, computed here the plain way: per point, min and max of the channels' mean. */
function expectedPeaks(channels: readonly Float32Array[], points: number): { min: number[]; max: number[] } {
  const length = channels[0]!.length;
  const min: number[] = [];
  const max: number[] = [];
  for (let p = 0; p < points; p++) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = Math.floor((p * length) / points); i < Math.floor(((p + 1) * length) / points); i++) {
      const mono = channels.reduce((sum, channel) => sum + channel[i]!, 0) / channels.length;
      lo = Math.min(lo, mono);
      hi = Math.max(hi, mono);
    }
    min.push(Number.isFinite(lo) ? lo : 0);
    max.push(Number.isFinite(hi) ? hi : 0);
  }
  return { min, max };
}

/**
 * A ten-minute MP3 cheaply: two seconds of LAME-encoded tone, then frames of digital silence
 * (all side information zero, so each decodes alone), as long as the song must be.
 */
async function tenMinuteMp3(): Promise<Uint8Array> {
  const rate = 32_000;
  const tone = new Float32Array(rate * 2).map((_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate));
  const { audio, first } = await encodeMp3Frames([tone], rate, 192);
  const silent = new Uint8Array(first.length);
  silent.set(audio.subarray(0, 4));
  silent[2] = (silent[2] ?? 0) & ~0x02; // no padding byte: every silent frame is `length` long
  const count = Math.ceil((600 * rate) / first.samplesPerFrame);
  const bytes = new Uint8Array(audio.length + count * silent.length);
  bytes.set(audio);
  for (let i = 0; i < count; i++) bytes.set(silent, audio.length + i * silent.length);
  return bytes;
}

describe('peaks points', () => {
  it('takes 16 to 4000 points and refuses anything else precisely', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -10, max: 5000 }).map(String), fc.string()), (value) => {
        const whole = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
        if (value === '') expect(parsePoints(value)).toBe(1000);
        else if (whole >= 16 && whole <= 4000) expect(parsePoints(value)).toBe(whole);
        else expect(() => parsePoints(value)).toThrow(/^points: must be a whole number from 16 to 4000$/);
      }),
    );
  });

  it('fed in pieces of any size, gives what the whole computes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 50 }),
        (samples, points, pieceSize) => {
          const left = Float32Array.from(samples);
          const right = Float32Array.from(samples, (v) => -v / 2);
          const peaks = minMaxAccumulator(left.length, points);
          for (let at = 0; at < left.length; at += pieceSize) peaks.add([left.subarray(at, at + pieceSize), right.subarray(at, at + pieceSize)], at);
          const got = peaks.result();
          const want = expectedPeaks([left, right], points);
          expect(got.min).toHaveLength(points);
          for (let p = 0; p < points; p++) {
            expect(got.min[p]).toBeCloseTo(want.min[p]!, 4);
            expect(got.max[p]).toBeCloseTo(want.max[p]!, 4);
          }
        },
      ),
    );
  });
});

describe.each(storeTargets())('console peaks API on $name', (target) => {
  let services: Services;
  let app: App;
  let alice: TestAccount;
  let bob: TestAccount;

  beforeAll(async () => {
    services = await createTestServices(target);
    app = await createTestApp(services);
    alice = await createTestAccount(services, 100);
    bob = await createTestAccount(services, 100);
  });
  afterAll(async () => {
    await app.close();
    await closeServices(services);
  });

  const peaks = (url: string, points: number | string = 1000, who: TestAccount = alice) =>
    app.inject({ method: 'GET', url: `/api/v1/peaks?url=${encodeURIComponent(url)}&points=${points}`, headers: who.auth });

  const upload = async (bytes: Uint8Array, fileName: string, who: TestAccount = alice): Promise<string> => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/file-base64-upload',
      headers: { ...who.auth, 'content-type': 'application/json' },
      payload: { base64Data: Buffer.from(bytes).toString('base64'), uploadPath: 'console', fileName },
    });
    expect(response.json().code).toBe(200);
    return response.json().data.downloadUrl;
  };

  it('draws an uploaded WAV: per point, min and max of the mono mix of its samples', async () => {
    // Noise with a loud stretch: every point differs, and the mix is not either channel.
    let seed = 7;
    const noise = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return (seed / 2 ** 31) * 2 - 1;
    };
    const rate = 22_050;
    const left = new Float32Array(rate * 3).map((_, i) => noise() * (i > rate && i < rate * 2 ? 0.9 : 0.2));
    const right = new Float32Array(rate * 3).map(() => noise() * 0.5);
    const wav = encodeWav({ sampleRate: rate, channels: [left, right] });
    const url = await upload(wav, 'noise.wav');

    const response = (await peaks(url, 500)).json();
    expect(response.code).toBe(200);
    const { data } = response;
    expect(data).toMatchObject({ duration: 3, sampleRate: rate, points: 500 });
    // What the file holds (16-bit), not what was asked to be written.
    const want = expectedPeaks(decodeWav(wav).channels, 500);
    expect(data.min).toHaveLength(500);
    expect(data.max).toHaveLength(500);
    for (let p = 0; p < 500; p++) {
      expect(Math.abs(data.min[p] - want.min[p]!)).toBeLessThanOrEqual(0.00005 + 1e-9);
      expect(Math.abs(data.max[p] - want.max[p]!)).toBeLessThanOrEqual(0.00005 + 1e-9);
    }
    // The same file again: the same answer (kept, not computed again).
    expect((await peaks(url, 500)).json().data).toEqual(data);
  });

  it('draws a ten-minute MP3 without its samples: `points` values, the tone first, then silence', async () => {
    const url = await upload(await tenMinuteMp3(), 'long.mp3');
    const { data } = (await peaks(url, 4000)).json();
    expect(data.points).toBe(4000);
    expect(data.min).toHaveLength(4000);
    expect(data.max).toHaveLength(4000);
    expect(data.duration).toBeGreaterThan(600);
    expect(data.sampleRate).toBe(32_000);
    // The tone's first point swings near ±0.5; the last is silent.
    expect(data.max[1]).toBeGreaterThan(0.4);
    expect(data.min[1]).toBeLessThan(-0.4);
    expect(data.max[3999]).toBe(0);
    expect(data.min[3999]).toBe(0);
  });

  it('refuses other servers’ URLs, other accounts’ files, expired files, images and bad points', async () => {
    const url = await upload(encodeWav({ sampleRate: 8000, channels: [new Float32Array(8000)] }), 'quiet.wav');
    expect((await peaks(url, 8)).json()).toEqual({ code: 422, msg: 'points: must be a whole number from 16 to 4000', data: null });
    expect((await peaks('https://example.com/files/song.mp3')).json()).toEqual({
      code: 422,
      msg: `url: must be a file URL this server handed out (starting with ${TEST_PUBLIC_URL}/files/)`,
      data: null,
    });
    expect((await app.inject({ method: 'GET', url: '/api/v1/peaks', headers: alice.auth })).json().msg).toBe(
      'url: is required: a file URL this server handed out',
    );
    const unknown = { code: 404, msg: 'url: no such file for this account', data: null };
    expect((await peaks(url, 100, bob)).json()).toEqual(unknown);
    expect((await peaks(`${TEST_PUBLIC_URL}/files/${'a'.repeat(32)}.mp3`)).json()).toEqual(unknown);

    const blobKey = 'uploads/expired.wav';
    await services.blobs.put(blobKey, encodeWav({ sampleRate: 8000, channels: [new Float32Array(8000)] }));
    const expired = await registerFile(
      services.store.db,
      { accountId: alice.account.id, kind: 'upload', blobKey, contentType: 'audio/wav', size: 1, fileName: 'old.wav', expiresAt: Date.now() - 1 },
      Date.now() - 10,
    );
    expect((await peaks(`${TEST_PUBLIC_URL}/files/${expired}/old.wav`)).json()).toEqual({
      code: 404,
      msg: 'url: the file has expired and was deleted',
      data: null,
    });

    const { taskId } = await finishedGenerateTask(services, alice.account.id, 10);
    const track = (await app.inject({ method: 'GET', url: `/api/v1/tasks/${taskId}`, headers: alice.auth })).json().data.tracks[0];
    expect((await peaks(track.imageUrl)).json()).toEqual({ code: 422, msg: 'url: is not an audio file (image/jpeg)', data: null });
  });
});
