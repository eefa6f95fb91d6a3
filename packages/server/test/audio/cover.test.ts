import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { coverSvg, renderCover, waveformLevels } from '../../src/audio/cover.js';
import { tones } from './wav-fixtures.js';

describe('cover', () => {
  const channels = tones(2, 8000, 2);

  it('is a 512×512 JPEG, the same for the same inputs', async () => {
    const a = await renderCover({ title: 'Song', tags: 'jazz', channels });
    const b = await renderCover({ title: 'Song', tags: 'jazz', channels });
    expect(Array.from(a.subarray(0, 3))).toEqual([0xff, 0xd8, 0xff]);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const meta = await sharp(a).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 512, height: 512 });
  });

  it('changes with the title, tags and variant', () => {
    const base = coverSvg({ title: 'Song', tags: 'jazz', channels });
    expect(coverSvg({ title: 'Song 2', tags: 'jazz', channels })).not.toBe(base);
    expect(coverSvg({ title: 'Song', tags: 'rock', channels })).not.toBe(base);
    expect(coverSvg({ title: 'Song', tags: 'jazz', channels, variant: '1' })).not.toBe(base);
  });

  it('escapes nothing because it draws no text, and copes with silence', async () => {
    const svg = coverSvg({ title: '<script>"&', tags: '', channels: [new Float32Array(0)] });
    expect(svg).not.toContain('<script>');
    expect(Array.from(waveformLevels([new Float32Array(100)], 8))).toEqual(Array(8).fill(0));
    await expect(renderCover({ title: '', tags: '', channels: [new Float32Array(10)] })).resolves.toBeInstanceOf(Uint8Array);
  });
});
