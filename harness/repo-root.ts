import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's top folder (this file lives in harness/). */
export function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..');
}
