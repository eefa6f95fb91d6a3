import { type AddVocalsInput, type CoverInput, EngineError, type GenerateInput, type Operation } from '../types.js';

/**
 * The operations whose tracks the procedural engine can tell back from their input alone (a
 * generate's songs, a cover's takes, an add-vocals' voice), for exact stems and notes. Each caller
 * says what it reads of each; every other operation's tracks hold uploaded audio.
 */
export interface RecipeReaders<T> {
  generate(input: GenerateInput, index: number): T | Promise<T>;
  cover(input: CoverInput, index: number): T | Promise<T>;
  addVocals(input: AddVocalsInput): T | Promise<T>;
}

/** An operation as a task's record names it. */
export const OPERATION_WORDS: Record<Operation['op'], string> = {
  replaceSection: 'replace-section',
  generate: 'generate',
  extend: 'extend',
  cover: 'cover',
  addInstrumental: 'add-instrumental',
  addVocals: 'add-vocals',
  mashup: 'mashup',
};

/** Track `index` of `operation` read by `readers`, or why a track of its kind has no recipe to read. */
export async function readRecipe<T>(operation: Operation, index: number, readers: RecipeReaders<T>): Promise<T | string> {
  if (!Number.isInteger(index) || index < 0) throw new EngineError(`invalid track index ${index}`);
  switch (operation.op) {
    case 'generate':
      return readers.generate(operation.input, index);
    case 'cover':
      return readers.cover(operation.input, index);
    case 'addVocals':
      if (index !== 0) throw new EngineError(`an add-vocals makes 1 track; there is no track ${index}`);
      return readers.addVocals(operation.input);
    default:
      return `it was made by ${OPERATION_WORDS[operation.op]}, whose tracks hold uploaded audio`;
  }
}
