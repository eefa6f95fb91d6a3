import { describe, expect, it } from 'vitest';
import { encodeMp3 } from '../../src/audio/codecs/mp3.js';
import { decodeWav, encodeWav } from '../../src/audio/codecs/wav.js';
import type { Pcm } from '../../src/audio/pcm.js';
import { createEngine } from '../../src/engine/index.js';
import { type RenderedTrack, type SourceAudio, SourceAudioError } from '../../src/engine/types.js';
import { renderedSong } from '../audio/analysis/songs.js';
import { masterBytes } from '../helpers/audio.js';

/**
 * Sources a user may bring that are nothing like a well-made song (issue: silent, mono, 8 kHz,
 * 96 kHz, ten minutes long, clipped, without a beat): replace-section, extend and cover either
 * succeed as documented (a track of the right length, finite samples, the source's own samples
 * outside what was changed) or fail with an error naming the reason (SourceAudioError: the
 * task's code 400; EngineError: 531; both refunded). None crashes or hangs.
 */

const engine = createEngine('procedural');
const live = () => new AbortController().signal;
const S = 30;

function silence(seconds: number, sampleRate: number, channels: number): Pcm {
  return { sampleRate, channels: Array.from({ length: channels }, () => new Float32Array(Math.round(seconds * sampleRate))) };
}

/** A chord held throughout, swelling slowly: pitch content and no onsets at all. */
function drone(seconds: number, sampleRate: number): Pcm {
  const frames = Math.round(seconds * sampleRate);
  const channel = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    const t = i / sampleRate;
    const swell = 0.5 + 0.5 * Math.sin(2 * Math.PI * 0.05 * t);
    channel[i] = 0.15 * swell * (Math.sin(2 * Math.PI * 220 * t) + Math.sin(2 * Math.PI * 277.18 * t) + Math.sin(2 * Math.PI * 329.63 * t));
  }
  return { sampleRate, channels: [channel, channel.slice()] };
}

/** The song driven 12 dB into a hard clip: a flat top on every loud beat. */
function clipped(song: Pcm): Pcm {
  return { sampleRate: song.sampleRate, channels: song.channels.map((c) => c.map((v) => Math.max(-1, Math.min(1, 4 * v)))) };
}

const wav = (pcm: Pcm, name: string): SourceAudio => ({ bytes: encodeWav(pcm, { encoding: 'float32' }), name });

const SOURCES: Record<string, () => Promise<{ source: SourceAudio; pcm: Pcm }>> = {
  silent: async () => {
    const pcm = silence(S, 44_100, 2);
    return { source: wav(pcm, 'silent.wav'), pcm };
  },
  mono: async () => {
    const pcm = renderedSong('pop', 110, 'G', 'major', S, 44_100, 1);
    return { source: wav(pcm, 'mono.wav'), pcm };
  },
  '8 kHz': async () => {
    const pcm = renderedSong('rock', 96, 'E', 'minor', S, 8000, 1);
    return { source: wav(pcm, '8k.wav'), pcm };
  },
  '96 kHz': async () => {
    const pcm = renderedSong('funk', 104, 'A', 'minor', S, 96_000, 2);
    return { source: wav(pcm, '96k.wav'), pcm };
  },
  clipped: async () => {
    const pcm = clipped(renderedSong('electronic', 126, 'F', 'minor', S));
    return { source: wav(pcm, 'clipped.wav'), pcm };
  },
  'no beat': async () => {
    const pcm = drone(S, 44_100);
    return { source: wav(pcm, 'drone.wav'), pcm };
  },
};

/** Every sample of every channel is a number (no NaN, no Infinity). */
const finite = (pcm: Pcm) => pcm.channels.every((c) => c.every((v) => Number.isFinite(v)));
const seconds = (pcm: Pcm) => pcm.channels[0]!.length / pcm.sampleRate;

function expectSound(track: RenderedTrack, lengthS: number): Pcm {
  const out = decodeWav(masterBytes(track));
  expect(finite(out)).toBe(true);
  expect(Math.abs(seconds(out) - lengthS)).toBeLessThan(0.05);
  expect(track.mp3.byteLength).toBeGreaterThan(1000);
  return out;
}

describe('operations on awkward sources', () => {
  for (const [name, make] of Object.entries(SOURCES)) {
    it(`${name}: replace-section, extend and cover finish, or refuse with a reason`, async () => {
      const { source, pcm } = await make();
      const replaced = await engine.replaceSection(
        { source, startS: 10, endS: 20, prompt: 'a new part', tags: 'jazz', negativeTags: '', title: 'Awkward', seed: name },
        live(),
      );
      const out = expectSound(replaced, seconds(pcm));
      // Outside what was changed (the range moved onto beats, plus the crossfades) the song is the source.
      const { startS, endS } = replaced.appliedRange!;
      const keep = Math.floor((startS - 1) * out.sampleRate);
      if (out.sampleRate === pcm.sampleRate && out.channels.length === pcm.channels.length) {
        expect(out.channels.every((c, i) => c.subarray(0, keep).every((v, k) => v === pcm.channels[i]![k]))).toBe(true);
      }
      expect(endS - startS).toBeGreaterThanOrEqual(6);

      const [extended] = await engine.extend!(
        { source, continueAtS: 25, addS: 10, prompt: '', style: 'folk', title: 'Awkward', negativeTags: '', instrumental: true, seed: name },
        live(),
        async () => {},
      );
      expect(extended!.durationS).toBeGreaterThan(30);
      expectSound(extended!, extended!.durationS);

      const takes = await engine.cover!(
        { source, prompt: '', style: 'soul', title: 'Awkward', negativeTags: '', instrumental: true, seed: name },
        live(),
        async () => {},
      );
      expect(takes).toHaveLength(2);
      for (const take of takes) expectSound(take, take.durationS);
      expect(Math.abs(takes[0]!.durationS - seconds(pcm))).toBeLessThan(0.05);
    });
  }

  it('ten minutes: a section replaced and the song extended', { timeout: 240_000 }, async () => {
    // A minute of song played ten times over: a real song's content at a real song's length, rendered once.
    const minute = renderedSong('pop', 120, 'C', 'major', 60);
    const pcm: Pcm = {
      sampleRate: minute.sampleRate,
      channels: minute.channels.map((c) => {
        const long = new Float32Array(c.length * 10);
        for (let k = 0; k < 10; k++) long.set(c, k * c.length);
        return long;
      }),
    };
    const source: SourceAudio = { bytes: await encodeMp3(pcm), name: 'long.mp3' };
    const replaced = await engine.replaceSection(
      { source, startS: 400, endS: 430, prompt: 'a bridge', tags: 'rock', negativeTags: '', title: 'Long', seed: 'long' },
      live(),
    );
    expectSound(replaced, 600);
    const [extended] = await engine.extend!(
      { source, continueAtS: 590, addS: 20, prompt: '', style: 'rock', title: 'Long', negativeTags: '', instrumental: true, seed: 'long' },
      live(),
      async () => {},
    );
    expect(extended!.durationS).toBeGreaterThan(600);
  });

  it('a section past the end of what decodes is refused with a reason, not a crash', async () => {
    const { source } = await SOURCES.silent!();
    await expect(
      engine.replaceSection({ source, startS: 40, endS: 50, prompt: 'x', tags: 'jazz', negativeTags: '', title: 'x', seed: 'x' }, live()),
    ).rejects.toThrow(SourceAudioError);
  });
});
