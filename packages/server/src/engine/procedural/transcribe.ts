import {
  type Arrangement,
  AudioFormatError,
  GM_OF_PART,
  GM_VOICE,
  type GmInstrument,
  type PlayedEvent,
  playedEvents,
  type RenderWindow,
  readStem,
  type StemSignal,
  type SungNote,
  type SynthPart,
  type TranscriptionKind,
  transcribeStem,
} from '../../audio/index.js';
import {
  type AddVocalsInput,
  type CoverInput,
  EngineError,
  type GenerateInput,
  type MidiInstrument,
  type MidiNote,
  type Operation,
  SourceAudioError,
  type StemName,
  type TranscribedMidi,
  type TranscribeInput,
} from '../types.js';
import { sungOver } from './add-vocals.js';
import { decodeSource, MAX_SONG_S, type ProceduralContext, SONG_RATE } from './common.js';
import { coverTake } from './cover.js';
import { generatedSong } from './generate.js';
import { readRecipe } from './recipe.js';
import { STEM_OF_PART } from './stem-map.js';

/**
 * Transcribe ("Generate MIDI from Audio", docs/midi.md): the notes of the stems of a separation,
 * per instrument. Where the track's separation was exact, the notes are read from the track's
 * recipe: the very notes and hits the synthesiser renders (the plan scheduled as `mixParts` plays
 * it, no audio rendered) and the sung melody with its syllable times. Every other stem is
 * transcribed from its audio by signal processing (audio/transcription/), and says so.
 */

/** What a recipe tells of a track: its band's plan, its sung notes, and which stems it can speak for. */
interface Recipe {
  what: string;
  durationS: number;
  /** The band and where it plays (its window, on the beats it follows); null where the track's band is not the synthesiser's. */
  band: { plan: Arrangement; window: Omit<RenderWindow, 'channels'> } | null;
  /** The sung notes; null on an instrumental. */
  sung: SungNote[] | null;
  /** Whether the recipe holds the notes of this stem (else it is transcribed from its audio). */
  covers(stem: StemName): boolean;
}

/** How a stem without a recipe is heard, and the instrument its notes are written as. */
const ESTIMATED: Record<StemName, { kind: TranscriptionKind; instrument: GmInstrument; isDrum: boolean }> = {
  vocal: { kind: 'voice', instrument: GM_VOICE, isDrum: false },
  backing_vocals: { kind: 'voice', instrument: { name: 'Backing Vocals', program: 52 }, isDrum: false },
  drums: { kind: 'drums', instrument: { name: 'Drums', program: 0 }, isDrum: true },
  bass: { kind: 'monophonic', instrument: { name: 'Bass', program: 33 }, isDrum: false },
  guitar: { kind: 'polyphonic', instrument: { name: 'Guitar', program: 25 }, isDrum: false },
  keyboard: { kind: 'polyphonic', instrument: { name: 'Keyboard', program: 0 }, isDrum: false },
  percussion: { kind: 'percussion', instrument: { name: 'Percussion', program: 0 }, isDrum: true },
  strings: { kind: 'polyphonic', instrument: { name: 'Strings', program: 48 }, isDrum: false },
  synth: { kind: 'polyphonic', instrument: { name: 'Synth', program: 90 }, isDrum: false },
  fx: { kind: 'polyphonic', instrument: { name: 'FX', program: 99 }, isDrum: false },
  brass: { kind: 'polyphonic', instrument: { name: 'Brass', program: 61 }, isDrum: false },
  woodwinds: { kind: 'monophonic', instrument: { name: 'Woodwinds', program: 73 }, isDrum: false },
  instrumental: { kind: 'polyphonic', instrument: { name: 'Instrumental', program: 0 }, isDrum: false },
  other: { kind: 'polyphonic', instrument: { name: 'Other', program: 0 }, isDrum: false },
};

const HOW_ESTIMATED =
  'drums as kick, snare and hi-hat from spectral-flux onsets in three frequency bands; percussion as onsets; vocal, backing vocals, bass and woodwinds by YIN pitch tracking cut into notes at pitch changes and attacks; the other stems by iterative harmonic-sum multi-pitch estimation, notes started on spectral-flux onsets. Velocities are each note’s level against the stem’s loudest. Not a neural model: an estimate, whose onsets and pitches are right on clean stems and miss more on dense mixes';

