import FFT from 'fft.js';
import type { TrackAudio } from './track-audio.js';

/**
 * What the spectrum display shows, frame by frame: the height (0–1) of each bar and of the small
 * cap above it, computed from the track's own audio. Frame f is on screen from f/fps to
 * (f + 1)/fps and shows the spectrum of a window centred on the middle of that span, so the
 * picture moves with the sound rather than ahead of or behind it.
 *
 * Everything is computed before the first frame is drawn: the heights are scaled to the
 * track's own loud passages, which needs the whole track, and they weigh little (a 3-minute
 * video at 24 fps with 40 bars is 1.4 MB).
 */
export interface BarFrames {
  /** Bars per frame. */
  count: number;
  frames: number;
  /** `count` heights per frame, frame after frame. */
  heights: Float32Array;
  /** The peak caps: the recent maximum of each bar, falling slowly. */
  caps: Float32Array;
}

export interface BarOptions {
  fps: number;
  frames: number;
  bars: number;
  /** Lowest and highest frequency shown (Hz); bands are spaced evenly in log frequency between them. */
  lowHz?: number;
  highHz?: number;
}

/** The display spans this many dB below the track's loud passages. */
const RANGE_DB = 45;
/**
 * The top of the scale is never below this level (0 dB is a full-scale sine): a very quiet or
 * silent track then shows low or no bars instead of its noise floor blown up to full height.
 */
const LOWEST_CEILING_DB = -42;
/** Bars fall from full height to nothing in this many seconds (and rise at once), as an analyser's do. */
const FALL_S = 0.45;
/** Caps fall more slowly, so the recent peaks stay visible. */
const CAP_FALL_S = 1.6;
/** Music's spectrum falls about 3 dB per octave; adding it back makes the bars of a balanced mix about level. */
const TILT_DB_PER_OCTAVE = 3;

/** The FFT bins [first, last] of each band, `bars` bands spaced evenly in log frequency. */
function bandBins(bars: number, lowHz: number, highHz: number, binHz: number, bins: number): { first: Int32Array; last: Int32Array; tilt: Float32Array } {
  const first = new Int32Array(bars);
  const last = new Int32Array(bars);
  const tilt = new Float32Array(bars);
  const ratio = highHz / lowHz;
  for (let b = 0; b < bars; b++) {
    const lo = lowHz * ratio ** (b / bars);
    const hi = lowHz * ratio ** ((b + 1) / bars);
    const centre = Math.sqrt(lo * hi);
    // A band narrower than a bin (the lowest ones) reads the bin nearest its centre.
    const from = Math.ceil(lo / binHz);
    const to = Math.min(bins - 1, Math.floor(hi / binHz));
    const nearest = Math.min(bins - 1, Math.max(1, Math.round(centre / binHz)));
    first[b] = from <= to ? Math.max(1, from) : nearest;
    last[b] = from <= to ? Math.max(1, to) : nearest;
    tilt[b] = TILT_DB_PER_OCTAVE * Math.log2(centre / 1000);
  }
  return { first, last, tilt };
}

/** The `q` quantile (0–1) of `values`, ignoring those at or below `floor`; `floor` if there are none. */
function quantileAbove(values: Float32Array, q: number, floor: number): number {
  // Copied by hand: a typed array's `filter` goes through an array of boxed numbers (MBs of heap).
  const kept = new Float32Array(values.length);
  let count = 0;
  for (const v of values) if (v > floor) kept[count++] = v;
  if (count === 0) return floor;
  const sorted = kept.subarray(0, count).sort();
  return sorted[Math.min(count - 1, Math.floor(q * count))]!;
}

/** Spectrum bar heights for every frame of the video (see BarFrames). */
export function barFrames(audio: TrackAudio, options: BarOptions): BarFrames {
  const { fps, frames, bars } = options;
  const rate = audio.sampleRate;
  // ~93 ms at 44.1 kHz: fine enough for the low bands (10.8 Hz bins), short enough to follow a beat.
  const size = rate > 32_000 ? 4096 : 2048;
  const bins = size / 2;
  const highHz = Math.min(options.highHz ?? 16_000, rate * 0.45);
  const lowHz = Math.min(options.lowHz ?? 40, highHz / 4);
  const { first, last, tilt } = bandBins(bars, lowHz, highHz, rate / size, bins);
  const window = Float32Array.from({ length: size }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size));
  // A full-scale sine through this window peaks at size/4 in its bin: that is 0 dB.
  const fullScale = (size / 4) ** 2;
  const fft = new FFT(size);
  const input = new Float64Array(size);
  const output = fft.createComplexArray() as number[];
  const mono = new Float32Array(size);
  const levels = new Float32Array(frames * bars);
  const silent = -200;
  for (let f = 0; f < frames; f++) {
    const centre = Math.round(((f + 0.5) / fps) * rate);
    audio.mono(centre - size / 2, size, mono);
    for (let i = 0; i < size; i++) input[i] = mono[i]! * window[i]!;
    fft.realTransform(output, input);
    for (let b = 0; b < bars; b++) {
      // The loudest bin of the band: a tone reads the same whatever the band's width.
      let power = 0;
      for (let k = first[b]!; k <= last[b]!; k++) {
        const re = output[2 * k]!;
        const im = output[2 * k + 1]!;
        power = Math.max(power, re * re + im * im);
      }
      levels[f * bars + b] = power > 0 ? 10 * Math.log10(power / fullScale) + tilt[b]! : silent;
    }
  }
  const ceiling = Math.max(LOWEST_CEILING_DB, quantileAbove(levels, 0.98, silent));
  const floor = ceiling - RANGE_DB;
  const heights = new Float32Array(frames * bars);
  const caps = new Float32Array(frames * bars);
  const fall = 1 / (FALL_S * fps);
  const capFall = 1 / (CAP_FALL_S * fps);
  for (let f = 0; f < frames; f++) {
    for (let b = 0; b < bars; b++) {
      const i = f * bars + b;
      const target = Math.min(1, Math.max(0, (levels[i]! - floor) / RANGE_DB));
      const before = f > 0 ? heights[i - bars]! : 0;
      heights[i] = Math.max(target, before - fall);
      caps[i] = Math.max(heights[i]!, (f > 0 ? caps[i - bars]! : 0) - capFall);
    }
  }
  return { count: bars, frames, heights, caps };
}
