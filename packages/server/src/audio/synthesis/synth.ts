import { Chord, Note, Scale } from 'tonal';
import { floatWavChannels } from '../codecs/wav.js';
import { randomFor } from '../prng.js';
import { type Arrangement, barAt, barSeconds, type Section } from './arrangement.js';
import { noteMemo } from './note-memo.js';
import type { BassVoice, Comp, HarmonyPart, HarmonyVoice, LeadVoice } from './style.js';
import {
  bass,
  bell,
  brass,
  type DrumKit,
  drumKit,
  epiano,
  flute,
  guitar,
  organ,
  pad,
  piano,
  pluck,
  power,
  saw,
  strings,
  sub,
  synth,
  TAIL_S,
  upright,
  type Voice,
} from './voices.js';

/**
 * Renders an arrangement to PCM. Every bar's notes come from a generator
 * seeded by (seed, section, bar), so a window of the piece renders exactly
 * like the same stretch of the whole piece, and repeated sections repeat.
 */

/**
 * Which instrument of an arrangement a note or drum hit belongs to: its role and its voice.
 * Stem separation renders the parts apart (`mixParts`) and names them by this.
 */
export type SynthPart = `harmony:${HarmonyVoice}` | `lead:${LeadVoice}` | `bass:${BassVoice}` | `drums:${keyof DrumKit}`;

/** Every part: what a whole mix plays. */
const EVERY_PART = (_part: SynthPart) => true;

/** The parts an arrangement's style calls for (each sounds where its sections' energy lets it play). */
export function arrangementParts(arrangement: Pick<Arrangement, 'style'>): SynthPart[] {
  const { style } = arrangement;
  const parts: SynthPart[] = [...new Set(style.harmony.map((part) => `harmony:${part.voice}` as const))];
  if (style.bass) parts.push(`bass:${style.bass}`);
  if (style.lead) parts.push(`lead:${style.lead}`);
  if (style.drums) parts.push('drums:kick', 'drums:snare', 'drums:hat', ...(style.drums.perc ? (['drums:perc'] as const) : []));
  return parts;
}

