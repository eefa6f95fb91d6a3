import { Chord, Note, Scale } from 'tonal';
import { type Arrangement, barAt, barSeconds } from './arrangement.js';
import { randomFor } from './prng.js';
import type { ChordVoice, Comp, LeadVoice } from './style.js';
import { bass, bell, type DrumKit, drumKit, epiano, organ, pad, pluck, power, saw, TAIL_S, type Voice } from './voices.js';

/**
 * Renders an arrangement to PCM. Every bar's notes come from a generator
 * seeded by (seed, section, bar), so a window of the piece renders exactly
 * like the same stretch of the whole piece, and repeated sections repeat.
 */

interface NoteEvent {
  voice: Voice;
  tailS: number;
  /** Start in 16th-note steps from the bar's start (fractional for strums). */
  step: number;
  /** Length in steps. */
  steps: number;
  midi: number;
  velocity: number;
  gain: number;
  /** −1 left … +1 right. */
  pan: number;
}

interface DrumHit {
  sample: keyof DrumKit;
  step: number;
  gain: number;
  pan: number;
}

/** Each voice with the release tail it needs after the gate. */
interface Instrument {
  voice: Voice;
  tailS: number;
}

const CHORD_INSTRUMENTS: Record<ChordVoice, Instrument> = {
  epiano: { voice: epiano, tailS: TAIL_S.epiano },
  organ: { voice: organ, tailS: TAIL_S.organ },
  pad: { voice: pad, tailS: TAIL_S.pad },
  power: { voice: power, tailS: TAIL_S.power },
  pluck: { voice: pluck, tailS: TAIL_S.pluck },
};
const LEAD_INSTRUMENTS: Record<LeadVoice, Instrument | null> = {
  bell: { voice: bell, tailS: TAIL_S.bell },
  saw: { voice: saw, tailS: TAIL_S.saw },
  pluck: { voice: pluck, tailS: TAIL_S.pluck },
  epiano: { voice: epiano, tailS: TAIL_S.epiano },
  none: null,
};
const hz = (midi: number) => 440 * 2 ** ((midi - 69) / 12);

/** Chord tones placed in one octave window, lowest first (a compact, guitar/keys-like voicing). */
function voicing(symbol: string, low: number): number[] {
  const notes = Chord.get(symbol).notes;
  return notes
    .map((name) => {
      const chroma = Note.chroma(name);
      const base = Number.isFinite(chroma) ? chroma : 0;
      return low + ((((base - low) % 12) + 12) % 12);
    })
    .sort((a, b) => a - b);
}

function rootOf(symbol: string, low: number): number {
  const tonic = Chord.get(symbol).tonic ?? 'C';
  const chroma = Note.chroma(tonic);
  return low + (((((Number.isFinite(chroma) ? chroma : 0) - low) % 12) + 12) % 12);
}

/** How the chord instrument plays one bar, as (step, length) pairs; which tones sound is decided by the caller. */
const COMP_RHYTHM: Record<Comp, readonly (readonly [number, number])[]> = {
  sustain: [[0, 16]],
  stabs: [
    [0, 5],
    [6, 3],
    [10, 5],
  ],
  arpeggio: [0, 2, 4, 6, 8, 10, 12, 14].map((s) => [s, 16 - s] as const),
  strum: [
    [0, 4],
    [4, 2],
    [6, 4],
    [10, 2],
    [12, 4],
  ],
  chug: [0, 2, 4, 6, 8, 10, 12, 14].map((s) => [s, 1.5] as const),
};

function chordEvents(arrangement: Arrangement, symbol: string, energy: number): NoteEvent[] {
  const { style } = arrangement;
  const { voice, tailS } = CHORD_INSTRUMENTS[style.chords];
  const tones = style.chords === 'power' ? [rootOf(symbol, 40), rootOf(symbol, 40) + 7, rootOf(symbol, 40) + 12] : voicing(symbol, 55);
  const events: NoteEvent[] = [];
  const velocity = 0.45 + 0.45 * energy;
  const gain = (style.chords === 'pad' ? 0.22 : 0.16) / Math.sqrt(tones.length / 3);
  COMP_RHYTHM[style.comp].forEach(([step, steps], hit) => {
    if (style.comp === 'arpeggio') {
      // Broken chord: up through the voicing and an octave above.
      const ladder = [...tones, ...tones.map((t) => t + 12)];
      const midi = ladder[hit % ladder.length]!;
      events.push({ voice, tailS, step, steps, midi, velocity, gain: gain * 1.3, pan: hit % 2 ? 0.25 : -0.25 });
      return;
    }
    const accent = step === 0 ? 1 : 0.8;
    tones.forEach((midi, i) => {
      // A strum reaches the strings a few milliseconds apart (here, a fraction of a step).
      const spread = style.comp === 'strum' ? i * 0.06 : 0;
      events.push({ voice, tailS, step: step + spread, steps, midi, velocity: velocity * accent, gain, pan: (i / Math.max(1, tones.length - 1) - 0.5) * 0.6 });
    });
  });
  return events;
}

