import { floatWavChannels, type SynthPart, stageGain } from '../../audio/index.js';

/**
 * A track of reprise's own told back as what it is made of, for exact stems: the synthesised
 * band (whose parts render alone on the track's grid) with what each of its raw samples became
 * in the track, and the layers added over it (a sung voice) as they sound in the track. The
 * parts, each times the band's gain, plus the layers, sum to `master`.
 *
 * A trace holds a song or two of samples; it is read out once, by `vocalAndRest` or `split`,
 * which turn that memory into the answer (the master included: check it first).
 */
export interface TrackTrace {
  sampleRate: number;
  /** The track as rendered again: the stored master, when the same recipe and engine made it. */
  master: Float32Array[];
  /** The vocal as heard in the track (null for an instrumental) and the rest of the master. */
  vocalAndRest(): { vocal: Float32Array[] | null; rest: Float32Array[] };
  /** The band's parts and gain, and the layers over it as heard in the track. */
  split(): { band: BandTrace | null; layers: Layer[] };
}

export interface BandTrace {
  /** The parts the plan calls for (some may never sound in this track). */
  parts: readonly SynthPart[];
  /** Raw stereo of only the parts `keep` accepts, on the track's grid, at the scale of the whole raw mix. */
  render(keep: (part: SynthPart) => boolean): Float32Array[];
  /** Per channel and frame: what a raw band sample became in the track (every gain, clip, limiter and fade). */
  gain: Float32Array[];
}

/** Audio added over the band (or, without one, the track's parts), as it sounds in the track. */
export interface Layer {
  /** 'vocal': a synthesised voice; 'instrumental': an uploaded instrumental, whose own instruments can only be estimated. */
  role: 'vocal' | 'instrumental';
  channels: Float32Array[];
}

/** A copy of channels laid out as a float WAV (see `floatWavChannels`), so a stem made in it becomes its master in place. */
export function copyChannels(channels: readonly Float32Array[]): Float32Array[] {
  const copy = floatWavChannels(channels.length, channels[0]?.length ?? 0);
  for (const [c, channel] of channels.entries()) copy[c]!.set(channel);
  return copy;
}

/**
 * The trace of a track that is its band alone (an instrumental song, a cover's take): `raw` the
 * band's raw mix, `master` what the track's stages made of it.
 */
export function bandTrace(sampleRate: number, raw: Float32Array[], master: Float32Array[], band: Pick<BandTrace, 'parts' | 'render'>): TrackTrace {
  return {
    sampleRate,
    master,
    vocalAndRest: () => ({ vocal: null, rest: master }),
    split: () => {
      // The gain in the raw mix's memory; the master is not needed once it is known.
      stageGain(master, raw, raw);
      return { band: { ...band, gain: raw }, layers: [] };
    },
  };
}
