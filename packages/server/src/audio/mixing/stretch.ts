import { type ChannelAllocator, silence } from '../pcm.js';
import { resamplerInto } from './resample.js';

/**
 * Time-stretching without a change of pitch, and pitch-shifting without a change of length.
 *
 * Stretching is WSOLA (waveform-similarity overlap-add): Hann-windowed frames are laid down at a
 * fixed output hop, and each frame is read from near where the stretch says it should come from,
 * shifted (within a tolerance) to the position whose waveform best continues the frame before
 * it. Frames therefore add in phase: a tone keeps its frequency, and the only artefacts are the
 * small time jumps where material is repeated or skipped. A phase vocoder handles large ratios
 * better, but smears every attack over its window; a mashup stretches by a few percent and needs
 * its drums crisp, which is where WSOLA is at its best.
 *
 * Pitch-shifting stretches by the pitch factor and resamples back to the original length.
 */

/** Frame length: long enough to hold a couple of periods of a bass note, short enough not to echo drums. */
const FRAME_S = 0.046;
/** How far a frame may move from where the stretch puts it to find a matching waveform: a full period down to 50 Hz. */
const TOLERANCE_S = 0.01;
/** The similarity search runs on a mono mix decimated to about this rate, then is refined at full rate. */
const SEARCH_RATE = 11_025;
/** Largest denominator of the rational pitch factor (the resampler's number of filter phases). */
const MAX_PITCH_DENOMINATOR = 1024;

interface Layout {
  /** Frame length (even) and output hop (half of it). */
  frame: number;
  hop: number;
  tolerance: number;
  /** Decimation factor of the search signal. */
  decimation: number;
}

function layoutFor(sampleRate: number): Layout {
  const half = Math.max(16, Math.round((FRAME_S * sampleRate) / 2));
  return {
    frame: 2 * half,
    hop: half,
    tolerance: Math.max(1, Math.round(TOLERANCE_S * sampleRate)),
    decimation: Math.max(1, Math.round(sampleRate / SEARCH_RATE)),
  };
}

/** Mono mix of the channels with `padding` zeros after the end, so that searches may read past it. */
function monoPadded(channels: readonly Float32Array[], padding: number): Float32Array {
  const length = channels[0]?.length ?? 0;
  const mono = new Float32Array(length + padding);
  const scale = 1 / Math.max(1, channels.length);
  const [left, right] = channels;
  if (channels.length === 2 && left && right) {
    // A stereo pair in one pass, rounded as adding each channel in turn to the zeroed array does.
    for (let i = 0; i < length; i++) mono[i] = Math.fround(0 + left[i]! * scale) + right[i]! * scale;
  } else for (const channel of channels) for (let i = 0; i < length; i++) mono[i]! += channel[i]! * scale;
  return mono;
}

/**
 * Block averages of `factor` samples: a crude low-pass, enough to find where two waveforms line up.
 * Rounded to single precision but held as doubles, so the search's inner loop converts nothing.
 */
function decimate(signal: Float32Array, factor: number): Float64Array {
  if (factor === 1) return Float64Array.from(signal);
  const out = new Float64Array(Math.ceil(signal.length / factor));
  for (let j = 0; j < out.length; j++) {
    let sum = 0;
    const end = Math.min(signal.length, (j + 1) * factor);
    for (let i = j * factor; i < end; i++) sum += signal[i]!;
    out[j] = Math.fround(sum / factor);
  }
  return out;
}

/** Running sums of squares: the energy of any stretch in O(1). */
function energyPrefix(signal: Float64Array): Float64Array {
  const prefix = new Float64Array(signal.length + 1);
  for (let i = 0; i < signal.length; i++) prefix[i + 1] = prefix[i]! + signal[i]! * signal[i]!;
  return prefix;
}

/**
 * The inner products of `signal[target …]` with `signal[c …]` over `length` samples, for every
 * candidate c in [first, last], into `dots` (from index 0). Normalised by the candidate's energy
 * they are its similarity to the target (a loud stretch must not win by being loud; the target's
 * own energy is the same for every candidate and is left out). Each sum runs in order (its
 * equivalence test holds it to the plain sum); four
 * candidates are summed in one pass, as four independent sums, which rounds them the same; the
 * four samples under them slide along in locals, so each step loads two samples, not five.
 */
