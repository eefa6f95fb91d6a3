import { MPEGDecoder } from 'mpg123-decoder';

/**
 * mpg123 (the `mpg123-decoder` package's wasm build) driven directly, one instance per thread.
 *
 * The package's `decode()` copies every piece of audio twice into new arrays (a slice per read,
 * then a join per call), and each `new MPEGDecoder` is a wasm instance of its own, whose memory
 * lives until a garbage collection finds it. Decoding a 3-minute song that way left some 30 MB of
 * dead arrays and a dead instance per decode (an edit decodes up to five times), which is what a
 * render thread's peak memory was made of. Here one instance is kept, its mpg123 handle is made
 * anew for each stream (so every stream starts from the same state as a fresh decoder), and the
 * samples are read straight out of the wasm output buffer into the caller's arrays.
 *
 * It uses the instance's internals (the wasm exports and buffers the package's own `decode()`
 * uses), so the package is pinned to one version, and a test decodes alike through the public
 * `decode()` and through this and requires the same samples.
 */

/** The parts of an `MPEGDecoder` (mpg123-decoder 1.0.3) that its `decode()` uses. */
interface Buffer<T> {
  ptr: number;
  len: number;
  buf: T;
}
interface Mpg123Internals {
  ready: Promise<void>;
  _decoder: number;
  _input: Buffer<Uint8Array>;
  _output: Buffer<Float32Array>;
  _samplesDecodedPtr: Buffer<Uint32Array>;
  _sampleRatePtr: Buffer<Uint32Array>;
  _errorStringPtr: Buffer<Uint32Array>;
  _common: {
    wasm: {
      mpeg_frame_decoder_create(handlePtr: number, gapless: number): number;
      mpeg_frame_decoder_destroy(handle: number): void;
      mpeg_decoder_feed(handle: number, input: number, length: number): number;
      mpeg_decoder_read(handle: number, output: number, capacity: number, samples: number, sampleRate: number, errorString: number): number;
      free(ptr: number): void;
    };
    allocateTypedArray<T>(length: number, type: { new (buffer: ArrayBufferLike, offset: number, length: number): T }): Buffer<T>;
  };
}

/** mpg123's return codes that are not errors. */
const NEED_MORE = -10;
const NEW_FORMAT = -11;
/** Reads that fail one after another before the rest of a fed chunk is given up (mpg123 resyncs on the next feed). */
const MAX_READ_ERRORS = 64;

/** One decoded piece: channel 0 and 1 as views into the decoder's output (valid only during the call). */
export type Mpg123Piece = (left: Float32Array, right: Float32Array, sampleRate: number) => void;

let shared: Promise<{ decoder: Mpg123Internals; handleSlot: Buffer<Uint32Array> }> | null = null;

function instance(): Promise<{ decoder: Mpg123Internals; handleSlot: Buffer<Uint32Array> }> {
  shared ??= (async () => {
    const decoder = new MPEGDecoder({ enableGapless: false }) as unknown as Mpg123Internals;
    await decoder.ready;
    return { decoder, handleSlot: decoder._common.allocateTypedArray(1, Uint32Array) };
  })();
  shared.catch(() => {
    shared = null;
  });
  return shared;
}

/**
 * Decodes MPEG audio bytes from a fresh decoder state (no gapless trimming), handing each
 * piece to `onPiece` as it comes; mpg123 always puts out two channels (a mono stream's are
 * copies). Synchronous once the instance is ready, so uses of the one instance never interleave.
 * Returns the number of samples per channel decoded: all, or, where `enough` is given, at least
 * that many (it stops feeding the decoder once they are out).
 */
export async function decodeMpeg(bytes: Uint8Array, onPiece: Mpg123Piece, enough = Number.POSITIVE_INFINITY): Promise<number> {
  const { decoder, handleSlot } = await instance();
  const wasm = decoder._common.wasm;
  // A new mpg123 handle in the same instance: the state of a fresh decoder, without a new wasm memory.
  wasm.mpeg_frame_decoder_destroy(decoder._decoder);
  const error = wasm.mpeg_frame_decoder_create(handleSlot.ptr, 0);
  if (error) {
    shared = null;
    throw new Error(`mpg123 could not start (error ${error})`);
  }
  decoder._decoder = handleSlot.buf[0]!;
  const { _input: input, _output: output, _samplesDecodedPtr: decoded, _sampleRatePtr: rate, _errorStringPtr: errorString } = decoder;
  let total = 0;
  for (let at = 0; at < bytes.length && total < enough; at += input.len) {
    const chunk = bytes.subarray(at, at + input.len);
    input.buf.set(chunk);
    if (wasm.mpeg_decoder_feed(decoder._decoder, input.ptr, chunk.length) === NEED_MORE) continue;
    for (let errors = 0; errors < MAX_READ_ERRORS; ) {
      decoded.buf[0] = 0;
      const code = wasm.mpeg_decoder_read(decoder._decoder, output.ptr, output.len, decoded.ptr, rate.ptr, errorString.ptr);
      const samples = decoded.buf[0]!;
      if (samples > 0) {
        onPiece(output.buf.subarray(0, samples), output.buf.subarray(samples, 2 * samples), rate.buf[0]!);
        total += samples;
      }
      if (code === NEED_MORE) break;
      if (code !== 0 && code !== NEW_FORMAT) errors++;
      else errors = 0;
    }
  }
  return total;
}
