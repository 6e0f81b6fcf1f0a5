/**
 * A trixie root tree with virtme-ng and QEMU from Debian's archive, and the
 * micro-VM's own kernel unpacked in it, so `vng` boots exactly the kernel
 * `microvm-trixie` boots (bench/virtme-ng.ts compares the two).
 *
 * - Built by mmdebstrap the way the lab builds its images (buildRootTreeArgs:
 *   minbase, no recommends, no docs, the shared deb cache), from the lab's mirror.
 * - Every package is pinned to the version trixie's lists name today, and those
 *   versions are the cache key (harness/cache: `virtme-ng-chroot/<hash>`): a new
 *   virtme-ng or QEMU in the archive makes a new chroot.
 * - The kernel package (the image's, `linux-image-<release>=<version>`) is
 *   unpacked, not installed — installing it would run update-initramfs, and
 *   virtme-ng makes its own initramfs — then `depmod` makes modules.dep.
 * - It is never booted as a system: bench/virtme-ng-plan.ts's sandbox mounts
 *   /proc, /sys, /dev and a /tmp in a private mount namespace and runs `vng` in it.
 */
import { join } from 'node:path';
import { ensureCached } from '../harness/cache/artifact-cache.ts';
import { cacheRoot } from '../harness/cache/artifact-cache.ts';
import { buildRootTreeArgs, quote, runMmdebstrap } from '../harness/images/debian/mmdebstrap-command.ts';
import { candidatePackage, type DebianPackage } from '../harness/images/debian/debian-packages.ts';
import { DEBIAN_MIRROR } from '../harness/images/debian/suite-package-index.ts';
import { suiteLists } from '../harness/kernels/suite-lists.ts';
import { pinned, virtmeChrootPackages } from './virtme-ng-plan.ts';

export interface VirtmeChroot {
  dir: string;
  /** The versions the chroot was built with (the cache key's packages). */
  packages: DebianPackage[];
  kernel: DebianPackage;
  kernelRelease: string;
  built: boolean;
}

const SUITE = 'trixie';

/** Says why it cannot build (no root, no mmdebstrap, a package trixie does not have) by throwing with the cause. */
export async function ensureVirtmeChroot(
  kernel: { package: DebianPackage; release: string },
  onProgress: (line: string) => void = () => {},
): Promise<VirtmeChroot> {
  const lists = await suiteLists(SUITE, onProgress);
  for (const note of lists.notes) onProgress(note);
  const packages: DebianPackage[] = [];
  for (const name of virtmeChrootPackages()) packages.push(await candidatePackage(name, lists.aptOptions));
  const recipe = { suite: SUITE, mirror: DEBIAN_MIRROR, packages, kernel: kernel.package, kernelRelease: kernel.release, recipeVersion: 1 };

  const artifact = await ensureCached('virtme-ng-chroot', recipe, async (dir) => {
    if (process.getuid?.() !== 0) throw new Error('building the virtme-ng chroot needs root (mmdebstrap --mode=root)');
    onProgress(`building a ${SUITE} chroot with ${packages.map((p) => `${p.name} ${p.version}`).join(', ')} and ${kernel.package.name} ${kernel.package.version}`);
    const rootfs = join(dir, 'rootfs');
    const deb = `${kernel.package.name}=${kernel.package.version}`;
    await runMmdebstrap(
      buildRootTreeArgs({
        suite: SUITE,
        packages: packages.map(pinned),
        mirror: DEBIAN_MIRROR,
        rootfs,
        debCacheDir: join(cacheRoot(), 'debs', SUITE),
        customizeHooks: [
          // The lists are still there in a customize hook (mmdebstrap removes them after).
          `chroot "$1" sh -ec ${quote(
            `cd /tmp && apt-get -q -o APT::Sandbox::User=root download ${deb} && dpkg-deb -x ${kernel.package.name}_*.deb / && rm -f ${kernel.package.name}_*.deb && depmod ${kernel.release}`,
          )}`,
        ],
      }),
      onProgress,
    );
  });
  if (artifact.built) onProgress(`virtme-ng chroot ready in ${artifact.dir}`);
  return { dir: join(artifact.dir, 'rootfs'), packages, kernel: kernel.package, kernelRelease: kernel.release, built: artifact.built };
}
