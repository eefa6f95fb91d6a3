import type { Random } from '../prng.js';

/**
 * Instruments. Each renders one note, mono, into `out` (already zeroed; its
 * length is the gate plus the voice's release tail). Plain oscillators,
 * envelopes and one-pole filters: cheap, deterministic, and good enough to
 * tell a piano ballad from a rock song.
 */

export interface Note {
  /** Hz. */
  freq: number;
  /** Seconds the key is held. */
  gateS: number;
  /** 0..1. */
  velocity: number;
}

export type Voice = (out: Float32Array, sampleRate: number, note: Note, random: Random) => void;

const TAU = 2 * Math.PI;

const TABLE_SIZE = 4096;
const SINE = Float64Array.from({ length: TABLE_SIZE + 1 }, (_, i) => Math.sin((TAU * i) / TABLE_SIZE));

/**
 * sin(2π·cycles) from a table with linear interpolation: much faster than
 * Math.sin, error below −120 dB, and the same on every CPU. `unit` takes a
 * phase already in [0, 1), which oscillators keep by wrapping an accumulator,
 * and so avoids a Math.floor per sample.
 */
function unit(cycles: number): number {
  const position = cycles * TABLE_SIZE;
  const i = position | 0;
  const a = SINE[i]!;
  return a + (SINE[i + 1]! - a) * (position - i);
}

const sine = (cycles: number): number => unit(cycles - Math.floor(cycles));

/** Wraps a phase that left [0, 1) by less than one cycle (FM offsets, accumulators). */
const wrap = (phase: number): number => (phase >= 1 ? phase - 1 : phase < 0 ? phase + 1 : phase);

/** Coefficient of a one-pole low-pass at `hz` (y += a · (x − y)). */
const onePole = (hz: number, sampleRate: number) => 1 - Math.exp((-TAU * Math.min(hz, sampleRate * 0.45)) / sampleRate);

/**
 * Per-sample multiplier of an exponential release that falls 60 dB in `seconds`.
 * Used after the gate so notes end without clicks.
 */
const decayPerSample = (seconds: number, sampleRate: number) => Math.exp(Math.log(0.001) / (seconds * sampleRate));

/** Applies a linear attack and, after the gate, an exponential release to what the oscillator wrote. */
function shape(out: Float32Array, sampleRate: number, gateS: number, attackS: number, releaseS: number): void {
  const attack = Math.max(1, Math.round(attackS * sampleRate));
  const gate = Math.round(gateS * sampleRate);
  const fall = decayPerSample(releaseS, sampleRate);
  let release = 1;
  for (let i = 0; i < out.length; i++) {
    let env = i < attack ? i / attack : 1;
    if (i >= gate) {
      release *= fall;
      env *= release;
    }
    out[i]! *= env;
  }
}

/** Release tail each voice needs after the gate, in seconds (renderers size `out` with it). */
export const TAIL_S = {
  epiano: 0.4,
  organ: 0.12,
  pad: 0.8,
  power: 0.08,
  pluck: 0.5,
  bell: 1.2,
  saw: 0.15,
  bass: 0.12,
  piano: 0.35,
  strings: 0.45,
  brass: 0.12,
  flute: 0.15,
  synth: 0.2,
  guitar: 0.4,
  upright: 0.15,
  sub: 0.3,
} as const;

/** Below this a decaying part of a voice is silence (−100 dB): it is no longer computed. */
const INAUDIBLE = 1e-5;

