import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A worker thread's compiled script, named beside the module that starts it: there when running
 * the build, under dist/ instead of src/ when running from sources (tests).
 */
export function threadScript(sibling: URL): URL {
  if (fs.existsSync(fileURLToPath(sibling))) return sibling;
  return new URL(sibling.href.replace(/\/src\/(?!.*\/src\/)/, '/dist/'));
}
