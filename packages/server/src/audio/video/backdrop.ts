import { drawableText, textPathData, wrapText } from '../art/cover.js';
import { SIMPLEX_CAP_HEIGHT, SIMPLEX_GLYPHS } from '../art/hershey-simplex.js';
import { MusicVideoError } from './errors.js';
import { type I420, rgbToI420, rgbToYuv, type Yuv } from './yuv.js';

/**
 * The still part of every frame, drawn once per video: the cover art blurred and darkened as a
 * background, the cover itself above, the title under it, the author signed on the cover and
 * the domain name as a watermark at the bottom (KIE's `author` and `domainName`). Text is drawn
 * as strokes from the glyph outlines shipped with the cover art code, never with a font of the
 * host, so a video looks the same on every machine. The moving part (the spectrum and the
 * progress line) is drawn per frame over this (frames.ts) in the space the layout leaves for it.
 */

/** Where everything goes in a square frame of `size` pixels. Every edge the frames draw on is even (whole chroma samples). */
export interface VideoLayout {
  size: number;
  cover: { x: number; y: number; edge: number };
  title: { firstBaseline: number; capPx: number; maxLines: number; width: number };
  bars: { x: number; baseline: number; count: number; slot: number; barWidth: number; maxHeight: number; capHeight: number };
  progress: { x: number; y: number; width: number; height: number };
  signature: { right: number; baseline: number; capPx: number; minCapPx: number; width: number };
  watermark: { baseline: number; capPx: number; width: number };
}

export interface BackdropText {
  title: string;
  /** Signed on the lower right of the cover (KIE: "shown as a signature on the cover"). */
  author?: string;
  /** A watermark at the bottom (KIE: "watermark at the bottom"). */
  domainName?: string;
}

export interface Backdrop {
  picture: I420;
  /** A light colour taken from the cover, for the bars. */
  accent: Yuv;
}

const even = (value: number): number => 2 * Math.round(value / 2);

export function videoLayout(size: number, bars = 40): VideoLayout {
  const edge = even(size * 0.5);
  const coverY = even(size * 0.055);
  const slot = Math.max(4, even((size * 0.76) / bars));
  const barsWidth = slot * bars;
  const barsX = even((size - barsWidth) / 2);
  const baseline = even(size * 0.905);
  return {
    size,
    cover: { x: (size - edge) / 2, y: coverY, edge },
    title: { firstBaseline: coverY + edge + Math.round(size * 0.075), capPx: size * 0.04, maxLines: 2, width: size * 0.84 },
    bars: { x: barsX, baseline, count: bars, slot, barWidth: Math.max(2, even(slot * 0.66)), maxHeight: even(size * 0.14), capHeight: 2 },
    progress: { x: barsX, y: baseline + even(size * 0.016), width: barsWidth, height: Math.max(2, even(size * 0.006)) },
    signature: {
      right: (size + edge) / 2 - size * 0.025,
      baseline: coverY + edge - size * 0.028,
      capPx: size * 0.028,
      minCapPx: size * 0.016,
      width: edge * 0.86,
    },
    watermark: { baseline: size - even(size * 0.03), capPx: size * 0.02, width: size * 0.8 },
  };
}

const fixed = (n: number) => n.toFixed(1);

/** Width of a line of drawable text, in pixels at cap height `capPx`. */
function lineWidth(line: string, capPx: number): number {
  let units = 0;
  for (const c of line) units += (SIMPLEX_GLYPHS[c.charCodeAt(0) - 32] ?? SIMPLEX_GLYPHS[0]!)[0];
  return (units * capPx) / SIMPLEX_CAP_HEIGHT;
}

/** One line of `text` that fits `width` pixels at `capPx`, cut with "..." if it does not. */
const oneLine = (text: string, width: number, capPx: number): string => wrapText(drawableText(text), (width / capPx) * SIMPLEX_CAP_HEIGHT, 1)[0] ?? '';

/** Stroked text with a soft dark shadow, as on the cover art, so it reads over any picture. */
function stroked(d: string, capPx: number, opacity: number, transform = ''): string {
  if (!d) return '';
  const stroke = Math.max(1, capPx * 0.12);
  const offset = fixed(stroke * 0.6);
  const around = transform ? ` transform="${transform}"` : '';
  return [
    `<g${around}>`,
    `<path d="${d}" transform="translate(${offset} ${offset})" fill="none" stroke="#000" stroke-opacity="0.4" stroke-width="${fixed(stroke * 1.8)}" stroke-linecap="round" stroke-linejoin="round"/>`,
    `<path d="${d}" fill="none" stroke="#fff" stroke-opacity="${opacity}" stroke-width="${fixed(stroke)}" stroke-linecap="round" stroke-linejoin="round"/>`,
    '</g>',
  ].join('');
}

