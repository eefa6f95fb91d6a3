import { createRequire } from 'node:module';
import { MusicVideoError } from './errors.js';
import type { I420 } from './yuv.js';

/**
 * H.264 encoding with the `h264-mp4-encoder` package: minih264 (a small Baseline-profile
 * encoder) compiled to WebAssembly, so it runs in any Node on any platform with nothing to
 * install but the npm package, and its output plays in every browser. It writes an MP4 of the
 * video alone into its in-memory file system; mux.ts takes the coded frames out of that and
 * writes the final file with the audio.
 *
 * The package was built for browsers and plain scripts: loading it in Node adds process-wide
 * `uncaughtException` and `unhandledRejection` listeners (Emscripten's defaults) that would
 * change how the whole service handles errors. They are removed again right after loading.
 */

/** The part of the package's encoder object used here. */
interface WasmEncoder {
  outputFilename: string;
  width: number;
  height: number;
  frameRate: number;
  kbps: number;
  speed: number;
  quantizationParameter: number;
  groupOfPictures: number;
  temporalDenoise: boolean;
  initialize(): void;
  addFrameYuv(buffer: Uint8Array): void;
  finalize(): void;
  delete(): void;
  FS: { readFile(path: string): Uint8Array; unlink(path: string): void };
}

interface WasmModule {
  createH264MP4Encoder(): Promise<WasmEncoder>;
}

export interface H264Options {
  width: number;
  height: number;
  fps: number;
  /** Constant quantiser, 10 (best) to 51 (smallest). */
  qp: number;
  /** Frames from one key frame to the next: where a player can start decoding when seeking. */
  keyframeEvery: number;
  /** minih264's speed, 0 (best compression) to 10 (fastest). */
  speed: number;
}

/** Frames go in one by one; `finish` gives the MP4 of the video alone. `close` frees the encoder in any case. */
export interface H264Stream {
  add(frame: I420): void;
  finish(): Uint8Array;
  close(): void;
}

let loaded: WasmModule | null = null;

/** Runs `load`, then removes any process-wide error listener it added. */
function withoutNewErrorListeners<T>(load: () => T): T {
  const uncaught = new Set(process.listeners('uncaughtException'));
  const rejected = new Set(process.listeners('unhandledRejection'));
  try {
    return load();
  } finally {
    for (const listener of process.listeners('uncaughtException')) if (!uncaught.has(listener)) process.removeListener('uncaughtException', listener);
    for (const listener of process.listeners('unhandledRejection')) if (!rejected.has(listener)) process.removeListener('unhandledRejection', listener);
  }
}

const require = createRequire(import.meta.url);

function loadModule(): WasmModule {
  loaded ??= withoutNewErrorListeners(() => require('h264-mp4-encoder') as WasmModule);
  return loaded;
}

/**
 * After a WebAssembly trap (an abort inside the encoder) the module's instance is unusable, and
 * it is shared by every encoder of this thread: the next video loads a fresh one.
 */
function afterTrap<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof Error && error.name === 'RuntimeError') {
      loaded = null;
      delete require.cache[require.resolve('h264-mp4-encoder')];
    }
    throw error;
  }
}

/** Each stream writes its own file in the module's (shared, in-memory) file system. */
let streams = 0;

export async function openH264(options: H264Options): Promise<H264Stream> {
  const { width, height } = options;
  if (width % 16 !== 0 || height % 16 !== 0) {
    // minih264 pads to whole macroblocks itself, but the MP4 it writes then says the padded size.
    throw new MusicVideoError('video', `the picture must be a multiple of 16 pixels each way, not ${width}×${height}`);
  }
  let encoder: WasmEncoder;
  try {
    encoder = await loadModule().createH264MP4Encoder();
  } catch (error) {
    throw new MusicVideoError('video', `the H.264 encoder cannot start: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const file = `reprise-video-${process.pid}-${++streams}.mp4`;
  encoder.outputFilename = file;
  encoder.width = width;
  encoder.height = height;
  encoder.frameRate = options.fps;
  encoder.kbps = 0; // constant quantiser: the picture is mostly still, a bitrate target would waste bits on it or starve the bars
  encoder.quantizationParameter = options.qp;
  encoder.speed = options.speed;
  encoder.groupOfPictures = options.keyframeEvery;
  encoder.temporalDenoise = false;
  encoder.initialize();
  const size = width * height * 1.5;
  let open = true;
  return {
    add(frame) {
      if (frame.width !== width || frame.height !== height || frame.data.length !== size) {
        throw new MusicVideoError('video', `a ${frame.width}×${frame.height} frame cannot go into a ${width}×${height} video`);
      }
      afterTrap(() => encoder.addFrameYuv(frame.data));
    },
    finish() {
      return afterTrap(() => {
        encoder.finalize();
        return encoder.FS.readFile(file);
      });
    },
    close() {
      if (!open) return;
      open = false;
      try {
        encoder.FS.unlink(file);
        encoder.delete();
      } catch {
        // Not written yet (closed before finishing), or the module has trapped: nothing more to free.
      }
    },
  };
}
