import type { PersonaFingerprint } from '../../engine/types.js';
import { ApiError, invalid } from '../../errors.js';
import type { Executor } from '../../store/index.js';
import { type Body, optionalEnum, optionalHttpUrl, optionalString, optionalUnit, requiredBoolean, requiredString } from '../fields.js';

/**
 * Rules the music kinds share (kie-catalogue.md §2–§9): models and their length limits, the
 * callback URL KIE requires, custom and non-custom mode, and personas.
 */

/** KIE's models: `V3_5` is gone from its enums but its own examples still send it, so it is accepted. */
export const MODELS = ['V3_5', 'V4', 'V4_5', 'V4_5PLUS', 'V4_5ALL', 'V5', 'V5_5', 'V6'] as const;
export type Model = (typeof MODELS)[number];

export interface Limits {
  prompt: number;
  style: number;
  title: number;
}

/** Custom-mode limits per model (§2). */
export function limitsFor(model: Model): Limits {
  if (model === 'V3_5' || model === 'V4') return { prompt: 3000, style: 200, title: 80 };
  return { prompt: 5000, style: 1000, title: model === 'V4_5ALL' ? 80 : 100 };
}

/** Non-custom mode: one description of the song. */
export const NON_CUSTOM_PROMPT_MAX = 500;
/** Uploaded songs KIE accepts for cover and extend: at most 8 minutes. */
export const UPLOAD_MAX_S = 8 * 60;

export function model(body: Body, fallback: Model, allowed: readonly Model[] = MODELS): Model {
  return optionalEnum(body, 'model', allowed) ?? fallback;
}

/** KIE refuses a song-making request without a callback URL, in these words (recorded). */
export function requiredCallbackUrl(body: Body): string {
  const url = optionalHttpUrl(body, 'callBackUrl');
  if (url === undefined) throw new ApiError(422, 'Please enter callBackUrl.');
  return url;
}

/** The optional knobs KIE accepts on song-making routes: recorded with the task, used where the engine can. */
export interface Knobs {
  negativeTags: string;
  vocalGender: 'm' | 'f' | undefined;
  styleWeight: number | undefined;
  weirdnessConstraint: number | undefined;
  audioWeight: number | undefined;
}

export function knobs(body: Body): Knobs {
  return {
    negativeTags: optionalString(body, 'negativeTags', 1000) ?? '',
    vocalGender: optionalEnum(body, 'vocalGender', ['m', 'f'] as const),
    styleWeight: optionalUnit(body, 'styleWeight'),
    weirdnessConstraint: optionalUnit(body, 'weirdnessConstraint'),
    audioWeight: optionalUnit(body, 'audioWeight'),
  };
}

export interface SongText {
  customMode: boolean;
  instrumental: boolean;
  prompt: string;
  style: string;
  title: string;
}

/**
 * Custom mode needs `style` and `title`, and `prompt` (the lyrics) unless instrumental;
 * non-custom mode needs only `prompt`, a description of at most 500 characters.
 */
export function songText(body: Body, limits: Limits, options: { titleMax?: number; instrumental?: boolean } = {}): SongText {
  const customMode = requiredBoolean(body, 'customMode');
  const instrumental = options.instrumental ?? requiredBoolean(body, 'instrumental');
  const titleMax = options.titleMax ?? limits.title;
  if (customMode) {
    return {
      customMode,
      instrumental,
      style: requiredString(body, 'style', limits.style),
      title: requiredString(body, 'title', titleMax),
      prompt: instrumental ? (optionalString(body, 'prompt', limits.prompt) ?? '') : requiredString(body, 'prompt', limits.prompt),
    };
  }
  return {
    customMode,
    instrumental,
    prompt: requiredString(body, 'prompt', NON_CUSTOM_PROMPT_MAX),
    style: optionalString(body, 'style', limits.style) ?? '',
    title: optionalString(body, 'title', titleMax) ?? '',
  };
}

/** Seconds: a finite number. */
export function seconds(body: Body, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(field, 'must be a number of seconds');
  return value;
}

/** `continueAt`: where the new music starts, inside the source. */
export function checkContinueAt(continueAt: number, durationS: number): void {
  const rounded = Math.round(durationS * 100) / 100;
  if (!(continueAt > 0)) throw invalid('continueAt', 'must be greater than 0');
  if (continueAt >= rounded) throw invalid('continueAt', `must be less than the source duration (${rounded} s)`);
}

export function checkUploadLength(field: string, durationS: number): void {
  if (durationS > UPLOAD_MAX_S) throw invalid(field, `the audio is ${Math.round(durationS)} s long; at most ${UPLOAD_MAX_S / 60} minutes are accepted`);
}

/** `personaId` (custom mode only, as KIE says): a persona of this account, as its fingerprint. */
export async function persona(db: Executor, accountId: string, body: Body, customMode: boolean): Promise<PersonaFingerprint | undefined> {
  const id = optionalString(body, 'personaId', 64);
  if (id === undefined || id === '') return undefined;
  if (!customMode) throw invalid('personaId', 'is only used in custom mode (customMode: true)');
  const row = await db.selectFrom('personas').select('fingerprint').where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  if (!row) throw invalid('personaId', `no persona ${id} for this account`);
  return JSON.parse(row.fingerprint) as PersonaFingerprint;
}

/**
 * A persona applied through the words every engine reads: its instruments and genre, its key
 * ("in D minor") and the middle of its tempo range ("96 bpm"), after the request's own style.
 */
export function styleWithPersona(style: string, fingerprint: PersonaFingerprint | undefined): string {
  if (!fingerprint) return style;
  const words = [...fingerprint.styleWords];
  if (fingerprint.key) words.push(`in ${fingerprint.key}`);
  words.push(`${Math.round((fingerprint.tempoBpm[0] + fingerprint.tempoBpm[1]) / 2)} bpm`);
  return [style, ...words].filter((part) => part.trim() !== '').join(', ');
}
