import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { mergeUserImages, OS_PROFILES, parseUserImageConfig, type OsProfile } from './index.ts';
import { mergeUserRepositories, parseUserRepositories } from './user-repositories.ts';
import { UsageError } from '../core/usage-error.ts';

/**
 * A vendor's own images, without touching the code: `toa-lab.config.json` in
 * the working folder (or `--config FILE`), e.g.
 *   { "images": { "centos-7": [{ "kind": "cloud-image", "url": "https://mirror/c7.qcow2", "sha256": "…" }] } }
 * Keys are profile ids (`toa-lab images list`); the user's sources replace the
 * built-in ones for that profile. `repositories` (user-repositories.ts) names a row's
 * mirror or archive the same way; a config may carry either or both.
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
    return { profiles: applyUserConfig(parsed), configFile: path };
  } catch (error) {
    throw new UsageError(`${path}: ${(error as Error).message}`);
  }
}

/** The built-in rows with a parsed config's `images` and `repositories` in place. */
export function applyUserConfig(parsed: unknown): OsProfile[] {
  const config = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  // A config of repositories only names no images; otherwise `images` is checked as always.
  const images = config.images === undefined && config.repositories !== undefined ? { images: {} } : parseUserImageConfig(parsed);
  return mergeUserRepositories(mergeUserImages(OS_PROFILES, images), parseUserRepositories(config.repositories));
}