/** FM electric piano: a decaying modulation index gives the bright attack and mellow body of a tine piano. */
export const epiano: Voice = (out, sampleRate, note) => {
  const w = note.freq / sampleRate; // cycles per sample
  const index = (1.2 + note.velocity * 1.6) / TAU; // radians → cycles
  const bodyDecay = Math.exp(-1.6 / sampleRate);
  const modDecay = Math.exp(-7 / sampleRate);
  const tineDecay = Math.exp(-28 / sampleRate);
  const wTine = 14 * w;
  let body = 1;
  let mod = 1;
  let tine = 0.18;
  let phase = 0;
  let tinePhase = 0;
  let i = 0;
  // The tine and the modulation die away within a second or so; a long note's rest is a plain
  // decaying sine, computed as one (the parts left out are under −100 dB).
  for (; i < out.length && tine > INAUDIBLE; i++) {
    // index ≤ 0.45 cycles, so the modulated phase stays within one wrap.
    out[i] = body * unit(wrap(phase + index * mod * unit(phase))) + tine * unit(tinePhase);
    phase = wrap(phase + w);
    tinePhase += wTine;
    tinePhase -= Math.floor(tinePhase);
    body *= bodyDecay;
    mod *= modDecay;
    tine *= tineDecay;
  }
  for (; i < out.length && TAU * index * mod > INAUDIBLE; i++) {
    out[i] = body * unit(wrap(phase + index * mod * unit(phase)));
    phase = wrap(phase + w);
    body *= bodyDecay;
    mod *= modDecay;
  }
  for (; i < out.length; i++) {
    out[i] = body * unit(phase);
    phase = wrap(phase + w);
    body *= bodyDecay;
  }
  shape(out, sampleRate, note.gateS, 0.003, TAIL_S.epiano);
};

/** Drawbar organ: four harmonics, instant on, held. */
export const organ: Voice = (out, sampleRate, note) => {
  const w = note.freq / sampleRate;
  let phase = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = 0.6 * unit(phase) + 0.3 * sine(2 * phase) + 0.15 * sine(3 * phase) + 0.08 * sine(4 * phase);
    phase = wrap(phase + w);
  }
  shape(out, sampleRate, note.gateS, 0.02, TAIL_S.organ);
};

/** Two detuned saws through a low-pass, with a slow swell. */
export const pad: Voice = (out, sampleRate, note) => {
  const d1 = (note.freq * 1.004) / sampleRate;
  const d2 = (note.freq * 0.996) / sampleRate;
  const a = onePole(900 + 1400 * note.velocity, sampleRate);
  let p1 = 0;
  let p2 = 0.5;
  let y = 0;
  for (let i = 0; i < out.length; i++) {
    p1 += d1;
    p1 -= Math.floor(p1);
    p2 += d2;
    p2 -= Math.floor(p2);
    y += a * (p1 + p2 - 1 - y);
    out[i] = 0.7 * y;
  }
  shape(out, sampleRate, note.gateS, 0.35, TAIL_S.pad);
};

/** Overdriven saw: the "guitar" of the rock preset. Saturation before the filter, like an amp. */
export const power: Voice = (out, sampleRate, note) => {
  const d = note.freq / sampleRate;
  const a = onePole(2200, sampleRate);
  const drive = 3 + 4 * note.velocity;
  let p = 0;
  let y = 0;
  for (let i = 0; i < out.length; i++) {
    p += d;
    p -= Math.floor(p);
    y += a * (Math.tanh(drive * (2 * p - 1)) - y);
    out[i] = 0.5 * y;
  }
  shape(out, sampleRate, note.gateS, 0.002, TAIL_S.power);
};

/** Karplus-Strong: the excitation in `line` circulates through a damped two-point average into `out`. */
function ringString(out: Float32Array, line: Float32Array, damping: number): void {
  const period = line.length;
  let previous = 0;
  for (let i = 0; i < out.length; i++) {
    const k = i % period;
    const current = line[k]!;
    out[i] = current;
    line[k] = damping * 0.5 * (current + previous);
    previous = current;
  }
}

/** Karplus-Strong string: a burst of seeded noise circulating in a damped delay line. */
export const pluck: Voice = (out, sampleRate, note, random) => {
  const period = Math.max(2, Math.round(sampleRate / note.freq));
  const line = new Float32Array(period);
  for (let i = 0; i < period; i++) line[i] = random() * 2 - 1;
  // Brighter and longer with velocity; the 0.5·(a+b) average is the string's damping.
  ringString(out, line, 0.994 + 0.004 * note.velocity);
  shape(out, sampleRate, note.gateS, 0.001, TAIL_S.pluck);
};

/** FM bell: inharmonic 3.5 ratio, long decay. */
export const bell: Voice = (out, sampleRate, note) => {
  const w = note.freq / sampleRate;
  const decay = Math.exp(-3 / sampleRate);
  const modDecay = Math.exp(-5 / sampleRate);
  let env = 1;
  let mod = 2.2 / TAU;
  let phase = 0;
  let modPhase = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = env * unit(wrap(phase + mod * unit(modPhase)));
    phase = wrap(phase + w);
    modPhase += 3.5 * w;
    modPhase -= Math.floor(modPhase);
    env *= decay;
    mod *= modDecay;
  }
  shape(out, sampleRate, note.gateS, 0.002, TAIL_S.bell);
};

