import { AudioFormatError } from './errors.js';
import { readMp3Layout } from './mp3-frames.js';
import { isWav, readWavLayout } from './wav.js';

/**
 * Format and duration of an MP3 or WAV file without decoding it: the API checks
 * `infillEndS` against the duration on its hot path. The format comes from the
 * content (RIFF/WAVE header, ID3 tag, MPEG frame sync), never from a file name.
 * The duration is exactly what `decodeAudio` will return (LAME delay and padding
 * excluded) for well-formed files.
 */
export interface AudioProbe {
  format: 'mp3' | 'wav';
  durationS: number;
  sampleRate: number;
  channels: number;
}

export type AudioFormat = AudioProbe['format'];

export function probeAudio(bytes: Uint8Array): AudioProbe {
  if (bytes.length < 12) throw new AudioFormatError('the file is too short to be audio');
  if (isWav(bytes)) {
    const wav = readWavLayout(bytes);
    return { format: 'wav', durationS: wav.frames / wav.sampleRate, sampleRate: wav.sampleRate, channels: wav.channels };
  }
  const mp3 = readMp3Layout(bytes);
  if (!mp3) throw new AudioFormatError(`${describe(bytes)} is neither MP3 nor WAV`);
  if (mp3.samples === 0) throw new AudioFormatError('the MP3 file has no audio frames');
  return { format: 'mp3', durationS: mp3.samples / mp3.header.sampleRate, sampleRate: mp3.header.sampleRate, channels: mp3.header.channels };
}

/** Names what the bytes look like, so the error is useful ("a FLAC file is neither MP3 nor WAV"). */
function describe(bytes: Uint8Array): string {
  const head = String.fromCharCode(...bytes.subarray(0, 12));
  if (head.startsWith('fLaC')) return 'a FLAC file';
  if (head.startsWith('OggS')) return 'an Ogg file';
  if (head.slice(4, 8) === 'ftyp') return 'an MP4/M4A file';
  if (head.startsWith('RIFF')) return `a RIFF ${head.slice(8, 12)} file`;
  if (head.startsWith('FORM')) return 'an AIFF file';
  if (head.startsWith('%PDF')) return 'a PDF document';
  if (head.startsWith('\x89PNG') || head.startsWith('\xff\xd8\xff')) return 'an image';
  if (head.trimStart().startsWith('<') || head.trimStart().startsWith('{')) return 'a text document';
  return 'the content';
}