interface NoteEvent {
  part: SynthPart;
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

/** Each voice with the release tail it needs after the gate and its level in the mix. */
interface Instrument {
  voice: Voice;
  tailS: number;
  gain: number;
}

const HARMONY_INSTRUMENTS: Record<HarmonyVoice, Instrument> = {
  epiano: { voice: epiano, tailS: TAIL_S.epiano, gain: 0.16 },
  organ: { voice: organ, tailS: TAIL_S.organ, gain: 0.14 },
  pad: { voice: pad, tailS: TAIL_S.pad, gain: 0.22 },
  power: { voice: power, tailS: TAIL_S.power, gain: 0.16 },
  pluck: { voice: pluck, tailS: TAIL_S.pluck, gain: 0.16 },
  piano: { voice: piano, tailS: TAIL_S.piano, gain: 0.2 },
  strings: { voice: strings, tailS: TAIL_S.strings, gain: 0.2 },
  guitar: { voice: guitar, tailS: TAIL_S.guitar, gain: 0.15 },
  brass: { voice: brass, tailS: TAIL_S.brass, gain: 0.12 },
  synth: { voice: synth, tailS: TAIL_S.synth, gain: 0.12 },
};
const LEAD_INSTRUMENTS: Record<LeadVoice, Instrument & { low: number }> = {
  bell: { voice: bell, tailS: TAIL_S.bell, gain: 0.14, low: 67 },
  saw: { voice: saw, tailS: TAIL_S.saw, gain: 0.14, low: 67 },
  pluck: { voice: pluck, tailS: TAIL_S.pluck, gain: 0.14, low: 67 },
  epiano: { voice: epiano, tailS: TAIL_S.epiano, gain: 0.14, low: 67 },
  piano: { voice: piano, tailS: TAIL_S.piano, gain: 0.16, low: 67 },
  flute: { voice: flute, tailS: TAIL_S.flute, gain: 0.13, low: 67 },
  brass: { voice: brass, tailS: TAIL_S.brass, gain: 0.13, low: 60 },
  guitar: { voice: power, tailS: TAIL_S.power, gain: 0.12, low: 60 },
};
const BASS_INSTRUMENTS: Record<BassVoice, Instrument> = {
  round: { voice: bass('round'), tailS: TAIL_S.bass, gain: 0.32 },
  synth: { voice: bass('synth'), tailS: TAIL_S.bass, gain: 0.32 },
  picked: { voice: bass('picked'), tailS: TAIL_S.bass, gain: 0.32 },
  upright: { voice: upright, tailS: TAIL_S.upright, gain: 0.34 },
  sub: { voice: sub, tailS: TAIL_S.sub, gain: 0.34 },
};
/** Intensity from which the hats fill their gaps with soft 16ths. */
const BUSY_HATS_FROM = 0.8;
/** Section energy from which the second and later harmony parts join in. */
const EXTRA_HARMONY_FROM = 0.75;
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

type Rhythm = readonly (readonly [number, number])[];

/** How the chord instrument plays one bar, as (step, length) pairs; which tones sound is decided by the caller. */
const COMP_RHYTHM: Record<Comp, Rhythm> = {
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
  funk: [0, 3, 6, 7, 10, 12, 14].map((s) => [s, 1] as const),
  skank: [2, 6, 10, 14].map((s) => [s, 1.5] as const),
  bossa: [
    [0, 3],
    [3, 3],
    [6, 4],
    [10, 3],
    [13, 3],
  ],
};
/** A bridge plays percussive parts in half notes: the song opens up before the last chorus. */
const BRIDGE_RHYTHM: Rhythm = [
  [0, 8],
  [8, 8],
];
const LAST_BAR_RHYTHM: Rhythm = [[0, 16]];

/** Calm music plays fewer hits: only those on the beat, each held to the next. */
function thinned(rhythm: Rhythm): Rhythm {
  const kept = rhythm.filter(([step]) => step % 4 === 0);
  if (kept.length === 0) return [[rhythm[0]![0], 16 - rhythm[0]![0]]];
  return kept.map(([step], i) => [step, (kept[i + 1]?.[0] ?? 16) - step] as const);
}

interface BarContext {
  section: Section;
  barInSection: number;
  /** The piece's last planned bar (the outro's final chord rings). */
  final: boolean;
}

function rhythmOf(arrangement: Arrangement, part: HarmonyPart, bar: BarContext): Rhythm {
  if (bar.final) return LAST_BAR_RHYTHM;
  if (part.comp === 'sustain') return COMP_RHYTHM.sustain;
  if (bar.section.name === 'bridge') return BRIDGE_RHYTHM;
  const rhythm = COMP_RHYTHM[part.comp];
  return arrangement.intensity < 0.3 && part.comp !== 'arpeggio' ? thinned(rhythm) : rhythm;
}

function chordEvents(arrangement: Arrangement, part: HarmonyPart, index: number, symbol: string, bar: BarContext): NoteEvent[] {
  const { energy } = bar.section;
  const { voice, tailS, gain: level } = HARMONY_INSTRUMENTS[part.voice];
  const label: SynthPart = `harmony:${part.voice}`;
  const tones = part.voice === 'power' ? [rootOf(symbol, 40), rootOf(symbol, 40) + 7, rootOf(symbol, 40) + 12] : voicing(symbol, index === 0 ? 55 : 60);
  const events: NoteEvent[] = [];
  const dynamics = 1 + 0.4 * arrangement.lift;
  const velocity = Math.min(1, (0.45 + 0.45 * energy) * dynamics);
  // Later parts sit behind the first, on the other side of the stereo field.
  const gain = (level * (index === 0 ? 1 : 0.7)) / Math.sqrt(tones.length / 3);
  const side = index === 0 ? 0 : index % 2 ? 0.35 : -0.35;
  const rhythm = rhythmOf(arrangement, part, bar);
  const arpeggio = part.comp === 'arpeggio' && !bar.final;
  rhythm.forEach(([step, steps], hit) => {
    if (arpeggio) {
      // Broken chord: up through the voicing and an octave above.
      const ladder = [...tones, ...tones.map((t) => t + 12)];
      const midi = ladder[hit % ladder.length]!;
      events.push({ part: label, voice, tailS, step, steps, midi, velocity, gain: gain * 1.3, pan: side + (hit % 2 ? 0.25 : -0.25) });
      return;
    }
    const accent = step === 0 ? 1 : 0.8;
    // Palm-muted 8ths lean on the beat: the off-beats are played quieter, so the pulse stays on the beat.
    const level = part.comp === 'chug' && step % 4 !== 0 ? 0.6 : 1;
    tones.forEach((midi, i) => {
      // A strum reaches the strings a few milliseconds apart (here, a fraction of a step).
      const spread = part.comp === 'strum' ? i * 0.06 : 0;
      const pan = side + (i / Math.max(1, tones.length - 1) - 0.5) * 0.6;
      events.push({ part: label, voice, tailS, step: step + spread, steps, midi, velocity: velocity * accent, gain: gain * level, pan });
    });
  });
  return events;
}

function bassEvents(arrangement: Arrangement, symbol: string, energy: number): NoteEvent[] {
  const { style } = arrangement;
  if (!style.bass || energy < style.bassFrom) return [];
  const root = rootOf(symbol, 33);
  const full = energy >= 0.7 || arrangement.lift >= 0.2;
  const per = full ? style.bassNotesPerBar : Math.max(1, style.bassNotesPerBar / 2);
  const length = 16 / per;
  const { voice, tailS, gain } = BASS_INSTRUMENTS[style.bass];
  const part: SynthPart = `bass:${style.bass}`;
  // An upright walks through the chord tones; the others hold the root with fifths and octaves in between.
  const walk = style.bass === 'upright' ? voicing(symbol, root) : null;
  return Array.from({ length: per }, (_, i) => {
    const midi =
      walk && per >= 4 ? (walk[i % walk.length] ?? root) : i === 0 || per <= 2 ? root : i % 4 === 2 ? root + 7 : i % 2 === 1 && per === 8 ? root + 12 : root;
    // Eighth-note lines are lighter off the beat, like a picking hand.
    const offBeat = per === 8 && i % 2 === 1;
    return { part, voice, tailS, step: i * length, steps: length * 0.9, midi, velocity: 0.8, gain: offBeat ? gain * 0.75 : gain, pan: 0 };
  });
}

/** A one-bar phrase on the pentatonic scale; the same bar of a repeated section gets the same phrase. */
function leadEvents(arrangement: Arrangement, symbol: string, sectionName: string, barInSection: number): NoteEvent[] {
  if (!arrangement.style.lead) return [];
  const { voice, tailS, gain, low } = LEAD_INSTRUMENTS[arrangement.style.lead];
  const part: SynthPart = `lead:${arrangement.style.lead}`;
  const random = randomFor(arrangement.seed, 'lead', sectionName, barInSection % 4);
  const scale = Scale.get(`${arrangement.tonic} ${arrangement.mode} pentatonic`).notes.map((n) => Note.chroma(n));
  const pitches: number[] = [];
  for (let midi = low; midi <= low + 19; midi++) if (scale.includes(midi % 12)) pitches.push(midi);
  const chordTones = new Set(voicing(symbol, 0).map((m) => m % 12));
  const events: NoteEvent[] = [];
  // Calm pieces leave more space in the melody; intense ones fill it.
  const rest = 0.15 * (0.5 - arrangement.intensity);
  let index = Math.floor(random() * pitches.length);
  for (let step = 0; step < 16; step += 2) {
    if (random() < (step % 4 === 0 ? 0.35 : 0.55) + rest) continue; // rests make it a phrase, not a scale run
    index = Math.max(0, Math.min(pitches.length - 1, index + Math.floor(random() * 5) - 2));
    let midi = pitches[index]!;
    // On the beat, lean towards a chord tone so the line agrees with the harmony.
    if (step % 4 === 0 && !chordTones.has(midi % 12)) {
      const nearby = pitches.find((p) => Math.abs(p - midi) <= 3 && chordTones.has(p % 12));
      if (nearby !== undefined) midi = nearby;
    }
    const steps = random() < 0.3 ? 4 : 2;
    events.push({ part, voice, tailS, step, steps, midi, velocity: 0.7, gain, pan: 0.15 });
  }
  return events;
}

function drumHits(arrangement: Arrangement, section: Section): DrumHit[] {
  const pattern = arrangement.style.drums;
  const { energy } = section;
  if (!pattern || energy < 0.4) return [];
  const { intensity } = arrangement;
  const dynamics = 1 + 0.6 * arrangement.lift;
  const hits: DrumHit[] = [];
  const add = (line: string, sample: keyof DrumKit, gain: number, pan: number) => {
    for (let step = 0; step < 16; step++) {
      const c = line[step];
      if (c === 'x') hits.push({ sample, step, gain, pan });
      else if (c === 'o') hits.push({ sample, step, gain: gain * 0.55, pan });
    }
  };
  // Intros and outros keep only the hats; the full kit comes in with the verse.
  add(pattern.hat, 'hat', 0.5 * energy * dynamics, 0.3);
  // Intense music fills the hats' gaps with soft 16ths.
  if (intensity >= BUSY_HATS_FROM) {
    for (let step = 1; step < 16; step += 2) if (pattern.hat[step] === '.') hits.push({ sample: 'hat', step, gain: 0.18 * energy * dynamics, pan: 0.3 });
  }
  if (energy >= 0.6) {
    add(pattern.kick, 'kick', 0.85 * Math.min(1, dynamics), 0);
    add(pattern.snare, 'snare', 0.55 * energy * dynamics, -0.05);
    if (pattern.perc) add(pattern.perc, 'perc', 0.35 * dynamics, -0.3);
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

/** A note or drum hit placed in a window, with what its rendering needs (the bar and index seed its randomness). */
type Placed =
  | { kind: 'note'; event: NoteEvent; bar: number; n: number; offset: number; gateS: number; samples: number }
  | { kind: 'hit'; hit: DrumHit; offset: number };

/** What one bar plays: its note events, in the order their randomness is drawn, and its drum hits. */
function barContent(arrangement: Arrangement, bar: number, plannedBars: number): { events: NoteEvent[]; hits: DrumHit[] } {
  const { section, barInSection } = barAt(arrangement, bar);
  const symbol = section.chords[barInSection % section.chords.length]!;
  const context: BarContext = { section, barInSection, final: !arrangement.loop && section.name === 'outro' && bar === plannedBars - 1 };
  const harmony = arrangement.style.harmony.filter((_, index) => index === 0 || section.energy >= EXTRA_HARMONY_FROM);
  const events = [
    ...harmony.flatMap((part, index) => chordEvents(arrangement, part, index, symbol, context)),
    ...bassEvents(arrangement, symbol, section.energy),
    ...(section.energy >= arrangement.style.leadFrom && !context.final ? leadEvents(arrangement, symbol, section.name, barInSection) : []),
  ];
  return { events, hits: context.final ? [] : drumHits(arrangement, section) };
}

/**
 * Every note and hit of the parts `keep` accepts that reaches the window, in the order the mix
 * adds them, at the frame (from the window's first) it starts on. The mix renders exactly these,
 * so what is read from here (transcription) is what sounds.
 */
function* placedEvents(arrangement: Arrangement, window: Omit<RenderWindow, 'channels'>, keep: (part: SynthPart) => boolean): Generator<Placed> {
  const { sampleRate, startFrame, frames, timeline } = window;
  const barS = barSeconds(arrangement);
  const stepS = barS / 16;
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
  const plannedBars = arrangement.sections.reduce((n, section) => n + section.bars, 0);
  for (let bar = firstBar; bar <= lastBar; bar++) {
    const { events, hits } = barContent(arrangement, bar, plannedBars);
    for (const [n, event] of events.entries()) {
      if (!keep(event.part)) continue;
      const offset = at(bar, event.step);
      const gateS = event.steps * stepS;
      const samples = Math.ceil((gateS + event.tailS) * sampleRate);
      if (offset >= frames || offset + samples <= 0) continue;
      yield { kind: 'note', event, bar, n, offset, gateS, samples };
    }
    for (const hit of hits) if (keep(`drums:${hit.sample}`)) yield { kind: 'hit', hit, offset: at(bar, hit.step) };
  }
}

/** One note or drum hit as the synthesiser plays it. */
export interface PlayedEvent {
  part: SynthPart;
  /** The frame it starts on, counted from the window's first (the sample its sound begins at). */
  frame: number;
  /** How long the key is held, in seconds (0 for a drum hit, which rings out its sample). */
  gateS: number;
  /** The MIDI note; null for a drum hit. */
  midi: number | null;
  /** The voice's own dynamics, 0..1 (1 for a drum hit). */
  velocity: number;
  /** Its level in the mix. */
  gain: number;
}

/**
 * The notes and drum hits of the parts `keep` accepts that sound in the window, as the mix renders
 * them, without rendering any: the plan read out for transcription. A drum hit is listed where it
 * starts inside the window.
 */
export function playedEvents(arrangement: Arrangement, window: Omit<RenderWindow, 'channels'>, keep: (part: SynthPart) => boolean = EVERY_PART): PlayedEvent[] {
  const played: PlayedEvent[] = [];
  for (const placed of placedEvents(arrangement, window, keep)) {
    if (placed.kind === 'note') {
      const { event, offset, gateS } = placed;
      played.push({ part: event.part, frame: offset, gateS, midi: event.midi, velocity: event.velocity, gain: event.gain });
    } else if (placed.offset >= 0 && placed.offset < window.frames) {
      played.push({ part: `drums:${placed.hit.sample}`, frame: placed.offset, gateS: 0, midi: null, velocity: 1, gain: placed.hit.gain });
    }
  }
  return played;
}

/**
 * The raw stereo mix of a window (unclipped, unnormalised), of the parts `keep` accepts. Every
 * part is drawn from the same generators whether or not the others play (a note's randomness
 * comes from its bar and its place among the bar's events), so parts mixed apart sum to the
 * whole mix, up to the rounding of the order they are added in.
 */
function mix(
  arrangement: Arrangement,
  window: RenderWindow,
  keep: (part: SynthPart) => boolean = EVERY_PART,
  into?: readonly [Float32Array, Float32Array],
): [Float32Array, Float32Array] {
  const { sampleRate, frames } = window;
  // Laid out as a float WAV's samples, so a whole song rendered here becomes its master in place (codecs/wav.ts).
  const [left, right] = into ?? (floatWavChannels(2, frames) as [Float32Array, Float32Array]);
  const barS = barSeconds(arrangement);
  const kit = drumKit(sampleRate, randomFor(arrangement.seed, 'drums'));
  let scratch = new Float32Array(Math.ceil((barS + 2) * sampleRate));
  const memo = noteMemo();
  for (const placed of placedEvents(arrangement, window, keep)) {
    if (placed.kind === 'hit') {
      const sample = kit[placed.hit.sample];
      addNote(left, right, sample, placed.offset, sample.length, placed.hit.gain, placed.hit.pan);
      continue;
    }
    const { event, bar, n, offset, gateS, samples } = placed;
    if (scratch.length < samples) scratch = new Float32Array(samples);
    const out = scratch.subarray(0, samples);
    out.fill(0);
    memo.render(event.voice, out, sampleRate, { freq: hz(event.midi), gateS, velocity: event.velocity }, () => randomFor(arrangement.seed, 'note', bar, n));
    addNote(left, right, out, offset, samples, event.gain, event.pan);
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

/** The stereo mix as `count` channels: itself, or mixed down to mono (into `monoInto` where given). */
const toChannels = (stereo: [Float32Array, Float32Array], count: number, monoInto?: Float32Array): Float32Array[] => {
  if (count === 2) return stereo;
  const [left, right] = stereo;
  const mono = monoInto ?? new Float32Array(left.length);
  for (let i = 0; i < mono.length; i++) mono[i] = (left[i]! + right[i]!) * Math.SQRT1_2;
  return [mono];
};

/**
 * The raw stereo mix of a window with only the parts `keep` accepts, at the scale of the whole
 * mix (unclipped, unnormalised): what `renderWindow` and `renderSong` start from, so parts mixed
 * apart and put through the same gains sum to the finished piece.
 */
export function mixParts(arrangement: Arrangement, window: Omit<RenderWindow, 'channels'>, keep: (part: SynthPart) => boolean): [Float32Array, Float32Array] {
  return mix(arrangement, { ...window, channels: 2 }, keep);
}

/** The soft clip `renderWindow` applies to its mix, in place. */
export function softClipChannels(channels: readonly Float32Array[]): void {
  for (const channel of channels) softClip(channel);
}

/**
 * A stretch of the piece at a fixed level, for splicing (the splice matches its loudness to the
 * context). It may be rendered `into` the caller's zeroed channels (`frames` long each, e.g.
 * views of the song it goes into), which are then returned.
 */
export function renderWindow(arrangement: Arrangement, window: RenderWindow, into?: readonly Float32Array[]): Float32Array[] {
  const stereoInto = into && window.channels === 2 ? ([into[0]!, into[1]!] as const) : undefined;
  const channels = toChannels(mix(arrangement, window, EVERY_PART, stereoInto), window.channels, window.channels === 1 ? into?.[0] : undefined);
  softClipChannels(channels);
  return channels;
}

const TARGET_RMS = 0.16; // about −16 dBFS: full but with headroom

/** A whole piece: normalised, with a short fade-in and a fade-out over the last seconds. */
export function renderSong(arrangement: Arrangement, sampleRate: number, channels: number, durationS: number): Float32Array[] {
  const frames = Math.round(durationS * sampleRate);
  const out = toChannels(mix(arrangement, { sampleRate, channels: 2, startFrame: 0, frames }), channels);
  finishSong(out, sampleRate, durationS);
  return out;
}

/**
 * What makes the raw mix of a whole piece (`durationS` long) a finished song, in place: brought
 * to the target RMS, soft-clipped, with a short fade-in and a fade-out over the last seconds.
 */
export function finishSong(out: readonly Float32Array[], sampleRate: number, durationS: number): void {
  const finish = songFinish(out, sampleRate, durationS);
  const frames = Math.round(durationS * sampleRate);
  for (const channel of out) for (let i = 0; i < frames; i++) channel[i] = finish(channel[i]!, i);
}

/**
 * `finishSong` one sample at a time: what the raw sample `x` at frame `i` of a piece whose raw
 * mix is `raw` becomes in the finished song, to the bit (every step rounded to a float as the
 * song's channels round it). Stem separation uses it to tell each sample's gain without
 * holding the finished song beside the raw mix.
 */
export function songFinish(raw: readonly Float32Array[], sampleRate: number, durationS: number): (x: number, i: number) => number {
  const frames = Math.round(durationS * sampleRate);
  let sum = 0;
  for (const channel of raw) for (let i = 0; i < frames; i++) sum += channel[i]! * channel[i]!;
  const rms = Math.sqrt(sum / Math.max(1, raw.length * frames));
  const gain = rms > 0 ? Math.min(4, TARGET_RMS / rms) : 1;
  const fadeIn = Math.min(frames, Math.round(0.005 * sampleRate));
  const fadeOut = Math.min(frames, Math.round(Math.min(3, durationS * 0.1) * sampleRate));
  const round = Math.fround;
  return (x, i) => {
    let v = round(x * gain);
    const magnitude = Math.abs(v);
    if (magnitude > 0.5) v = round(Math.sign(v) * (0.5 + 0.5 * Math.tanh((magnitude - 0.5) / 0.5)));
    if (i < fadeIn) v = round(v * (i / fadeIn));
    const fromEnd = frames - 1 - i;
    if (fromEnd < fadeOut) v = round(v * Math.sin(((fromEnd / fadeOut) * Math.PI) / 2) ** 2);
    return v;
  };
}