export function innerProducts(signal: Float64Array, target: number, first: number, last: number, length: number, dots: Float64Array): void {
  let c = first;
  for (; c + 3 <= last; c += 4) {
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    let s0 = signal[c]!;
    let s1 = signal[c + 1]!;
    let s2 = signal[c + 2]!;
    for (let n = 0; n < length; n++) {
      const t = signal[target + n]!;
      const s3 = signal[c + n + 3]!;
      d0 += t * s0;
      d1 += t * s1;
      d2 += t * s2;
      d3 += t * s3;
      s0 = s1;
      s1 = s2;
      s2 = s3;
    }
    dots[c - first] = d0;
    dots[c - first + 1] = d1;
    dots[c - first + 2] = d2;
    dots[c - first + 3] = d3;
  }
  for (; c <= last; c++) {
    let dot = 0;
    for (let n = 0; n < length; n++) dot += signal[target + n]! * signal[c + n]!;
    dots[c - first] = dot;
  }
}

/** A candidate's similarity to the target (as in `innerProducts`) at full rate, with its energy summed on the way. */
function fullScore(signal: Float32Array, target: number, candidate: number, length: number): number {
  let dot = 0;
  let energy = 0;
  for (let n = 0; n < length; n++) {
    const v = signal[candidate + n]!;
    dot += signal[target + n]! * v;
    energy += v * v;
  }
  return energy > 0 ? dot / Math.sqrt(energy) : 0;
}

/**
 * `fullScore` of every candidate in [first, last] into `scores` (from index 0), four at a time
 * sharing the target's samples and sliding theirs along in locals; each candidate's two sums
 * still run in order, so every score is fullScore's to the bit (its equivalence test holds it).
 */
export function fullScores(signal: Float32Array, target: number, first: number, last: number, length: number, scores: Float64Array): void {
  let c = first;
  for (; c + 3 <= last; c += 4) {
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    let e0 = 0;
    let e1 = 0;
    let e2 = 0;
    let e3 = 0;
    let s0 = signal[c]!;
    let s1 = signal[c + 1]!;
    let s2 = signal[c + 2]!;
    for (let n = 0; n < length; n++) {
      const t = signal[target + n]!;
      const s3 = signal[c + n + 3]!;
      d0 += t * s0;
      e0 += s0 * s0;
      d1 += t * s1;
      e1 += s1 * s1;
      d2 += t * s2;
      e2 += s2 * s2;
      d3 += t * s3;
      e3 += s3 * s3;
      s0 = s1;
      s1 = s2;
      s2 = s3;
    }
    scores[c - first] = e0 > 0 ? d0 / Math.sqrt(e0) : 0;
    scores[c - first + 1] = e1 > 0 ? d1 / Math.sqrt(e1) : 0;
    scores[c - first + 2] = e2 > 0 ? d2 / Math.sqrt(e2) : 0;
    scores[c - first + 3] = e3 > 0 ? d3 / Math.sqrt(e3) : 0;
  }
  for (; c <= last; c++) scores[c - first] = fullScore(signal, target, c, length);
}

/**
 * Where frame k is read from, for every frame: near where the stretch puts it, at the offset that best
 * continues the previous frame's natural continuation. Ties (silence) keep the nominal position,
 * so an attack after a pause lands exactly where the stretch puts it.
 */
