import { hashString, mulberry32 } from '../prng.js';
import { SIMPLEX_BASELINE, SIMPLEX_CAP_HEIGHT, SIMPLEX_GLYPHS } from './hershey-simplex.js';

/**
 * Cover art: an SVG drawn from the title and tags (which pick the palette and
 * shapes) and the track's waveform, rasterised by sharp from memory. The title
 * and tags are drawn as strokes from glyph outlines shipped in the repository
 * (`hershey-simplex.ts`), never with a font of the host: the SVG holds no
 * `<text>`, so the same inputs give the same picture on any machine.
 */

/** The bars of the waveform a cover draws. */
export const COVER_BARS = 64;

export type CoverInput = {
  title: string;
  tags: string;
  /** Tells apart covers of songs with the same title and tags (e.g. the two songs of one task). */
  variant?: string;
  /** Edge in pixels (default 512). */
  size?: number;
} & (
  | {
      /** The track's audio; only its envelope is drawn. */
      channels: readonly Float32Array[];
    }
  | {
      /** That envelope, measured as the song went by (a `WaveformMeter` of COVER_BARS buckets). */
      levels: Float32Array;
    }
);

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
      for (let i = from; i < to; i += LEVEL_STRIDE) {
        const v = channel[i]!;
        sum += v * v;
        count++;
      }
    }
    levels[b] = Math.sqrt(sum / Math.max(1, count));
  }
  return levels;
}

/** Every 4th sample of a bucket is plenty for a picture and keeps a 3-minute song at a few ms. */
const LEVEL_STRIDE = 4;

/**
 * `waveformLevels` of a song handed over piece by piece, in order (a song never held whole),
 * with the very same sums: a bucket adds its first channel's squares, then the next channel's,
 * so the other channels' squares wait (a bucket's worth) until the first channel's are in.
 * For songs of at least one frame per bucket, where the buckets follow each other.
 */
export class WaveformMeter {
  private readonly sums: Float64Array;
  private readonly counts: Float64Array;
  /** Per later channel, the squares of the current bucket not yet added, in order. */
  private readonly waiting: number[][];
  private bucket = 0;
  private next = 0;

  constructor(
    private readonly length: number,
    private readonly channels: number,
    private readonly buckets: number,
  ) {
    if (length < buckets) throw new RangeError(`a meter of ${buckets} buckets needs as many frames (got ${length})`);
    this.sums = new Float64Array(buckets);
    this.counts = new Float64Array(buckets);
    this.waiting = Array.from({ length: Math.max(0, channels - 1) }, () => []);
  }

  private bounds(b: number): [number, number] {
    const from = Math.floor((b * this.length) / this.buckets);
    return [from, Math.max(from + 1, Math.floor(((b + 1) * this.length) / this.buckets))];
  }

  /** Frames [from, to) of `piece` (default: all of it), which are the song's frames from `at` on: the next ones. */
  add(piece: readonly Float32Array[], at: number, from = 0, to = piece[0]?.length ?? 0): void {
    if (at + from !== this.next) throw new RangeError(`the meter expected frame ${this.next}, got ${at + from}`);
    for (let frame = at + from; frame < at + to && this.bucket < this.buckets; ) {
      const [start, end] = this.bounds(this.bucket);
      const stop = Math.min(end, at + to);
      // The bucket's samples are those at start, start + 4, …
      const first = frame + ((LEVEL_STRIDE - ((frame - start) % LEVEL_STRIDE)) % LEVEL_STRIDE);
      let sum = this.sums[this.bucket]!;
      let count = this.counts[this.bucket]!;
      for (let i = first; i < stop; i += LEVEL_STRIDE) {
        const v = piece[0]![i - at]!;
        sum += v * v;
        count++;
      }
      for (let c = 1; c < this.channels; c++) {
        const data = piece[c]!;
        const waiting = this.waiting[c - 1]!;
        for (let i = first; i < stop; i += LEVEL_STRIDE) waiting.push(data[i - at]! * data[i - at]!);
      }
      this.sums[this.bucket] = sum;
      this.counts[this.bucket] = count;
      frame = stop;
      if (stop === end) this.closeBucket();
    }
    this.next = at + to;
  }

  private closeBucket(): void {
    let sum = this.sums[this.bucket]!;
    let count = this.counts[this.bucket]!;
    for (const waiting of this.waiting) {
      for (const square of waiting) sum += square;
      count += waiting.length;
      waiting.length = 0;
    }
    this.sums[this.bucket] = sum;
    this.counts[this.bucket] = count;
    this.bucket++;
  }

  /** The levels, once every frame of the song was added. */
  levels(): Float32Array {
    const levels = new Float32Array(this.buckets);
    if (this.next !== this.length) throw new RangeError(`the meter has ${this.next} of ${this.length} frames`);
    for (let b = 0; b < this.buckets; b++) levels[b] = Math.sqrt(this.sums[b]! / Math.max(1, this.counts[b]!));
    return levels;
  }
}

const fixed = (n: number) => n.toFixed(1);

/**
 * The characters the font has: accents are dropped (é → e) and anything else
 * outside printable ASCII is left out, so a title never draws as boxes.
 */
export function drawableText(text: string): string {
  const plain = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/\s+/g, ' ');
  return [...plain]
    .filter((c) => c >= ' ' && c <= '~')
    .join('')
    .trim();
}

const glyphOf = (c: string) => SIMPLEX_GLYPHS[c.charCodeAt(0) - 32] ?? SIMPLEX_GLYPHS[0]!;