/** Saw lead with a delayed vibrato. */
export const saw: Voice = (out, sampleRate, note) => {
  const a = onePole(2600, sampleRate);
  const vibrato = 5.5 / sampleRate;
  let p = 0;
  let y = 0;
  for (let i = 0; i < out.length; i++) {
    const depth = Math.min(1, i / (0.3 * sampleRate)) * 0.006;
    p += (note.freq * (1 + depth * sine(vibrato * i))) / sampleRate;
    p -= Math.floor(p);
    y += a * (2 * p - 1 - y);
    out[i] = 0.6 * y;
  }
  shape(out, sampleRate, note.gateS, 0.01, TAIL_S.saw);
};

/**
 * A voice in two parts: what is a function of the note alone (an oscillator bank), then what
 * draws random numbers onto it (noise, a hammer). A mix renders the first part of each distinct
 * note once (note-memo.ts); the voice itself (`bothParts`) renders both in turn.
 */
export interface TwoPartVoice {
  repeatable: (out: Float32Array, sampleRate: number, note: Note) => void;
  rest: Voice;
}

const bothParts =
  ({ repeatable, rest }: TwoPartVoice): Voice =>
  (out, sampleRate, note, random) => {
    repeatable(out, sampleRate, note);
    rest(out, sampleRate, note, random);
  };

/**
 * Piano: a few partials with the slight stretch of a real string (f_k = k·f·√(1 + B·k²)),
 * the upper ones dying faster, and a short filtered hammer thump.
 */
const pianoParts: TwoPartVoice = {
  repeatable: (out, sampleRate, note) => {
    const stretch = 0.0004;
    const partials = Math.max(1, Math.min(8, Math.floor((sampleRate * 0.45) / (note.freq * 1.05))));
    const brightness = 0.6 + 0.6 * note.velocity;
    // Higher notes ring for a shorter time, as on the instrument.
    const pitchDecay = Math.sqrt(note.freq / 262);
    for (let k = 1; k <= partials; k++) {
      const w = (k * note.freq * Math.sqrt(1 + stretch * k * k)) / sampleRate;
      const amplitude = brightness ** (k - 1) / k;
      const decay = Math.exp(-((0.8 + 0.9 * k) * pitchDecay) / sampleRate);
      let env = amplitude;
      let phase = 0;
      for (let i = 0; i < out.length; i++) {
        out[i]! += env * unit(phase);
        phase = wrap(phase + w);
        env *= decay;
      }
    }
  },
  rest: (out, sampleRate, note, random) => {
    const hammer = Math.min(out.length, Math.round(0.012 * sampleRate));
    const a = onePole(2500, sampleRate);
    let y = 0;
    for (let i = 0; i < hammer; i++) {
      y += a * (random() * 2 - 1 - y);
      out[i]! += 0.25 * note.velocity * y * (1 - i / hammer);
    }
    shape(out, sampleRate, note.gateS, 0.002, TAIL_S.piano);
  },
};
export const piano: Voice = bothParts(pianoParts);

/** The two-part voices, by the voice a mix is given. */
export const TWO_PART_VOICES: ReadonlyMap<Voice, TwoPartVoice> = new Map([[piano, pianoParts]]);

/** String ensemble: three detuned saws through two low-pass poles, a slow bow attack and a delayed vibrato. */
export const strings: Voice = (out, sampleRate, note) => {
  const detune = [1, 1.005, 0.9952];
  const phases = [0, 0.33, 0.67];
  const a = onePole(1400 + 1600 * note.velocity, sampleRate);
  const vibrato = 5.2 / sampleRate;
  let y1 = 0;
  let y2 = 0;
  for (let i = 0; i < out.length; i++) {
    const depth = Math.min(1, i / (0.4 * sampleRate)) * 0.0035;
    const bend = 1 + depth * sine(vibrato * i);
    let x = 0;
    for (let v = 0; v < 3; v++) {
      let p = phases[v]! + (note.freq * detune[v]! * bend) / sampleRate;
      p -= Math.floor(p);
      phases[v] = p;
      x += 2 * p - 1;
    }
    y1 += a * (x / 3 - y1);
    y2 += a * (y1 - y2);
    out[i] = 0.8 * y2;
  }
  shape(out, sampleRate, note.gateS, 0.22, TAIL_S.strings);
};

