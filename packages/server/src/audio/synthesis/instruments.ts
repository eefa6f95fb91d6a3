import type { BassVoice, Comp, HarmonyVoice, LeadVoice } from './genres.js';

/**
 * Words for instruments, energy and mood, as data. Each instrument word says
 * which part of the arrangement it plays and which voice plays it; a generic
 * word ("guitar", "keys") is already satisfied by any voice of its family.
 */

export type InstrumentWord =
  | { role: 'harmony'; voice: HarmonyVoice; family: readonly HarmonyVoice[]; comps: readonly Comp[] }
  | { role: 'lead'; voice: LeadVoice; family: readonly LeadVoice[] }
  | { role: 'bass'; voice: BassVoice; family: readonly BassVoice[] }
  | { role: 'drums' };

export interface Instrument {
  /** Name used in the style choice and the docs. */
  name: string;
  words: readonly string[];
  plays: InstrumentWord;
  /** The genre it suggests when no genre word was given. */
  hint: string;
}

const GUITARS: readonly HarmonyVoice[] = ['power', 'guitar', 'pluck'];
const KEYS: readonly HarmonyVoice[] = ['piano', 'epiano', 'organ'];
const ALL_BASSES: readonly BassVoice[] = ['round', 'synth', 'picked', 'upright', 'sub'];

export const INSTRUMENTS: readonly Instrument[] = [
  {
    name: 'piano',
    words: ['piano', 'grand piano', 'upright piano', 'pianist'],
    plays: { role: 'harmony', voice: 'piano', family: ['piano'], comps: ['arpeggio', 'stabs', 'sustain', 'strum'] },
    hint: 'ballad',
  },
  {
    name: 'electric piano',
    words: ['electric piano', 'e piano', 'epiano', 'rhodes', 'wurlitzer', 'wurli'],
    plays: { role: 'harmony', voice: 'epiano', family: ['epiano'], comps: ['stabs', 'sustain', 'arpeggio', 'skank'] },
    hint: 'soul',
  },
  {
    name: 'keys',
    words: ['keys', 'keyboard', 'keyboards'],
    plays: { role: 'harmony', voice: 'piano', family: KEYS, comps: ['stabs', 'arpeggio', 'sustain'] },
    hint: 'ballad',
  },
  {
    name: 'organ',
    words: ['organ', 'hammond', 'church organ', 'b3'],
    plays: { role: 'harmony', voice: 'organ', family: ['organ'], comps: ['sustain', 'stabs', 'skank'] },
    hint: 'soul',
  },
  {
    name: 'acoustic guitar',
    words: ['acoustic guitar', 'acoustic', 'nylon guitar', 'classical guitar', 'spanish guitar', 'ukulele', 'banjo', 'mandolin'],
    plays: { role: 'harmony', voice: 'pluck', family: ['pluck'], comps: ['strum', 'arpeggio', 'bossa'] },
    hint: 'folk',
  },
  {
    name: 'distorted guitar',
    words: ['distorted guitar', 'power chord', 'power chords', 'overdriven guitar', 'heavy guitar', 'riff', 'riffs'],
    plays: { role: 'harmony', voice: 'power', family: ['power'], comps: ['chug', 'strum', 'sustain'] },
    hint: 'rock',
  },
  {
    name: 'electric guitar',
    words: ['electric guitar', 'clean guitar', 'rhythm guitar', 'funk guitar', 'jazz guitar'],
    plays: { role: 'harmony', voice: 'guitar', family: ['guitar', 'power'], comps: ['strum', 'funk', 'arpeggio', 'skank', 'stabs'] },
    hint: 'rock',
  },
  {
    name: 'guitar',
    words: ['guitar', 'guitars', 'guitarist'],
    plays: { role: 'harmony', voice: 'guitar', family: GUITARS, comps: ['strum', 'arpeggio', 'funk', 'skank', 'stabs'] },
    hint: 'rock',
  },
  {
    name: 'lead guitar',
    words: ['lead guitar', 'guitar solo', 'shred', 'guitar lead'],
    plays: { role: 'lead', voice: 'guitar', family: ['guitar'] },
    hint: 'rock',
  },
  {
    name: 'strings',
    words: ['strings', 'string section', 'string ensemble', 'violin', 'violins', 'viola', 'cello', 'cellos', 'fiddle'],
    plays: { role: 'harmony', voice: 'strings', family: ['strings'], comps: ['sustain', 'arpeggio'] },
    hint: 'classical',
  },
  {
    name: 'pad',
    words: ['pad', 'pads', 'synth pad', 'choir', 'drone pad', 'atmosphere'],
    plays: { role: 'harmony', voice: 'pad', family: ['pad'], comps: ['sustain'] },
    hint: 'ambient',
  },
  {
    name: 'synth',
    words: ['synth', 'synths', 'synthesizer', 'synthesiser', 'analog synth', 'arpeggiator', 'arp'],
    plays: { role: 'harmony', voice: 'synth', family: ['synth', 'pad'], comps: ['arpeggio', 'stabs', 'sustain'] },
    hint: 'electronic',
  },
  {
    name: 'lead synth',
    words: ['lead synth', 'synth lead', 'saw lead', 'supersaw'],
    plays: { role: 'lead', voice: 'saw', family: ['saw'] },
    hint: 'electronic',
  },
  {
    name: 'brass',
    words: ['brass', 'horns', 'horn section', 'trombone', 'tuba', 'french horn'],
    plays: { role: 'harmony', voice: 'brass', family: ['brass'], comps: ['stabs', 'sustain'] },
    hint: 'funk',
  },
  {
    name: 'trumpet',
    words: ['trumpet', 'trumpets', 'saxophone', 'sax', 'clarinet'],
    plays: { role: 'lead', voice: 'brass', family: ['brass'] },
    hint: 'jazz',
  },
  {
    name: 'flute',
    words: ['flute', 'flutes', 'pan flute', 'recorder', 'whistle', 'piccolo', 'oboe'],
    plays: { role: 'lead', voice: 'flute', family: ['flute'] },
    hint: 'folk',
  },
  {
    name: 'bells',
    words: ['bell', 'bells', 'glockenspiel', 'chimes', 'music box', 'celesta', 'vibraphone', 'marimba', 'xylophone', 'kalimba'],
    plays: { role: 'lead', voice: 'bell', family: ['bell'] },
    hint: 'ambient',
  },
  {
    name: 'bass',
    words: ['bass', 'bassline', 'bass line', 'bass guitar', 'electric bass'],
    plays: { role: 'bass', voice: 'round', family: ALL_BASSES },
    hint: 'pop',
  },
  {
    name: 'upright bass',
    words: ['upright bass', 'double bass', 'acoustic bass', 'contrabass', 'walking bass'],
    plays: { role: 'bass', voice: 'upright', family: ['upright'] },
    hint: 'jazz',
  },
  {
    name: 'synth bass',
    words: ['synth bass', 'acid bass', 'reese'],
    plays: { role: 'bass', voice: 'synth', family: ['synth'] },
    hint: 'electronic',
  },
  {
    name: '808',
    words: ['808', '808s', 'sub bass', 'sub'],
    plays: { role: 'bass', voice: 'sub', family: ['sub'] },
    hint: 'hiphop',
  },
  {
    name: 'slap bass',
    words: ['slap bass', 'funk bass', 'picked bass'],
    plays: { role: 'bass', voice: 'picked', family: ['picked'] },
    hint: 'funk',
  },
  {
    name: 'drums',
    words: ['drums', 'drum', 'drum kit', 'drummer', 'percussion', 'beat', 'beats', 'groove', 'drum machine', 'breakbeats'],
    plays: { role: 'drums' },
    hint: 'pop',
  },
];

