import { createRequire } from 'node:module';
import { createMp3Encoder, type WasmMediaEncoder } from 'wasm-media-encoders';
import type { Mp3Bitrate } from './mp3.js';
import { frameLength, LAME_ENCODER_DELAY, MPEG1_FRAME_SAMPLES } from './mp3-frames.js';

/**
 * LAME, the MP3 encoder, in one of two builds configured alike (CBR, no Xing tag, no ID3,
 * LAME's default quality): the system's libmp3lame through reprise's own Node-API addon
 * (`native/lame`, built at install where libmp3lame-dev is present), or the WebAssembly build
 * from npm. The native one is about 1.6× as fast. Both are LAME 3.100 and, measured on x86-64,
 * write the same bytes for the same samples (a test holds them to it), so a track does not
 * depend on which build a process has. REPRISE_MP3_ENCODER chooses: `auto` (the default: native where built),
 * `native` or `wasm`; the worker passes it to each render thread with the engine's settings.
 */

export type Mp3EncoderName = 'native' | 'wasm';
export type Mp3EncoderChoice = 'auto' | Mp3EncoderName;

/** The addon's functions (native/lame/lame_binding.c). */
interface NativeLame {
  create(sampleRate: number, channels: number, kbps: number): object;
  encode(encoder: object, out: Uint8Array, left: Float32Array, right?: Float32Array): number;
  flush(encoder: object, out: Uint8Array): number;
  version(): string;
}

/** Relative to this module in src/ and in dist/ alike. */
const ADDON_PATH = '../../../native/lame/build/Release/reprise_lame.node';

let addon: { lame: NativeLame | null; why: string } | null = null;

function loadAddon(): { lame: NativeLame | null; why: string } {
  if (!addon) {
    try {
      addon = { lame: createRequire(import.meta.url)(ADDON_PATH) as NativeLame, why: '' };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      addon = { lame: null, why: code === 'MODULE_NOT_FOUND' ? 'not built (install libmp3lame-dev, then npm run build:native)' : String(error) };
    }
  }
  return addon;
}

/** The native LAME's version, or null with the reason it cannot be used. */
export function nativeLame(): { version: string } | { version: null; why: string } {
  const { lame, why } = loadAddon();
  return lame ? { version: lame.version() } : { version: null, why };
}

/** Which encoder a choice means here; `native` where it is not built is an error saying how to build it. */
export function resolveMp3Encoder(choice: Mp3EncoderChoice): Mp3EncoderName {
  if (choice === 'wasm') return 'wasm';
  const { lame, why } = loadAddon();
  if (lame) return 'native';
  if (choice === 'native') throw new Error(`REPRISE_MP3_ENCODER=native, but the native LAME addon is ${why}`);
  return 'wasm';
}

let chosen: Mp3EncoderName | null = null;

/** Sets the encoder of this thread (a render thread, from REPRISE_MP3_ENCODER); throws where it cannot be had. */
export function selectMp3Encoder(choice: Mp3EncoderChoice): Mp3EncoderName {
  chosen = resolveMp3Encoder(choice);
  return chosen;
}

/** The encoder this thread uses: as selected, else `auto`'s. */
export function mp3Encoder(): Mp3EncoderName {
  chosen ??= resolveMp3Encoder('auto');
  return chosen;
}

const CHUNK = MPEG1_FRAME_SAMPLES * 64;
/** LAME's bound on the bytes one call can produce for `frames` input frames. */
const outputBound = (frames: number) => Math.ceil(1.25 * frames) + 7200;

/**
 * The frames' bytes gathered in one buffer, sized for the whole stream up front (every CBR frame
 * at its padded length; the encoder's delay and flush add a few frames), with `reserve` free
 * bytes before them for a tag. Grown only if LAME ever wrote more.
 */
