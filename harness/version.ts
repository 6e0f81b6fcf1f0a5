import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './repo-root.ts';

let cached: string | undefined;

/** toa-lab's own version, from package.json: stamped on every result so merges can refuse mixes. */
export function toaLabVersion(): string {
  cached ??= (JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return cached;
}