/** Energy words and the intensity (0 calm … 1 intense) each stands for. */
export const ENERGY_WORDS: readonly (readonly [string, number])[] = [
  ['sleepy', 0.05],
  ['calm', 0.1],
  ['peaceful', 0.1],
  ['tranquil', 0.1],
  ['serene', 0.1],
  ['quiet', 0.15],
  ['gentle', 0.2],
  ['soft', 0.2],
  ['slow', 0.25],
  ['mellow', 0.25],
  ['relaxed', 0.25],
  ['relaxing', 0.25],
  ['chill', 0.3],
  ['laid back', 0.3],
  ['laidback', 0.3],
  ['easy', 0.3],
  ['smooth', 0.35],
  ['moderate', 0.5],
  ['medium', 0.5],
  ['steady', 0.5],
  ['groovy', 0.6],
  ['bouncy', 0.65],
  ['upbeat', 0.7],
  ['lively', 0.7],
  ['danceable', 0.7],
  ['fast', 0.75],
  ['driving', 0.8],
  ['energetic', 0.85],
  ['powerful', 0.85],
  ['hard', 0.85],
  ['heavy', 0.9],
  ['intense', 0.9],
  ['aggressive', 0.95],
  ['frantic', 0.95],
  ['furious', 1],
  ['explosive', 1],
];

export const MINOR_WORDS = [
  'sad',
  'dark',
  'melancholy',
  'melancholic',
  'minor',
  'moody',
  'lonely',
  'gloomy',
  'haunting',
  'somber',
  'sombre',
  'tragic',
  'mysterious',
  'eerie',
  'night',
  'rainy',
];
export const MAJOR_WORDS = [
  'happy',
  'bright',
  'uplifting',
  'sunny',
  'major',
  'joyful',
  'joy',
  'summer',
  'cheerful',
  'hopeful',
  'playful',
  'triumphant',
  'love',
];

/** Words for what a negative removes beyond genres and instruments. */
export const TRAIT_WORDS = {
  swing: ['swing', 'swung', 'shuffle', 'swingy'],
  distortion: ['distortion', 'distorted', 'overdrive', 'overdriven', 'fuzz'],
  lead: ['lead', 'melody', 'solo', 'solos', 'melodies'],
  vocals: ['vocal', 'vocals', 'voice', 'voices', 'singer', 'singing', 'sung', 'lyrics', 'rap vocals', 'female vocals', 'male vocals'],
} as const;

/** Words that turn the next few words of a prompt into a negative ("no drums", "without piano"). */
export const NEGATORS = ['no', 'without', 'not', 'minus', 'zero', 'never'];
/** Words that end what a negator covers ("no drums and a piano": the piano stays). */
export const NEGATION_STOPS = ['and', 'but', 'with', 'just', 'only', 'then', 'plus', 'yet', 'so', 'add', 'featuring', 'feat'];
