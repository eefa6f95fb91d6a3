import { floatWavChannels } from '../codecs/wav.js';
import type { Pcm } from '../pcm.js';
import { frequencyMedians, TimeMedians } from './medians.js';
import { frameSizeFor, StereoStft } from './stft.js';

/**
 * Stems estimated from a mix by signal processing alone, for audio reprise did not make (or no
 * longer renders the same). Each time-frequency bin of the mix is shared out by soft masks that
 * add up to one, so the stems and the rest add up to the mix:
 *
 * - drums: the percussive part of a harmonic/percussive split by median filtering (a drum hit
 *   is a vertical line in a spectrogram, a held note a horizontal one);
 * - bass: the tonal part below a low crossover that sits in the centre of the stereo image;
 * - vocal: the tonal part above it that sits in the centre (the same in both channels, in level
 *   and in phase), where mixes put the lead voice;
 * - the rest: everything else (harmony and melody instruments, side content).
 *
 * It cannot tell one instrument from another within those classes, finds no voice in audio
 * without a stereo image (everything is in the centre there), and lets centred instruments into
 * the vocal. One pass over the mix works out the masks (kept at 8 bits); each stem is then one
 * more pass, so only one stem is held beside the mix at a time, and the rest is written in the
 * mix's own memory.
 */

export type EstimatedStemName = 'vocal' | 'drums' | 'bass';
/** 'vocal': the vocal only; 'stems': vocal, drums and bass; 'instruments': drums and bass (of audio known to hold no voice). */
export type EstimateMode = 'vocal' | 'stems' | 'instruments';

export interface StemEstimate {
  sampleRate: number;
  /** The stems found, in this order: the vocal only where the audio has a stereo image. */
  names: EstimatedStemName[];
  /** Energy of the mix (sum of squares), for telling a stem with nothing in it. */
  energy: number;
  /** One stem as new channels (laid out as a float WAV). */
  render(name: EstimatedStemName): Float32Array[];
  /**
   * What the `taken` stems leave of the mix (with them, the mix), written over the mix's own
   * channels, which are returned: the last call, after which nothing renders.
   */
  takeRest(taken: readonly EstimatedStemName[]): Float32Array[];
}

/** Median widths: 0.4 s along time (longer than a drum hit, shorter than most held notes), 180 Hz across frequency. */
const TIME_MEDIAN_S = 0.4;
const FREQUENCY_MEDIAN_HZ = 180;
/** Percussive share from the two medians, Wiener-like: P² / (H² + P²). */
const MASK_POWER = 2;
/** The bass band: all of the tonal part below the first edge, none above the second (raised cosine between). */
const BASS_BAND_HZ: readonly [number, number] = [150, 300];
/** The vocal band's top: full below the first edge, none above the second. */
const VOCAL_TOP_HZ: readonly [number, number] = [10_000, 16_000];
/** How far from the centre a bin may lean and still count as centred: level difference in dB (Gaussian width). */
const CENTRE_WIDTH_DB = 2;
/** Below this side-to-mid energy the audio has no stereo image to read a centre from (−40 dB). */
const MONO_SIDE_RATIO = 1e-4;
/** Masks are kept as bytes: 255 is the whole bin. */
const FULL = 255;
const ORDER: readonly EstimatedStemName[] = ['vocal', 'drums', 'bass'];

const odd = (n: number) => Math.max(1, 2 * Math.floor(n / 2) + 1);

/** 1 below `edges[0]`, 0 above `edges[1]`, a raised-cosine slope between. */
function lowShelf(hz: number, edges: readonly [number, number]): number {
  if (hz <= edges[0]) return 1;
  if (hz >= edges[1]) return 0;
  return 0.5 + 0.5 * Math.cos((Math.PI * (hz - edges[0])) / (edges[1] - edges[0]));
}

/**
 * How centred bin `k` is, 0 … 1: the same level in both channels (within a couple of dB) and the
 * same phase. A source panned to the middle gives 1; one panned aside, or out of phase, less.
 */
function centreWeight(left: Float64Array, right: Float64Array, k: number): number {
  const lr = left[2 * k]!;
  const li = left[2 * k + 1]!;
  const rr = right[2 * k]!;
  const ri = right[2 * k + 1]!;
  const l2 = lr * lr + li * li;
  const r2 = rr * rr + ri * ri;
  if (l2 === 0 || r2 === 0) return 0;
  const levelDb = 10 * Math.log10(l2 / r2);
  const coherence = (lr * rr + li * ri) / Math.sqrt(l2 * r2);
  return Math.exp(-((levelDb / CENTRE_WIDTH_DB) ** 2)) * Math.max(0, coherence);
}

