import { readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandResult } from '../../exec/command-result.ts';
import { runHostCommand } from '../../exec/run-host-command.ts';
import type { DebianSuite } from '../../kernels/debian-suite.ts';
import { ensureSuiteChroot, makeInChroot } from '../../toa/suite-chroot.ts';
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
 *   chroot of that suite, since its headers want its own gcc (LAB-NOTES).
 */
export interface GuestKernel {
  suite: DebianSuite;
  kernelPackage: DebianPackage;
  kernelRelease: string;
  /** Identifies everything the build depends on, for the cache key. */
  recipe: unknown;
  /** Downloads the kernel's .deb into `dir`. */
  fetchDeb(dir: string): Promise<string>;
  /** Builds `sourceDir` (native/toa) for this kernel; returns toa.ko's path. */
  buildToaModule(sourceDir: string, buildDir: string): Promise<string>;
  /**
   * Builds any out-of-tree module the kbuild way (`make -C <headers> M=<dir> modules`),
   * whatever its own Makefile assumes about `uname -r`; never throws for a failed build.
   */
  buildExternalModule(sourceDir: string, buildDir: string): Promise<CommandResult>;
}

export const HOST_SUITE: DebianSuite = 'bookworm';

export async function resolveGuestKernel(suite: DebianSuite, onProgress: (line: string) => void): Promise<GuestKernel> {
  return suite === HOST_SUITE ? hostKernel() : chrootKernel(suite, onProgress);
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
    fetchDeb: (dir) => downloadDeb(kernelPackage, dir),
    async buildExternalModule(sourceDir, buildDir) {
      await ensureHostPackages([headers]);
      await runHostCommand('cp', ['-r', sourceDir, buildDir]);
      return runHostCommand('make', ['-C', `/usr/src/linux-headers-${kernelRelease}`, `M=${buildDir}`, 'modules'], {
        check: false,
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
    async fetchDeb(dir) {
      const inner = `/tmp/toa-lab-kernel-${process.pid}`;
      await inChroot(
        `apt-get -q update >/dev/null && rm -rf ${inner} && mkdir -p ${inner} && cd ${inner} && apt-get -o APT::Sandbox::User=root download ${name}=${version}`,
      );
      const deb = (await readdir(join(chroot.dir, inner))).find((f) => f.endsWith('.deb'));
      if (!deb) throw new Error(`apt-get download ${name} in the ${suite} chroot left no .deb`);
      await rename(join(chroot.dir, inner, deb), join(dir, deb));
      await runHostCommand('rm', ['-rf', join(chroot.dir, inner)]);
      return join(dir, deb);
    },
    async buildExternalModule(sourceDir, buildDir) {
      // Built inside the chroot (its gcc matches its headers), then copied out.
      const inner = `/tmp/toa-lab-external-${process.pid}`;
      await runHostCommand('rm', ['-rf', join(chroot.dir, inner)]);
      await runHostCommand('cp', ['-r', sourceDir, join(chroot.dir, inner)]);
      try {
        const result = await runHostCommand('chroot', [chroot.dir, 'make', '-C', chroot.headersDir, `M=${inner}`, 'modules'], {
          check: false,
          env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
          timeoutMs: 600_000,
        });
        await runHostCommand('cp', ['-r', join(chroot.dir, inner), buildDir]);
        return result;
      } finally {
        await runHostCommand('rm', ['-rf', join(chroot.dir, inner)]);
      }
    },
    async buildToaModule(sourceDir, buildDir) {
      const built = await makeInChroot(chroot, sourceDir, { artifacts: ['toa.ko'], outDir: buildDir });
      if (built.exitCode !== 0) throw new Error(`toa.ko does not build for ${chroot.kernelRelease}:\n${built.output.slice(-3000)}`);
      return built.artifacts['toa.ko']!;
    },
  };
}
