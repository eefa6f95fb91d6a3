import {
  addVoice,
  analyse,
  type Gender,
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
export async function addVocals(context: ProceduralContext, input: AddVocalsInput, signal: AbortSignal, onProgress: OnProgress): Promise<RenderedTrack[]> {
  signal.throwIfAborted();
  const pcm = await decodeSource(input.source.bytes, input.source.name);
  signal.throwIfAborted();
  const analysis = analyse(pcm);
  const gender: Gender = input.vocalGender ?? (randomFor(input.seed, 'singer')() < 0.5 ? 'm' : 'f');
  // A prompt without words to sing still gets a vocal: lyrics written from the title and style.
  const given = parseLyrics(input.prompt).length > 0;
  const text = given
    ? input.prompt
    : writeLyrics(`${input.title} ${input.style}`, input.seed, [
        { kind: 'verse', lines: 4, syllables: 9 },
        { kind: 'chorus', lines: 4, syllables: 8 },
      ]);
  const vocal = singOverRecording(pcm, analysis, { seed: input.seed, text, gender });
  if (vocal.words.length === 0) {
    const seconds = (pcm.channels[0]!.length / pcm.sampleRate).toFixed(2);
    throw new EngineError(`the instrumental (${seconds} s) is too short for a sung phrase`);
  }
  const sheet = [
    readingOf(vocal),
    [`Lyrics (${given ? 'as given' : 'written from the title and style'}, sung):`, ...vocal.text.split('\n').map((line) => `  ${line}`)].join('\n'),
    `A ${gender === 'm' ? 'male' : 'female'} formant singing synthesiser, not a neural model: the melody is placed in the key and on the chords read from the upload, ` +
      'pronunciation follows English spelling rules, and the instrumental is kept unchanged under the voice.',
  ].join('\n\n');
  await onProgress({ stage: 'text', sheet });
  const frames = pcm.channels[0]!.length;
  const voice = renderVoice(vocal.notes, { sampleRate: pcm.sampleRate, frames, gender, seed: `${input.seed}:voice` });
  signal.throwIfAborted();
  addVoice(pcm.channels, voice, VOICE_TO_INSTRUMENTAL);
  limitTruePeak(pcm.channels, { sampleRate: pcm.sampleRate });
  const track = await finishTrack(context, pcm, { title: input.title, tags: input.style }, signal);
  track.sung = { text: vocal.text, words: vocal.words };
  await onProgress({ stage: 'first', track, index: 0 });
  return [track];
}