/** Width of a line of (drawable) text in font units. */
const unitsWide = (line: string): number => [...line].reduce((sum, c) => sum + glyphOf(c)[0], 0);

/** Path data drawing `line` with its baseline's left end at (x, y), the cap height `capPx` pixels. */
export function textPathData(line: string, x: number, y: number, capPx: number): string {
  const scale = capPx / SIMPLEX_CAP_HEIGHT;
  const parts: string[] = [];
  let pen = x;
  for (const c of line) {
    const [advance, strokes] = glyphOf(c);
    for (const stroke of strokes.split(' ')) {
      if (stroke.length < 4) continue; // a single point draws nothing
      for (let i = 0; i < stroke.length; i += 2) {
        const px = pen + (stroke.charCodeAt(i) - 48) * scale;
        const py = y + (stroke.charCodeAt(i + 1) - 48 - SIMPLEX_BASELINE) * scale;
        parts.push(`${i === 0 ? 'M' : 'L'}${fixed(px)} ${fixed(py)}`);
      }
    }
    pen += advance * scale;
  }
  return parts.join('');
}

/** A word wider than a line, in pieces that each fit. */
function breakWord(word: string, maxUnits: number): string[] {
  if (unitsWide(word) <= maxUnits) return [word];
  const pieces: string[] = [];
  let piece = '';
  for (const c of word) {
    if (piece && unitsWide(piece + c) > maxUnits) {
      pieces.push(piece);
      piece = '';
    }
    piece += c;
  }
  return piece ? [...pieces, piece] : pieces;
}

/**
 * Greedy word wrap into at most `maxLines` lines of at most `maxUnits`; what
 * does not fit ends the last line with "...". A word wider than a line is broken.
 */
export function wrapText(text: string, maxUnits: number, maxLines: number): string[] {
  const lines: string[] = [];
  let current = '';
  const words = text
    .split(' ')
    .filter(Boolean)
    .flatMap((word) => breakWord(word, maxUnits));
  for (const [index, word] of words.entries()) {
    const candidate = current ? `${current} ${word}` : word;
    if (unitsWide(candidate) <= maxUnits) {
      current = candidate;
      continue;
    }
    if (current) lines.push(current);
    current = word;
    if (lines.length === maxLines) {
      current = '';
      lines[maxLines - 1] = ellipsis(`${lines[maxLines - 1]} ${words.slice(index).join(' ')}`, maxUnits);
      return lines;
    }
  }
  if (current) lines.push(current);
  return lines;
}

function ellipsis(line: string, maxUnits: number): string {
  const room = maxUnits - unitsWide('...');
  let cut = '';
  for (const c of line) {
    if (unitsWide(cut + c) > room) break;
    cut += c;
  }
  // "bar,..." reads badly: the ellipsis replaces trailing punctuation.
  return `${cut.replace(/[\s,;:.-]+$/, '')}...`;
}

/** The title (up to three lines, shrinking to fit) and the tags (one line) as stroked paths, with a soft shadow. */
function textShapes(title: string, tags: string, size: number): string[] {
  const left = size * 0.08;
  const width = size * 0.84;
  const shapes: string[] = [];
  const draw = (lines: string[], top: number, capPx: number, opacity: number): number => {
    const lineStep = capPx * 1.55;
    const d = lines.map((line, i) => textPathData(line, left, top + capPx + i * lineStep, capPx)).join('');
    if (d) {
      const stroke = Math.max(1, capPx * 0.12);
      const offset = fixed(stroke * 0.6);
      shapes.push(
        `<path d="${d}" transform="translate(${offset} ${offset})" fill="none" stroke="#000" stroke-opacity="0.35" stroke-width="${fixed(stroke * 1.8)}" stroke-linecap="round" stroke-linejoin="round"/>`,
        `<path d="${d}" fill="none" stroke="#fff" stroke-opacity="${opacity}" stroke-width="${fixed(stroke)}" stroke-linecap="round" stroke-linejoin="round"/>`,
      );
    }
    return top + lines.length * lineStep;
  };
  const text = drawableText(title);
  // Largest cap height from which the title fits in two lines, down to a floor that allows three.
  let capPx = size * 0.075;
  let lines = wrapText(text, (width / capPx) * SIMPLEX_CAP_HEIGHT, 2);
  while (capPx > size * 0.045 && lines.join(' ') !== text) {
    capPx *= 0.9;
    lines = wrapText(text, (width / capPx) * SIMPLEX_CAP_HEIGHT, capPx > size * 0.05 ? 2 : 3);
  }
  const below = draw(lines, size * 0.09, capPx, 1);
  const tagCap = size * 0.03;
  draw(wrapText(drawableText(tags), (width / tagCap) * SIMPLEX_CAP_HEIGHT, 1), below + tagCap * 0.2, tagCap, 0.8);
  return shapes;
}

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
  const bars = COVER_BARS;
  const levels = 'levels' in input ? input.levels : waveformLevels(input.channels, bars);
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
    ...textShapes(input.title, input.tags, size),
    '</svg>',
  ].join('');
}

/** A JPEG cover (512×512 unless `size` says otherwise). */
export async function renderCover(input: CoverInput): Promise<Uint8Array> {
  // Loaded on first use: libvips adds about 25 MB to a process, and only the render threads draw covers.
  const { default: sharp } = await import('sharp');
  // No image is drawn twice, so libvips's cache of operations (up to 50 MB) would only hold memory.
  sharp.cache(false);
  const jpeg = await sharp(Buffer.from(coverSvg(input)))
    .jpeg({ quality: 86 })
    .toBuffer();
  return new Uint8Array(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength);
}