/** Brass: a saw whose low-pass opens fast at the attack and settles, with a small pitch scoop up into the note. */
export const brass: Voice = (out, sampleRate, note) => {
  let p = 0;
  let y = 0;
  let a = 0;
  const peak = 2 + 6 * note.velocity;
  for (let i = 0; i < out.length; i++) {
    const t = i / sampleRate;
    const open = t < 0.03 ? t / 0.03 : 0.45 + 0.55 * Math.exp(-(t - 0.03) / 0.2);
    if (i % 32 === 0) a = onePole(note.freq * (1 + peak * open), sampleRate);
    const scoop = 1 - 0.02 * Math.exp(-t / 0.03);
    p += (note.freq * scoop) / sampleRate;
    p -= Math.floor(p);
    y += a * (2 * p - 1 - y);
    out[i] = 0.7 * y;
  }
  shape(out, sampleRate, note.gateS, 0.025, TAIL_S.brass);
};

/** Flute-like lead: a sine with a little second harmonic, breath noise and a delayed vibrato. */
export const flute: Voice = (out, sampleRate, note, random) => {
  const vibrato = 5 / sampleRate;
  const breath = onePole(3000, sampleRate);
  let phase = 0;
  let noise = 0;
  for (let i = 0; i < out.length; i++) {
    const depth = Math.min(1, i / (0.25 * sampleRate)) * 0.004;
    phase = wrap(phase + (note.freq * (1 + depth * sine(vibrato * i))) / sampleRate);
    noise += breath * (random() * 2 - 1 - noise);
    out[i] = 0.8 * unit(phase) + 0.12 * unit(phase < 0.5 ? 2 * phase : 2 * phase - 1) + 0.1 * noise;
  }
  shape(out, sampleRate, note.gateS, 0.06, TAIL_S.flute);
};

/** Synth chord: a square-ish pulse with a decaying filter sweep, for stabs and arpeggios. */
export const synth: Voice = (out, sampleRate, note) => {
  const w = note.freq / sampleRate;
  let p = 0;
  let y = 0;
  let a = 0;
  let cutoff = 3500 + 2500 * note.velocity;
  const sweep = Math.exp(-6 / sampleRate);
  for (let i = 0; i < out.length; i++) {
    p += w;
    p -= Math.floor(p);
    if (i % 32 === 0) a = onePole(300 + cutoff, sampleRate);
    y += a * ((p < 0.4 ? 1 : -1) - y);
    cutoff *= sweep;
    out[i] = 0.5 * y;
  }
  shape(out, sampleRate, note.gateS, 0.004, TAIL_S.synth);
};

/** Clean electric guitar: a brighter, longer Karplus-Strong string with a touch of amp saturation. */
export const guitar: Voice = (out, sampleRate, note, random) => {
  const period = Math.max(2, Math.round(sampleRate / note.freq));
  const line = new Float32Array(period);
  let last = 0;
  for (let i = 0; i < period; i++) {
    const noise = random() * 2 - 1;
    line[i] = 0.7 * (noise - 0.5 * last); // a pick near the bridge: the burst is tilted towards the highs
    last = noise;
  }
  ringString(out, line, 0.997 + 0.002 * note.velocity);
  for (let i = 0; i < out.length; i++) out[i] = Math.tanh(1.6 * out[i]!) * 0.7;
  shape(out, sampleRate, note.gateS, 0.001, TAIL_S.guitar);
};

/** Upright bass: a plucked, decaying tone with a few harmonics and a soft finger thump. */
export const upright: Voice = (out, sampleRate, note) => {
  const w = note.freq / sampleRate;
  const decay = Math.exp(-2.2 / sampleRate);
  const brightDecay = Math.exp(-9 / sampleRate);
  let env = 1;
  let bright = 0.5;
  let phase = 0;
  for (let i = 0; i < out.length; i++) {
    const second = phase < 0.5 ? 2 * phase : 2 * phase - 1;
    out[i] = env * (unit(phase) + bright * unit(second) + 0.5 * bright * sine(3 * phase));
    phase = wrap(phase + w);
    env *= decay;
    bright *= brightDecay;
  }
  shape(out, sampleRate, note.gateS, 0.006, TAIL_S.upright);
};

