import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Built artefacts (kernels, initramfs, chroots, images) live outside the repo,
 * one folder per recipe hash: change the recipe and the next run rebuilds;
 * keep it and every later run reuses the folder.
 */
export function cacheRoot(): string {
  return process.env.TOA_LAB_CACHE ?? join(homedir(), '.cache', 'toa-lab');
}

export function recipeHash(recipe: unknown): string {
  return createHash('sha256').update(stableJson(recipe)).digest('hex').slice(0, 16);
}

export interface CachedArtifact {
  dir: string;
  hash: string;
  /** True when this call built it; false when it came from the cache. */
  built: boolean;
}

const COMPLETE_MARKER = '.complete';

/** The artefact `ensureCached(kind, recipe, …)` would return, if it is already built; never builds. */
export function findCached(kind: string, recipe: unknown): CachedArtifact | null {
  const hash = recipeHash(recipe);
  const dir = join(cacheRoot(), kind, hash);
  return existsSync(join(dir, COMPLETE_MARKER)) ? { dir, hash, built: false } : null;
}

/**
 * Returns `<cacheRoot>/<kind>/<hash>`, building it first when absent. The build
 * writes into a private temporary folder that is renamed into place only when
 * it finished, so an interrupted build never leaves a half artefact behind.
 */
export async function ensureCached(
  kind: string,
  recipe: unknown,
  build: (dir: string) => Promise<void>,
): Promise<CachedArtifact> {
  const hash = recipeHash(recipe);
  const dir = join(cacheRoot(), kind, hash);
  if (existsSync(join(dir, COMPLETE_MARKER))) return { dir, hash, built: false };

  const staging = join(cacheRoot(), kind, `.building-${hash}-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    await build(staging);
    await writeFile(join(staging, 'recipe.json'), stableJson(recipe));
    await writeFile(join(staging, COMPLETE_MARKER), new Date().toISOString());
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    // Another process may have finished the same recipe meanwhile: theirs is as good.
    if (existsSync(join(dir, COMPLETE_MARKER))) return { dir, hash, built: false };
    throw error;
  }
  return { dir, hash, built: true };
}

export async function readRecipe(dir: string): Promise<unknown> {
  return JSON.parse(await readFile(join(dir, 'recipe.json'), 'utf8'));
}

/** JSON with sorted keys, so equal recipes hash equally whatever their key order. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}
