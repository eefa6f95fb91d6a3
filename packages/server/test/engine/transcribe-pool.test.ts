import { afterAll, describe, expect, it } from 'vitest';
import type { GenerateInput } from '../../src/engine/types.js';
import { createRenderPool } from '../../src/worker/render-pool.js';

/** Transcription through the worker's render pool: the notes come back from the render thread whole. */
describe('the render pool runs a transcription', () => {
  const pool = createRenderPool();
  afterAll(() => pool.close());
  const live = () => new AbortController().signal;

  it('returns the notes of the stems read from the recipe', async () => {
    const input: GenerateInput = { prompt: '', style: 'funk', title: 'Pool', negativeTags: '', instrumental: true, durationS: 12, seed: 'pool-midi' };
    const result = await pool.transcribe(
      { name: 'procedural' },
      { stems: [{ name: 'drums' }, { name: 'bass' }], origin: { operation: { op: 'generate', input }, trackIndex: 0 } },
      live(),
    );
    expect(result.exact).toBe(true);
    expect(result.method).toMatch(/^Exact/);
    expect(result.instruments.map((instrument) => instrument.stem).sort()).toEqual(['bass', 'drums']);
    const drums = result.instruments.find((instrument) => instrument.isDrum)!;
    expect(drums.notes.length).toBeGreaterThan(10);
    expect(drums.notes.every((note) => [36, 38, 42].includes(note.pitch))).toBe(true);
  });

  it('brings an engine that cannot transcribe back as its refusal', async () => {
    await expect(pool.transcribe({ name: 'acestep', acestepUrl: 'http://127.0.0.1:9' }, { stems: [{ name: 'vocal' }] }, live())).rejects.toMatchObject({
      name: 'UnsupportedOperation',
    });
  });

  it('brings an engine error back typed', async () => {
    await expect(pool.transcribe({ name: 'procedural' }, { stems: [{ name: 'vocal' }] }, live())).rejects.toMatchObject({ name: 'EngineError' });
  });
});
