/**
 * Upload a song, replace seconds START–END with something new, and wait for
 * the result (callbacks are optional: this waits by events and polling).
 *
 *   REPRISE_BASE_URL=http://127.0.0.1:3000 REPRISE_API_KEY=rk_… \
 *     npx tsx examples/replace-section.ts my-song.wav 12 24 "jazz piano" Jazz
 *
 * Prints one JSON line with the task's outcome; exits 1 if it failed.
 */
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { Client } from '@reprise/sdk';

const [file, start = '12', end = '24', prompt = 'jazz piano', tags = 'Jazz'] = process.argv.slice(2);
const apiKey = process.env.REPRISE_API_KEY;
if (!file || !apiKey) {
  console.error('usage: REPRISE_API_KEY=… [REPRISE_BASE_URL=…] replace-section.ts <song.mp3|wav> [start] [end] [prompt] [tags]');
  process.exit(2);
}

const client = new Client({ apiKey, baseUrl: process.env.REPRISE_BASE_URL ?? 'http://127.0.0.1:3000' });
// openAsBlob streams the file from disk instead of loading it into memory.
const upload = await client.uploadFile({ file: await openAsBlob(file), uploadPath: 'songs', fileName: basename(file) });
const { taskId } = await client.replaceSection({
  uploadUrl: upload.downloadUrl,
  prompt,
  tags,
  title: `${basename(file)} (seconds ${start}–${end} replaced)`,
  infillStartS: Number(start),
  infillEndS: Number(end),
});
console.error(`task ${taskId} submitted, waiting…`);
const task = await client.waitForTask(taskId, { timeoutMs: 10 * 60_000 });
const [track] = task.tracks;
console.log(JSON.stringify({ taskId, status: task.status, via: task.via, audioUrl: track?.audioUrl ?? null, duration: track?.duration ?? null, error: task.errorMessage }));
process.exitCode = task.succeeded ? 0 : 1;
