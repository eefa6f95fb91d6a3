/**
 * Pictures as the H.264 encoder takes them: I420 (planar Y, then U and V at half width and half
 * height), BT.709 limited range ("TV" levels, 16–235 / 16–240), which is what browsers assume
 * for video and what the MP4's `colr` box declares (see mux.ts).
 *
 * The moving parts of a frame are drawn straight into these planes: YUV is a linear transform of
 * R'G'B', so blending a colour over a pixel in YUV gives the same result as blending in RGB, and a
 * frame is a copy of the still backdrop plus a few rectangles (no colour conversion per frame).
 */

/** One colour in limited-range BT.709 YUV. */
export interface Yuv {
  y: number;
  u: number;
  v: number;
}

/** A picture in I420: `data` holds Y (width × height), then U and V (width/2 × height/2 each). */
export interface I420 {
  width: number;
  height: number;
  data: Uint8Array;
}

const KR = 0.2126;
const KB = 0.0722;
const KG = 1 - KR - KB;

export const i420Size = (width: number, height: number): number => width * height + 2 * (width / 2) * (height / 2);

const clampByte = (value: number): number => (value < 0 ? 0 : value > 255 ? 255 : Math.round(value));

/** Gamma-encoded sRGB bytes (0–255) to limited-range BT.709 YUV. */
export function rgbToYuv(r: number, g: number, b: number): Yuv {
  const luma = KR * r + KG * g + KB * b;
  return {
    y: clampByte(16 + (219 / 255) * luma),
    u: clampByte(128 + (224 / 255) * ((b - luma) / (2 * (1 - KB)))),
    v: clampByte(128 + (224 / 255) * ((r - luma) / (2 * (1 - KR)))),
  };
}

/** Interleaved RGB or RGBA bytes (`channels` 3 or 4) to I420; each chroma sample is the mean of its 2×2 block. */
export function rgbToI420(pixels: Uint8Array, width: number, height: number, channels: 3 | 4): I420 {
  if (width % 2 !== 0 || height % 2 !== 0) throw new RangeError(`I420 needs even dimensions, not ${width}×${height}`);
  const data = new Uint8Array(i420Size(width, height));
  const half = width / 2;
  const uAt = width * height;
  const vAt = uAt + half * (height / 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      data[y * width + x] = clampByte(16 + (219 / 255) * (KR * pixels[i]! + KG * pixels[i + 1]! + KB * pixels[i + 2]!));
    }
  }
  for (let cy = 0; cy < height / 2; cy++) {
    for (let cx = 0; cx < half; cx++) {
      const i = (2 * cy * width + 2 * cx) * channels;
      const j = i + width * channels; // the pixel below
      const r = pixels[i]! + pixels[i + channels]! + pixels[j]! + pixels[j + channels]!;
      const g = pixels[i + 1]! + pixels[i + channels + 1]! + pixels[j + 1]! + pixels[j + channels + 1]!;
      const b = pixels[i + 2]! + pixels[i + channels + 2]! + pixels[j + 2]! + pixels[j + channels + 2]!;
      const { u, v } = rgbToYuv(r / 4, g / 4, b / 4);
      data[uAt + cy * half + cx] = u;
      data[vAt + cy * half + cx] = v;
    }
  }
  return { width, height, data };
}

/**
 * Blends `colour` at `alpha` (0–1) over the rectangle [x0, x1) × [y0, y1) of `picture`. The
 * rectangle is widened to even edges so that it covers whole chroma samples: a half-covered
 * chroma sample would tint the pixels beside it.
 */
export function blendRect(picture: I420, x0: number, y0: number, x1: number, y1: number, colour: Yuv, alpha: number): void {
  const { width, height, data } = picture;
  const left = Math.max(0, Math.floor(x0 / 2) * 2);
  const top = Math.max(0, Math.floor(y0 / 2) * 2);
  const right = Math.min(width, Math.ceil(x1 / 2) * 2);
  const bottom = Math.min(height, Math.ceil(y1 / 2) * 2);
  if (right <= left || bottom <= top || alpha <= 0) return;
  // Fixed point (8 bits) keeps the inner loop in small integers.
  const a = Math.round(Math.min(1, alpha) * 256);
  const keep = 256 - a;
  const yc = colour.y * a + 128;
  for (let y = top; y < bottom; y++) {
    const row = y * width;
    for (let x = left; x < right; x++) data[row + x] = (data[row + x]! * keep + yc) >> 8;
  }
  const half = width / 2;
  const uAt = width * height;
  const vAt = uAt + half * (height / 2);
  const uc = colour.u * a + 128;
  const vc = colour.v * a + 128;
  for (let cy = top / 2; cy < bottom / 2; cy++) {
    const row = cy * half;
    for (let cx = left / 2; cx < right / 2; cx++) {
      data[uAt + row + cx] = (data[uAt + row + cx]! * keep + uc) >> 8;
      data[vAt + row + cx] = (data[vAt + row + cx]! * keep + vc) >> 8;
    }
  }
}

/** The colour `t` of the way from `a` to `b`. */
export function mixYuv(a: Yuv, b: Yuv, t: number): Yuv {
  return { y: a.y + (b.y - a.y) * t, u: a.u + (b.u - a.u) * t, v: a.v + (b.v - a.v) * t };
}
