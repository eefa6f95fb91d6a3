import { AudioFormatError } from './errors.js';

/**
 * Standard MIDI Files: a writer for transcribed notes (type 1, one track per instrument) and a
 * reader, so the notes can be told back from the bytes. Times go in and come out in seconds; the
 * file holds ticks at one fixed tempo, chosen so that a tick is about half a millisecond.
 */

/** A note in seconds; `velocity` 0..1. */
export interface MidiFileNote {
  pitch: number;
  start: number;
  end: number;
  velocity: number;
}

/** What the writer needs of an instrument (an engine's `MidiInstrument` is one). */
export interface MidiFileInstrument {
  name: string;
  /** General MIDI program 0–127; not written for drums. */
  program: number;
  isDrum: boolean;
  notes: readonly MidiFileNote[];
}

export interface MidiFileOptions {
  /** Ticks per quarter note (default 960). */
  ticksPerQuarter?: number;
  /** The one tempo of the file (default 120 BPM). With the default division a tick is 1/1920 s. */
  bpm?: number;
  /** Written as the name of the first (tempo) track. */
  title?: string;
}

/** One track of a file read back: its name, channel and program, and its notes in seconds. */
export interface MidiFileTrack {
  name: string | null;
  /** The channel (0–15) of its first channel event; null for a track without any. 9 is GM drums. */
  channel: number | null;
  program: number | null;
  notes: MidiFileNote[];
}

export interface MidiFile {
  format: number;
  ticksPerQuarter: number;
  tracks: MidiFileTrack[];
}

const DEFAULT_TICKS_PER_QUARTER = 960;
const DEFAULT_BPM = 120;
/** GM's percussion channel (channel 10 counted from one). */
const DRUM_CHANNEL = 9;
/** Melodic channels in the order instruments take them (all but the drums'). */
const MELODIC_CHANNELS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15];

/** Velocity 0..1 as MIDI's 1–127: a note-on of velocity 0 would be a note-off, so the quietest note is 1. */
export const midiVelocity = (velocity: number): number => Math.min(127, Math.max(1, Math.round((Number.isFinite(velocity) ? velocity : 0) * 127)));

const clampPitch = (pitch: number): number => Math.min(127, Math.max(0, Math.round(pitch)));

/** A growing byte buffer with MIDI's variable-length quantities. */
class ByteWriter {
  private bytes: number[] = [];

  byte(...values: number[]): void {
    for (const value of values) this.bytes.push(value & 0xff);
  }

  uint32(value: number): void {
    this.byte(value >>> 24, value >>> 16, value >>> 8, value);
  }

  text(value: string): void {
    for (const byte of new TextEncoder().encode(value)) this.bytes.push(byte);
  }

  /** A variable-length quantity: seven bits a byte, most significant first, the high bit on all but the last. */
  varLength(value: number): void {
    const groups = [value & 0x7f];
    for (let rest = Math.floor(value / 128); rest > 0; rest = Math.floor(rest / 128)) groups.unshift((rest & 0x7f) | 0x80);
    this.byte(...groups);
  }

  get length(): number {
    return this.bytes.length;
  }

  toArray(): number[] {
    return this.bytes;
  }
}

interface TimedEvent {
  tick: number;
  /** Note-offs (0) sort before note-ons (1) at the same tick, so a repeated note ends before it starts again. */
  order: number;
  data: number[];
}

function chunk(out: ByteWriter, type: string, body: ByteWriter): void {
  out.text(type);
  out.uint32(body.length);
  out.byte(...body.toArray());
}

/** Events (sorted here) as a track chunk's body, with delta times and an end-of-track. */
function trackBody(events: TimedEvent[]): ByteWriter {
  const body = new ByteWriter();
  events.sort((a, b) => a.tick - b.tick || a.order - b.order);
  let last = 0;
  for (const event of events) {
    body.varLength(event.tick - last);
    body.byte(...event.data);
    last = event.tick;
  }
  body.varLength(0);
  body.byte(0xff, 0x2f, 0x00);
  return body;
}

function metaText(type: number, text: string): number[] {
  const encoded = [...new TextEncoder().encode(text)];
  const length = new ByteWriter();
  length.varLength(encoded.length);
  return [0xff, type, ...length.toArray(), ...encoded];
}

/**
 * The notes of one instrument as note-on/off events. A note that starts again before its previous
 * sounding ends it there (MIDI cannot tell two overlapping notes of one pitch apart); every note
 * lasts at least one tick.
 */