function framePositions(mono: Float32Array, inputLength: number, outputLength: number, ratio: number, layout: Layout): Int32Array {
  const { frame, hop, tolerance, decimation } = layout;
  const frames = Math.ceil(outputLength / hop) + 1;
  const positions = new Int32Array(frames);
  const coarse = decimate(mono, decimation);
  const coarsePrefix = energyPrefix(coarse);
  const coarseFrame = Math.max(1, Math.floor(frame / decimation));
  const coarseLimit = coarse.length - coarseFrame;
  const limit = mono.length - frame;
  const lastStart = Math.max(0, inputLength - 1);
  const dots = new Float64Array(2 * Math.ceil(tolerance / decimation) + 1);
  const refinedScores = new Float64Array(2 * decimation + 1);
  for (let k = 1; k < frames; k++) {
    // Frame k's centre (output k × hop + hop) is taken from the input time that maps onto it, so
    // an event inside a frame is off its stretched time by at most (ratio − 1) × half a frame.
    const nominal = Math.min(lastStart, Math.max(0, Math.round(((k + 1) * hop) / ratio - hop)));
    const target = Math.min(limit, positions[k - 1]! + hop);
    const from = Math.max(0, nominal - tolerance);
    const to = Math.min(limit, nominal + tolerance);
    // Coarse search, nearest candidates first so that a tie keeps the one closest to nominal.
    const coarseTarget = Math.min(coarseLimit, Math.round(target / decimation));
    const centre = Math.round(nominal / decimation);
    const reach = Math.ceil(tolerance / decimation);
    let best = Math.min(Math.max(centre, Math.ceil(from / decimation)), Math.floor(to / decimation));
    let bestScore = 0;
    // Every candidate's inner product first (they are independent), then visited in the order above.
    const firstCandidate = Math.max(centre - reach, Math.ceil(from / decimation));
    const lastCandidate = Math.min(centre + reach, Math.floor(to / decimation), coarseLimit);
    innerProducts(coarse, coarseTarget, firstCandidate, lastCandidate, coarseFrame, dots);
    for (let step = 0; step <= 2 * reach; step++) {
      const c = centre + (step % 2 === 0 ? step / 2 : -(step + 1) / 2);
      if (c * decimation < from || c * decimation > to || c > coarseLimit) continue;
      const energy = coarsePrefix[c + coarseFrame]! - coarsePrefix[c]!;
      const score = energy > 0 ? dots[c - firstCandidate]! / Math.sqrt(energy) : 0;
      if (score > bestScore) {
        bestScore = score;
        best = c;
      }
    }
    // The natural continuation itself, where it is within reach: the decimated search is blind to
    // content above its band (cymbals, clicks), which only the very same samples continue.
    const continuation = target >= from && target <= to ? fullScore(mono, target, target, frame) : Number.NEGATIVE_INFINITY;
    if (!(bestScore > 0) && !(continuation > 0)) {
      positions[k] = nominal;
      continue;
    }
    // Refine at full rate around the coarse winner.
    let position = target;
    let refined = continuation;
    if (bestScore > 0) {
      const first = Math.max(from, best * decimation - decimation);
      const last = Math.min(to, best * decimation + decimation);
      fullScores(mono, target, first, last, frame, refinedScores);
      for (let c = first; c <= last; c++) {
        const score = refinedScores[c - first]!;
        if (score > refined) {
          refined = score;
          position = c;
        }
      }
    }
    positions[k] = position;
  }
  return positions;
}

/** Periodic Hann window: two copies half a frame apart sum to exactly 1. */
function hann(length: number): Float32Array {
  const window = new Float32Array(length);
  for (let n = 0; n < length; n++) window[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / length);
  return window;
}

/** Where every frame of a stretch is read from. */
interface StretchPlan {
  layout: Layout;
  positions: Int32Array;
  window: Float32Array;
  inputLength: number;
  outputLength: number;
}

/**
 * What the stretch's search reads: the channels' mono mix, with room after the end. Half a
 * song's size; a caller that must let the song go before the change is known keeps this instead.
 */
export function stretchSearchSignal(channels: readonly Float32Array[], sampleRate: number): Float32Array {
  const layout = layoutFor(sampleRate);
  return monoPadded(channels, layout.frame + 2 * layout.tolerance + layout.hop + layout.decimation);
}

function planStretch(search: Float32Array, inputLength: number, sampleRate: number, ratio: number): StretchPlan {
  const outputLength = Math.round(inputLength * ratio);
  const layout = layoutFor(sampleRate);
  const positions = framePositions(search, inputLength, outputLength, ratio, layout);
  return { layout, positions, window: hann(layout.frame), inputLength, outputLength };
}

/** One channel overlap-added into `out` (silent, plan.outputLength long) from the plan's frames. */
function stretchChannel(channel: Float32Array, plan: StretchPlan, out: Float32Array): Float32Array {
  const { layout, positions, window, inputLength, outputLength } = plan;
  const { frame, hop } = layout;
  for (let k = 0; k < positions.length && k * hop < outputLength; k++) {
    const at = k * hop;
    const from = positions[k]!;
    // What would land past the end is dropped: no sample inside it gets anything from there.
    const count = Math.min(frame, inputLength - from, outputLength - at);
    for (let n = 0; n < count; n++) {
      // The first frame alone covers the first half-frame: it enters at full level, not faded in.
      const w = k === 0 && n < hop ? 1 : window[n]!;
      out[at + n]! += w * channel[from + n]!;
    }
  }
  return out;
}

/** The fraction p/q (q ≤ maxDenominator) nearest to x. */
export function rationalNear(x: number, maxDenominator = MAX_PITCH_DENOMINATOR): { p: number; q: number } {
  let best = { p: Math.max(1, Math.round(x)), q: 1 };
  let bestError = Math.abs(best.p - x);
  for (let q = 2; q <= maxDenominator; q++) {
    const p = Math.max(1, Math.round(x * q));
    const error = Math.abs(p / q - x);
    if (error < bestError - 1e-15) {
      best = { p, q };
      bestError = error;
    }
  }
  return best;
}