/** Every frame of two channels in order: `onFrame(t, left, right)` with its half spectra (valid during the call). */
function forEachFrame(stft: StereoStft, channels: readonly Float32Array[], onFrame: (t: number, left: Float64Array, right: Float64Array) => void): void {
  const left = new Float64Array(2 * stft.bins);
  const right = new Float64Array(2 * stft.bins);
  const total = stft.frameCount(channels[0]!.length);
  for (let t = 0; t < total; t++) {
    stft.analyse(channels[0]!, channels[1] ?? channels[0]!, stft.frameStart(t), left, right);
    onFrame(t, left, right);
  }
}

/** A stem's share of each bin, 0 … FULL, frame after frame: `width` bins a frame, the stem taking nothing from the bins above. */
interface Mask {
  values: Uint8Array;
  width: number;
}

const maskValue = (mask: Mask, t: number, k: number) => (k < mask.width ? mask.values[t * mask.width + k]! : 0);

/** The bins up to the last one a band reaches (it is 0 from there on). */
function bandWidth(band: Float32Array): number {
  let width = band.length;
  while (width > 0 && band[width - 1] === 0) width--;
  return width;
}

/**
 * Works out the masks of `pcm`, mono or stereo (one pass); the stems are rendered from them on
 * demand. The mix's channels are read by every render and overwritten by `takeRest`.
 */