function noteEvents(notes: readonly MidiFileNote[], channel: number, ticksPerSecond: number): TimedEvent[] {
  const sorted = notes
    .filter((note) => Number.isFinite(note.start) && Number.isFinite(note.end))
    .map((note) => ({ pitch: clampPitch(note.pitch), on: Math.max(0, Math.round(note.start * ticksPerSecond)), end: note.end, velocity: note.velocity }))
    .sort((a, b) => a.on - b.on || a.pitch - b.pitch);
  const nextOn = new Map<number, number>();
  const offs: number[] = new Array(sorted.length);
  for (let i = sorted.length - 1; i >= 0; i--) {
    const note = sorted[i]!;
    const following = nextOn.get(note.pitch);
    let off = Math.max(note.on + 1, Math.round(note.end * ticksPerSecond));
    if (following !== undefined && following > note.on) off = Math.min(off, following);
    else if (following === note.on) off = note.on + 1;
    offs[i] = off;
    nextOn.set(note.pitch, note.on);
  }
  const events: TimedEvent[] = [];
  sorted.forEach((note, i) => {
    events.push({ tick: note.on, order: 1, data: [0x90 | channel, note.pitch, midiVelocity(note.velocity)] });
    events.push({ tick: offs[i]!, order: 0, data: [0x80 | channel, note.pitch, 0] });
  });
  return events;
}

/**
 * A Standard MIDI File, type 1: a first track with the tempo (and the title), then one track per
 * instrument with its name, its program and its notes; drums on channel 10. Seconds become ticks
 * at the one tempo (rounded to the nearest tick: 0.26 ms at the defaults), velocities 1–127.
 * More than 15 melodic instruments share channels in turn.
 */
export function encodeMidiFile(instruments: readonly MidiFileInstrument[], options: MidiFileOptions = {}): Uint8Array {
  const ticksPerQuarter = options.ticksPerQuarter ?? DEFAULT_TICKS_PER_QUARTER;
  const bpm = options.bpm ?? DEFAULT_BPM;
  if (!Number.isInteger(ticksPerQuarter) || ticksPerQuarter < 1 || ticksPerQuarter > 0x7fff)
    throw new RangeError(`ticks per quarter must be 1–32767, got ${ticksPerQuarter}`);
  const microsPerQuarter = Math.round(60_000_000 / bpm);
  if (!(microsPerQuarter >= 1 && microsPerQuarter <= 0xffffff)) throw new RangeError(`tempo out of MIDI's range: ${bpm} BPM`);
  // Ticks per second from the tempo as written, so the reader's arithmetic is the writer's.
  const ticksPerSecond = (ticksPerQuarter * 1_000_000) / microsPerQuarter;
  const out = new ByteWriter();
  const header = new ByteWriter();
  header.byte(0, 1);
  header.byte((instruments.length + 1) >> 8, instruments.length + 1);
  header.byte(ticksPerQuarter >> 8, ticksPerQuarter);
  chunk(out, 'MThd', header);
  const conductor: TimedEvent[] = [
    ...(options.title ? [{ tick: 0, order: 0, data: metaText(0x03, options.title) }] : []),
    { tick: 0, order: 0, data: [0xff, 0x51, 0x03, microsPerQuarter >> 16, microsPerQuarter >> 8, microsPerQuarter] },
    { tick: 0, order: 0, data: [0xff, 0x58, 0x04, 4, 2, 24, 8] },
  ];
  chunk(out, 'MTrk', trackBody(conductor));
  let melodic = 0;
  for (const instrument of instruments) {
    const channel = instrument.isDrum ? DRUM_CHANNEL : MELODIC_CHANNELS[melodic++ % MELODIC_CHANNELS.length]!;
    const events: TimedEvent[] = [{ tick: 0, order: -1, data: metaText(0x03, instrument.name) }];
    if (!instrument.isDrum) events.push({ tick: 0, order: -1, data: [0xc0 | channel, Math.min(127, Math.max(0, Math.round(instrument.program)))] });
    events.push(...noteEvents(instrument.notes, channel, ticksPerSecond));
    chunk(out, 'MTrk', trackBody(events));
  }
  return Uint8Array.from(out.toArray());
}

/** Reads bytes with MIDI's variable-length quantities; running off the end is a format error. */
class ByteReader {
  constructor(
    private readonly bytes: Uint8Array,
    public at = 0,
  ) {}

  get done(): boolean {
    return this.at >= this.bytes.length;
  }

  byte(): number {
    if (this.at >= this.bytes.length) throw new AudioFormatError('the MIDI file ends in the middle of an event');
    return this.bytes[this.at++]!;
  }

  varLength(): number {
    let value = 0;
    for (let i = 0; i < 4; i++) {
      const byte = this.byte();
      value = value * 128 + (byte & 0x7f);
      if (!(byte & 0x80)) return value;
    }
    throw new AudioFormatError('a MIDI variable-length number is longer than four bytes');
  }

  slice(length: number): Uint8Array {
    if (this.at + length > this.bytes.length) throw new AudioFormatError('the MIDI file ends in the middle of a chunk');
    const part = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return part;
  }
}

const ascii = (bytes: Uint8Array) => String.fromCharCode(...bytes);
const uint32 = (bytes: Uint8Array, at: number) => ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;

interface RawTrack {
  name: string | null;
  channel: number | null;
  program: number | null;
  /** Notes in ticks, velocity as MIDI's 1–127. */
  notes: { pitch: number; on: number; off: number; velocity: number }[];
  tempos: { tick: number; micros: number }[];
}

