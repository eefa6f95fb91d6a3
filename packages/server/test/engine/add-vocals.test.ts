import { beforeAll, describe, expect, it } from 'vitest';
import { decodeWav, encodeWav } from '../../src/audio/codecs/wav.js';
import { correlation } from '../../src/audio/mixing/seams.js';
import { planArrangement } from '../../src/audio/synthesis/arrangement.js';
import { scaleOf } from '../../src/audio/synthesis/melody.js';
import { renderSong } from '../../src/audio/synthesis/synth.js';
import { addVocals } from '../../src/engine/procedural/add-vocals.js';
import type { ProceduralContext } from '../../src/engine/procedural/common.js';
import { DEFAULT_SCRATCH_DIR } from '../../src/engine/scratch.js';
import { type AddVocalsInput, type GenerateProgress, type RenderedTrack, SourceAudioError } from '../../src/engine/types.js';

const RATE = 44_100;
const SECONDS = 20;
const CONTEXT: ProceduralContext = { modelName: 'test-model', fadeS: 0.75, scratchDir: DEFAULT_SCRATCH_DIR };
const live = () => new AbortController().signal;
const LYRICS =
  '[Verse]\nMorning trains are rolling down the line\nEvery window full of summer shine\n[Chorus]\nSing it out, sing it to the sky\nHold the light and never say goodbye';

/** A D major instrumental of ours at 120 BPM: tempo and key are known. */
function instrumental(): Float32Array[] {
  const plan = planArrangement({ seed: 'av-source', texts: ['pop, piano'], form: 'song', durationS: SECONDS, fixed: { bpm: 120, tonic: 'D', mode: 'major' } });
  return renderSong(plan, RATE, 2, SECONDS);
}

/** Fundamental by normalised autocorrelation (the voice alone, 70–700 Hz), or null for unvoiced frames. */
function pitchOf(x: Float32Array, from: number, size: number): number | null {
  let best = 0;
  let bestLag = 0;
  for (let lag = Math.floor(RATE / 700); lag <= Math.floor(RATE / 70); lag++) {
    let num = 0;
    let a = 0;
    let b = 0;
    for (let i = 0; i < size; i++) {
      num += x[from + i]! * x[from + i + lag]!;
      a += x[from + i]! ** 2;
      b += x[from + i + lag]! ** 2;
    }
    const r = num / Math.sqrt(a * b || 1);
    if (r > best) {
      best = r;
      bestLag = lag;
    }
  }
  if (best < 0.8) return null;
  // The shortest lag near the best: an octave below is as periodic.
  for (let k = 4; k >= 2; k--) {
    const sub = Math.round(bestLag / k);
    let num = 0;
    let a = 0;
    let b = 0;
    for (let i = 0; i < size; i++) {
      num += x[from + i]! * x[from + i + sub]!;
      a += x[from + i]! ** 2;
      b += x[from + i + sub]! ** 2;
    }
    if (sub >= RATE / 700 && num / Math.sqrt(a * b || 1) > best - 0.05) return RATE / sub;
  }
  return RATE / bestLag;
}

