import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { runHostCommand } from '../exec/run-host-command.ts';

/**
 * A vendor's own kernel as .deb files (`--kernel-deb`, `--headers-deb`): a
 * custom build, an Ubuntu kernel a user downloaded, a Debian kernel the lab
 * did not pick. Everything is read from the packages themselves (control
 * fields and file lists, through dpkg-deb), never from their file names, so
 * a renamed pair works the same.
 */
export interface KernelPackageFile {
  /** Absolute path as the user gave it. */
  path: string;
  sha256: string;
  name: string;
  version: string;
  architecture: string;
  /** Its Depends: one list of alternatives per entry, package names only (versions dropped). */
  depends: string[][];
}

export interface UserKernelPackages {
  /** The packages that carry the kernel and its modules (one up to 6.x; Debian's split 7.x has several). */
  kernel: KernelPackageFile[];
  /** The headers to build modules against (with Debian's -common and linux-kbuild when they are not in the archive). */
  headers: KernelPackageFile[];
  /** `uname -r` of that kernel, from where its vmlinuz sits. */
  release: string;
  /** CONFIG_CC_VERSION_TEXT of the headers' .config (5.8 on), else a description from CONFIG_GCC_VERSION; absent when neither is there. */
  compiler?: string;
}

export class KernelPackagesError extends Error {
  override readonly name = 'KernelPackagesError';
}

/** The matrix cell of a user's kernel: `microvm-deb-6.1.0-41-amd64` (`:`/`~` become `_`, as in kernel-spec.ts). */
export function userKernelCellName(release: string): string {
  return `microvm-deb-${release.replace(/[:~]/g, '_')}`;
}

/** Reads and checks the packages; every problem is a KernelPackagesError naming the file. */
export async function inspectKernelPackages(kernelDebs: readonly string[], headersDebs: readonly string[]): Promise<UserKernelPackages> {
  if (kernelDebs.length === 0) throw new KernelPackagesError('--headers-deb needs --kernel-deb: the kernel image package(s) to boot');
  if (headersDebs.length === 0) {
    throw new KernelPackagesError('--kernel-deb needs --headers-deb: toa.ko is built against the kernel\'s own headers (linux-headers-<release>)');
  }
  const kernel = await Promise.all(kernelDebs.map((p) => readPackage(p, '--kernel-deb')));
  const headers = await Promise.all(headersDebs.map((p) => readPackage(p, '--headers-deb')));
  const kernelFiles = (await Promise.all(kernel.map((k) => listFiles(k.path)))).flat();
  const releases = kernelReleasesIn(kernelFiles);
  if (releases.length === 0) {
    throw new KernelPackagesError(
      `--kernel-deb ${kernel.map((k) => `${k.name} ${k.version}`).join(', ')}: no kernel image inside (looked for /boot/vmlinuz-<release> ` +
        'and /usr/lib/modules/<release>/vmlinuz). Debian\'s 7.x linux-image-<release> is empty: give its linux-binary-, linux-modules- ' +
        'and linux-base- packages too (--kernel-deb once per file)',
    );
  }
  if (releases.length > 1) throw new KernelPackagesError(`--kernel-deb: the packages carry ${releases.length} kernels (${releases.join(', ')}); give one`);
  const release = releases[0]!;
  const headerFiles = (await Promise.all(headers.map((h) => listFiles(h.path)))).flat();
  const configPath = headerFiles.find((f) => f === `./usr/src/linux-headers-${release}/.config`);
  if (!configPath) {
    const offered = [...new Set(headerFiles.map((f) => /^\.\/usr\/src\/(linux-headers-[^/]+)\/\.config$/.exec(f)?.[1]).filter(Boolean))];
    throw new KernelPackagesError(
      `--headers-deb: no headers for ${release} (no /usr/src/linux-headers-${release}/.config)` +
        (offered.length ? `; the packages hold ${offered.join(', ')}` : '') +
        '. The headers must be the same build as the kernel',
    );
  }
  const missing = missingHeaderParts(headers);
  if (missing.length) {
    throw new KernelPackagesError(
      `--headers-deb: the headers need ${missing.join(', ')} to build modules (their Depends); give ${missing.length > 1 ? 'those packages' : 'that package'} ` +
        'with --headers-deb too (apt-get download fetches them where the kernel came from)',
    );
  }
  const config = await readMember(configPath, headers);
  const compiler = compilerOf(config);
  return { kernel, headers, release, ...(compiler && { compiler }) };
}

/**
 * Pure: the header parts the given headers depend on but nobody gave: Debian's
 * linux-headers-<rel>-common and linux-kbuild-<ver>, Ubuntu's linux-headers-<ver>.
 * They are unpacked, not installed, so nothing else of their Depends matters
 * (gcc comes from the build suite; the kernel image the headers name is not needed to build).
 */