export function estimateStems(pcm: Pcm, mode: EstimateMode): StemEstimate {
  const { sampleRate, channels: mix } = pcm;
  const frames = mix[0]?.length ?? 0;
  const stereoInput = mix.length === 2;
  const stft = new StereoStft(frameSizeFor(sampleRate));
  const { bins, hop, size } = stft;
  const total = stft.frameCount(frames);
  const binHz = sampleRate / size;
  const timeWidth = odd(Math.round((TIME_MEDIAN_S * sampleRate) / hop));
  const frequencyWidth = odd(Math.round(FREQUENCY_MEDIAN_HZ / binHz));
  const lag = timeWidth >>> 1;
  const bassBand = Float32Array.from({ length: bins }, (_, k) => lowShelf(k * binHz, BASS_BAND_HZ));
  const vocalBand = Float32Array.from({ length: bins }, (_, k) => (1 - bassBand[k]!) * lowShelf(k * binHz, VOCAL_TOP_HZ));
  const wanted = mode === 'vocal' ? (['vocal'] as const) : mode === 'stems' ? ORDER : (['drums', 'bass'] as const);
  // Above the end of its band a stem takes nothing from any bin, so its mask stops there: the
  // bass's is 28 bins wide of 2049 at 44.1 kHz, the vocal's under three quarters of them.
  const widths: Record<EstimatedStemName, number> = { vocal: bandWidth(vocalBand), drums: bins, bass: bandWidth(bassBand) };
  const masks = new Map<EstimatedStemName, Mask>(wanted.map((name) => [name, { values: new Uint8Array(total * widths[name]), width: widths[name] }]));
  const vocalMask = masks.get('vocal') ?? null;
  const drumsMask = masks.get('drums') ?? null;
  const bassMask = masks.get('bass') ?? null;

  // A frame is judged once the frames `lag` after it are in: a ring of the last `timeWidth` frames' centre weights and magnitudes.
  const ring = Array.from({ length: timeWidth }, () => ({ centre: new Float32Array(bins), magnitude: new Float32Array(bins) }));
  const medians = new TimeMedians(bins, timeWidth);
  const harmonic = new Float32Array(bins);
  const percussive = new Float32Array(bins);
  const scratch = new Float32Array(frequencyWidth);
  const level = { mid: 0, side: 0, energy: 0 };

  const judge = (c: number) => {
    const frame = ring[c % timeWidth]!;
    frequencyMedians(frame.magnitude, frequencyWidth, percussive, scratch);
    for (let k = 0; k < bins; k++) {
      const h = harmonic[k]! ** MASK_POWER;
      const p = percussive[k]! ** MASK_POWER;
      const drums = h + p > 0 ? p / (h + p) : 0;
      const tonal = 1 - drums;
      const centre = frame.centre[k]!;
      // Quantised cumulatively, so the bytes of a bin never add up to more than the whole bin.
      const vocal = vocalMask ? tonal * vocalBand[k]! * centre : 0;
      const upToVocal = Math.min(FULL, Math.round(vocal * FULL));
      if (vocalMask && k < vocalMask.width) vocalMask.values[c * vocalMask.width + k] = upToVocal;
      if (!drumsMask || !bassMask) continue;
      const upToDrums = Math.min(FULL, Math.round((vocal + drums) * FULL));
      drumsMask.values[c * drumsMask.width + k] = upToDrums - upToVocal;
      if (k < bassMask.width)
        bassMask.values[c * bassMask.width + k] = Math.min(FULL, Math.round((vocal + drums + tonal * bassBand[k]! * centre) * FULL)) - upToDrums;
    }
  };

  // The mask pass. The medians along time see each frame when it comes in; a frame is judged `lag` frames later.
  const tonalWindow = (t: number) => {
    medians.push(ring[t % timeWidth]!.magnitude, harmonic);
    if (t - lag >= 0) judge(t - lag);
  };
  forEachFrame(stft, mix, (t, left, right) => {
    const slot = ring[t % timeWidth]!;
    for (let k = 0; k < bins; k++) {
      const lr = left[2 * k]!;
      const li = left[2 * k + 1]!;
      const rr = right[2 * k]!;
      const ri = right[2 * k + 1]!;
      slot.magnitude[k] = 0.5 * (Math.hypot(lr, li) + Math.hypot(rr, ri));
      slot.centre[k] = centreWeight(left, right, k);
      // Energies by Parseval (each bin but DC and Nyquist stands for two), for the stereo check and the level.
      const weight = k === 0 || k === bins - 1 ? 1 : 2;
      level.mid += weight * ((lr + rr) ** 2 + (li + ri) ** 2);
      level.side += weight * ((lr - rr) ** 2 + (li - ri) ** 2);
      level.energy += weight * (lr * lr + li * li + (stereoInput ? rr * rr + ri * ri : 0));
    }
    tonalWindow(t);
  });
  // The last frames' judgement waits for silent frames after the end.
  for (let t = total; t < total + lag; t++) {
    ring[t % timeWidth]!.magnitude.fill(0);
    tonalWindow(t);
  }

  const stereo = stereoInput && level.mid > 0 && level.side / level.mid >= MONO_SIDE_RATIO;
  const names = wanted.filter((name) => name !== 'vocal' || stereo);
  /** The mix with a mask per bin (0 … FULL, from `maskAt`), frame after frame, handed to `write` (the frame's samples from `start`). */
  const masked = (maskAt: (t: number, k: number) => number, write: (start: number, left: Float64Array, right: Float64Array) => void) => {
    const scaled = { left: new Float64Array(2 * bins), right: new Float64Array(2 * bins) };
    forEachFrame(stft, mix, (t, left, right) => {
      for (let k = 0; k < bins; k++) {
        const m = maskAt(t, k) / FULL;
        scaled.left[2 * k] = left[2 * k]! * m;
        scaled.left[2 * k + 1] = left[2 * k + 1]! * m;
        scaled.right[2 * k] = right[2 * k]! * m;
        scaled.right[2 * k + 1] = right[2 * k + 1]! * m;
      }
      write(stft.frameStart(t), scaled.left, scaled.right);
    });
  };
  let done = false;
  return {
    sampleRate,
    names,
    // Windowed frames at a quarter hop hold each sample 1.5 times (Hann²), and an N-point transform scales energy by N.
    energy: level.energy / (1.5 * size),
    render: (name) => {
      const mask = masks.get(name);
      if (done || !mask || !names.includes(name)) throw new Error(`no ${name} stem to render`);
      const out = floatWavChannels(mix.length, frames);
      masked(
        (t, k) => maskValue(mask, t, k),
        (start, left, right) => stft.synthesise(left, right, out[0]!, out[1] ?? null, start),
      );
      return out;
    },
    takeRest: (taken) => {
      if (done) throw new Error('the rest was taken already');
      done = true;
      const used = taken.map((name) => masks.get(name)!);
      // The stems taken, together, frame by frame into a frame-long window of the output; each
      // hop whose frames are all in is final and comes off the mix there, behind the frames still to read.
      const pending = mix.map(() => new Float32Array(size));
      masked(
        (t, k) => {
          let sum = 0;
          for (const mask of used) sum += maskValue(mask, t, k);
          return sum;
        },
        (start, left, right) => {
          stft.synthesise(left, right, pending[0]!, pending[1] ?? null, 0);
          for (const [c, channel] of mix.entries()) {
            const window = pending[c]!;
            for (let n = 0; n < hop; n++) {
              const i = start + n;
              if (i >= 0 && i < frames) channel[i]! -= window[n]!;
            }
            window.copyWithin(0, hop);
            window.fill(0, size - hop);
          }
        },
      );
      return mix;
    },
  };
}