describe('procedural engine: add-vocals', () => {
  let source: Float32Array[];
  let track: RenderedTrack;
  let out: Float32Array[];
  const events: GenerateProgress[] = [];
  const input = (bytes: Uint8Array, prompt = LYRICS): AddVocalsInput => ({
    source: { bytes, name: 'band.wav' },
    prompt,
    style: 'pop',
    title: 'Trains',
    negativeTags: '',
    vocalGender: 'f',
    seed: 'av-1',
  });

  beforeAll(async () => {
    source = instrumental();
    const bytes = encodeWav({ sampleRate: RATE, channels: source }, { encoding: 'float32' });
    const tracks = await addVocals(CONTEXT, input(bytes), live(), async (progress) => {
      events.push(progress);
    });
    expect(tracks).toHaveLength(1);
    track = tracks[0]!;
    out = decodeWav(track.master!).channels;
  }, 60_000);

  it('returns one track of the source’s length, reporting what it read and the lyrics first', () => {
    expect(track.durationS).toBe(SECONDS);
    expect(out[0]!.length).toBe(source[0]!.length);
    expect(events.map((e) => e.stage)).toEqual(['text', 'first']);
    const sheet = events[0]!.stage === 'text' ? events[0]!.sheet : '';
    expect(sheet).toMatch(/1(19|20|21)\.\d BPM/);
    expect(sheet).toMatch(/D major|B minor/);
    expect(sheet).toContain('Morning trains are rolling down the line');
    expect(events[1]!.stage === 'first' && events[1]!.track).toBe(track);
  });

  it('keeps the instrumental: correlation with the source, and only the voice added where it sings', () => {
    for (const c of [0, 1]) {
      const r = correlation([out[c]!], 0, [source[c]!], 0, source[c]!.length);
      console.info(`channel ${c}: correlation with the source ${r.toFixed(3)}`);
      expect(r).toBeGreaterThanOrEqual(0.8);
    }
    const words = track.sung!.words;
    // Outside the sung words (with room for the breath and the limiter's reach), the output is the source.
    const difference = (fromS: number, toS: number) => {
      let sum = 0;
      for (let i = Math.round(fromS * RATE); i < Math.round(toS * RATE); i++) sum += (out[0]![i]! - source[0]![i]!) ** 2;
      return Math.sqrt(sum / Math.max(1, Math.round((toS - fromS) * RATE)));
    };
    const firstS = words[0]!.startS;
    const lastS = words.at(-1)!.endS;
    expect(difference(0, firstS - 0.5)).toBeLessThan(1e-3);
    if (lastS + 0.2 < SECONDS) expect(difference(lastS + 0.2, SECONDS)).toBeLessThan(1e-3);
    expect(difference(firstS, lastS)).toBeGreaterThan(0.03);
  });

  it('sings every word of the prompt inside the track, on the beat grid, in the key', () => {
    const sung = track.sung!;
    expect(sung.words.map((w) => w.word)).toEqual(
      LYRICS.split('\n')
        .filter((l) => !l.startsWith('['))
        .join(' ')
        .split(' '),
    );
    expect(sung.text).toBe(LYRICS.replace('\n[Chorus]', '\n\n[Chorus]'));
    for (const word of sung.words) {
      expect(word.startS).toBeGreaterThanOrEqual(0);
      expect(word.endS).toBeLessThanOrEqual(SECONDS);
      expect(word.endS).toBeGreaterThan(word.startS);
    }
    // Each phrase starts on a downbeat of the 120 BPM grid (2 s bars), give or take the beat tracker's error.
    const starts = [0, 7, 13, 21].map((i) => sung.words[i]!.startS);
    for (const s of starts) expect(Math.abs(s / 2 - Math.round(s / 2)) * 2, `${s}`).toBeLessThan(0.06);
    // The voice is what was added: its pitch, frame by frame, in D major's scale.
    const voice = out[0]!.map((v, i) => v - source[0]![i]!);
    const scale = new Set(scaleOf(2, 'major'));
    let voiced = 0;
    let inKey = 0;
    for (let from = Math.round(sung.words[0]!.startS * RATE); from + 2048 < Math.round(sung.words.at(-1)!.endS * RATE); from += 882) {
      const f = pitchOf(voice, from, 1024);
      if (f === null) continue;
      voiced++;
      const pc = ((Math.round(69 + 12 * Math.log2(f / 440)) % 12) + 12) % 12;
      if (scale.has(pc)) inKey++;
    }
    console.info(`voice: ${voiced} voiced frames, ${((inKey / voiced) * 100).toFixed(1)} % in D major`);
    expect(voiced).toBeGreaterThan(100);
    expect(inKey / voiced).toBeGreaterThanOrEqual(0.9);
  });

  it('sings the words of a prompt without tags, and refuses unreadable audio as a source error', async () => {
    const short = instrumental().map((c) => c.slice(0, 8 * RATE));
    const bytes = encodeWav({ sampleRate: RATE, channels: short });
    const [plain] = await addVocals(CONTEXT, input(bytes, 'we were dancing in the kitchen light'), live(), async () => {});
    expect(plain!.sung!.words.map((w) => w.word)).toEqual(['we', 'were', 'dancing', 'in', 'the', 'kitchen', 'light']);
    await expect(addVocals(CONTEXT, input(new TextEncoder().encode('not audio at all, really')), live(), async () => {})).rejects.toThrow(SourceAudioError);
  }, 30_000);
});
