#!/usr/bin/env node
/**
 * End-to-end check of a real ACE-Step 1.5 API server through reprise's own adapter (from
 * `dist/`, so run `npm run build` first). For an operator with a GPU host:
 *
 *   ACESTEP_URL=http://gpu-host:8001 ACESTEP_API_KEY=… node packages/server/scripts/check-acestep.mjs
 *
 * Steps: the start-up check (/health, /query_result, /v1/models); a 10 s instrumental generate
 * (two songs, one task with batch_size 2, or two if the server lowers the batch); a
 * replace-section of seconds 4–8 of the first song. With ACESTEP_CHECK_VOCALS=1 also a
 * non-custom sung generate (lyrics written by reprise) and, where a base model is loaded,
 * add-vocals over the first song. Each step prints what it asked and what came back; the
 * first failure prints the adapter's message and exits with code 1.
 */
import { checkAcestep, createAcestepEngine, UnsupportedOperation } from '../dist/engine/index.js';

const url = process.env.ACESTEP_URL;
if (!url) {
  console.error('Set ACESTEP_URL (e.g. http://gpu-host:8001) and, if the server has one, ACESTEP_API_KEY.');
  process.exit(2);
}
const options = {
  url,
  apiKey: process.env.ACESTEP_API_KEY || null,
  timeoutMs: Number(process.env.ACESTEP_TIMEOUT_S ?? 600) * 1000,
  pollMs: 2000,
  requestTimeoutMs: 120_000,
};
const engine = createAcestepEngine(options);
const signal = new AbortController().signal;

/** Prints the engine's `text` stage: the task sent, its caption and lyrics. */
const onProgress = async (progress) => {
  if (progress.stage === 'text') console.log(`  ${progress.sheet.replace(/\n/g, '\n  ')}`);
};

async function step(name, run) {
  const started = Date.now();
  process.stdout.write(`- ${name}\n`);
  try {
    const result = await run();
    console.log(`  ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return result;
  } catch (error) {
    console.error(`  FAILED: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    process.exit(1);
  }
}

/** A track's length and model, and whether the length is the one asked for. */
function describeTrack(track, expectedS) {
  const ok = Math.abs(track.durationS - expectedS) < 1e-6;
  console.log(`  ${track.durationS.toFixed(2)} s (${ok ? 'as asked' : `asked ${expectedS} s`}), model ${track.modelName}, MP3 ${track.mp3.length} bytes`);
  if (!ok) throw new Error(`a track of ${track.durationS} s where ${expectedS} s were asked`);
}

await step(`start-up check of ${url}`, async () => {
  const check = await checkAcestep(options, 30_000);
  console.log(`  [${check.level}] ${check.message}`);
  if (check.level !== 'info') throw new Error('the server is not ready for tasks');
});

const songs = await step('generate: 2 instrumental songs of 10 s (text2music)', async () => {
  const input = { prompt: '', style: 'calm ambient, soft pads', title: 'Check', negativeTags: '', instrumental: true, durationS: 10, seed: 'check-1' };
  const tracks = await engine.generate(input, signal, onProgress);
  for (const track of tracks) describeTrack(track, 10);
  if (tracks.length !== 2) throw new Error(`${tracks.length} songs where 2 were asked`);
  return tracks;
});

await step('replace-section: seconds 4–8 of the first song (repaint)', async () => {
  const input = {
    source: { bytes: songs[0].master ?? songs[0].mp3, name: 'first.wav' },
    startS: 4,
    endS: 8,
    prompt: '[Instrumental]',
    tags: 'calm ambient, warm piano',
    negativeTags: '',
    title: 'Check',
    seed: 'check-2',
  };
  describeTrack(await engine.replaceSection(input, signal), songs[0].durationS);
});

if (process.env.ACESTEP_CHECK_VOCALS === '1') {
  await step('generate: 2 sung songs of 20 s, non-custom (lyrics written by reprise)', async () => {
    const input = { prompt: 'a song about the sea at night', style: '', title: 'Sea', negativeTags: '', instrumental: false, durationS: 20, seed: 'check-3' };
    for (const track of await engine.generate(input, signal, onProgress)) describeTrack(track, 20);
  });
  await step('add-vocals over the first song (lego, needs a base model)', async () => {
    const input = { source: { bytes: songs[0].master ?? songs[0].mp3 }, prompt: 'hold on to the night', style: 'soul', title: 'Voice', negativeTags: '', seed: 'check-4' };
    try {
      for (const track of await engine.addVocals(input, signal, onProgress)) describeTrack(track, songs[0].durationS);
    } catch (error) {
      if (!(error instanceof UnsupportedOperation)) throw error;
      console.log(`  skipped: ${error.message}`);
    }
  });
}
console.log('ACE-Step answered every step as reprise expects.');
