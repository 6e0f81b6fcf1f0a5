import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { mergeUserImages, OS_PROFILES, parseUserImageConfig, type OsProfile } from './index.ts';
import { UsageError } from '../core/usage-error.ts';

/**
 * A vendor's own images, without touching the code: `toa-lab.config.json` in
 * the working folder (or `--config FILE`), e.g.
 *   { "images": { "centos-7": [{ "kind": "cloud-image", "url": "https://mirror/c7.qcow2", "sha256": "…" }] } }
 * Keys are profile ids (`toa-lab images list`); the user's sources replace the
 * built-in ones for that profile.
 */
export const DEFAULT_CONFIG_FILE = 'toa-lab.config.json';

export function loadProfiles(configFile?: string): { profiles: OsProfile[]; configFile: string | undefined } {
  const path = configFile ? resolve(configFile) : resolve(DEFAULT_CONFIG_FILE);
  if (!existsSync(path)) {
    if (configFile) throw new UsageError(`--config: no such file ${path}`);
    return { profiles: [...OS_PROFILES], configFile: undefined };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  try {
    return { profiles: mergeUserImages(OS_PROFILES, parseUserImageConfig(parsed)), configFile: path };
  } catch (error) {
    throw new UsageError(`${path}: ${(error as Error).message}`);
  }
}