export async function transcribe(context: ProceduralContext, input: TranscribeInput, signal: AbortSignal): Promise<TranscribedMidi> {
  signal.throwIfAborted();
  if (!Array.isArray(input.stems)) throw new EngineError('no stems to transcribe');
  const stems = input.stems.filter((stem, index) => input.stems.findIndex((other) => other.name === stem.name) === index);
  for (const stem of stems) if (!Object.hasOwn(ESTIMATED, stem.name)) throw new EngineError(`unknown stem "${String(stem.name)}"`);
  const recipe = input.origin ? await recipeOf(input.origin.operation, input.origin.trackIndex) : (input.noOrigin ?? 'nothing says how the track was made');
  signal.throwIfAborted();
  const instruments: MidiInstrument[] = [];
  let exactCount = 0;
  const estimated: StemName[] = [];
  for (const stem of stems) {
    signal.throwIfAborted();
    if (typeof recipe !== 'string' && recipe.covers(stem.name)) {
      instruments.push(...recipeInstruments(recipe, stem.name));
      exactCount++;
      continue;
    }
    if (!stem.audio) throw new EngineError(`the ${stem.name} stem has no audio to transcribe${typeof recipe === 'string' ? ` (${recipe})` : ''}`);
    estimated.push(stem.name);
    const instrument = await estimatedInstrument(stem.name, stem.audio);
    if (instrument) instruments.push(instrument);
  }
  const exact = estimated.length === 0 && exactCount > 0;
  return { instruments, exact, method: methodOf(recipe, exactCount, estimated), modelName: context.modelName };
}

function methodOf(recipe: Recipe | string, exactCount: number, estimated: readonly StemName[]): string {
  const sentences: string[] = [];
  if (typeof recipe !== 'string' && exactCount > 0) {
    sentences.push(
      `Exact${estimated.length > 0 ? ` for ${exactCount === 1 ? 'one stem' : `${exactCount} stems`}` : ''}: the notes the synthesiser played in the ${recipe.what}, read from its recipe (the same plan, seed and arrangement), onsets to the sample${recipe.sung ? ', the sung melody with its syllable times' : ''}.`,
    );
  }
  if (estimated.length > 0) {
    const why = typeof recipe === 'string' ? recipe : `the ${recipe.what}'s recipe does not hold their notes (uploaded audio)`;
    sentences.push(`Estimated by signal processing from the audio of ${estimated.join(', ')}, because ${why}: ${HOW_ESTIMATED}.`);
  }
  if (sentences.length === 0) sentences.push('No stems were given to transcribe.');
  return sentences.join(' ');
}

// ---------------------------------------------------------------------------------------------
// The recipe path.

/** The recipe's notes, or why a track of this kind has none to read. */
const recipeOf = (operation: Operation, index: number): Promise<Recipe | string> =>
  readRecipe(operation, index, { generate: generatedRecipe, cover: coverRecipe, addVocals: addVocalsRecipe });

/** Song `index` of a generate: the pair's plan and the notes sung, as generate.ts plays them. */
function generatedRecipe(input: GenerateInput, index: number): Recipe {
  const { plan, sung } = generatedSong(input, index);
  return {
    what: `generate, track ${index + 1}`,
    durationS: input.durationS,
    band: { plan, window: { sampleRate: SONG_RATE, startFrame: 0, frames: Math.round(input.durationS * SONG_RATE) } },
    sung,
    // The whole track is the recipe's: a stem it holds nothing for (the vocal of an instrumental) has no notes.
    covers: () => true,
  };
}

/** Take `index` of a cover: its band on the upload's beats, as cover.ts plays it (a cover holds no audio of the upload). */
async function coverRecipe(input: CoverInput, index: number): Promise<Recipe> {
  const { plan, window } = await coverTake(input, index);
  return { what: `cover, take ${index + 1}`, durationS: window.frames / SONG_RATE, band: { plan, window }, sung: null, covers: () => true };
}

/** An add-vocals track: the voice sung over the upload as add-vocals.ts sings it; the instrumental under it is the upload's own audio. */
async function addVocalsRecipe(input: AddVocalsInput): Promise<Recipe> {
  const pcm = await decodeSource(input.source.bytes, input.source.name);
  const durationS = (pcm.channels[0]?.length ?? 0) / pcm.sampleRate;
  return { what: 'add-vocals track', durationS, band: null, sung: sungOver(input, pcm).vocal.notes, covers: (stem) => stem === 'vocal' };
}

/** Parts of the band a stem holds: `instrumental` all of them, a split stem its own (stem-map.ts). */
const partInStem = (stem: StemName) => (part: SynthPart) => stem === 'instrumental' || STEM_OF_PART[part] === stem;

