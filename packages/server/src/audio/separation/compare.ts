import { streamMp3 } from '../codecs/mp3.js';
import { probeAudio } from '../codecs/probe.js';
import { decodeWav, readWavLayout } from '../codecs/wav.js';

/**
 * Whether some audio file holds the same song as some channels, told as a signal-to-noise ratio
 * in dB (the channels as the signal, the difference as the noise), read piece by piece: a whole
 * song is never decoded beside the channels. A lossless copy scores +∞; an MP3 of them what its
 * coding changed; another song about 0 dB or less. Null when the two cannot be compared sample
 * for sample (another rate, another length, or channels that do not match).
 */
export async function matchAudio(channels: readonly Float32Array[], sampleRate: number, bytes: Uint8Array): Promise<number | null> {
  const frames = channels[0]?.length ?? 0;
  const probe = probeAudio(bytes);
  if (probe.sampleRate !== sampleRate) return null;
  const tally = { signal: 0, noise: 0 };
  const add = (piece: readonly Float32Array[], at: number) => {
    for (const [c, reference] of channels.entries()) {
      // A mono file is compared with every channel.
      const data = piece[Math.min(c, piece.length - 1)]!;
      const n = Math.min(data.length, frames - at);
      for (let i = 0; i < n; i++) {
        const x = reference[at + i]!;
        const d = x - data[i]!;
        tally.signal += x * x;
        tally.noise += d * d;
      }
    }
  };
  if (probe.format === 'wav') {
    const layout = readWavLayout(bytes);
    if (layout.frames !== frames || layout.channels > channels.length) return null;
    if (layout.float && layout.channels === channels.length) addFloatWav(bytes, layout.dataOffset, channels, tally);
    else add(decodeWav(bytes).channels, 0);
  } else {
    const stream = await streamMp3(bytes, add);
    if (stream.length !== frames || stream.layout.header.channels > channels.length) return null;
  }
  if (tally.noise === 0) return Number.POSITIVE_INFINITY;
  return 10 * Math.log10((tally.signal + 1e-30) / tally.noise);
}

/** The float WAV case (a master) read in place: samples interleaved after `dataOffset`. */
function addFloatWav(bytes: Uint8Array, dataOffset: number, channels: readonly Float32Array[], tally: { signal: number; noise: number }): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = channels.length;
  const frames = channels[0]!.length;
  for (let c = 0; c < count; c++) {
    const reference = channels[c]!;
    for (let i = 0, at = dataOffset + 4 * c; i < frames; i++, at += 4 * count) {
      const x = reference[i]!;
      const d = x - view.getFloat32(at, true);
      tally.signal += x * x;
      tally.noise += d * d;
    }
  }
}
