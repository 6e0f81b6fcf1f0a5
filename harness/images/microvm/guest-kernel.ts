import { copyFile, mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandResult } from '../../exec/command-result.ts';
import { runHostCommand } from '../../exec/run-host-command.ts';
import { resolveKernel, type ResolvedKernel } from '../../kernels/archive-kernels.ts';
import type { DebianSuite } from '../../kernels/debian-suite.ts';
import type { KernelSpec } from '../../kernels/kernel-spec.ts';
import { buildSuiteFor } from '../../kernels/build-suite.ts';
import type { UserKernelPackages } from '../../kernels/kernel-packages.ts';
import type { KernelPackageFormat } from '../../kernels/package-formats.ts';
import {
  chrootCommand,
  ensureKernelChroot,
  ensureSuiteChroot,
  ensureUserKernelChroot,
  makeInChroot,
  userKernelChrootRecipe,
  type SuiteChroot,
} from '../../kernels/suite-chroot.ts';
import {
  candidatePackage,
  downloadDeb,
  ensureHostPackages,
  resolveMetapackage,
  type DebianPackage,
} from '../debian/debian-packages.ts';

/**
 * Where a micro-VM's kernel comes from, and how toa.ko is built for it:
 * - bookworm, the host's own suite: the kernel .deb through the host's apt,
 *   toa.ko against the matching headers installed on the host;
 * - any other suite (bullseye 5.10, trixie 6.12): both through a cached
 *   chroot of that suite, since its headers want its own gcc (LAB-NOTES);
 * - a kernel named by spec (`--kernel sid`, `bookworm:cloud`, …): resolved in
 *   the archive's package lists (harness/kernels), its packages fetched by
 *   following the image's Depends (one package up to 6.x, four from 7.x), and
 *   toa.ko built in a chroot with exactly its headers.
 */
export interface GuestKernel {
  suite: DebianSuite;
  kernelPackage: DebianPackage;
  kernelRelease: string;
  /** Identifies everything the build depends on, for the cache key. */
  recipe: unknown;
  /** Puts every package that carries the kernel's files into `dir` (downloaded, or the user's copied). */
  fetchKernelPackages(dir: string): Promise<KernelPackageOnDisk[]>;
  /** Said to the user once: e.g. an expired Release file was accepted. */
  notes: string[];
  /** Builds `sourceDir` (native/toa) for this kernel; returns toa.ko's path. */
  buildToaModule(sourceDir: string, buildDir: string): Promise<string>;
  /**
   * Builds any out-of-tree module into `buildDir`, one of two ways (ExternalBuild);
   * never throws for a failed build.
   */
  buildExternalModule(sourceDir: string, buildDir: string, how: ExternalBuild): Promise<CommandResult>;
}

/**
 * How a vendor's module is built:
 * - `own-makefile`: its Makefile's default target, as its guide says (`cd src; make`),
 *   in a build environment that is the target's: `uname -r` answers the target
 *   kernel's release and /lib/modules/<release>/build is its headers;
 * - `kbuild`: `make -C <headers> M=<dir> modules`, whatever the Makefile assumes — the
 *   fallback when its own Makefile builds nothing, said in the report.
 */
export type ExternalBuild = 'own-makefile' | 'kbuild';

/** A `uname` that answers `-r` with the target kernel's release and passes anything else on. */
function fakeUname(release: string): string {
  return `#!/bin/sh\n# toa-lab: the module is built for ${release}, so uname -r answers that.\ncase "$1" in -r) echo '${release}'; exit 0;; esac\nexec /bin/uname "$@"\n`;
}

export interface KernelPackageOnDisk {
  path: string;
  format: KernelPackageFormat;
}

const asDebs = (paths: string[]): KernelPackageOnDisk[] => paths.map((path) => ({ path, format: 'deb' }));

export const HOST_SUITE: DebianSuite = 'bookworm';

