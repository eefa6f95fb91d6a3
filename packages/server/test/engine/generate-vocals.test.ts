import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { planSongs } from '../../src/audio/synthesis/arrangement.js';
import { renderSong } from '../../src/audio/synthesis/synth.js';
import { finishTrack, type ProceduralContext, SONG_RATE } from '../../src/engine/procedural/common.js';
import { generate } from '../../src/engine/procedural/generate.js';
import { DEFAULT_SCRATCH_DIR } from '../../src/engine/scratch.js';
import type { GenerateInput, GenerateProgress } from '../../src/engine/types.js';

const CONTEXT: ProceduralContext = { modelName: 'test-model', fadeS: 0.75, scratchDir: DEFAULT_SCRATCH_DIR };
const live = () => new AbortController().signal;
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const BASE: GenerateInput = {
  prompt: 'a night drive through neon city lights',
  style: 'synthwave',
  title: 'Neon',
  negativeTags: '',
  instrumental: true,
  durationS: 10,
  seed: 'gv-1',
};
/** The instrumental pair, rendered once for the tests that compare with it. */
const instrumentalPair = () => (pair ??= generate(CONTEXT, BASE, live(), async () => {}));
let pair: ReturnType<typeof generate> | undefined;

describe('procedural engine: generate with and without vocals', () => {
  it('leaves instrumental songs exactly as the instrumental renderer makes them', async () => {
    const tracks = await instrumentalPair();
    const plans = planSongs({ seed: BASE.seed, texts: [BASE.style, BASE.prompt, BASE.title], negative: '', durationS: BASE.durationS });
    for (const [index, plan] of plans.entries()) {
      const channels = renderSong(plan, SONG_RATE, 2, BASE.durationS);
      const expected = await finishTrack(CONTEXT, { sampleRate: SONG_RATE, channels }, { title: BASE.title, tags: BASE.style, variant: String(index) }, live());
      expect(sha(tracks[index]!.mp3)).toBe(sha(expected.mp3));
      expect(sha(tracks[index]!.master!)).toBe(sha(expected.master!));
      expect(tracks[index]!.sung).toBeUndefined();
    }
  }, 60_000);

  it('sings written lyrics over both songs, with every word timed inside the song, and puts them on the sheet', async () => {
    const events: GenerateProgress[] = [];
    const tracks = await generate(CONTEXT, { ...BASE, instrumental: false }, live(), async (progress) => {
      events.push(progress);
    });
    const sheet = events[0]!.stage === 'text' ? events[0]!.sheet : '';
    expect(events.map((e) => e.stage)).toEqual(['text', 'first']);
    for (const track of tracks) {
      const sung = track.sung!;
      expect(sung.words.length).toBeGreaterThan(5);
      expect(sung.text).toMatch(/^\[(Verse|Chorus|Bridge)\]/);
      for (const line of sung.text.split('\n').filter((l) => l && !l.startsWith('['))) expect(sheet).toContain(line);
      expect(
        sung.text
          .split(/\s+/)
          .filter((w) => !w.startsWith('[') && w)
          .join(' '),
      ).toBe(sung.words.map((w) => w.word).join(' '));
      let previous = 0;
      for (const word of sung.words) {
        expect(word.startS).toBeGreaterThanOrEqual(previous);
        expect(word.endS).toBeGreaterThan(word.startS);
        expect(word.endS).toBeLessThanOrEqual(track.durationS);
        previous = word.endS;
      }
      expect(track.durationS).toBe(BASE.durationS);
    }
    expect(sheet).toMatch(/formant singing synthesiser/);
    expect(sheet).toMatch(/neon|city|night|drive|lights/i);
    // The voice changes the audio: the same songs without it are other bytes.
    const instrumental = await instrumentalPair();
    expect(sha(instrumental[0]!.mp3)).not.toBe(sha(tracks[0]!.mp3));
  }, 60_000);

  it('sings the lyrics given in custom mode, in order, and is deterministic', async () => {
    const lyrics = '[Verse]\nCity lights are calling me\nI keep on driving through the night';
    const input: GenerateInput = { ...BASE, instrumental: false, lyrics, vocalGender: 'm', durationS: 9 };
    const [a] = await generate(CONTEXT, input, live(), async () => {});
    const [b] = await generate(CONTEXT, input, live(), async () => {});
    expect(a!.sung!.words.map((w) => w.word).join(' ')).toBe('City lights are calling me I keep on driving through the night');
    expect(a!.sung!.text).toBe(lyrics);
    expect(sha(a!.mp3)).toBe(sha(b!.mp3));
  }, 60_000);
});
