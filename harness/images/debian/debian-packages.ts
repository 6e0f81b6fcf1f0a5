import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runHostCommand } from '../../exec/run-host-command.ts';

/**
 * Debian's package archive is the only place the lab's kernels, busybox and
 * headers can come from on an offline machine; these wrap the ordinary apt
 * clients for the few questions the image builders ask.
 */

export interface DebianPackage {
  name: string;
  version: string;
}

/**
 * The candidate version apt would install, or a clear error if apt does not know the package.
 * `aptOptions` (e.g. `-o Dir::State=...`) point apt at another suite's lists.
 */
export async function candidatePackage(name: string, aptOptions: readonly string[] = []): Promise<DebianPackage> {
  const result = await runHostCommand('apt-cache', [...aptOptions, 'show', '--no-all-versions', name], { check: false });
  const version = /^Version: (.+)$/m.exec(result.stdout)?.[1];
  if (result.exitCode !== 0 || !version) {
    throw new Error(
      `Debian package ${name} is not known to apt (run 'apt-get update' first?): ${result.stderr.trim()}`,
    );
  }
  return { name, version };
}

/** The concrete package a metapackage (e.g. linux-image-amd64) depends on, matching `prefix`. */
export async function resolveMetapackage(
  metapackage: string,
  prefix: string,
  aptOptions: readonly string[] = [],
): Promise<DebianPackage> {
  const result = await runHostCommand('apt-cache', [...aptOptions, 'show', '--no-all-versions', metapackage]);
  const depends = /^Depends: (.+)$/m.exec(result.stdout)?.[1] ?? '';
  const name = depends
    .split(',')
    .map((d) => d.trim().split(/\s/)[0] ?? '')
    .find((d) => d.startsWith(prefix));
  if (!name) throw new Error(`${metapackage} depends on no ${prefix}* package (Depends: ${depends})`);
  return candidatePackage(name, aptOptions);
}

/** Downloads the .deb of `pkg` into `dir` and returns its path. */
export async function downloadDeb(pkg: DebianPackage, dir: string): Promise<string> {
  // As root, apt's download sandbox user cannot write into arbitrary folders.
  await runHostCommand('apt-get', ['-o', 'APT::Sandbox::User=root', 'download', `${pkg.name}=${pkg.version}`], {
    cwd: dir,
    timeoutMs: 600_000,
  });
  const deb = (await readdir(dir)).find((f) => f.startsWith(`${pkg.name}_`) && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg.name} left no .deb in ${dir}`);
  return join(dir, deb);
}

export async function extractDeb(debPath: string, destination: string): Promise<void> {
  await runHostCommand('dpkg-deb', ['-x', debPath, destination]);
}

export async function isInstalled(pkg: DebianPackage): Promise<boolean> {
  const result = await runHostCommand('dpkg-query', ['-W', '-f=${Status} ${Version}', pkg.name], { check: false });
  return result.stdout.startsWith('install ok installed') && result.stdout.endsWith(` ${pkg.version}`);
}

/** Installs packages on the host (we run as root on the lab machines) unless already there. */
export async function ensureHostPackages(pkgs: readonly DebianPackage[]): Promise<void> {
  const missing: DebianPackage[] = [];
  for (const pkg of pkgs) if (!(await isInstalled(pkg))) missing.push(pkg);
  if (missing.length === 0) return;
  await runHostCommand(
    'apt-get',
    ['install', '-y', '-q', '--no-install-recommends', ...missing.map((p) => `${p.name}=${p.version}`)],
    { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeoutMs: 900_000 },
  );
}
