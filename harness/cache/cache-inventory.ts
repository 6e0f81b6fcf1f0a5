import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cacheRoot } from './artifact-cache.ts';

/**
 * What the artefact cache holds, and pruning it. The cache grows with every
 * recipe change and kernel: each gets a new `<kind>/<hash>` folder and the old
 * one stays, since the lab cannot know whether another checkout still wants it.
 *
 * - an entry: a folder `ensureCached` completed (it holds `.complete`), its kind
 *   the path above it (`images/debian-12`, `microvm-bookworm`); the suite chroots,
 *   `chroots/<suite>-<key>`, are entries of kind `chroots/<suite>`;
 * - a partial build: `.building-*` / `.tmp-*` left by a process that died;
 * - shared downloads (apt-index, debs, kernel-index) are not entries: never pruned.
 *
 * Prune keeps, per kind, the newest complete entry (the one the current recipe most
 * likely names; a later run rebuilds any other it needs) and removes the rest — with
 * `olderThanDays`, only those of them not touched for that many days; partial builds
 * whose process is gone go too.
 */
export interface CacheEntry {
  kind: string;
  hash: string;
  path: string;
  bytes: number;
  modified: Date;
  state: 'complete' | 'partial';
}

const SHARED = new Set(['apt-index', 'debs', 'kernel-index']);

export function listCache(root = cacheRoot()): CacheEntry[] {
  if (!existsSync(root)) return [];
  const entries: CacheEntry[] = [];
  const visit = (dir: string, depth: number): void => {
    for (const child of readdirSync(dir, { withFileTypes: true })) {
      if (!child.isDirectory()) continue;
      const path = join(dir, child.name);
      const kindPath = relative(root, dir);
      if (depth === 0 && SHARED.has(child.name)) continue;
      if (/^\.(building|tmp)-/.test(child.name)) {
        entries.push(entry(root, kindPath, child.name, path, 'partial'));
      } else if (existsSync(join(path, '.complete'))) {
        entries.push(entry(root, kindPath, child.name, path, 'complete'));
      } else if (kindPath === 'chroots') {
        const dash = child.name.lastIndexOf('-');
        entries.push({ ...entry(root, `chroots/${child.name.slice(0, dash)}`, child.name.slice(dash + 1), path, 'complete') });
      } else if (depth < 2) {
        visit(path, depth + 1);
      }
    }
  };
  visit(root, 0);
  return entries.sort((a, b) => a.kind.localeCompare(b.kind) || b.modified.getTime() - a.modified.getTime());
}

export function pruneCache(options: { root?: string; olderThanDays?: number; dryRun?: boolean; now?: Date } = {}): CacheEntry[] {
  const entries = listCache(options.root);
  const now = options.now ?? new Date();
  const newestOfKind = new Map<string, CacheEntry>();
  for (const e of entries) {
    if (e.state !== 'complete') continue;
    const newest = newestOfKind.get(e.kind);
    if (!newest || e.modified > newest.modified) newestOfKind.set(e.kind, e);
  }
  const old = (e: CacheEntry): boolean =>
    options.olderThanDays === undefined || now.getTime() - e.modified.getTime() > options.olderThanDays * 86_400_000;
  const doomed = entries.filter((e) => (e.state === 'partial' ? !builderAlive(e.hash) : newestOfKind.get(e.kind) !== e && old(e)));
  if (!options.dryRun) for (const e of doomed) rmSync(e.path, { recursive: true, force: true });
  return doomed;
}

function entry(root: string, kind: string, name: string, path: string, state: CacheEntry['state']): CacheEntry {
  const marker = join(path, '.complete');
  // A complete entry's date is when it was completed; a partial one's when last written.
  const modified = statSync(existsSync(marker) ? marker : path).mtime;
  return { kind: kind || '.', hash: name, path, bytes: folderBytes(path), modified, state };
}

function folderBytes(path: string): number {
  let total = 0;
  for (const child of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, child.name);
    if (child.isDirectory()) total += folderBytes(full);
    else if (child.isFile()) total += statSync(full).size;
  }
  return total;
}

/** `.building-<hash>-<pid>` / `.tmp-<key>-<pid>-<rand>`: is the process that writes it still there? */
function builderAlive(name: string): boolean {
  const parts = name.split('-');
  const pid = Number(name.startsWith('.building-') ? parts.at(-1) : parts.at(-2));
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