class FrameSink {
  private bytes: Uint8Array;
  private at: number;
  constructor(
    private readonly reserve: number,
    samples: number,
    sampleRate: number,
    kbps: number,
  ) {
    const frames = Math.ceil((samples + LAME_ENCODER_DELAY) / MPEG1_FRAME_SAMPLES) + 4;
    this.bytes = new Uint8Array(reserve + frames * frameLength(MPEG1_FRAME_SAMPLES, kbps, sampleRate, true));
    this.at = reserve;
  }
  write(piece: Uint8Array): void {
    if (this.at + piece.length > this.bytes.length) {
      const grown = new Uint8Array(2 * (this.at + piece.length));
      grown.set(this.bytes.subarray(0, this.at));
      this.bytes = grown;
    }
    this.bytes.set(piece, this.at);
    this.at += piece.length;
  }
  /** The frames: a view whose buffer has `reserve` free bytes before it. */
  frames(): Uint8Array {
    return this.bytes.subarray(this.reserve, this.at);
  }
}

/**
 * Encodes planar PCM (mono or stereo, an MP3 rate) with LAME: the bare frames, in one view whose
 * buffer has `reserve` free bytes before it (for a tag to be written in front without a copy).
 */
export async function encodeWithLame(
  channels: readonly Float32Array[],
  sampleRate: number,
  kbps: Mp3Bitrate,
  { encoder = mp3Encoder(), reserve = 0 }: { encoder?: Mp3EncoderName; reserve?: number } = {},
): Promise<Uint8Array> {
  const native = encoder === 'native' ? loadAddon().lame : null;
  if (encoder === 'native' && !native) throw new Error(`the native LAME addon is ${loadAddon().why}`);
  const sink = new FrameSink(reserve, channels[0]!.length, sampleRate, kbps);
  if (native) encodeNative(native, channels, sampleRate, kbps, sink);
  else await encodeWasm(channels, sampleRate, kbps, sink);
  return sink.frames();
}

function encodeNative(lame: NativeLame, channels: readonly Float32Array[], sampleRate: number, kbps: Mp3Bitrate, sink: FrameSink): void {
  const handle = lame.create(sampleRate, channels.length, kbps);
  const samples = channels[0]!.length;
  const out = new Uint8Array(outputBound(CHUNK));
  for (let offset = 0; offset < samples; offset += CHUNK) {
    const end = Math.min(samples, offset + CHUNK);
    const [left, right] = channels.map((channel) => channel.subarray(offset, end));
    const written = right ? lame.encode(handle, out, left!, right) : lame.encode(handle, out, left!);
    sink.write(out.subarray(0, written));
  }
  sink.write(out.subarray(0, lame.flush(handle, out)));
}

let sharedWasm: Promise<WasmMediaEncoder<'audio/mpeg'>> | null = null;

// Compiling the wasm LAME takes ~25 ms, so one encoder is kept. It is safe to share: an
// encode runs from configure() to finalize() without awaiting.
function wasmEncoder(): Promise<WasmMediaEncoder<'audio/mpeg'>> {
  sharedWasm ??= createMp3Encoder();
  return sharedWasm;
}

async function encodeWasm(channels: readonly Float32Array[], sampleRate: number, kbps: Mp3Bitrate, sink: FrameSink): Promise<void> {
  const samples = channels[0]!.length;
  const lame = await wasmEncoder();
  try {
    lame.configure({ sampleRate, channels: channels.length as 1 | 2, bitrate: kbps });
    const chunk = channels.map(() => new Float32Array(CHUNK));
    for (let offset = 0; offset < samples; offset += CHUNK) {
      const n = Math.min(CHUNK, samples - offset);
      const views = chunk.map((buffer, c) => {
        const input = channels[c]!;
        // Clamp here, once: everything upstream works in unclipped float.
        for (let i = 0; i < n; i++) {
          const v = input[offset + i]!;
          buffer[i] = Math.min(1, Math.max(-1, v));
        }
        return buffer.subarray(0, n);
      });
      sink.write(lame.encode(views)); // copied at once: the encoder reuses its output buffer
    }
    sink.write(lame.finalize());
  } catch (error) {
    sharedWasm = null; // its state is unknown now
    throw error;
  }
}