export interface StretchShift {
  /** Output length ÷ input length (tempo is divided by it). */
  ratio: number;
  /** Pitch change in semitones (positive: up). */
  semitones: number;
}

/**
 * A song's change, planned once and applied to each channel alike (every channel cut at the same
 * places, so the stereo image stays put). A pitch shift stretches by ratio × pitch factor and
 * resamples by the pitch factor, which restores the length and moves every frequency; the pitch
 * factor is taken as the nearest fraction with a small denominator (a few hundredths of a cent
 * off at most), so the band-limited resampler needs few filter phases.
 */
export interface ChangePlan {
  inputLength: number;
  /** Frames of each changed channel: round(inputLength × ratio). */
  outputLength: number;
  /** Where the WSOLA frames are read from; null where nothing is stretched. */
  stretch: StretchPlan | null;
  /** The pitch factor p/q the stretched channel is resampled by; null for no shift. */
  pitch: { p: number; q: number } | null;
}

/**
 * The change of a song `inputLength` frames long. `search` gives the song's `stretchSearchSignal`;
 * it is asked for only where something is stretched.
 */
export function planChange(search: () => Float32Array, inputLength: number, sampleRate: number, change: StretchShift): ChangePlan {
  if (!(Number.isFinite(change.ratio) && change.ratio > 0)) throw new RangeError(`stretch ratio must be positive, got ${change.ratio}`);
  const pitch = change.semitones === 0 ? null : rationalNear(2 ** (change.semitones / 12));
  const stretchRatio = pitch ? (change.ratio * pitch.p) / pitch.q : change.ratio;
  const stretch = stretchRatio === 1 || inputLength === 0 ? null : planStretch(search(), inputLength, sampleRate, stretchRatio);
  return { inputLength, outputLength: Math.round(inputLength * change.ratio), stretch, pitch };
}

/** Applies a plan one channel at a time (see `channelChanger`). */
export interface ChannelChanger {
  /** Writes one input channel (plan.inputLength long), changed, into `out` (silent, plan.outputLength long). */
  change(input: Float32Array, out: Float32Array): Float32Array;
  /** The scratch array the channels were stretched in before their shift, if one was made: free once done. */
  scratch(): Float32Array | null;
}

/**
 * A plan's change applied channel by channel. A stretch that is then shifted goes through one
 * scratch array shared by the channels, so one stretched channel at a time is held besides the
 * input and the output, and a caller may free each input channel as soon as it is done.
 */
export function channelChanger(plan: ChangePlan): ChannelChanger {
  const { stretch, pitch } = plan;
  const shift = pitch ? resamplerInto(pitch.p, pitch.q) : null;
  let scratch: Float32Array | null = null;
  let used = false;
  const change = (input: Float32Array, out: Float32Array): Float32Array => {
    if (!stretch && shift) return shift(input, out);
    if (!stretch) {
      out.set(input.subarray(0, out.length));
      return out;
    }
    if (!shift) return stretchChannel(input, stretch, out);
    scratch ??= new Float32Array(stretch.outputLength);
    if (used) scratch.fill(0);
    used = true;
    return shift(stretchChannel(input, stretch, scratch), out);
  };
  return { change, scratch: () => scratch };
}

/**
 * The channels stretched and pitch-shifted in one WSOLA pass (see `ChangePlan`), into channels
 * from `allocate`: exactly round(length × ratio) frames.
 */
export function stretchAndShift(
  channels: readonly Float32Array[],
  sampleRate: number,
  change: StretchShift,
  allocate: ChannelAllocator = silence,
): Float32Array[] {
  const plan = planChange(() => stretchSearchSignal(channels, sampleRate), channels[0]?.length ?? 0, sampleRate, change);
  const { change: changeChannel } = channelChanger(plan);
  return allocate(channels.length, plan.outputLength).map((out, c) => changeChannel(channels[c]!, out));
}

/**
 * The channels played `ratio` times as long (ratio 1.25: 25 % longer, slower) at the same pitch,
 * into channels from `allocate`: exactly round(length × ratio) frames.
 */
export function timeStretch(channels: readonly Float32Array[], sampleRate: number, ratio: number, allocate: ChannelAllocator = silence): Float32Array[] {
  return stretchAndShift(channels, sampleRate, { ratio, semitones: 0 }, allocate);
}

/** The channels `semitones` higher (lower when negative), at the same length. */
export function pitchShift(channels: readonly Float32Array[], sampleRate: number, semitones: number): Float32Array[] {
  return stretchAndShift(channels, sampleRate, { ratio: 1, semitones });
}
