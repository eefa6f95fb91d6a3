import type { PersonaFingerprint } from '../engine/types.js';
import { ApiError, invalid } from '../errors.js';
import { newTaskId } from '../ids.js';
import type { BlobStore } from '../storage/index.js';
import type { Db, Store } from '../store/index.js';
import { chargeNow } from './charge.js';
import { asBody, type Body, optionalString, requiredString } from './fields.js';
import { masterBlobOf } from './tracks.js';

/**
 * Generate Persona (KIE `POST /api/v1/generate/generate-persona`, synchronous): a fingerprint
 * measured on a stretch of one of the caller's tracks — its tempo and key, its style words, its
 * singer — stored and named, for `personaId` on the song-making routes.
 */
export interface PersonaRequest {
  taskId: string;
  audioId: string;
  name: string;
  description: string;
  vocalStart: number;
  vocalEnd: number;
  style: string;
}

export const PERSONA_MIN_S = 10;
export const PERSONA_MAX_S = 30;

function optionalNumber(body: Body, field: string, fallback: number): number {
  // KIE's own schema spells the start field with a leading space; clients copying it send that key.
  const value = body[field] ?? body[` ${field}`];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(field, 'must be a number of seconds');
  if (value < 0) throw invalid(field, 'must be at least 0');
  return value;
}

export function parsePersona(raw: unknown): PersonaRequest {
  const body = asBody(raw);
  const request = {
    taskId: requiredString(body, 'taskId', 64),
    audioId: requiredString(body, 'audioId', 64),
    name: requiredString(body, 'name', 100),
    description: requiredString(body, 'description', 1000),
    vocalStart: optionalNumber(body, 'vocalStart', 0),
    vocalEnd: optionalNumber(body, 'vocalEnd', 30),
    style: optionalString(body, 'style', 200) ?? '',
  };
  const length = Math.round((request.vocalEnd - request.vocalStart) * 100) / 100;
  if (length < PERSONA_MIN_S || length > PERSONA_MAX_S) {
    throw invalid('vocalEnd', `vocalEnd - vocalStart (${length} s) must be between ${PERSONA_MIN_S} and ${PERSONA_MAX_S} seconds`);
  }
  return request;
}

/** How far either side of the measured tempo a persona's songs may go. */
const TEMPO_SPREAD = 0.03;
/** Below this confidence a key reading is not kept: a persona should not impose a guess. */
const KEY_CONFIDENCE = 0.5;

export interface PersonaContext {
  db: Db;
  blobs: BlobStore;
}

/** A persona request that passed every rule: the track it measures, found. */
export interface AdmittedPersona extends PersonaRequest {
  trackId: string;
}

/** Every rule, checked before anything is written: the task, the track, the window, one persona per track. */
export async function admitPersona(db: Db, accountId: string, raw: unknown): Promise<AdmittedPersona> {
  const request = parsePersona(raw);
  const task = await db.selectFrom('tasks').select(['status', 'model']).where('id', '=', request.taskId).where('account_id', '=', accountId).executeTakeFirst();
  if (!task) throw new ApiError(422, 'Record does not exist');
  if (task.status !== 'SUCCESS') throw invalid('taskId', `task ${request.taskId} has not succeeded (status ${task.status})`);
  if (task.model === 'V3_5') throw invalid('taskId', 'personas cannot be made from V3_5 tracks');
  const track = await db
    .selectFrom('tracks')
    .innerJoin('files', 'files.id', 'tracks.audio_file')
    .select(['tracks.id', 'tracks.duration', 'files.expires_at'])
    .where('tracks.task_id', '=', request.taskId)
    .where('tracks.id', '=', request.audioId)
    .executeTakeFirst();
  if (!track) throw invalid('audioId', `is not a track of task ${request.taskId}`);
  if (Number(track.expires_at) <= Date.now()) throw invalid('audioId', 'the track has expired and was deleted');
  if (request.vocalEnd > track.duration + 0.005) throw invalid('vocalEnd', `must not exceed the track's duration (${track.duration} s)`);
  if (await personaOf(db, request.audioId)) throw new ApiError(409, 'Persona already exists for this music');
  return { ...request, trackId: track.id };
}