function bassEvents(arrangement: Arrangement, symbol: string, energy: number): NoteEvent[] {
  const { style } = arrangement;
  const root = rootOf(symbol, 33);
  const per = energy < 0.7 ? Math.max(1, style.bassNotesPerBar / 2) : style.bassNotesPerBar;
  const length = 16 / per;
  const voice = bass(style.bass);
  return Array.from({ length: per }, (_, i) => {
    // Root on the strong beats, the fifth or the octave in between.
    const midi = i === 0 || per <= 2 ? root : i % 4 === 2 ? root + 7 : i % 2 === 1 && per === 8 ? root + 12 : root;
    return { voice, tailS: TAIL_S.bass, step: i * length, steps: length * 0.9, midi, velocity: 0.8, gain: 0.32, pan: 0 };
  });
}

/** A one-bar phrase on the pentatonic scale; the same bar of a repeated section gets the same phrase. */
function leadEvents(arrangement: Arrangement, symbol: string, sectionName: string, barInSection: number): NoteEvent[] {
  const lead = LEAD_INSTRUMENTS[arrangement.style.lead];
  if (!lead) return [];
  const { voice, tailS } = lead;
  const random = randomFor(arrangement.seed, 'lead', sectionName, barInSection % 4);
  const scale = Scale.get(`${arrangement.tonic} ${arrangement.mode} pentatonic`).notes.map((n) => Note.chroma(n));
  const pitches: number[] = [];
  for (let midi = 67; midi <= 86; midi++) if (scale.includes(midi % 12)) pitches.push(midi);
  const chordTones = new Set(voicing(symbol, 0).map((m) => m % 12));
  const events: NoteEvent[] = [];
  let index = Math.floor(random() * pitches.length);
  for (let step = 0; step < 16; step += 2) {
    if (random() < (step % 4 === 0 ? 0.35 : 0.55)) continue; // rests make it a phrase, not a scale run
    index = Math.max(0, Math.min(pitches.length - 1, index + Math.floor(random() * 5) - 2));
    let midi = pitches[index]!;
    // On the beat, lean towards a chord tone so the line agrees with the harmony.
    if (step % 4 === 0 && !chordTones.has(midi % 12)) {
      const nearby = pitches.find((p) => Math.abs(p - midi) <= 3 && chordTones.has(p % 12));
      if (nearby !== undefined) midi = nearby;
    }
    const steps = random() < 0.3 ? 4 : 2;
    events.push({ voice, tailS, step, steps, midi, velocity: 0.7, gain: 0.14, pan: 0.15 });
  }
  return events;
}

function drumHits(arrangement: Arrangement, energy: number): DrumHit[] {
  const pattern = arrangement.style.drums;
  if (!pattern || energy < 0.4) return [];
  const hits: DrumHit[] = [];
  const add = (line: string, sample: keyof DrumKit, gain: number, pan: number) => {
    for (let step = 0; step < 16; step++) {
      const c = line[step];
      if (c === 'x') hits.push({ sample, step, gain, pan });
      else if (c === 'o') hits.push({ sample, step, gain: gain * 0.55, pan });
    }
  };
  // Intros and outros keep only the hats; the full kit comes in with the verse.
  add(pattern.hat, 'hat', 0.5 * energy, 0.3);
  if (energy >= 0.6) {
    add(pattern.kick, 'kick', 0.85, 0);
    add(pattern.snare, 'snare', 0.55 * energy, -0.05);
  }
  return hits;
}

/**
 * Where the piece's beats fall, in seconds from the window's frame 0 (the
 * song's start): lets a section follow a source song's beat grid, drift and
 * all, instead of a constant tempo from time zero.
 */
export interface BeatTimeline {
  /** Time of a (fractional) beat of the piece, counted from its first bar. */
  timeOf(beat: number): number;
  /** The inverse: the piece's beat at a time. */
  beatAt(seconds: number): number;
}

export interface RenderWindow {
  sampleRate: number;
  /** 1 or 2. */
  channels: number;
  /** First frame of the window, counted from the start of the piece. */
  startFrame: number;
  frames: number;
  /** Beat positions to follow; without it the piece keeps the arrangement's tempo from frame 0. */
  timeline?: BeatTimeline;
}

/** Equal-power pan gains. */
const panGains = (pan: number): [number, number] => {
  const angle = ((pan + 1) * Math.PI) / 4;
  return [Math.cos(angle), Math.sin(angle)];
};

/** Renders one voice note into the stereo window, clipped to it. */
function addNote(left: Float32Array, right: Float32Array, scratch: Float32Array, offset: number, samples: number, gain: number, pan: number): void {
  const [gl, gr] = panGains(pan);
  const from = Math.max(0, -offset);
  const to = Math.min(samples, left.length - offset);
  for (let i = from; i < to; i++) {
    const v = scratch[i]! * gain;
    left[offset + i]! += v * gl;
    right[offset + i]! += v * gr;
  }
}

