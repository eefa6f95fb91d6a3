/** Hand-built WAV files in the layouts the decoder must accept (and some it must refuse). */
export interface WavSpec {
  sampleRate?: number;
  channels: Float32Array[];
  bits: 8 | 16 | 24 | 32;
  float?: boolean;
  extensible?: boolean;
  /** Extra chunks before `data` (e.g. LIST), to check they are skipped. */
  junkChunk?: boolean;
  /** Override the format tag (e.g. 2 = ADPCM) to test refusals. */
  formatTag?: number;
}

/** Integer sample for a float in [-1, 1] at the given depth (how the fixture quantises). */
export function quantise(value: number, bits: 8 | 16 | 24 | 32): number {
  const scale = 2 ** (bits - 1);
  return Math.max(-scale, Math.min(scale - 1, Math.round(value * scale)));
}

export function buildWav(spec: WavSpec): Uint8Array {
  const sampleRate = spec.sampleRate ?? 44_100;
  const count = spec.channels.length;
  const frames = spec.channels[0]!.length;
  const bytesPerSample = spec.bits / 8;
  const fmtSize = spec.extensible ? 40 : 16;
  const junk = spec.junkChunk ? 8 + 5 + 1 : 0; // odd size, padded
  const dataBytes = frames * count * bytesPerSample;
  const bytes = new Uint8Array(12 + 8 + fmtSize + junk + 8 + dataBytes);
  const view = new DataView(bytes.buffer);
  const text = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) bytes[at + i] = s.charCodeAt(i);
  };
  text(0, 'RIFF');
  view.setUint32(4, bytes.length - 8, true);
  text(8, 'WAVE');
  text(12, 'fmt ');
  view.setUint32(16, fmtSize, true);
  const tag = spec.formatTag ?? (spec.float ? 3 : 1);
  view.setUint16(20, spec.extensible ? 0xfffe : tag, true);
  view.setUint16(22, count, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * count * bytesPerSample, true);
  view.setUint16(32, count * bytesPerSample, true);
  view.setUint16(34, spec.bits, true);
  let at = 36;
  if (spec.extensible) {
    view.setUint16(36, 22, true);
    view.setUint16(38, spec.bits, true);
    view.setUint32(40, count === 2 ? 3 : 4, true);
    view.setUint16(44, tag, true);
    bytes.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 46);
    at = 60;
  }
  if (spec.junkChunk) {
    text(at, 'LIST');
    view.setUint32(at + 4, 5, true);
    text(at + 8, 'hello');
    at += junk;
  }
  text(at, 'data');
  view.setUint32(at + 4, dataBytes, true);
  at += 8;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < count; c++) {
      const v = spec.channels[c]![i]!;
      if (spec.float) view.setFloat32(at, v, true);
      else if (spec.bits === 8) view.setUint8(at, quantise(v, 8) + 128);
      else if (spec.bits === 16) view.setInt16(at, quantise(v, 16), true);
      else if (spec.bits === 24) {
        const q = quantise(v, 24);
        view.setUint8(at, q & 0xff);
        view.setUint8(at + 1, (q >> 8) & 0xff);
        view.setUint8(at + 2, (q >> 16) & 0xff);
      } else view.setInt32(at, quantise(v, 32), true);
      at += bytesPerSample;
    }
  }
  return bytes;
}

/** A test signal: a sine per channel at different pitches, with a little of a second tone. */
export function tones(seconds: number, sampleRate: number, channels: number, amplitude = 0.5): Float32Array[] {
  const frames = Math.round(seconds * sampleRate);
  return Array.from({ length: channels }, (_, c) => {
    const out = new Float32Array(frames);
    const f = 220 * (c + 1);
    for (let i = 0; i < frames; i++)
      out[i] = amplitude * (0.8 * Math.sin((2 * Math.PI * f * i) / sampleRate) + 0.2 * Math.sin((2 * Math.PI * 3.01 * f * i) / sampleRate));
    return out;
  });
}
