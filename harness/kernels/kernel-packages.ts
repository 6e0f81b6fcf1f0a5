import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PACKAGE_FORMATS, unpackPackage, type KernelPackageFormat, type PackageControl } from './package-formats.ts';

/**
 * A vendor's own kernel as packages: .deb (`--kernel-deb`, `--headers-deb`: a
 * custom build, an Ubuntu kernel, a Debian kernel the lab did not pick) or RPM
 * (`--kernel-rpm`, `--devel-rpm`: CentOS, Rocky, openSUSE). Everything is read
 * from the packages themselves (control data, file lists, the headers'
 * .config), never from their file names, so a renamed pair works the same.
 */
export interface KernelPackageFile extends PackageControl {
  /** Absolute path as the user gave it. */
  path: string;
  sha256: string;
}

export interface UserKernelPackages {
  format: KernelPackageFormat;
  /** The packages that carry the kernel and its modules (one up to 6.x; Debian's split 7.x has several). */
  kernel: KernelPackageFile[];
  /** The headers to build modules against (with Debian's -common and linux-kbuild when they are not in the archive). */
  headers: KernelPackageFile[];
  /** `uname -r` of that kernel, from where its vmlinuz sits. */
  release: string;
  /** CONFIG_CC_VERSION_TEXT of the headers' .config (5.8 on), else a description from CONFIG_GCC_VERSION; absent when neither is there. */
  compiler?: string;
  /** Debian packages the build chroot needs for these headers (their tools: gcc-N, pahole, libelf…). */
  buildDepends: string[];
  /** The headers tree inside the build chroot, e.g. /usr/src/kernels/<release>. */
  headersDir: string;
}

export class KernelPackagesError extends Error {
  override readonly name = 'KernelPackagesError';
}

/**
 * What kbuild's host tools need to run when the headers are an RPM's (whose
 * Requires name RPM packages, not Debian's): libelf for objtool and modpost,
 * pahole for BTF, perl and bc for the scripts.
 */
const RPM_HEADERS_BUILD_DEPENDS = ['bc', 'dwarves', 'libelf1', 'perl', 'zlib1g'];

/** The matrix cell of a user's kernel: `microvm-deb-6.1.0-41-amd64`, `microvm-rpm-…` (`:`/`~` become `_`, as in kernel-spec.ts). */
export function userKernelCellName(release: string, format: KernelPackageFormat = 'deb'): string {
  return `microvm-${format}-${release.replace(/[:~]/g, '_')}`;
}

/** Reads and checks the packages; every problem is a KernelPackagesError naming the flag and file. */
export async function inspectKernelPackages(
  kernelFiles: readonly string[],
  headersFiles: readonly string[],
  format: KernelPackageFormat = 'deb',
): Promise<UserKernelPackages> {
  const { flags } = PACKAGE_FORMATS[format];
  if (kernelFiles.length === 0) throw new KernelPackagesError(`${flags.headers} needs ${flags.kernel}: the kernel package(s) to boot`);
  if (headersFiles.length === 0) {
    throw new KernelPackagesError(`${flags.kernel} needs ${flags.headers}: toa.ko is built against the kernel's own headers`);
  }
  const kernel = await Promise.all(kernelFiles.map((p) => readPackage(format, p, flags.kernel)));
  const headers = await Promise.all(headersFiles.map((p) => readPackage(format, p, flags.headers)));
  const listed = (await Promise.all(kernel.map((k) => PACKAGE_FORMATS[format].files(k.path)))).flat();
  const releases = kernelReleasesIn(listed);
  if (releases.length === 0) {
    throw new KernelPackagesError(
      `${flags.kernel} ${kernel.map((k) => `${k.name} ${k.version}`).join(', ')}: no kernel image inside (looked for /boot/vmlinuz-<release> ` +
        'and /usr/lib/modules/<release>/vmlinuz). Debian\'s 7.x linux-image-<release> is empty: give its linux-binary-, linux-modules- ' +
        `and linux-base- packages too (${flags.kernel} once per file); RHEL 8 on: kernel-core`,
    );
  }
  if (releases.length > 1) throw new KernelPackagesError(`${flags.kernel}: the packages carry ${releases.length} kernels (${releases.join(', ')}); give one`);
  const release = releases[0]!;
  if (format === 'deb') {
    const missing = missingHeaderParts(headers);
    if (missing.length) {
      throw new KernelPackagesError(
        `${flags.headers}: the headers need ${missing.join(', ')} to build modules (their Depends); give ${missing.length > 1 ? 'those packages' : 'that package'} ` +
          `with ${flags.headers} too (apt-get download fetches them where the kernel came from)`,
      );
    }
  }
  const headersDir = PACKAGE_FORMATS[format].headersDir(release);
  const config = await headersConfig(format, headers, headersDir, release, flags.headers);
  const compiler = compilerOf(config);
  return {
    format,
    kernel,
    headers,
    release,
    ...(compiler && { compiler }),
    buildDepends: format === 'deb' ? headerBuildDepends(headers) : RPM_HEADERS_BUILD_DEPENDS,
    headersDir: `/${headersDir}`,
  };
}

/**
 * The headers' .config, read from the headers unpacked in a scratch folder
 * (the tree may reach it through symlinks between the packages, as Debian's
 * -amd64 → -common and kernel-devel's /usr/src/kernels do).
 */
async function headersConfig(format: KernelPackageFormat, headers: readonly KernelPackageFile[], headersDir: string, release: string, flag: string): Promise<string> {
  const scratch = await mkdtemp(join(tmpdir(), 'toa-lab-headers-'));
  try {
    for (const h of headers) await unpackPackage(format, h.path, scratch);
    const config = join(scratch, headersDir, '.config');
    if (existsSync(config)) return await readFile(config, 'utf8');
    const offered = await headerTreesIn(scratch);
    throw new KernelPackagesError(
      `${flag}: no headers for ${release} (no /${headersDir}/.config)` +
        (offered.length ? `; the packages hold ${offered.join(', ')}` : '') +
        '. The headers must be the same build as the kernel',
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function headerTreesIn(root: string): Promise<string[]> {
  const trees: string[] = [];
  for (const parent of ['usr/src', 'usr/src/kernels']) {
    for (const name of await readdir(join(root, parent)).catch(() => [] as string[])) {
      if (existsSync(join(root, parent, name, '.config'))) trees.push(`/${parent}/${name}`);
    }
  }
  return trees;
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

async function readPackage(format: KernelPackageFormat, path: string, flag: string): Promise<KernelPackageFile> {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new KernelPackagesError(`${flag} ${path}: no such file`);
  let control: PackageControl;
  try {
    control = await PACKAGE_FORMATS[format].control(absolute);
  } catch (error) {
    throw new KernelPackagesError(`${flag} ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!PACKAGE_FORMATS[format].architectures.includes(control.architecture)) {
    throw new KernelPackagesError(`${flag} ${path}: built for ${control.architecture}; the lab boots x86-64 (amd64) guests`);
  }
  return { ...control, path: absolute, sha256: await sha256File(absolute) };
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
