import { invalid } from '../errors.js';
import { asBody, optionalHttpUrl, optionalString, requiredSeconds, requiredString } from './fields.js';
import { type Knobs, knobs, limitsFor, type Model, model, requiredCallbackUrl, type SongText, songText } from './kinds/rules.js';

export type ReplaceSource = { mode: 'track'; taskId: string; audioId: string } | { mode: 'url'; uploadUrl: string; model: string | undefined };

export interface ReplaceSectionRequest {
  source: ReplaceSource;
  prompt: string;
  tags: string;
  title: string;
  negativeTags: string;
  infillStartS: number;
  infillEndS: number;
  fullLyrics: string | undefined;
  callBackUrl: string | undefined;
}

export const SECTION_MIN_S = 6;
export const SECTION_MAX_S = 60;

/** SPEC §2: everything that can be checked without looking at the source. */
export function parseReplaceSection(raw: unknown): ReplaceSectionRequest {
  const body = asBody(raw);
  const hasTrack = (body.taskId ?? null) !== null || (body.audioId ?? null) !== null;
  const hasUrl = (body.uploadUrl ?? null) !== null;
  if (hasTrack && hasUrl) throw invalid('uploadUrl', 'cannot be combined with taskId/audioId: choose one source mode');
  let source: ReplaceSource;
  if (hasUrl) {
    const uploadUrl = optionalHttpUrl(body, 'uploadUrl');
    if (!uploadUrl) throw invalid('uploadUrl', 'must not be empty');
    source = { mode: 'url', uploadUrl, model: optionalString(body, 'model', 32) };
  } else {
    if ((body.taskId ?? null) === null) throw invalid('taskId', 'is required (or give uploadUrl instead)');
    source = { mode: 'track', taskId: requiredString(body, 'taskId', 64), audioId: requiredString(body, 'audioId', 64) };
  }
  const prompt = requiredString(body, 'prompt', 3000);
  const tags = requiredString(body, 'tags', 200);
  const title = requiredString(body, 'title', 100);
  const negativeTags = optionalString(body, 'negativeTags', 200) ?? '';
  const infillStartS = requiredSeconds(body, 'infillStartS');
  const infillEndS = requiredSeconds(body, 'infillEndS');
  if (infillEndS <= infillStartS) throw invalid('infillEndS', 'must be greater than infillStartS');
  const length = Math.round((infillEndS - infillStartS) * 100) / 100;
  if (length < SECTION_MIN_S || length > SECTION_MAX_S) {
    throw invalid('infillEndS', `the section (infillEndS - infillStartS = ${length} s) must be between ${SECTION_MIN_S} and ${SECTION_MAX_S} seconds`);
  }
  return {
    source,
    prompt,
    tags,
    title,
    negativeTags,
    infillStartS,
    infillEndS,
    fullLyrics: optionalString(body, 'fullLyrics', 5000),
    callBackUrl: optionalHttpUrl(body, 'callBackUrl'),
  };
}

/** SPEC §2: the rules that need the source's duration. */
export function checkSectionAgainstSource(request: Pick<ReplaceSectionRequest, 'infillStartS' | 'infillEndS'>, durationS: number): void {
  const rounded = Math.round(durationS * 100) / 100;
  if (request.infillEndS > rounded) {
    throw invalid('infillEndS', `must not exceed the source duration (${rounded} s)`);
  }
  const length = request.infillEndS - request.infillStartS;
  if (length > durationS / 2 + 1e-9) {
    throw invalid('infillEndS', `the section (${Math.round(length * 100) / 100} s) must not exceed 50% of the source duration (${rounded} s)`);
  }
}

export interface GenerateRequest extends SongText, Knobs {
  model: Model;
  callBackUrl: string;
}

/** SPEC §3 `POST /api/v1/generate`: KIE's rules (§3 of the catalogue: title at most 80 characters on every model). */
export function parseGenerate(raw: unknown): GenerateRequest {
  const body = asBody(raw);
  const callBackUrl = requiredCallbackUrl(body);
  const chosen = model(body, 'V4_5');
  return { ...songText(body, limitsFor(chosen), { titleMax: 80 }), ...knobs(body), model: chosen, callBackUrl };
}
