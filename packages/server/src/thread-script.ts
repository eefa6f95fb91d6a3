import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';

/**
 * A worker thread's compiled script, named beside the module that starts it: there when running
 * the build, under dist/ instead of src/ when running from sources (tests).
 */
export function threadScript(sibling: URL): URL {
  if (fs.existsSync(fileURLToPath(sibling))) return sibling;
  return new URL(sibling.href.replace(/\/src\/(?!.*\/src\/)/, '/dist/'));
}

/**
 * Limits for a thread that works on songs (rendering, videos). Left alone, V8 grows a thread's
 * young generation to two 16 MB semi-spaces under allocation, all of it resident for the thread's
 * life. Such a thread's bulk is typed arrays outside that heap, released by hand (memory.ts), and
 * its small objects are few: a small young generation costs a few more scavenges and saves some
 * 5–20 MB of a job's peak (bench/engine, docs/music-video.md). 2 MB rather than 8: another 5–12 MB
 * less at the peak (split_stem 247–252 → 243 MB, add-instrumental 225 → 213 MB) at no cost in
 * time measurable between runs.
 */
export const MEDIA_THREAD_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 2 };
