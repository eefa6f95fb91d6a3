import { Chord, Note } from 'tonal';
import { beforeAll, describe, expect, it } from 'vitest';
import { barFeatures, readChords } from '../../src/audio/analysis/chords.js';
import { analyse } from '../../src/audio/analysis/index.js';
import { decodeAudio } from '../../src/audio/codecs/decode.js';
import { encodeWav } from '../../src/audio/codecs/wav.js';
import type { Pcm } from '../../src/audio/pcm.js';
import { type Arrangement, barAt, barSeconds, planArrangement } from '../../src/audio/synthesis/arrangement.js';
import { renderSong } from '../../src/audio/synthesis/synth.js';
import { cover } from '../../src/engine/procedural/cover.js';
import { DEFAULT_SCRATCH_DIR } from '../../src/engine/scratch.js';
import { type CoverInput, type GenerateProgress, type RenderedTrack, SourceAudioError } from '../../src/engine/types.js';

const live = () => new AbortController().signal;
const context = { modelName: 'reprise-procedural-1', fadeS: 0.75, scratchDir: DEFAULT_SCRATCH_DIR };
const RATE = 22_050;
const SECONDS = 30;
const BPM = 112;

/** The source: a pop song in C major rendered by our own synthesiser, so its tempo and every bar's chord are known. */
const plan = planArrangement({ seed: 'cover-source', texts: ['pop'], form: 'song', durationS: SECONDS, fixed: { bpm: BPM, tonic: 'C', mode: 'major' } });
/** The same song with another progression in the same key (each chord moved to another degree), for comparison. */
const MOVED: Record<string, string> = { C: 'F', G: 'Am', Am: 'Dm', F: 'G', Em: 'C', Dm: 'Em' };
const other: Arrangement = {
  ...plan,
  sections: plan.sections.map((section) => ({ ...section, chords: section.chords.map((c) => MOVED[c] ?? 'Bb') })),
};
const barS = barSeconds(plan);
const bars = Math.floor(SECONDS / barS);
/** The true bar grid of the source (bar 0 at 0 s). */
const grid = { starts: Array.from({ length: bars }, (_, k) => k * barS), endS: bars * barS };
const truthAt = (arrangement: Arrangement, bar: number) => {
  const { section, barInSection } = barAt(arrangement, bar);
  return section.chords[barInSection % section.chords.length]!;
};

const wavOf = (arrangement: Arrangement, seconds = SECONDS) => encodeWav({ sampleRate: RATE, channels: renderSong(arrangement, RATE, 1, seconds) });

function pearson(a: readonly number[], b: readonly number[]): number {
  const ma = a.reduce((s, v) => s + v, 0) / a.length;
  const mb = b.reduce((s, v) => s + v, 0) / b.length;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - ma) * (b[i]! - mb);
    da += (a[i]! - ma) ** 2;
    db += (b[i]! - mb) ** 2;
  }
  return da > 0 && db > 0 ? num / Math.sqrt(da * db) : 0;
}

/** Per-bar chroma correlation of two songs on the source's bar grid, averaged over the bars. */
function chordAgreement(a: Pcm, b: Pcm): number {
  const ca = barFeatures(a, grid).chroma;
  const cb = barFeatures(b, grid).chroma;
  return ca.reduce((sum, chroma, bar) => sum + pearson(chroma, cb[bar]!), 0) / ca.length;
}

const request = (bytes: Uint8Array, overrides: Partial<CoverInput> = {}): CoverInput => ({
  source: { bytes, name: 'song.wav' },
  prompt: 'a laid-back jazz version',
  style: 'jazz',
  title: 'Covered',
  negativeTags: '',
  instrumental: true,
  seed: 'cover-task',
  ...overrides,
});

const master = async (track: RenderedTrack): Promise<Pcm> => decodeAudio(track.master!);

