import { parseLyrics } from '../audio/synthesis/lyrics.js';
import type { SungLyrics } from '../engine/types.js';
import { invalid } from '../errors.js';
import { newTaskId } from '../ids.js';
import type { BlobStore } from '../storage/index.js';
import type { Executor, Store } from '../store/index.js';
import { chargeNow } from './charge.js';
import { asBody } from './fields.js';
import { findFinishedTrack, parseTrackRef, readTrackAudio, type TrackRef } from './track-ref.js';

/**
 * Get Timestamped Lyrics (KIE `POST /api/v1/generate/get-timestamped-lyrics`, synchronous;
 * kie-catalogue §13). reprise does not align anything: the renderer records when it sings every
 * word (RenderedTrack.sung, the tracks' `sung` column), so the times of a track reprise sang are
 * the renderer's own, exact. An instrumental song answers as KIE does for one, without words.
 * `waveformData` is measured on the track's audio: its master where it has one, else its MP3.
 */

/** One word as KIE shapes it: `word` carries the section tag before the first word of a section ("[Verse]\nWaggin'"). */
export interface AlignedWord {
  word: string;
  success: boolean;
  startS: number;
  endS: number;
  palign: number;
}

/** The answer's `data` (KIE's keys, in KIE's order). */
export interface TimestampedLyrics {
  alignedWords: AlignedWord[];
  waveformData: number[];
  hootCer: number;
  isStreamed: boolean;
}

/** Points of `waveformData`: a fixed number, so a player draws any song in the same width; ~0.1 s each for a two-minute song. */
export const WAVEFORM_POINTS = 1000;

export const parseTimestampedLyrics = (raw: unknown): TrackRef => parseTrackRef(asBody(raw));

/** A request that passed every rule: the track found, and its words with their times (null: an instrumental). */
export interface AdmittedTimestamps extends TrackRef {
  trackId: string;
  audioBlob: string;
  sung: SungLyrics | null;
}

/**
 * Every rule, checked before anything is charged: the task and track (tasks/track-ref.ts), and
 * that the track's words have times to give. Tracks reprise sang carry them; a song made
 * instrumental has no words; any other track (a source's voice kept by an edit, or an engine that
 * does not report its words) would need an alignment reprise does not fake, so it is refused.
 */
export async function admitTimestampedLyrics(db: Executor, accountId: string, raw: unknown): Promise<AdmittedTimestamps> {
  const ref = parseTimestampedLyrics(raw);
  const found = await findFinishedTrack(db, accountId, ref);
  const sung = found.track.sung ? (JSON.parse(found.track.sung) as SungLyrics) : null;
  const instrumental = found.taskInput.kind === 'generate' && found.taskInput.instrumental === true;
  if (!sung && !instrumental) {
    throw invalid(
      'audioId',
      `no word times were recorded for track ${ref.audioId}: they are known for songs reprise sang itself (generate and add-vocals with vocals), and an instrumental song has none`,
    );
  }
  return { ...ref, trackId: found.track.id, audioBlob: found.audioBlob, sung };
}

/**
 * What precedes a sung word in `word`: the section tag before the first word of a tagged section,
 * a line break before the first word of any other line. Read from the sung text, whose words are
 * the sung words in order (audio/synthesis/melody.ts planVocal); if they ever differ, no word
 * gets a prefix rather than a wrong one.
 */
function prefixesOf(sung: SungLyrics): string[] {
  const flat: Array<{ text: string; prefix: string }> = [];
  for (const section of parseLyrics(sung.text)) {
    section.lines.forEach((line, l) => {
      line.words.forEach((word, w) => {
        const prefix = w > 0 ? '' : l > 0 ? '\n' : section.tag !== null ? `[${section.tag}]\n` : '';
        flat.push({ text: word.text, prefix });
      });
    });
  }
  const matches = flat.length === sung.words.length && flat.every((entry, i) => entry.text === sung.words[i]!.word);
  return matches ? flat.map((entry) => entry.prefix) : [];
}

/**
 * The sung words with the renderer's times, unrounded. Every word was placed, not found, so each
 * is `success: true` with full confidence (`palign` 1).
 */
export function alignedWordsOf(sung: SungLyrics): AlignedWord[] {
  const prefixes = prefixesOf(sung);
  return sung.words.map((word, i) => ({ word: `${prefixes[i] ?? ''}${word.word}`, success: true, startS: word.startS, endS: word.endS, palign: 1 }));
}

/** The answer for an admitted request. `hootCer`, the alignment's character error rate, is 0: the times are the renderer's own. */
export async function timestampedLyricsOf(context: { db: Executor; blobs: BlobStore }, admitted: AdmittedTimestamps): Promise<TimestampedLyrics> {
  const audio = await readTrackAudio(context, admitted.trackId, admitted.audioBlob);
  if (!audio) throw invalid('audioId', 'the track has expired and was deleted');
  // Loaded here, not with the module: the serving process holds the audio library only once it needs it.
  const { AudioFormatError, decodeAudio, waveformPeaks } = await import('../audio/index.js');
  let channels: Float32Array[];
  try {
    channels = (await decodeAudio(audio.bytes)).channels;
  } catch (error) {
    if (error instanceof AudioFormatError) throw invalid('audioId', `the track's audio cannot be read (${error.message})`);
    throw error;
  }
  return {
    alignedWords: admitted.sung ? alignedWordsOf(admitted.sung) : [],
    waveformData: waveformPeaks(channels, WAVEFORM_POINTS),
    hootCer: 0,
    isStreamed: false,
  };
}

/** The dedicated route: admitted, answered, then charged (so a refusal or a failure costs nothing). */
export async function timestampedLyricsRequest(
  context: { store: Store; blobs: BlobStore; price: number },
  accountId: string,
  raw: unknown,
): Promise<TimestampedLyrics> {
  const db = context.store.db;
  const admitted = await admitTimestampedLyrics(db, accountId, raw);
  const answer = await timestampedLyricsOf({ db, blobs: context.blobs }, admitted);
  await chargeNow(context.store, accountId, context.price, newTaskId(), 'timestamped lyrics');
  return answer;
}
