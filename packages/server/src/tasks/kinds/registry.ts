import { addInstrumentalKind } from './add-instrumental.js';
import { addVocalsKind } from './add-vocals.js';
import { coverImageKind } from './cover-image.js';
import { extendKind } from './extend.js';
import { generateKind } from './generate.js';
import type { Family, TaskKind } from './kind.js';
import { lyricsKind } from './lyrics.js';
import { boostStyleKind, personaKind, timestampedLyricsKind } from './market-only.js';
import { mashupKind } from './mashup.js';
import { midiKind } from './midi.js';
import { musicVideoKind } from './music-video.js';
import { replaceSectionKind } from './replace-section.js';
import { uploadCoverKind } from './upload-cover.js';
import { uploadExtendKind } from './upload-extend.js';
import { vocalRemovalKind } from './vocal-removal.js';
import { wavKind } from './wav.js';

/**
 * Every task kind reprise serves. The API registers a route per kind (and its Market model
 * id), the worker runs a task by the kind named in its input; adding a kind is adding its
 * module and a line here.
 */
// Each kind's input type differs; the registry holds them by their common face.
export const KINDS: readonly TaskKind<never>[] = [
  generateKind,
  replaceSectionKind,
  extendKind,
  uploadExtendKind,
  uploadCoverKind,
  addInstrumentalKind,
  addVocalsKind,
  mashupKind,
  coverImageKind,
  boostStyleKind,
  personaKind,
  lyricsKind,
  timestampedLyricsKind,
  wavKind,
  musicVideoKind,
  vocalRemovalKind,
  midiKind,
] as unknown as readonly TaskKind<never>[];

const byName = new Map(KINDS.map((kind) => [kind.name, kind]));
const byMarket = new Map(KINDS.map((kind) => [kind.market, kind]));

/** The kind of a stored task, from the `kind` its input records. */
export function kindOf(input: string | { kind: string }): TaskKind<never> {
  const name = typeof input === 'string' ? (JSON.parse(input) as { kind: string }).kind : input.kind;
  const kind = byName.get(name);
  if (!kind) throw new Error(`unknown task kind "${name}"`);
  return kind;
}

export const kindByMarketModel = (model: string): TaskKind<never> | undefined => byMarket.get(model);

/** The families of the kinds, each with its own details route. */
export const FAMILIES: readonly Family[] = [...new Set(KINDS.map((kind) => kind.family))];