/** One track chunk's events: names, programs, tempos, and notes paired first-in first-out per channel and pitch. */
function readTrack(body: Uint8Array): RawTrack {
  const reader = new ByteReader(body);
  const track: RawTrack = { name: null, channel: null, program: null, notes: [], tempos: [] };
  const sounding = new Map<number, { on: number; velocity: number }[]>();
  let tick = 0;
  let status = 0;
  const end = (channel: number, pitch: number) => {
    const started = sounding.get(channel * 128 + pitch)?.shift();
    if (started) track.notes.push({ pitch, on: started.on, off: tick, velocity: started.velocity });
  };
  while (!reader.done) {
    tick += reader.varLength();
    let first = reader.byte();
    if (first & 0x80) {
      status = first;
      if (status < 0xf0) first = reader.byte();
    } else if (status === 0 || status >= 0xf0) {
      throw new AudioFormatError('a MIDI data byte without a status before it');
    }
    if (status === 0xff) {
      const type = reader.byte();
      const data = reader.slice(reader.varLength());
      if (type === 0x03 && track.name === null) track.name = new TextDecoder().decode(data);
      else if (type === 0x51 && data.length === 3) track.tempos.push({ tick, micros: (data[0]! << 16) | (data[1]! << 8) | data[2]! });
      else if (type === 0x2f) break;
      status = 0;
      continue;
    }
    if (status === 0xf0 || status === 0xf7) {
      reader.slice(reader.varLength());
      status = 0;
      continue;
    }
    const kind = status & 0xf0;
    const channel = status & 0x0f;
    track.channel ??= channel;
    // Program change and channel pressure carry one data byte; the others two.
    const second = kind === 0xc0 || kind === 0xd0 ? 0 : reader.byte();
    if (kind === 0xc0) track.program ??= first;
    else if (kind === 0x90 && second > 0) {
      const key = channel * 128 + first;
      const list = sounding.get(key) ?? [];
      list.push({ on: tick, velocity: second });
      sounding.set(key, list);
    } else if (kind === 0x80 || kind === 0x90) end(channel, first);
  }
  return track;
}

/** Seconds of every tick, from the tempo changes (type 1: the first track's); 120 BPM before the first. */
function tickClock(tempos: { tick: number; micros: number }[], ticksPerQuarter: number): (tick: number) => number {
  const changes = [...tempos].sort((a, b) => a.tick - b.tick);
  const spans: { tick: number; seconds: number; secondsPerTick: number }[] = [{ tick: 0, seconds: 0, secondsPerTick: 0.5 / ticksPerQuarter }];
  for (const change of changes) {
    const last = spans[spans.length - 1]!;
    const seconds = last.seconds + (change.tick - last.tick) * last.secondsPerTick;
    spans.push({ tick: change.tick, seconds, secondsPerTick: change.micros / 1_000_000 / ticksPerQuarter });
  }
  return (tick) => {
    let span = spans[0]!;
    for (const candidate of spans) if (candidate.tick <= tick) span = candidate;
    return span.seconds + (tick - span.tick) * span.secondsPerTick;
  };
}

/**
 * A Standard MIDI File (type 0 or 1, ticks-per-quarter division) read back: every track with its
 * notes in seconds and velocities 0..1 (MIDI's velocity / 127). Not the SMPTE division.
 */
export function readMidiFile(bytes: Uint8Array): MidiFile {
  if (bytes.length < 14 || ascii(bytes.subarray(0, 4)) !== 'MThd') throw new AudioFormatError('not a Standard MIDI File (no MThd header)');
  const headerLength = uint32(bytes, 4);
  const format = (bytes[8]! << 8) | bytes[9]!;
  const division = (bytes[12]! << 8) | bytes[13]!;
  if (division & 0x8000) throw new AudioFormatError('SMPTE time division is not supported');
  if (division === 0) throw new AudioFormatError('a MIDI file with 0 ticks per quarter');
  const raw: RawTrack[] = [];
  let at = 8 + headerLength;
  while (at + 8 <= bytes.length) {
    const type = ascii(bytes.subarray(at, at + 4));
    const length = uint32(bytes, at + 4);
    if (at + 8 + length > bytes.length) throw new AudioFormatError('the MIDI file ends in the middle of a chunk');
    if (type === 'MTrk') raw.push(readTrack(bytes.subarray(at + 8, at + 8 + length)));
    at += 8 + length;
  }
  const seconds = tickClock(
    raw.flatMap((track) => track.tempos),
    division,
  );
  const tracks = raw.map(({ name, channel, program, notes }) => ({
    name,
    channel,
    program,
    notes: notes
      .map((note) => ({ pitch: note.pitch, start: seconds(note.on), end: seconds(note.off), velocity: note.velocity / 127 }))
      .sort((a, b) => a.start - b.start || a.pitch - b.pitch),
  }));
  return { format, ticksPerQuarter: division, tracks };
}
