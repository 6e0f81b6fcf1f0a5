import { existsSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheRoot } from '../cache/artifact-cache.ts';
import { runHostCommand } from '../exec/run-host-command.ts';
import { suiteAptOptions, suiteInfo, DEBIAN_MIRROR_HOST, type DebianSuite } from './debian-suite.ts';

/**
 * apt's package lists for one suite's `main`, kept in a private state folder
 * (the host's own lists are bookworm's, and its installed packages must not
 * shadow another suite's). Only the suite's Packages index is fetched — a few
 * hundred kB for a pocket, ~11 MB for sid — refreshed at most once a day.
 *
 * sid, forky and experimental: this archive serves their Release files past
 * Valid-Until (LAB-NOTES), so their lists are fetched with
 * `Acquire::Check-Valid-Until=false`, and `SuiteLists.notes` says so.
 */
const REFRESH_AFTER_MS = 24 * 3600_000;

export interface SuiteLists {
  suite: DebianSuite;
  /** `-o` options that point apt-get/apt-cache at these lists. */
  aptOptions: string[];
  /** What the caller should tell the user (expired Release file accepted, stale lists used). */
  notes: string[];
}

export class SuiteListsError extends Error {
  override readonly name = 'SuiteListsError';
}

export async function suiteLists(suite: DebianSuite, log: (line: string) => void = () => {}): Promise<SuiteLists> {
  const dir = join(cacheRoot(), 'kernel-index', suite);
  await mkdir(join(dir, 'state', 'lists', 'partial'), { recursive: true });
  await mkdir(join(dir, 'cache', 'archives', 'partial'), { recursive: true });
  const info = suiteInfo(suite);
  await writeFile(
    join(dir, 'sources.list'),
    `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${DEBIAN_MIRROR_HOST}/${info.archive} ${suite} main\n`,
  );
  if (!existsSync(join(dir, 'status'))) await writeFile(join(dir, 'status'), '');
  const aptOptions = [...privateListOptions(dir), ...suiteAptOptions(suite)];
  const notes: string[] = [];
  if (info.rolling) notes.push(`${suite}: the archive's Release file is past its Valid-Until date; read with Acquire::Check-Valid-Until=false`);
  const stale = await refresh(suite, dir, aptOptions, log);
  if (stale) notes.push(stale);
  return { suite, aptOptions, notes };
}

/** apt options that point every apt tool at private lists in `dir` and an empty dpkg status (the micro-VM's kernel index uses them too). */
export function privateListOptions(dir: string): string[] {
  const set = (key: string, value: string) => ['-o', `${key}=${value}`];
  return [
    ...set('Dir::State', join(dir, 'state')),
    ...set('Dir::State::status', join(dir, 'status')),
    ...set('Dir::Cache', join(dir, 'cache')),
    ...set('Dir::Etc::SourceList', join(dir, 'sources.list')),
    ...set('Dir::Etc::SourceParts', '-'),
    ...set('Dir::Etc::Preferences', '/dev/null'),
    ...set('Dir::Etc::PreferencesParts', '-'),
    ...set('Acquire::Languages', 'none'),
    ...set('APT::Sandbox::User', 'root'),
  ];
}

/** Returns a note when older lists had to be used. */
async function refresh(suite: DebianSuite, dir: string, aptOptions: string[], log: (line: string) => void): Promise<string | undefined> {
  const stamp = join(dir, 'updated');
  const age = await stat(stamp).then((s) => Date.now() - s.mtimeMs, () => Infinity);
  if (age < REFRESH_AFTER_MS) return undefined;
  log(`${suite}: fetching the package list`);
  const result = await runHostCommand('apt-get', [...aptOptions, 'update', '-q'], { check: false, timeoutMs: 300_000 });
  // apt-get update exits 0 even when a fetch failed; its "W:"/"E:" lines say so.
  const failed = result.exitCode !== 0 || /^(E:|W: Failed to fetch)/m.test(result.stderr);
  if (!failed) {
    await writeFile(stamp, new Date().toISOString());
    return undefined;
  }
  const why = result.stderr.trim().split('\n').slice(-3).join(' | ');
  if (age === Infinity) throw new SuiteListsError(`${suite}: cannot read the archive's package list (${why})`);
  return `${suite}: could not refresh the package list, using the one from ${Math.round(age / 3600_000)} h ago (${why})`;
}
