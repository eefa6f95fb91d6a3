import sharp from 'sharp';
import { hashString, mulberry32 } from './prng.js';

/**
 * Cover art: an SVG drawn from the title and tags (which pick the palette and
 * shapes) and the track's waveform, rasterised by sharp from memory. No text
 * yet: rendering text would depend on the fonts installed on the host, and the
 * same inputs must give the same picture everywhere.
 */

export interface CoverInput {
  title: string;
  tags: string;
  /** The track's audio; only its envelope is drawn. */
  channels: readonly Float32Array[];
  /** Tells apart covers of songs with the same title and tags (e.g. the two songs of one task). */
  variant?: string;
  /** Edge in pixels (default 512). */
  size?: number;
}

/**
 * Level (RMS) per bucket over all channels. RMS rather than peak: mastered
 * music peaks near full scale everywhere, while its RMS shows the form.
 */
export function waveformLevels(channels: readonly Float32Array[], buckets: number): Float32Array {
  const levels = new Float32Array(buckets);
  const length = channels[0]?.length ?? 0;
  if (length === 0) return levels;
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * length) / buckets);
    const to = Math.max(from + 1, Math.floor(((b + 1) * length) / buckets));
    let sum = 0;
    let count = 0;
    for (const channel of channels) {
      // Every 4th sample is plenty for a picture and keeps a 3-minute song at a few ms.
      for (let i = from; i < to; i += 4) {
        const v = channel[i]!;
        sum += v * v;
        count++;
      }
    }
    levels[b] = Math.sqrt(sum / Math.max(1, count));
  }
  return levels;
}

const fixed = (n: number) => n.toFixed(1);

export function coverSvg(input: CoverInput): string {
  const size = input.size ?? 512;
  const random = mulberry32(hashString(`${input.title}\u0000${input.tags}\u0000${input.variant ?? ''}`));
  const hue = Math.floor(random() * 360);
  const hue2 = (hue + 40 + Math.floor(random() * 100)) % 360;
  const hue3 = (hue + 180) % 360;
  const angle = Math.floor(random() * 360);
  const shapes: string[] = [];
  const circles = 3 + Math.floor(random() * 4);
  for (let i = 0; i < circles; i++) {
    const cx = random() * size;
    const cy = random() * size * 0.6;
    const r = size * (0.08 + random() * 0.3);
    const h = random() < 0.5 ? hue2 : hue3;
    shapes.push(`<circle cx="${fixed(cx)}" cy="${fixed(cy)}" r="${fixed(r)}" fill="hsl(${h},70%,65%)" fill-opacity="${(0.15 + random() * 0.3).toFixed(2)}"/>`);
  }
  const bars = 64;
  const levels = waveformLevels(input.channels, bars);
  const loudest = levels.reduce((m, v) => Math.max(m, v), 0) || 1;
  const left = size * 0.08;
  const width = size * 0.84;
  const slot = width / bars;
  const centre = size * 0.72;
  const reach = size * 0.18;
  for (let b = 0; b < bars; b++) {
    const h = Math.max(2, (levels[b]! / loudest) ** 1.5 * reach); // a steeper curve makes the sections stand out
    shapes.push(
      `<rect x="${fixed(left + b * slot + slot * 0.15)}" y="${fixed(centre - h)}" width="${fixed(slot * 0.7)}" height="${fixed(2 * h)}" rx="${fixed(slot * 0.3)}" fill="#fff" fill-opacity="0.85"/>`,
    );
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}">`,
    `<defs><linearGradient id="bg" gradientTransform="rotate(${angle} 0.5 0.5)">`,
    `<stop offset="0" stop-color="hsl(${hue},60%,28%)"/><stop offset="1" stop-color="hsl(${hue2},65%,45%)"/>`,
    '</linearGradient></defs>',
    `<rect width="${size}" height="${size}" fill="url(#bg)"/>`,
    ...shapes,
    '</svg>',
  ].join('');
}

/** A JPEG cover (512×512 unless `size` says otherwise). */
export async function renderCover(input: CoverInput): Promise<Uint8Array> {
  const jpeg = await sharp(Buffer.from(coverSvg(input)))
    .jpeg({ quality: 86 })
    .toBuffer();
  return new Uint8Array(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength);
}
