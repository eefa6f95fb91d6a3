import { readFileSync } from 'node:fs';
import type { VectorCase, VectorFile } from '../vectors/generate.js';
import { VECTORS_PATH } from '../vectors/generate.js';

export type { VectorCase };

export function loadVectors(): VectorFile {
  return JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as VectorFile;
}

export const bodyOf = (c: VectorCase): Buffer => (c.bodyBase64 !== undefined ? Buffer.from(c.bodyBase64, 'base64') : Buffer.from(c.body ?? '', 'utf8'));