const personaOf = async (db: Db, audioId: string) => db.selectFrom('personas').select('id').where('audio_id', '=', audioId).executeTakeFirst();

/** Measures the track's window and stores the persona; a track taken meanwhile is a 409. */
export async function makePersona(
  context: PersonaContext,
  accountId: string,
  request: AdmittedPersona,
): Promise<{ personaId: string; name: string; description: string }> {
  const { db, blobs } = context;
  const track = await db
    .selectFrom('tracks')
    .innerJoin('files', 'files.id', 'tracks.audio_file')
    .innerJoin('tasks', 'tasks.id', 'tracks.task_id')
    .select(['tracks.id', 'tracks.tags', 'tracks.sung', 'files.blob_key', 'tasks.input'])
    .where('tracks.id', '=', request.trackId)
    .executeTakeFirstOrThrow();
  const master = await masterBlobOf(db, track.id);
  const blob = master && (await blobs.size(master)) !== null ? master : track.blob_key;
  if ((await blobs.size(blob)) === null) throw invalid('audioId', 'the track has expired and was deleted');
  // Loaded here, not with the module: the serving process holds the audio library only once it needs it.
  const { AudioFormatError, analyse, decodeAudio, VOCAL_RANGES } = await import('../audio/index.js');
  let pcm: Awaited<ReturnType<typeof decodeAudio>>;
  try {
    pcm = await decodeAudio(await blobs.get(blob));
  } catch (error) {
    if (error instanceof AudioFormatError) throw invalid('audioId', `the track's audio cannot be read (${error.message})`);
    throw error;
  }
  const analysis = analyse(pcm, { fromS: request.vocalStart, toS: request.vocalEnd });
  const gender = (JSON.parse(track.input) as { vocalGender?: 'm' | 'f' }).vocalGender;
  const fingerprint: PersonaFingerprint = {
    tempoBpm: analysis.tempo ? [Math.round(analysis.tempo.bpm * (1 - TEMPO_SPREAD)), Math.round(analysis.tempo.bpm * (1 + TEMPO_SPREAD))] : [90, 120],
    key: analysis.key && analysis.key.confidence >= KEY_CONFIDENCE ? `${analysis.key.tonic} ${analysis.key.mode}` : null,
    styleWords: [request.style, track.tags]
      .flatMap((text) => text.split(','))
      .map((word) => word.trim())
      .filter((word, i, all) => word !== '' && all.indexOf(word) === i),
    // The singer's range is the one reprise's renderer sings in for that voice: known, not guessed.
    voice: track.sung && gender ? { gender, lowMidi: VOCAL_RANGES[gender].low, highMidi: VOCAL_RANGES[gender].high } : null,
  };
  const personaId = newTaskId();
  try {
    await db
      .insertInto('personas')
      .values({
        id: personaId,
        account_id: accountId,
        audio_id: request.audioId,
        task_id: request.taskId,
        name: request.name,
        description: request.description,
        fingerprint: JSON.stringify(fingerprint),
        created_at: Date.now(),
      })
      .execute();
  } catch (error) {
    // Two requests for one track at once: the unique audio_id lets one through.
    if (await personaOf(db, request.audioId)) throw new ApiError(409, 'Persona already exists for this music');
    throw error;
  }
  return { personaId, name: request.name, description: request.description };
}

/** The dedicated route: admitted, charged (free by default, as on KIE), made, in the request. */
export async function createPersona(
  context: PersonaContext & { store: Store; price: number },
  accountId: string,
  raw: unknown,
): Promise<{ personaId: string; name: string; description: string }> {
  const request = await admitPersona(context.db, accountId, raw);
  await chargeNow(context.store, accountId, context.price, `persona:${request.audioId}`, 'a persona');
  return makePersona(context, accountId, request);
}