/** The instruments of one stem, read from the recipe: one per synthesiser part (the drum kit as one), and the voice. */
function recipeInstruments(recipe: Recipe, stem: StemName): MidiInstrument[] {
  const instruments: MidiInstrument[] = [];
  if (recipe.band) {
    const { window } = recipe.band;
    const byName = new Map<string, { gm: GmInstrument; events: PlayedEvent[] }>();
    for (const event of playedEvents(recipe.band.plan, window, partInStem(stem))) {
      const gm = GM_OF_PART[event.part];
      const entry = byName.get(gm.name) ?? { gm, events: [] };
      entry.events.push(event);
      byName.set(gm.name, entry);
    }
    for (const { gm, events } of byName.values()) {
      const notes = bandNotes(events, recipe.durationS);
      if (notes.length > 0) instruments.push({ name: gm.name, stem, program: gm.program, isDrum: gm.drumKey !== undefined, exact: true, notes });
    }
  }
  if (recipe.sung && stem === 'vocal') {
    const notes = sungNotes(recipe.sung, recipe.durationS);
    if (notes.length > 0) instruments.push({ name: GM_VOICE.name, stem, program: GM_VOICE.program, isDrum: false, exact: true, notes });
  }
  return instruments;
}

/** Seconds rounded to the microsecond: exact enough, and short in JSON. */
const micro = (seconds: number) => Math.round(seconds * 1e6) / 1e6;

/**
 * The played events as notes: onsets on the frame the sound starts at, a note held for its gate
 * (a drum hit 100 ms, as drum notes are written), velocity the event's level (dynamics times
 * mix gain) against the loudest of its part.
 */
function bandNotes(events: readonly PlayedEvent[], durationS: number): MidiNote[] {
  const loudest = new Map<SynthPart, number>();
  for (const event of events) loudest.set(event.part, Math.max(loudest.get(event.part) ?? 0, event.velocity * event.gain));
  return events
    .map((event) => {
      const start = event.frame / SONG_RATE;
      const key = GM_OF_PART[event.part].drumKey;
      const end = Math.min(durationS, start + (key === undefined ? event.gateS : 0.1));
      const most = loudest.get(event.part) ?? 1;
      return {
        pitch: key ?? event.midi ?? 0,
        start: micro(start),
        end: micro(Math.max(end, start + 1e-3)),
        velocity: Math.round((most > 0 ? (event.velocity * event.gain) / most : 1) * 1000) / 1000,
      };
    })
    .filter((note) => note.start < durationS)
    .sort((a, b) => a.start - b.start || a.pitch - b.pitch);
}

/** The sung notes, one per syllable, at the times the voice sings them (renderVoice's default level where none is set). */
function sungNotes(sung: readonly SungNote[], durationS: number): MidiNote[] {
  return sung
    .filter((note) => note.startS < durationS)
    .map((note) => ({ pitch: note.midi, start: micro(note.startS), end: micro(Math.min(durationS, note.endS)), velocity: note.velocity ?? 0.9 }))
    .sort((a, b) => a.start - b.start);
}

// ---------------------------------------------------------------------------------------------
// The estimated path.

/** A stem's audio read for transcription (an MP3 streamed, never held decoded whole); unreadable audio is the task's code 400. */
async function stemSignalOf(stem: StemName, audio: NonNullable<TranscribeInput['stems'][number]['audio']>): Promise<StemSignal> {
  try {
    return await readStem(audio.bytes);
  } catch (error) {
    if (error instanceof AudioFormatError)
      throw new SourceAudioError(`the ${stem} stem${audio.name ? ` "${audio.name}"` : ''} is not readable MP3 or WAV: ${error.message}`);
    throw error;
  }
}

async function estimatedInstrument(stem: StemName, audio: NonNullable<TranscribeInput['stems'][number]['audio']>): Promise<MidiInstrument | null> {
  const signal = await stemSignalOf(stem, audio);
  const seconds = signal.samples.length / signal.sampleRate;
  if (seconds > MAX_SONG_S) throw new EngineError(`the ${stem} stem is ${seconds.toFixed(0)} s long; stems up to ${MAX_SONG_S} s are transcribed`);
  const how = ESTIMATED[stem];
  const notes = transcribeStem(signal, how.kind).map((note) => ({
    pitch: note.pitch,
    start: micro(note.start),
    end: micro(note.end),
    velocity: Math.round(note.velocity * 1000) / 1000,
  }));
  if (notes.length === 0) return null;
  return { name: how.instrument.name, stem, program: how.instrument.program, isDrum: how.isDrum, exact: false, notes };
}