export function missingHeaderParts(headers: ReadonlyArray<Pick<KernelPackageFile, 'name' | 'depends'>>): string[] {
  const given = new Set(headers.map((h) => h.name));
  const needed = headers.flatMap((h) => h.depends.filter((group) => group.some(isKernelPart) && !group.some((d) => given.has(d))).map((group) => group[0]!));
  return [...new Set(needed.filter((d) => /^linux-(headers|kbuild)-/.test(d)))];
}

/**
 * Pure: the tools the headers depend on (gcc-12, pahole for BTF, libelf for
 * objtool…), installed in the build chroot from its suite: every Depends
 * entry that names no part of a kernel (those are given, or not needed to build).
 */
export function headerBuildDepends(headers: ReadonlyArray<Pick<KernelPackageFile, 'depends'>>): string[] {
  return [...new Set(headers.flatMap((h) => h.depends.filter((group) => !group.some(isKernelPart)).map((group) => group[0]!)))].sort();
}

const isKernelPart = (name: string): boolean => /^linux-(headers|kbuild|image|binary|modules)-/.test(name);

/** Pure: the kernel releases whose image a file list (dpkg-deb -c paths) carries. */
export function kernelReleasesIn(files: readonly string[]): string[] {
  const releases = new Set<string>();
  for (const f of files) {
    const m = /^\.\/boot\/vmlinuz-(.+)$/.exec(f) ?? /^\.\/(?:usr\/)?lib\/modules\/([^/]+)\/vmlinuz$/.exec(f);
    if (m) releases.add(m[1]!);
  }
  return [...releases];
}

/** Pure: what compiler a kernel .config says built it. */
export function compilerOf(config: string): string | undefined {
  const text = /^CONFIG_CC_VERSION_TEXT="(.*)"$/m.exec(config)?.[1];
  if (text) return text;
  // Before 5.8 (back to 4.18): CONFIG_GCC_VERSION=100201 means gcc 10.2.1.
  const number = /^CONFIG_GCC_VERSION=(\d+)$/m.exec(config)?.[1];
  if (number && Number(number) > 0) return `gcc ${Math.floor(Number(number) / 10000)}.${Math.floor(Number(number) / 100) % 100}.${Number(number) % 100}`;
  return undefined;
}

/**
 * Pure: the gcc major version in a compiler description, from its first x.y.z:
 * "gcc-12 (Debian 12.2.0-14) 12.2.0" → 12, "gcc (GCC) 8.5.0 20210514 (Red Hat 8.5.0-4)" → 8;
 * clang or no gcc: undefined.
 */
export function gccMajorOf(compiler: string): number | undefined {
  if (!/gcc/i.test(compiler) || /clang/i.test(compiler)) return undefined;
  const m = /\b(\d+)\.\d+(?:\.\d+)?/.exec(compiler.replace(/^[^\s]*gcc-\d+/, ''));
  return m ? Number(m[1]) : undefined;
}

async function readPackage(path: string, flag: string): Promise<KernelPackageFile> {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new KernelPackagesError(`${flag} ${path}: no such file`);
  const fields = await runHostCommand('dpkg-deb', ['--field', absolute, 'Package', 'Version', 'Architecture', 'Depends'], { check: false });
  if (fields.exitCode !== 0) throw new KernelPackagesError(`${flag} ${path}: not a Debian package (dpkg-deb: ${fields.stderr.trim().split('\n').at(-1)})`);
  const value = (key: string) => new RegExp(`^${key}: (.*)$`, 'm').exec(fields.stdout)?.[1]?.trim() ?? '';
  const architecture = value('Architecture');
  if (architecture !== 'amd64' && architecture !== 'all') throw new KernelPackagesError(`${flag} ${path}: built for ${architecture}; the lab boots amd64`);
  const depends = value('Depends')
    .split(',')
    .map((group) => group.split('|').map((d) => d.trim().split(/[\s(]/)[0] ?? '').filter(Boolean))
    .filter((group) => group.length > 0);
  return { path: absolute, sha256: await sha256File(absolute), name: value('Package'), version: value('Version'), architecture, depends };
}

const fileLists = new Map<string, string[]>();

async function listFiles(deb: string): Promise<string[]> {
  const cached = fileLists.get(deb);
  if (cached) return cached;
  // --fsys-tarfile | tar -t lists plain paths, where dpkg-deb -c adds ls-style columns.
  const listed = await runHostCommand('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -t', 'sh', deb], { timeoutMs: 300_000 });
  const files = listed.stdout.split('\n').filter(Boolean).map((f) => (f.startsWith('./') ? f : `./${f}`));
  fileLists.set(deb, files);
  return files;
}

/** The member's text from whichever of the packages holds it. */
async function readMember(member: string, packages: readonly KernelPackageFile[]): Promise<string> {
  for (const p of packages) {
    if (!(await listFiles(p.path)).includes(member)) continue;
    const out = await runHostCommand('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -xO "$2"', 'sh', p.path, member], { timeoutMs: 300_000 });
    return out.stdout;
  }
  return '';
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}
