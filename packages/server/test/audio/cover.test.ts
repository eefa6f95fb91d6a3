import { createHash } from 'node:crypto';
import fc from 'fast-check';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { COVER_BARS, coverSvg, drawableText, renderCover, textPathData, WaveformMeter, waveformLevels, wrapText } from '../../src/audio/art/cover.js';
import { tones } from './wav-fixtures.js';

/** Pixels close to white in rows [from, to) of a rendered cover: only the drawn text is that white above the waveform. */
async function whitePixels(jpeg: Uint8Array, from: number, to: number): Promise<number> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  let count = 0;
  for (let y = from; y < to; y++) {
    for (let x = 0; x < info.width; x++) {
      const i = (y * info.width + x) * info.channels;
      if (data[i]! > 235 && data[i + 1]! > 235 && data[i + 2]! > 235) count++;
    }
  }
  return count;
}

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

  it('draws the title from the shipped glyphs, as paths: white strokes above the waveform, none without a title', async () => {
    const titled = await renderCover({ title: 'WHISKY HOTEL', tags: '', channels });
    const untitled = await renderCover({ title: '', tags: '', channels });
    // The title sits in the top third; the waveform starts at 54 % of the height.
    expect(await whitePixels(titled, 40, 170)).toBeGreaterThan(1500);
    expect(await whitePixels(untitled, 40, 170)).toBeLessThan(50);
    const svg = coverSvg({ title: 'WHISKY HOTEL', tags: 'jazz', channels });
    expect(svg).not.toMatch(/<text|font-family/);
    expect(svg).toContain(textPathData('WHISKY HOTEL', 512 * 0.08, 512 * 0.09 + 512 * 0.075, 512 * 0.075));
    expect(textPathData('AB', 0, 0, 21)).not.toBe(textPathData('AC', 0, 0, 21));
  });

  it('is a pure function of its inputs: the SVG of a fixed input has a known digest', () => {
    const svg = coverSvg({ title: 'Digest', tags: 'lo-fi', channels: tones(1, 8000, 1) });
    expect(createHash('sha256').update(svg).digest('hex')).toBe(EXPECTED_DIGEST);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 120 }), fc.string({ maxLength: 60 }), (title, tags) => {
        const one = coverSvg({ title, tags, channels });
        expect(coverSvg({ title, tags, channels })).toBe(one);
        // Whatever the title holds, only path data reaches the SVG: no markup can be injected.
        for (const match of one.matchAll(/ d="([^"]*)"/g)) expect(match[1]).toMatch(/^[ML0-9. -]*$/);
      }),
      { numRuns: 60 },
    );
  });

  it('keeps the characters the font has and wraps long titles with an ellipsis', () => {
    expect(drawableText('Café  “Noir” — №5 日本')).toBe('Cafe "Noir" - No5');
    const lines = wrapText('one two three four five six seven eight nine ten', 120, 2);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/\.\.\.$/);
    expect(wrapText('short', 200, 2)).toEqual(['short']);
    expect(wrapText('x'.repeat(40), 100, 3)).toHaveLength(3);
    expect(wrapText('', 100, 2)).toEqual([]);
  });

  it('never puts the raw title into the SVG, and copes with silence', async () => {
    const svg = coverSvg({ title: '<script>"&', tags: '', channels: [new Float32Array(0)] });
    expect(svg).not.toContain('<script>');
    expect(Array.from(waveformLevels([new Float32Array(100)], 8))).toEqual(Array(8).fill(0));
    await expect(renderCover({ title: '', tags: '', channels: [new Float32Array(10)] })).resolves.toBeInstanceOf(Uint8Array);
  });

  it('measures the same levels from a song handed over piece by piece as from the whole song, to the bit (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: COVER_BARS, max: 20_000 }),
        fc.integer({ min: 1, max: 2 }),
        fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 1, maxLength: 12 }),
        (frames, count, cuts) => {
          const channels = Array.from({ length: count }, (_, c) =>
            Float32Array.from({ length: frames }, (_, i) => Math.sin(i * (0.01 + c * 0.003)) * (i % 97) * 0.01),
          );
          const meter = new WaveformMeter(frames, count, COVER_BARS);
          let at = 0;
          for (const cut of [...cuts, frames]) {
            const to = Math.min(frames, at + cut);
            // Pieces as a decoder hands them: views starting at their own first frame.
            if (to > at)
              meter.add(
                channels.map((channel) => channel.subarray(at, to)),
                at,
              );
            at = to;
          }
          expect(Array.from(meter.levels())).toEqual(Array.from(waveformLevels(channels, COVER_BARS)));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('draws the same cover from measured levels as from the samples', () => {
    const channels = tones(3, 8000, 2);
    const levels = waveformLevels(channels, COVER_BARS);
    expect(coverSvg({ title: 'Song', tags: 'jazz', levels })).toBe(coverSvg({ title: 'Song', tags: 'jazz', channels }));
  });
});

const EXPECTED_DIGEST = '21e3f48308e8a685b180cffa9d1bcece92a8b4fecb9d8192c1e2823494de139b';
