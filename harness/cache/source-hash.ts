import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { repoRoot } from '../repo-root.ts';

/**
 * A hash of repo files and of every file under repo folders (build products a
 * developer may have left in native/ excluded): the part of a cache key that
 * says "the recipe's own sources changed".
 */
export async function hashSourceTrees(paths: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const path of paths) {
    for (const file of await listFiles(join(repoRoot(), path))) {
      hash.update(relative(repoRoot(), file)).update('\0').update(await readFile(file)).update('\0');
    }
  }
  return hash.digest('hex').slice(0, 16);
}

async function listFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => null);
  if (!info) return [];
  if (info.isFile()) return [path];
  const files: string[] = [];
  const entries = await readdir(path, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(child)));
    else if (entry.isFile() && !isBuildOutput(entry.name)) files.push(child);
  }
  return files;
}

function isBuildOutput(name: string): boolean {
  return /\.(o|ko|mod|mod\.c|cmd|order|symvers)$/.test(name) || name === 'toa-backend' || name === 'toa-bpf-load' || name.startsWith('.');
}
