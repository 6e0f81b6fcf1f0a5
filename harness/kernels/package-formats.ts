import { runHostCommand } from '../exec/run-host-command.ts';

/**
 * The two package formats a user's kernel comes in: Debian's .deb
 * (`--kernel-deb`, `--headers-deb`) and RPM (`--kernel-rpm`, `--devel-rpm`:
 * CentOS, Rocky, openSUSE kernels). One entry per format says how to read a
 * package's control data and file list, how to unpack it, and where its
 * headers tree sits; the rest of the lab never asks which format it has.
 */
export type KernelPackageFormat = 'deb' | 'rpm';

export interface PackageControl {
  name: string;
  version: string;
  architecture: string;
  /** One list of alternatives per dependency, names only. */
  depends: string[][];
}

export interface PackageFormat {
  /** The run flags that give the kernel and its headers in this format. */
  flags: { kernel: string; headers: string };
  /** Reads a package's control data; throws with the tool's words when it is not one. */
  control(path: string): Promise<PackageControl>;
  /** Every path the package carries, as `./usr/...`. */
  files(path: string): Promise<string[]>;
  /** A shell pipeline that unpacks `$PKG` into `$DEST` through merged-/usr symlinks. */
  unpackScript: string;
  /** The headers tree of a release, as a path inside the root (no leading slash). */
  headersDir(release: string): string;
  /** The architectures that run on the lab's amd64 guests. */
  architectures: readonly string[];
}

export const PACKAGE_FORMATS: Readonly<Record<KernelPackageFormat, PackageFormat>> = {
  deb: {
    flags: { kernel: '--kernel-deb', headers: '--headers-deb' },
    async control(path) {
      const fields = await runHostCommand('dpkg-deb', ['--field', path, 'Package', 'Version', 'Architecture', 'Depends'], { check: false });
      if (fields.exitCode !== 0) throw new Error(`not a Debian package (dpkg-deb: ${fields.stderr.trim().split('\n').at(-1)})`);
      const value = (key: string) => new RegExp(`^${key}: (.*)$`, 'm').exec(fields.stdout)?.[1]?.trim() ?? '';
      return { name: value('Package'), version: value('Version'), architecture: value('Architecture'), depends: dependsGroups(value('Depends')) };
    },
    // --fsys-tarfile | tar -t lists plain paths, where dpkg-deb -c adds ls-style columns.
    files: (path) => listWith('dpkg-deb --fsys-tarfile "$1" | tar -t', path),
    // Not `dpkg-deb -x`: its tar replaces the merged-/usr symlinks (/lib → usr/lib) with the
    // package's own directories, and a chroot's loader is gone; --keep-directory-symlink goes through them.
    unpackScript: 'mkdir -p "$DEST" && dpkg-deb --fsys-tarfile "$PKG" | tar -x --keep-directory-symlink -C "$DEST"',
    headersDir: (release) => `usr/src/linux-headers-${release}`,
    architectures: ['amd64', 'all'],
  },
  rpm: {
    flags: { kernel: '--kernel-rpm', headers: '--devel-rpm' },
    async control(path) {
      const query = await runHostCommand('rpm', ['-qp', '--nosignature', '--qf', '%{NAME}\\n%{VERSION}-%{RELEASE}\\n%{ARCH}\\n', path], { check: false });
      if (query.exitCode !== 0) throw new Error(`not an RPM package (rpm: ${query.stderr.trim().split('\n').at(-1)})`);
      const [name = '', version = '', architecture = ''] = query.stdout.split('\n');
      const requires = await runHostCommand('rpm', ['-qp', '--nosignature', '--requires', path], { check: false });
      // RPM names differ from Debian's: kept for the record, never installed from a Debian suite.
      const depends = requires.stdout.split('\n').map((r) => r.trim().split(/\s/)[0] ?? '').filter((r) => r && !r.startsWith('rpmlib(')).map((r) => [r]);
      return { name, version, architecture, depends };
    },
    files: (path) => listWith('rpm -qpl --nosignature "$1"', path),
    // cpio creates missing directories and writes files through existing directory symlinks.
    unpackScript: 'mkdir -p "$DEST" && cd "$DEST" && rpm2cpio "$PKG" | cpio -idm --quiet --no-absolute-filenames',
    headersDir: (release) => `usr/src/kernels/${release}`,
    architectures: ['x86_64', 'noarch'],
  },
};

async function listWith(script: string, path: string): Promise<string[]> {
  const listed = await runHostCommand('sh', ['-c', script, 'sh', path], { timeoutMs: 300_000 });
  return listed.stdout
    .split('\n')
    .filter((f) => f && f !== '(contains no files)')
    .map((f) => (f.startsWith('./') ? f : f.startsWith('/') ? `.${f}` : `./${f}`));
}

/** A Debian Depends field: one list of alternatives per entry, names only (versions dropped). */
export function dependsGroups(depends: string): string[][] {
  return depends
    .split(',')
    .map((group) => group.split('|').map((d) => d.trim().split(/[\s(]/)[0] ?? '').filter(Boolean))
    .filter((group) => group.length > 0);
}

/** Unpacks one package of this format into a folder (the micro-VM's root, a chroot). */
export async function unpackPackage(format: KernelPackageFormat, path: string, destination: string): Promise<void> {
  await runHostCommand('sh', ['-c', PACKAGE_FORMATS[format].unpackScript], { env: { ...process.env, PKG: path, DEST: destination }, timeoutMs: 600_000 });
}