/** The SVGs drawn over the blurred background: under the cover (`shadow`: its shadow, a darker bottom), and over it (`text`). */
export function overlaySvg(layout: VideoLayout, words: BackdropText): { shadow: string; text: string } {
  const { size, cover, title, signature, watermark } = layout;
  const open = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}">`;
  const blur = fixed(size / 70);
  const shadow = [
    open,
    `<defs><filter id="s" x="-20%" y="-20%" width="140%" height="140%"><feGaussianBlur stdDeviation="${blur}"/></filter>`,
    '<linearGradient id="f" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#000" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="0.6"/></linearGradient></defs>',
    // The lower part darkens towards the bottom: the bars and the watermark read on any cover.
    `<rect x="0" y="${fixed(size * 0.55)}" width="${size}" height="${fixed(size * 0.45)}" fill="url(#f)"/>`,
    `<rect x="${cover.x}" y="${cover.y + size / 100}" width="${cover.edge}" height="${cover.edge}" fill="#000" fill-opacity="0.55" filter="url(#s)"/>`,
    '</svg>',
  ].join('');
  const parts: string[] = [open];
  const lines = wrapText(drawableText(words.title), (title.width / title.capPx) * SIMPLEX_CAP_HEIGHT, title.maxLines);
  const step = title.capPx * 1.5;
  const titlePaths = lines
    .map((line, i) => textPathData(line, (size - lineWidth(line, title.capPx)) / 2, title.firstBaseline + i * step, title.capPx))
    .join('');
  parts.push(stroked(titlePaths, title.capPx, 1));
  const author = drawableText(words.author ?? '');
  if (author) {
    // As large as fits across the cover, down to a floor below which the name is cut with "...".
    const capPx = Math.max(signature.minCapPx, Math.min(signature.capPx, (signature.width / lineWidth(author, 1)) * 0.999));
    const line = oneLine(author, signature.width, capPx);
    // Slanted and set in from the cover's corner, like a signature on a print.
    const d = textPathData(line, -lineWidth(line, capPx), 0, capPx);
    parts.push(stroked(d, capPx, 0.92, `translate(${fixed(signature.right)} ${fixed(signature.baseline)}) skewX(-14)`));
  }
  const domain = oneLine(words.domainName ?? '', watermark.width, watermark.capPx);
  if (domain)
    parts.push(stroked(textPathData(domain, (size - lineWidth(domain, watermark.capPx)) / 2, watermark.baseline, watermark.capPx), watermark.capPx, 0.55));
  parts.push('</svg>');
  return { shadow, text: parts.join('') };
}

/** The cover's dominant colour made light enough to stand out on the darkened background. */
export function accentOf(r: number, g: number, b: number): Yuv {
  const max = Math.max(r, g, b) / 255;
  const min = Math.min(r, g, b) / 255;
  const lightness = (max + min) / 2;
  const chroma = max - min;
  let hue = 0;
  if (chroma > 0) {
    if (max === r / 255) hue = (((g - b) / 255 / chroma) % 6) * 60;
    else if (max === g / 255) hue = ((b - r) / 255 / chroma + 2) * 60;
    else hue = ((r - g) / 255 / chroma + 4) * 60;
  }
  const saturation = chroma === 0 ? 0 : chroma / (1 - Math.abs(2 * lightness - 1));
  // A grey cover keeps grey bars; any other gets its hue, saturated and lightened.
  const s = saturation < 0.12 ? saturation : Math.max(saturation, 0.6);
  const l = Math.min(0.78, Math.max(0.66, lightness));
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const x = c * (1 - Math.abs((((((hue % 360) + 360) % 360) / 60) % 2) - 1));
  const m = l - c / 2;
  const sector = Math.floor(((((hue % 360) + 360) % 360) / 60) % 6);
  const [r1, g1, b1] = [
    [c, x, 0],
    [x, c, 0],
    [0, c, x],
    [0, x, c],
    [x, 0, c],
    [c, 0, x],
  ][sector] as [number, number, number];
  return rgbToYuv((r1 + m) * 255, (g1 + m) * 255, (b1 + m) * 255);
}

/**
 * The still picture every frame starts from, from the cover art (JPEG, PNG or SVG bytes). A cover
 * that cannot be read is a MusicVideoError of stage 'input'.
 */
export async function drawBackdrop(cover: Uint8Array, words: BackdropText, layout: VideoLayout): Promise<Backdrop> {
  // Loaded on first use, as the cover art does: libvips adds about 25 MB to a process.
  const { default: sharp } = await import('sharp');
  const { size } = layout;
  let stats: Awaited<ReturnType<ReturnType<typeof sharp>['stats']>>;
  let front: Buffer;
  let background: Buffer;
  try {
    const source = Buffer.from(cover.buffer, cover.byteOffset, cover.byteLength);
    stats = await sharp(source).stats();
    front = await sharp(source).resize(layout.cover.edge, layout.cover.edge, { fit: 'cover' }).removeAlpha().png().toBuffer();
    // Blurred well past recognition, and dark, so that the cover, the text and the bars stand
    // out. Blurred small and then enlarged: the same picture for a sixteenth of the work and memory.
    const small = Math.max(16, Math.round(size / 4));
    const blurred = await sharp(source)
      .resize(small, small, { fit: 'cover' })
      .removeAlpha()
      .blur(small / 24)
      .modulate({ brightness: 0.45 })
      .png()
      .toBuffer();
    background = await sharp(blurred).resize(size, size).png().toBuffer();
  } catch (error) {
    throw new MusicVideoError('input', `the cover art cannot be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const { shadow, text } = overlaySvg(layout, words);
  const { data, info } = await sharp(background)
    .composite([
      { input: Buffer.from(shadow), left: 0, top: 0 },
      { input: front, left: layout.cover.x, top: layout.cover.y },
      { input: Buffer.from(text), left: 0, top: 0 },
    ])
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== size || info.height !== size || info.channels !== 3)
    throw new MusicVideoError('picture', `the backdrop came out ${info.width}×${info.height}×${info.channels}`);
  const { r, g, b } = stats.dominant;
  return { picture: rgbToI420(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), size, size, 3), accent: accentOf(r, g, b) };
}