/** The raw stereo mix of a window (unclipped, unnormalised). */
function mix(arrangement: Arrangement, window: RenderWindow): [Float32Array, Float32Array] {
  const { sampleRate, startFrame, frames, timeline } = window;
  const left = new Float32Array(frames);
  const right = new Float32Array(frames);
  const barS = barSeconds(arrangement);
  const stepS = barS / 16;
  const kit = drumKit(sampleRate, randomFor(arrangement.seed, 'drums'));
  const longestTail = barS + 1.5; // a note may ring a bar plus its release into the window
  const beatsPerBar = arrangement.beatsPerBar;
  const barOf = (seconds: number) => (timeline ? timeline.beatAt(seconds) / beatsPerBar : seconds / barS);
  const firstBar = Math.max(0, Math.floor(barOf(startFrame / sampleRate - longestTail)));
  const lastBar = Math.floor(barOf((startFrame + frames) / sampleRate));
  const swing = arrangement.style.swing;
  const at = (bar: number, step: number) => {
    const swung = Math.floor(step) % 2 === 1 ? step + swing : step;
    if (timeline) return Math.round(timeline.timeOf(bar * beatsPerBar + (swung * beatsPerBar) / 16) * sampleRate) - startFrame;
    return Math.round((bar * barS + swung * stepS) * sampleRate) - startFrame;
  };
  let scratch = new Float32Array(Math.ceil((barS + 2) * sampleRate));
  for (let bar = firstBar; bar <= lastBar; bar++) {
    const { section, barInSection } = barAt(arrangement, bar);
    const symbol = section.chords[barInSection % section.chords.length]!;
    const events = [
      ...chordEvents(arrangement, symbol, section.energy),
      ...(section.energy >= 0.5 ? bassEvents(arrangement, symbol, section.energy) : []),
      ...(section.energy >= 0.9 ? leadEvents(arrangement, symbol, section.name, barInSection) : []),
    ];
    events.forEach((event, n) => {
      const offset = at(bar, event.step);
      const gateS = event.steps * stepS;
      const samples = Math.ceil((gateS + event.tailS) * sampleRate);
      if (offset >= frames || offset + samples <= 0) return;
      if (scratch.length < samples) scratch = new Float32Array(samples);
      const out = scratch.subarray(0, samples);
      out.fill(0);
      event.voice(out, sampleRate, { freq: hz(event.midi), gateS, velocity: event.velocity }, randomFor(arrangement.seed, 'note', bar, n));
      addNote(left, right, out, offset, samples, event.gain, event.pan);
    });
    for (const hit of drumHits(arrangement, section.energy)) {
      const sample = kit[hit.sample];
      addNote(left, right, sample, at(bar, hit.step), sample.length, hit.gain, hit.pan);
    }
  }
  return [left, right];
}

/** Smooth saturation above 0.5: transparent for normal levels, never past ±1. */
function softClip(channel: Float32Array): void {
  for (let i = 0; i < channel.length; i++) {
    const x = channel[i]!;
    const magnitude = Math.abs(x);
    if (magnitude > 0.5) channel[i] = Math.sign(x) * (0.5 + 0.5 * Math.tanh((magnitude - 0.5) / 0.5));
  }
}

const toChannels = (stereo: [Float32Array, Float32Array], count: number): Float32Array[] => {
  if (count === 2) return stereo;
  const [left, right] = stereo;
  const mono = new Float32Array(left.length);
  for (let i = 0; i < mono.length; i++) mono[i] = (left[i]! + right[i]!) * Math.SQRT1_2;
  return [mono];
};

/** A stretch of the piece at a fixed level, for splicing (the splice matches its loudness to the context). */
export function renderWindow(arrangement: Arrangement, window: RenderWindow): Float32Array[] {
  const channels = toChannels(mix(arrangement, window), window.channels);
  for (const channel of channels) softClip(channel);
  return channels;
}

const TARGET_RMS = 0.16; // about −16 dBFS: full but with headroom

/** A whole piece: normalised, with a short fade-in and a fade-out over the last seconds. */
export function renderSong(arrangement: Arrangement, sampleRate: number, channels: number, durationS: number): Float32Array[] {
  const frames = Math.round(durationS * sampleRate);
  const out = toChannels(mix(arrangement, { sampleRate, channels: 2, startFrame: 0, frames }), channels);
  let sum = 0;
  for (const channel of out) for (let i = 0; i < frames; i++) sum += channel[i]! * channel[i]!;
  const rms = Math.sqrt(sum / Math.max(1, out.length * frames));
  const gain = rms > 0 ? Math.min(4, TARGET_RMS / rms) : 1;
  const fadeIn = Math.min(frames, Math.round(0.005 * sampleRate));
  const fadeOut = Math.min(frames, Math.round(Math.min(3, durationS * 0.1) * sampleRate));
  for (const channel of out) {
    for (let i = 0; i < frames; i++) channel[i]! *= gain;
    softClip(channel);
    for (let i = 0; i < fadeIn; i++) channel[i]! *= i / fadeIn;
    for (let i = 0; i < fadeOut; i++) channel[frames - 1 - i]! *= Math.sin(((i / fadeOut) * Math.PI) / 2) ** 2;
  }
  return out;
}
