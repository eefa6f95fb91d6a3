import { afterAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../src/audio/codecs/wav.js';
import { sdr, sumOf } from '../../src/audio/separation/quality.js';
import type { GenerateInput, RenderedStem, RenderedTrack } from '../../src/engine/types.js';
import { createRenderPool } from '../../src/worker/render-pool.js';

/** Separation through the worker's render pool: each stem leaves the render thread as soon as it is finished. */
describe('the render pool runs a separation', () => {
  const pool = createRenderPool();
  afterAll(() => pool.close());
  const live = () => new AbortController().signal;

  it('hands every stem over as it is made and returns the rest of the result', async () => {
    const input: GenerateInput = { prompt: '', style: 'funk', title: 'Pool', negativeTags: '', instrumental: true, durationS: 12, seed: 'pool-stems' };
    const first: RenderedTrack[] = [];
    const rest = await pool.run({ name: 'procedural' }, { op: 'generate', input }, live(), async (progress) => {
      if (progress.stage === 'first') first.push(progress.track);
    });
    const track = first[0] ?? rest[0]!;
    const handed: RenderedStem[] = [];
    // A copy: the pool moves the bytes it is given to the thread (checked below), and the master is compared at the end.
    const given = track.master!.slice();
    const result = await pool.separate(
      { name: 'procedural' },
      { type: 'split_stem', audio: { bytes: given }, origin: { operation: { op: 'generate', input }, trackIndex: 0 } },
      live(),
      async (stem, index) => {
        handed[index] = stem;
      },
    );
    expect(given.byteLength).toBe(0); // moved, not copied: the caller holds no second copy while the thread works
    expect(result.stems.length).toBeGreaterThanOrEqual(3);
    expect(result.stems.every((stem) => stem === null)).toBe(true);
    expect(handed.map((stem) => stem.name)).toContain('drums');
    expect(result.method).toMatch(/^Exact/);
    const master = decodeWav(track.master!).channels;
    expect(sdr(master, sumOf(handed.map((stem) => decodeWav(stem.master).channels)))).toBeGreaterThan(40);
  });

  it('brings an engine that cannot separate back as its refusal', async () => {
    await expect(
      pool.separate({ name: 'acestep', acestepUrl: 'http://127.0.0.1:9' }, { type: 'separate_vocal', audio: { bytes: new Uint8Array(16) } }, live()),
    ).rejects.toMatchObject({
      name: 'UnsupportedOperation',
    });
  });
});
