import { existsSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheRoot } from '../../cache/artifact-cache.ts';
import { runHostCommand } from '../../exec/run-host-command.ts';
import { installedSystemSources, type DebianRelease } from '../../kernels/debian-suite.ts';
import { resolveMetapackage, type DebianPackage } from './debian-packages.ts';
import { privateListOptions } from '../../kernels/suite-lists.ts';

/**
 * Which kernel a suite ships today, asked of apt with a private state folder
 * per suite (the host's own apt lists are for the host's suite only, and its
 * installed packages must not shadow another suite's). The lists are
 * refreshed at most once a day; when the archive is unreachable, the last
 * lists are used and the caller is told.
 */
export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
const REFRESH_AFTER_MS = 24 * 3600_000;

export interface SuiteKernel {
  /** e.g. linux-image-6.1.0-41-amd64 at 6.1.158-1 */
  image: DebianPackage;
  headers: DebianPackage;
  /** `uname -r` of that kernel, e.g. 6.1.0-41-amd64 */
  release: string;
  /** Set when the package lists could not be refreshed and older ones were used. */
  staleListsWarning?: string;
}

/**
 * `flavour` names the metapackages `linux-image-<flavour>` and `linux-headers-<flavour>`:
 * `amd64` (the generic kernel, the default) or e.g. `cloud-amd64` (Debian's cloud images' kernel).
 */
export async function resolveSuiteKernel(
  suite: DebianRelease,
  log: (line: string) => void = () => {},
  flavour = 'amd64',
): Promise<SuiteKernel> {
  const index = await suiteIndexDir(suite);
  const staleListsWarning = await refreshLists(suite, index, log);
  const options = privateListOptions(index);
  const image = await resolveMetapackage(`linux-image-${flavour}`, 'linux-image-', options);
  const headers = await resolveMetapackage(`linux-headers-${flavour}`, 'linux-headers-', options);
  const release = image.name.replace(/^linux-image-/, '');
  if (headers.name !== `linux-headers-${release}` || headers.version !== image.version) {
    throw new Error(
      `${suite}: linux-headers-${flavour} (${headers.name} ${headers.version}) does not match ` +
        `linux-image-${flavour} (${image.name} ${image.version}); the image's headers would not match uname -r`,
    );
  }
  return { image, headers, release, ...(staleListsWarning && { staleListsWarning }) };
}

/** The lists of an installed system of `suite` (its -updates and security pockets too: installedSystemSources). */
async function suiteIndexDir(suite: DebianRelease): Promise<string> {
  const dir = join(cacheRoot(), 'apt-index', `${suite}-installed`);
  await mkdir(join(dir, 'state', 'lists', 'partial'), { recursive: true });
  await mkdir(join(dir, 'cache', 'archives', 'partial'), { recursive: true });
  await writeFile(
    join(dir, 'sources.list'),
    installedSystemSources(suite)
      .map((line) => line.replace(/^deb /, 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] '))
      .join('\n') + '\n',
  );
  if (!existsSync(join(dir, 'status'))) await writeFile(join(dir, 'status'), '');
  return dir;
}

/** Returns a warning when it had to fall back to older lists. */
async function refreshLists(suite: DebianRelease, indexDir: string, log: (line: string) => void): Promise<string | undefined> {
  const stamp = join(indexDir, 'updated');
  const age = await stat(stamp).then((s) => Date.now() - s.mtimeMs, () => Infinity);
  if (age < REFRESH_AFTER_MS) return undefined;
  log(`${suite}: refreshing the package index from ${DEBIAN_MIRROR}`);
  const result = await runHostCommand('apt-get', [...privateListOptions(indexDir), 'update', '-q'], {
    check: false,
    timeoutMs: 300_000,
  });
  // apt-get update exits 0 even when a fetch failed; "W:"/"E:" lines say so.
  const failed = result.exitCode !== 0 || /^(E:|W: Failed to fetch)/m.test(result.stderr);
  if (!failed) {
    await writeFile(stamp, new Date().toISOString());
    return undefined;
  }
  const why = result.stderr.trim().split('\n').slice(-3).join(' | ');
  if (age === Infinity) throw new Error(`${suite}: cannot read Debian's package index (${why})`);
  return `${suite}: could not refresh the package index, using lists from ${Math.round(age / 3600_000)} h ago (${why})`;
}