/**
 * Where a micro-VM kernel comes from: one of the three micro-VM suites as they
 * always were, any kernel the archive serves (a spec), or a user's own packages.
 */
export type GuestKernelSource =
  | { from: 'suite'; suite: DebianSuite }
  | { from: 'archive'; spec: KernelSpec }
  | { from: 'packages'; packages: UserKernelPackages };

/** The source a micro-VM's options name: a user's packages win over an archive spec, which wins over a suite. */
export function guestKernelSource(options: { suite?: DebianSuite; kernel?: KernelSpec; kernelPackages?: UserKernelPackages }): GuestKernelSource {
  if (options.kernelPackages) return { from: 'packages', packages: options.kernelPackages };
  if (options.kernel) return { from: 'archive', spec: options.kernel };
  return { from: 'suite', suite: options.suite ?? HOST_SUITE };
}

export async function resolveGuestKernel(source: GuestKernelSource, onProgress: (line: string) => void): Promise<GuestKernel> {
  switch (source.from) {
    case 'archive':
      return archiveKernel(await resolveKernel(source.spec, onProgress), onProgress);
    case 'packages':
      return packagesKernel(source.packages, onProgress);
    case 'suite':
      return source.suite === HOST_SUITE ? hostKernel() : chrootKernel(source.suite, onProgress);
  }
}

/**
 * A user's kernel packages: booted from their own files, toa.ko built in a
 * chroot of the suite whose gcc built the kernel, with their headers
 * installed by apt (which brings what they depend on from that suite).
 */
async function packagesKernel(packages: UserKernelPackages, onProgress: (line: string) => void): Promise<GuestKernel> {
  const choice = await buildSuiteFor(packages.compiler, onProgress);
  const notes = choice.note ? [choice.note] : [];
  for (const note of notes) onProgress(note);
  const recipe = userKernelChrootRecipe(choice.suite, {
    release: packages.release,
    headers: packages.headers,
    format: packages.format,
    gccPackage: choice.gccPackage,
    buildDepends: packages.buildDepends,
    headersDir: packages.headersDir,
  });
  const chroot = await ensureUserKernelChroot(recipe, { onProgress });
  const makeVariables = [`CC=${choice.gccPackage}`];
  const image = packages.kernel[0]!;
  return {
    suite: choice.suite,
    kernelPackage: { name: image.name, version: image.version },
    kernelRelease: packages.release,
    notes,
    recipe: { kernel: packages.kernel.map((k) => k.sha256), headers: packages.headers.map((h) => h.sha256), chroot: chroot.dir, cc: choice.gccPackage },
    async fetchKernelPackages(dir) {
      await mkdir(dir, { recursive: true });
      const copies = packages.kernel.map((_k, i) => join(dir, `kernel-${i}.${packages.format}`));
      await Promise.all(packages.kernel.map((k, i) => copyFile(k.path, copies[i]!)));
      return copies.map((path) => ({ path, format: packages.format }));
    },
    buildExternalModule: (sourceDir, buildDir, how) => buildExternalInChroot(chroot, sourceDir, buildDir, how, makeVariables),
    async buildToaModule(sourceDir, buildDir) {
      const built = await makeInChroot(chroot, sourceDir, { artifacts: ['toa.ko'], outDir: buildDir, makeVariables });
      if (built.exitCode !== 0) throw new Error(`toa.ko does not build for ${packages.release} (${choice.gccPackage} in ${choice.suite}):\n${built.output.slice(-3000)}`);
      return built.artifacts['toa.ko']!;
    },
  };
}