describe('procedural engine: cover', () => {
  const source: Pcm = { sampleRate: RATE, channels: renderSong(plan, RATE, 1, SECONDS) };
  const sourceWav = encodeWav(source);
  let tracks: RenderedTrack[];
  let progress: GenerateProgress[];
  let takes: Pcm[];
  let otherTake: Pcm;

  beforeAll(async () => {
    progress = [];
    tracks = await cover(context, request(sourceWav), live(), async (p) => {
      progress.push(p);
    });
    takes = await Promise.all(tracks.map(master));
    const [otherTrack] = await cover(context, request(wavOf(other)), live(), async () => {});
    otherTake = await master(otherTrack!);
  });

  it('returns two takes of the source length, reporting the sheet once and then the first take', () => {
    expect(tracks).toHaveLength(2);
    for (const [index, take] of takes.entries()) {
      expect(take.channels[0]!.length).toBe(SECONDS * 44_100);
      expect(tracks[index]!.durationS).toBe(SECONDS);
      expect(tracks[index]!.sung).toBeUndefined();
    }
    expect(progress.map((p) => p.stage)).toEqual(['text', 'first']);
    const sheet = progress[0]!.stage === 'text' ? progress[0]!.sheet : '';
    expect(sheet).toMatch(/11[12]\.\d BPM/);
    // The key as the analyser reads it: C major, or its relative minor (same notes).
    expect(sheet).toMatch(/Key: (C major|A minor)/);
    const firstBars = Array.from({ length: 8 }, (_, bar) => truthAt(plan, bar)).join(' | ');
    expect(sheet).toContain(`1: | ${firstBars} |`);
    expect(sheet).toContain('algorithmic re-arrangement');
    expect(sheet).toContain('jazz');
    const first = progress[1]!;
    // Identity, not deep equality: a deep comparison of megabytes of audio takes minutes.
    expect(first.stage === 'first' && first.index === 0 && first.track === tracks[0]).toBe(true);
  });

  it("keeps the source's tempo within 2 %", () => {
    for (const take of takes) {
      const bpm = analyse(take).tempo?.bpm ?? 0;
      expect(Math.abs(bpm - BPM) / BPM).toBeLessThan(0.02);
    }
  });

  it("keeps the source's chords bar by bar, far closer than a cover of another progression", () => {
    const kept = takes.map((take) => chordAgreement(source, take));
    const moved = chordAgreement(source, otherTake);
    console.log(
      `per-bar chroma correlation with the source: takes ${kept.map((r) => r.toFixed(2)).join(', ')}; cover of another progression ${moved.toFixed(2)}`,
    );
    for (const r of kept) {
      expect(r).toBeGreaterThan(0.6);
      expect(r - moved).toBeGreaterThan(0.3);
    }
    // Read back from the cover, the chords are the source's (in the style's sevenths: C → Cmaj7, Am → Am7).
    const triad = (symbol: string) => {
      const chord = Chord.get(symbol);
      return `${Note.chroma(chord.tonic ?? '')}:${chord.intervals.includes('3M')}`;
    };
    const { chords } = readChords(takes[0]!, grid);
    const right = chords.filter((chord, bar) => chord && triad(chord.symbol) === triad(truthAt(plan, bar))).length;
    console.log(`chords read back from take 1: ${right}/${bars} bars are the source's`);
    expect(right / bars).toBeGreaterThanOrEqual(0.8);
  });

  it('plays the two takes differently', () => {
    const [a, b] = takes.map((t) => t.channels[0]!);
    let difference = 0;
    let level = 0;
    for (let i = 0; i < a!.length; i++) {
      difference += (a![i]! - b![i]!) ** 2;
      level += a![i]! ** 2;
    }
    expect(Math.sqrt(difference / level)).toBeGreaterThan(0.3);
  });

  it('is deterministic per seed', async () => {
    const short = encodeWav({ sampleRate: RATE, channels: renderSong(plan, RATE, 1, 8) });
    const run = (seed: string) => cover(context, request(short, { seed }), live(), async () => {});
    const [first, again, otherSeed] = [await run('s1'), await run('s1'), await run('s2')];
    expect(Buffer.from(first[0]!.mp3).equals(Buffer.from(again[0]!.mp3))).toBe(true);
    expect(Buffer.from(first[1]!.master!).equals(Buffer.from(again[1]!.master!))).toBe(true);
    expect(Buffer.from(first[0]!.master!).equals(Buffer.from(otherSeed[0]!.master!))).toBe(false);
  });

  it('refuses bytes that are not audio as a source error', async () => {
    const garbage = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251);
    await expect(cover(context, request(garbage), live(), async () => {})).rejects.toBeInstanceOf(SourceAudioError);
  });
});
