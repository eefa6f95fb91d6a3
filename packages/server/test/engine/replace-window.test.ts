import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readMp3Layout } from '../../src/audio/codecs/mp3-frames.js';
import { decodeWav } from '../../src/audio/codecs/wav.js';
import { createProceduralEngine, type RenderedTrack, type ReplaceSectionInput } from '../../src/engine/index.js';
import type { ProceduralContext } from '../../src/engine/procedural/common.js';
import { replaceInWholeSong, replaceInWindow } from '../../src/engine/procedural/replace.js';
import { buildWav } from '../audio/wav-fixtures.js';
import { masterBytes, replaceRequest } from '../helpers/audio.js';

/**
 * Replace-section on an MP3 decodes only the section and the music around it, and writes the
 * master to a scratch file as it goes (engine/procedural/replace.ts). Held here to the edit of
 * the whole song in memory: the same MP3, master and cover, byte for byte, wherever the section
 * lies; no file left behind when it fails or is cancelled; other sources edited whole.
 */

const live = () => new AbortController().signal;
const SONG_S = 60;

const request = (bytes: Uint8Array, startS: number, endS: number, seed = 'window'): ReplaceSectionInput =>
  replaceRequest(bytes, startS, endS, seed, 'song.mp3');

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe('replace-section in a window of an MP3', () => {
  const scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reprise-window-'));
  const context: ProceduralContext = { modelName: 'test', fadeS: 0.75, scratchDir };
  const engine = createProceduralEngine({ scratchDir });
  let song: RenderedTrack;
  beforeAll(async () => {
    const tracks = await engine.generate(
      { prompt: 'late night', style: 'funk, bass, drums', title: 'Window', negativeTags: '', instrumental: true, durationS: SONG_S, seed: 'window-song' },
      live(),
      async () => {},
    );
    song = tracks[0]!;
  }, 120_000);

  const scratchFiles = () => fs.readdirSync(scratchDir);

  it.each([
    [25, 31],
    [3, 12],
    [44, 56.5],
    [14.2, 44.2],
  ])(
    'gives the whole-song edit byte for byte (section %s–%s s), with the master in a scratch file',
    async (startS, endS) => {
      const layout = readMp3Layout(song.mp3)!;
      const windowed = await replaceInWindow(context, request(song.mp3, startS, endS), layout, live());
      expect(windowed).not.toBeNull();
      expect(windowed!.master).toBeUndefined();
      expect(windowed!.masterFile!.bytes).toBe(fs.statSync(windowed!.masterFile!.path).size);
      const whole = await replaceInWholeSong(context, request(song.mp3, startS, endS), live());
      expect(sameBytes(windowed!.mp3, whole.mp3)).toBe(true);
      expect(sameBytes(masterBytes(windowed!), masterBytes(whole))).toBe(true);
      expect(sameBytes(windowed!.cover, whole.cover)).toBe(true);
      expect(windowed!.appliedRange).toEqual(whole.appliedRange);
      expect(windowed!.crossfades).toEqual(whole.crossfades);
      expect(scratchFiles()).toEqual([]);
    },
    60_000,
  );

  it('is what the engine does for an MP3 section clear of the ends; sections at an end and WAV sources are edited whole', async () => {
    const middle = await engine.replaceSection(request(song.mp3, 20, 30), live());
    expect(middle.masterFile).toBeDefined();
    masterBytes(middle);
    const atStart = await engine.replaceSection(request(song.mp3, 0, 8), live());
    expect(atStart.masterFile).toBeUndefined();
    expect(atStart.master).toBeDefined();
    const atEnd = await engine.replaceSection(request(song.mp3, 50, SONG_S), live());
    expect(atEnd.masterFile).toBeUndefined();
    const wav = buildWav({ bits: 16, sampleRate: 44_100, channels: decodeWav(song.master!).channels });
    const fromWav = await engine.replaceSection({ ...request(wav, 20, 30), source: { bytes: wav, name: 'song.wav' } }, live());
    expect(fromWav.masterFile).toBeUndefined();
    expect(scratchFiles()).toEqual([]);
  }, 90_000);

  it('leaves no scratch file when it is cancelled or fails mid-way', async () => {
    const layout = readMp3Layout(song.mp3)!;
    const controller = new AbortController();
    const edit = replaceInWindow(context, request(song.mp3, 25, 31), layout, controller.signal);
    // The master file exists from the first decoded frames on: cancel once it does.
    while (scratchFiles().length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    controller.abort();
    await expect(edit).rejects.toThrow();
    expect(scratchFiles()).toEqual([]);
    // A truncated MP3 (its tag promises more frames than it holds): the window, where it is taken, still gives the whole edit; nothing is left.
    const truncated = song.mp3.subarray(0, Math.floor(song.mp3.byteLength * 0.9));
    const windowed = await replaceInWindow(context, request(truncated, 20, 30), readMp3Layout(truncated)!, live());
    const whole = await replaceInWholeSong(context, request(truncated, 20, 30), live());
    if (windowed) expect(sameBytes(masterBytes(windowed), masterBytes(whole))).toBe(true);
    expect(scratchFiles()).toEqual([]);
  }, 60_000);
});