async function archiveKernel(kernel: ResolvedKernel, onProgress: (line: string) => void): Promise<GuestKernel> {
  for (const note of kernel.notes) onProgress(note);
  const chroot = await ensureKernelChroot(kernel, { onProgress });
  return {
    suite: kernel.suite,
    kernelPackage: kernel.image,
    kernelRelease: kernel.release,
    notes: kernel.notes,
    recipe: { suite: kernel.suite, flavour: kernel.flavour, packages: kernel.packages, headers: kernel.headers, chroot: chroot.dir },
    async fetchKernelPackages(dir) {
      await mkdir(dir, { recursive: true });
      // As root, apt's download sandbox user cannot write into arbitrary folders (APT::Sandbox::User=root is in aptOptions).
      await runHostCommand('apt-get', [...kernel.aptOptions, 'download', ...kernel.packages.map((p) => `${p.name}=${p.version}`)], {
        cwd: dir,
        timeoutMs: 900_000,
      });
      const files = await readdir(dir);
      return asDebs(
        kernel.packages.map((p) => {
          const deb = files.find((f) => f.startsWith(`${p.name}_`) && f.endsWith('.deb'));
          if (!deb) throw new Error(`apt-get download ${p.name}=${p.version} left no .deb in ${dir}`);
          return join(dir, deb);
        }),
      );
    },
    buildExternalModule: (sourceDir, buildDir, how) => buildExternalInChroot(chroot, sourceDir, buildDir, how),
    async buildToaModule(sourceDir, buildDir) {
      const built = await makeInChroot(chroot, sourceDir, { artifacts: ['toa.ko'], outDir: buildDir });
      if (built.exitCode !== 0) throw new Error(`toa.ko does not build for ${kernel.release}:\n${built.output.slice(-3000)}`);
      return built.artifacts['toa.ko']!;
    },
  };
}

