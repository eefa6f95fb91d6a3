import {
  addVoice,
  analyseMusic,
  analysisFront,
  type DecodedAudio,
  type Gender,
  heldRatio,
  limitTruePeak,
  parseLyrics,
  type RecordingVocal,
  randomFor,
  renderVoice,
  singOverRecording,
  writeLyrics,
} from '../../audio/index.js';
import { type AddVocalsInput, EngineError, type OnProgress, type RenderedTrack } from '../types.js';
import { decodeSource, finishTrack, type ProceduralContext } from './common.js';
import { copyChannels, type TrackTrace } from './trace.js';

/**
 * Where it sings, the voice's RMS against the instrumental's (whole-track) RMS: a little under it,
 * so the instrumental, summed unchanged, stays the body of the track.
 */
const VOICE_TO_INSTRUMENTAL = 0.7;
const PITCH_NAMES = ['C', 'Db', 'D', 'Eb', 'E', 'F', 'Gb', 'G', 'Ab', 'A', 'Bb', 'B'];

const percent = (confidence: number) => `${Math.round(confidence * 100)} % sure`;

function readingOf(vocal: RecordingVocal): string {
  const tempo = vocal.tempoConfidence === null ? 'no steady beat found, sung at 100 BPM' : `${vocal.bpm.toFixed(1)} BPM (${percent(vocal.tempoConfidence)})`;
  const key = vocal.keyConfidence === null ? 'no key found, sung in C major' : `${PITCH_NAMES[vocal.tonic]} ${vocal.mode} (${percent(vocal.keyConfidence)})`;
  return `Read from the instrumental: ${tempo}; ${key}; chords read bar by bar as the key's triads.`;
}

/**
 * Add-vocals: the prompt sung over the uploaded instrumental, on its measured beats and bars, in
 * its key and on its chords. The instrumental is kept as it is and the voice added over it, then
 * the sum is held under −1 dBTP; one track of the source's length.
 */
/** What is sung over the upload, and by whom: read from the upload and the words, the same at every call (the track, its stems, its notes). */
export function sungOver(input: AddVocalsInput, pcm: DecodedAudio): { vocal: RecordingVocal; gender: Gender; given: boolean } {
  // The tempo and key analysis and the bar chords read the same decimated signal and chromagram.
  // Nothing here reads the upload's loudness (the voice is set against it by addVoice).
  const front = analysisFront(pcm);
  const analysis = analyseMusic(pcm, undefined, { front });
  const gender: Gender = input.vocalGender ?? (randomFor(input.seed, 'singer')() < 0.5 ? 'm' : 'f');
  // A prompt without words to sing still gets a vocal: lyrics written from the title and style.
  const given = parseLyrics(input.prompt).length > 0;
  const text = given
    ? input.prompt
    : writeLyrics(`${input.title} ${input.style}`, input.seed, [
        { kind: 'verse', lines: 4, syllables: 9 },
        { kind: 'chorus', lines: 4, syllables: 8 },
      ]);
  const vocal = singOverRecording(pcm, analysis, { seed: input.seed, text, gender }, front);
  if (vocal.words.length === 0) {
    const seconds = (pcm.channels[0]!.length / pcm.sampleRate).toFixed(2);
    throw new EngineError(`the instrumental (${seconds} s) is too short for a sung phrase`);
  }
  return { vocal, gender, given };
}

const voiceSeed = (input: AddVocalsInput) => `${input.seed}:voice`;

/**
 * An add-vocals track told back for stems (trace.ts): the upload read and sung over again, the
 * voice added to a copy of it and the copy limited as the track was. The voice is synthesised,
 * so the vocal is exact; the rest is the upload itself as the limiter left it (its own
 * instruments can only be estimated). Holds the upload, the master and the voice.
 */
export async function traceAddVocals(input: AddVocalsInput): Promise<TrackTrace> {
  const upload = await decodeSource(input.source.bytes, input.source.name);
  const { sampleRate } = upload;
  const { vocal, gender } = sungOver(input, upload);
  const frames = upload.channels[0]!.length;
  let voice: Float32Array | null = renderVoice(vocal.notes, { sampleRate, frames, gender, seed: voiceSeed(input) });
  const master = copyChannels(upload.channels);
  const voiceGain = addVoice(master, voice, VOICE_TO_INSTRUMENTAL);
  limitTruePeak(master, { sampleRate });
  /** The voice as heard (the limiter's gain on it) into the upload's memory, the upload as heard into the master's. */
  const readOut = () => {
    const sung = voice;
    if (!sung) throw new Error('a trace is read out once');
    voice = null;
    for (const [c, channel] of upload.channels.entries()) {
      const heard = master[c]!;
      const limiter = heldRatio();
      for (let i = 0; i < frames; i++) {
        const voiced = sung[i]! * voiceGain;
        // addVoice's own sum, rounded as it rounded it; the limiter's gain is the track over it.
        const gain = limiter(heard[i]!, Math.fround(channel[i]! + voiced));
        channel[i] = voiced * gain;
        heard[i]! -= channel[i]!;
      }
    }
    return { vocal: upload.channels, instrumental: master };
  };
  return {
    sampleRate,
    master,
    vocalAndRest: () => {
      const { vocal: heardVoice, instrumental } = readOut();
      return { vocal: heardVoice, rest: instrumental };
    },
    split: () => {
      const { vocal: heardVoice, instrumental } = readOut();
      return {
        band: null,
        layers: [
          { role: 'vocal', channels: heardVoice },
          { role: 'instrumental', channels: instrumental },
        ],
      };
    },
  };
}

export async function addVocals(context: ProceduralContext, input: AddVocalsInput, signal: AbortSignal, onProgress: OnProgress): Promise<RenderedTrack[]> {
  signal.throwIfAborted();
  const pcm = await decodeSource(input.source.bytes, input.source.name);
  signal.throwIfAborted();
  const { vocal, gender, given } = sungOver(input, pcm);
  const sheet = [
    readingOf(vocal),
    [`Lyrics (${given ? 'as given' : 'written from the title and style'}, sung):`, ...vocal.text.split('\n').map((line) => `  ${line}`)].join('\n'),
    `A ${gender === 'm' ? 'male' : 'female'} formant singing synthesiser, not a neural model: the melody is placed in the key and on the chords read from the upload, ` +
      'pronunciation follows English spelling rules, and the instrumental is kept unchanged under the voice.',
  ].join('\n\n');
  await onProgress({ stage: 'text', sheet });
  const frames = pcm.channels[0]!.length;
  const voice = renderVoice(vocal.notes, { sampleRate: pcm.sampleRate, frames, gender, seed: voiceSeed(input) });
  signal.throwIfAborted();
  addVoice(pcm.channels, voice, VOICE_TO_INSTRUMENTAL);
  limitTruePeak(pcm.channels, { sampleRate: pcm.sampleRate });
  const track = await finishTrack(context, pcm, { title: input.title, tags: input.style }, signal);
  track.sung = { text: vocal.text, words: vocal.words };
  await onProgress({ stage: 'first', track, index: 0 });
  return [track];
}