/** 808-style sub bass: a sine that drops into pitch, with a long body and light saturation so it reads on small speakers. */
export const sub: Voice = (out, sampleRate, note) => {
  let phase = 0;
  for (let i = 0; i < out.length; i++) {
    const t = i / sampleRate;
    phase += (note.freq * (1 + 0.5 * Math.exp(-t / 0.025))) / sampleRate;
    phase -= Math.floor(phase);
    out[i] = Math.tanh(1.8 * unit(phase)) * Math.exp(-t * 1.2);
  }
  shape(out, sampleRate, note.gateS, 0.003, TAIL_S.sub);
};

/** Bass voices: a round sine with a touch of second harmonic, a filter-swept synth saw, or a picked saw. */
export function bass(kind: 'round' | 'synth' | 'picked'): Voice {
  return (out, sampleRate, note) => {
    const w = note.freq / sampleRate;
    if (kind === 'round') {
      let phase = 0;
      for (let i = 0; i < out.length; i++) {
        out[i] = unit(phase) + 0.25 * unit(phase < 0.5 ? 2 * phase : 2 * phase - 1);
        phase = wrap(phase + w);
      }
    } else {
      const d = note.freq / sampleRate;
      const sweep = Math.exp(-(kind === 'synth' ? 9 : 14) / sampleRate);
      let cutoff = kind === 'synth' ? 1800 : 1200;
      let p = 0;
      let y = 0;
      let a = 0;
      for (let i = 0; i < out.length; i++) {
        p += d;
        p -= Math.floor(p);
        if (i % 32 === 0) a = onePole(180 + cutoff, sampleRate); // the sweep is slow: update the filter every 32 samples
        y += a * (2 * p - 1 - y);
        cutoff *= sweep;
        out[i] = 0.9 * y + 0.4 * unit(p);
      }
    }
    shape(out, sampleRate, note.gateS, 0.004, TAIL_S.bass);
  };
}

export interface DrumKit {
  kick: Float32Array;
  snare: Float32Array;
  hat: Float32Array;
  /** A rim/clave click. */
  perc: Float32Array;
}

/**
 * One sample of each drum, rendered once per sample rate and reused for every
 * hit: drums then cost a copy, not a synthesis.
 */
export function drumKit(sampleRate: number, random: Random): DrumKit {
  const length = (s: number) => Math.round(s * sampleRate);
  const kick = new Float32Array(length(0.35));
  let phase = 0;
  for (let i = 0; i < kick.length; i++) {
    const t = i / sampleRate;
    phase += (TAU * (48 + 110 * Math.exp(-t * 28))) / sampleRate; // the pitch drop is the thump
    kick[i] = Math.sin(phase) * Math.exp(-t * 9) * Math.min(1, i / 16);
  }
  const snare = new Float32Array(length(0.2));
  let last = 0;
  for (let i = 0; i < snare.length; i++) {
    const t = i / sampleRate;
    const noise = random() * 2 - 1;
    const bright = noise - last; // a first difference: cheap high-pass for the snares' rattle
    last = noise;
    snare[i] = 0.7 * bright * Math.exp(-t * 22) + 0.5 * Math.sin(TAU * 185 * t) * Math.exp(-t * 30);
  }
  const hat = new Float32Array(length(0.06));
  let a = 0;
  let b = 0;
  for (let i = 0; i < hat.length; i++) {
    const noise = random() * 2 - 1;
    const high = noise - 2 * a + b; // second difference: steeper high-pass, a metallic tick
    b = a;
    a = noise;
    hat[i] = 0.35 * high * Math.exp((-i / sampleRate) * 70);
  }
  // Drawn after the other drums so that adding it left their noise, and so their sound, unchanged.
  const perc = new Float32Array(length(0.05));
  for (let i = 0; i < perc.length; i++) {
    const t = i / sampleRate;
    perc[i] = (0.5 * Math.sin(TAU * 2400 * t) + 0.2 * Math.sin(TAU * 1650 * t)) * Math.exp(-t * 90) + (i < 24 ? 0.3 * (random() * 2 - 1) : 0);
  }
  return { kick, snare, hat, perc };
}