async function hostKernel(): Promise<GuestKernel> {
  const kernelPackage = await resolveMetapackage('linux-image-amd64', 'linux-image-');
  const kernelRelease = kernelPackage.name.replace(/^linux-image-/, '');
  const headers = await candidatePackage(`linux-headers-${kernelRelease}`);
  return {
    suite: HOST_SUITE,
    kernelPackage,
    kernelRelease,
    recipe: { kernelPackage, headers },
    notes: [],
    fetchKernelPackages: async (dir) => asDebs([await downloadDeb(kernelPackage, dir)]),
    async buildExternalModule(sourceDir, buildDir, how) {
      // The headers package brings /lib/modules/<release>/build too.
      await ensureHostPackages([headers]);
      await runHostCommand('cp', ['-r', sourceDir, buildDir]);
      if (how === 'kbuild') {
        return runHostCommand('make', ['-C', `/usr/src/linux-headers-${kernelRelease}`, `M=${buildDir}`, 'modules'], { check: false, timeoutMs: 600_000 });
      }
      const fakeBin = `${buildDir}.fakebin`;
      await mkdir(fakeBin, { recursive: true });
      await writeFile(join(fakeBin, 'uname'), fakeUname(kernelRelease), { mode: 0o755 });
      return runHostCommand('make', ['-C', buildDir], {
        check: false,
        env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH ?? '/usr/bin:/bin'}`, LC_ALL: 'C' },
        timeoutMs: 600_000,
      });
    },
    async buildToaModule(sourceDir, buildDir) {
      await ensureHostPackages([headers]);
      await runHostCommand('cp', ['-r', sourceDir, buildDir]);
      await runHostCommand('make', ['-C', buildDir, `KDIR=/usr/src/linux-headers-${kernelRelease}`], { timeoutMs: 600_000 });
      return join(buildDir, 'toa.ko');
    },
  };
}

async function chrootKernel(suite: DebianSuite, onProgress: (line: string) => void): Promise<GuestKernel> {
  const chroot = await ensureSuiteChroot(suite, { onProgress });
  const inChroot = (script: string) =>
    runHostCommand('chroot', [chroot.dir, 'sh', '-c', script], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
      timeoutMs: 600_000,
    });
  const name = `linux-image-${chroot.kernelRelease}`;
  // The image and its headers come from one source package, so they share a version;
  // reading it from dpkg needs no package lists (mmdebstrap leaves none behind).
  const installed = await inChroot(`dpkg-query -W -f='\${Version}' linux-headers-${chroot.kernelRelease}`);
  const version = installed.stdout.trim();
  if (!version) throw new Error(`the ${suite} chroot has no linux-headers-${chroot.kernelRelease}`);
  const kernelPackage = { name, version };
  return {
    suite,
    kernelPackage,
    kernelRelease: chroot.kernelRelease,
    recipe: { suite, kernelPackage, chroot: chroot.dir },
    notes: [],
    async fetchKernelPackages(dir) {
      const inner = `/tmp/toa-lab-kernel-${process.pid}`;
      await inChroot(
        `apt-get -q update >/dev/null && rm -rf ${inner} && mkdir -p ${inner} && cd ${inner} && apt-get -o APT::Sandbox::User=root download ${name}=${version}`,
      );
      const deb = (await readdir(join(chroot.dir, inner))).find((f) => f.endsWith('.deb'));
      if (!deb) throw new Error(`apt-get download ${name} in the ${suite} chroot left no .deb`);
      await rename(join(chroot.dir, inner, deb), join(dir, deb));
      await runHostCommand('rm', ['-rf', join(chroot.dir, inner)]);
      return asDebs([join(dir, deb)]);
    },
    buildExternalModule: (sourceDir, buildDir, how) => buildExternalInChroot(chroot, sourceDir, buildDir, how),
    async buildToaModule(sourceDir, buildDir) {
      const built = await makeInChroot(chroot, sourceDir, { artifacts: ['toa.ko'], outDir: buildDir });
      if (built.exitCode !== 0) throw new Error(`toa.ko does not build for ${chroot.kernelRelease}:\n${built.output.slice(-3000)}`);
      return built.artifacts['toa.ko']!;
    },
  };
}

/** Any module, either way (ExternalBuild), inside the chroot (its gcc matches its headers), then copied out. */
async function buildExternalInChroot(
  chroot: SuiteChroot,
  sourceDir: string,
  buildDir: string,
  how: ExternalBuild,
  makeVariables: readonly string[] = [],
): Promise<CommandResult> {
  const inner = `/tmp/toa-lab-external-${process.pid}`;
  const fakeBin = `/tmp/toa-lab-fakebin-${process.pid}`;
  await runHostCommand('rm', ['-rf', join(chroot.dir, inner), join(chroot.dir, fakeBin)]);
  await runHostCommand('cp', ['-r', sourceDir, join(chroot.dir, inner)]);
  try {
    let argv: string[];
    let path = '/usr/sbin:/usr/bin:/sbin:/bin';
    if (how === 'own-makefile') {
      await mkdir(join(chroot.dir, fakeBin), { recursive: true });
      await writeFile(join(chroot.dir, fakeBin, 'uname'), fakeUname(chroot.kernelRelease), { mode: 0o755 });
      // The path a Makefile's KDIR ?= /lib/modules/$(shell uname -r)/build reaches (the image package's link, which the chroot lacks).
      await mkdir(join(chroot.dir, 'lib', 'modules', chroot.kernelRelease), { recursive: true });
      await runHostCommand('ln', ['-sfn', chroot.headersDir, join(chroot.dir, 'lib', 'modules', chroot.kernelRelease, 'build')]);
      argv = ['make', '-C', inner, ...makeVariables];
      path = `${fakeBin}:${path}`;
    } else {
      argv = ['make', '-C', chroot.headersDir, `M=${inner}`, ...makeVariables, 'modules'];
    }
    const [command, args] = chrootCommand(chroot.dir, argv);
    const result = await runHostCommand(command, args, { check: false, env: { PATH: path, LC_ALL: 'C' }, timeoutMs: 600_000 });
    await runHostCommand('cp', ['-r', join(chroot.dir, inner), buildDir]);
    return result;
  } finally {
    await runHostCommand('rm', ['-rf', join(chroot.dir, inner), join(chroot.dir, fakeBin)]);
  }
}
