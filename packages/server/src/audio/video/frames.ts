import type { Backdrop, VideoLayout } from './backdrop.js';
import type { BarFrames } from './bars.js';
import { blendRect, type I420, mixYuv, rgbToYuv, type Yuv } from './yuv.js';

/**
 * The frames of the video, one at a time into the same buffer: the backdrop copied in, then the
 * spectrum bars with their caps and the progress line drawn over it. Nothing of a frame is kept
 * once the encoder has taken it, so memory does not grow with the length of the track.
 */
export interface FramePainter {
  /** Draws frame `index` into the painter's buffer and returns it (valid until the next call). */
  paint(index: number): I420;
}

const WHITE = rgbToYuv(255, 255, 255);

export function framePainter(backdrop: Backdrop, layout: VideoLayout, bars: BarFrames, totalFrames: number): FramePainter {
  const { bars: area, progress } = layout;
  // The static parts of the display go into the backdrop once: a faint track behind each bar and
  // the unplayed progress line, so the display is there even while the music is silent.
  const still: I420 = { ...backdrop.picture, data: Uint8Array.from(backdrop.picture.data) };
  for (let b = 0; b < area.count; b++) {
    const x = area.x + b * area.slot;
    blendRect(still, x, area.baseline - area.maxHeight, x + area.barWidth, area.baseline, WHITE, 0.07);
  }
  blendRect(still, progress.x, progress.y, progress.x + progress.width, progress.y + progress.height, WHITE, 0.22);

  // Bars shade from the cover's accent at the bottom to near white at the top, in 2-pixel strips.
  const strips = area.maxHeight / 2;
  const shades: Yuv[] = Array.from({ length: strips }, (_, s) => mixYuv(backdrop.accent, WHITE, (s / strips) ** 1.5 * 0.85));
  const frame: I420 = { ...still, data: new Uint8Array(still.data.length) };
  return {
    paint(index) {
      frame.data.set(still.data);
      const row = Math.min(index, bars.frames - 1) * bars.count;
      for (let b = 0; b < area.count; b++) {
        const x = area.x + b * area.slot;
        const tall = Math.round(bars.heights[row + b]! * strips);
        for (let s = 0; s < tall; s++) {
          const y = area.baseline - 2 * (s + 1);
          blendRect(frame, x, y, x + area.barWidth, y + 2, shades[s]!, 0.95);
        }
        const cap = Math.round(bars.caps[row + b]! * strips);
        // The cap floats just above its bar, and sits on the baseline of a silent one.
        if (cap > 0) {
          const y = area.baseline - 2 * Math.min(strips, cap + 1);
          blendRect(frame, x, y, x + area.barWidth, y + area.capHeight, WHITE, 0.9);
        }
      }
      const played = 2 * Math.round((progress.width * Math.min(1, (index + 1) / totalFrames)) / 2);
      blendRect(frame, progress.x, progress.y, progress.x + played, progress.y + progress.height, backdrop.accent, 1);
      return frame;
    },
  };
}
