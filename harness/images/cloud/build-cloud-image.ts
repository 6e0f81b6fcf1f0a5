import { randomBytes, randomUUID } from 'node:crypto';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheRoot, ensureCached } from '../../cache/artifact-cache.ts';
import { hashSourceTrees } from '../../cache/source-hash.ts';
import { runHostCommand } from '../../exec/run-host-command.ts';
import { buildRootTreeArgs, quote, runMmdebstrap } from '../debian/mmdebstrap-command.ts';
import { DEBIAN_MIRROR, resolveSuiteKernel, type SuiteKernel } from '../debian/suite-package-index.ts';
import { installedSystemSources } from '../../kernels/debian-suite.ts';
import { assembleCloudDisk } from './assemble-cloud-disk.ts';
import {
  CLOUD_KERNEL_FLAVOUR,
  cloudImagePackages,
  getCloudImageDefinition,
  type CloudImageDefinition,
} from './cloud-image-catalog.ts';
import { finishRootTree } from './cloud-root-tree.ts';

export { CLOUD_IMAGES, type CloudFirmware, type CloudImageDefinition } from './cloud-image-catalog.ts';

/**
 * A cloud-format disk (see cloud-image-catalog.ts), built offline from
 * Debian's archive and cached under `<cache>/images/cloud/<name>/<recipe hash>`
 * as base.qcow2, plus manifest.json (the installed packages). Runs boot a
 * copy-on-write overlay of it, through firmware: nothing outside the disk is
 * needed to boot it.
 *
 * The recipe (the cache key): suite, firmware, package list, the cloud kernel
 * the archive serves today (`linux-image-cloud-amd64`, Debian's genericcloud
 * kernel; its headers resolve with it, so the guest can install
 * linux-headers-$(uname -r) later), and a hash of the builder's files
 * (BUILDER_SOURCES). Root and ESP UUIDs are made anew by each build.
 */
export interface CloudImage {
  name: string;
  definition: CloudImageDefinition;
  dir: string;
  /** The qcow2 in the cache, never written by runs (boot an overlay of it). */
  disk: string;
  /** `uname -r` in the guest. */
  kernelRelease: string;
  /** True when this call built it. */
  built: boolean;
}

/**
 * Every file that decides what goes on the disk (the shared mmdebstrap command included);
 * not the seed writer nor the box packer, which only read the disk.
 */
const BUILDER_SOURCES = [
  'harness/images/cloud/build-cloud-image.ts',
  'harness/images/cloud/cloud-image-catalog.ts',
  'harness/images/cloud/cloud-root-tree.ts',
  'harness/images/cloud/boot-config.ts',
  'harness/images/cloud/cloud-disk-layout.ts',
  'harness/images/cloud/grub-boot-sectors.ts',
  'harness/images/cloud/assemble-cloud-disk.ts',
  'harness/images/debian/mmdebstrap-command.ts',
];

export async function ensureCloudImage(name: string, onProgress: (line: string) => void = () => {}): Promise<CloudImage> {
  const definition = getCloudImageDefinition(name);
  const kernel = await resolveCloudKernel(definition, onProgress);
  const recipe = await cloudDiskRecipe(definition, kernel);
  const started = Date.now();
  const artifact = await ensureCached(join('images', 'cloud', name), recipe, (dir) => buildCloudDisk(definition, kernel, dir, onProgress));
  if (artifact.built) onProgress(`${name}: image built in ${((Date.now() - started) / 1000).toFixed(0)} s: ${artifact.dir}`);
  return {
    name,
    definition,
    dir: artifact.dir,
    disk: join(artifact.dir, 'base.qcow2'),
    kernelRelease: kernel.release,
    built: artifact.built,
  };
}

/** The cloud kernel the archive serves today for the image's suite. */
export async function resolveCloudKernel(definition: CloudImageDefinition, onProgress: (line: string) => void): Promise<SuiteKernel> {
  const kernel = await resolveSuiteKernel(definition.suite, onProgress, CLOUD_KERNEL_FLAVOUR);
  if (kernel.staleListsWarning) onProgress(`warning: ${kernel.staleListsWarning}`);
  return kernel;
}

/** What decides a cloud disk's content (a variant adds its own part). */
export async function cloudDiskRecipe(definition: CloudImageDefinition, kernel: SuiteKernel): Promise<Record<string, unknown>> {
  return {
    name: definition.name,
    suite: definition.suite,
    firmware: definition.firmware,
    mirror: DEBIAN_MIRROR,
    packages: cloudImagePackages(definition),
    kernel: kernel.image,
    sources: await hashSourceTrees(BUILDER_SOURCES),
  };
}

/**
 * A derived disk (e.g. the Vagrant box's, the flawed images'): the same build
 * with extra touches on the finished tree, before the file system is made.
 */
export interface CloudDiskVariant {
  name: string;
  /** The qcow2's file name in the build folder. */
  file: string;
  finish?: (rootfs: string) => Promise<void>;
}

/** Builds the disk into `dir` (an ensureCached staging folder): base.qcow2 and manifest.json. */
export async function buildCloudDisk(
  definition: CloudImageDefinition,
  kernel: SuiteKernel,
  dir: string,
  onProgress: (line: string) => void,
  variant?: Omit<CloudDiskVariant, 'file'>,
): Promise<void> {
  await buildCloudDisks(definition, kernel, dir, onProgress, [{ name: variant?.name ?? definition.name, file: 'base.qcow2', ...(variant?.finish && { finish: variant.finish }) }]);
}

/**
 * Several disks from one root tree (one mmdebstrap run): each variant finishes
 * its own copy of the tree and becomes `<dir>/<variant.file>`, with its bill of
 * materials beside it (`manifest.json` for base.qcow2, `<file>.manifest.json` otherwise).
 */
export async function buildCloudDisks(
  definition: CloudImageDefinition,
  kernel: SuiteKernel,
  dir: string,
  onProgress: (line: string) => void,
  variants: readonly CloudDiskVariant[],
): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error(`building ${definition.name} needs root (mmdebstrap --mode=root, chroot)`);
  const rootfs = join(dir, 'rootfs');
  const say = (line: string) => onProgress(`${definition.name}: ${line}`);
  say(`building from ${definition.suite} with kernel ${kernel.image.name} ${kernel.image.version}, ${definition.firmware} boot`);
  const identity = {
    rootUuid: randomUUID(),
    kernelRelease: kernel.release,
    ...(definition.firmware === 'uefi' && { espVolumeId: fatVolumeId() }),
  };
  // Goes in before the kernel's postinst builds the initramfs: initramfs-tools' fsck hook
  // probes the root device for its type, and a tree has none, so the initramfs would
  // have no fsck.ext4 ("fsck not present") unless told the type, as here.
  const initramfsFsType = join(dir, 'initramfs-root-fstype');
  await writeFile(initramfsFsType, "# The root file system's type, for initramfs-tools' fsck hook.\nFSTYPE=ext4\n");
  try {
    await runMmdebstrap(
      buildRootTreeArgs({
        suite: definition.suite,
        packages: cloudImagePackages(definition),
        mirror: DEBIAN_MIRROR,
        // As the image's own apt sources say (boot-config.ts): an installed system's kernel is the security pocket's.
        pockets: installedSystemSources(definition.suite).slice(1),
        rootfs,
        // Shared with the lab's own images: a suite's .debs are downloaded once.
        debCacheDir: join(cacheRoot(), 'debs', definition.suite),
        essentialHooks: [`mkdir -p "$1"/etc/initramfs-tools/conf.d && cp ${quote(initramfsFsType)} "$1"/etc/initramfs-tools/conf.d/root-fstype`],
      }),
      say,
    );
    await assertKernelAsResolved(rootfs, kernel);

    say('  first-boot state, apt sources, GRUB (the suite\'s own grub-mkimage)');
    const bootLoader = await finishRootTree(rootfs, definition, identity);
    for (const [index, variant] of variants.entries()) {
      // The last variant takes the tree itself; the others a copy of it.
      const tree = index === variants.length - 1 ? rootfs : `${rootfs}-${index}`;
      if (tree !== rootfs) await runHostCommand('cp', ['-a', rootfs, tree], { timeoutMs: 600_000 });
      try {
        if (variant.finish) {
          say(`  ${variant.name}: its own touches`);
          await variant.finish(tree);
        }
        const packages = await installedPackages(tree);
        say(`  ${variant.file}: partitioning, ext4 root, boot loader, qcow2`);
        await assembleCloudDisk({
          rootfs: tree,
          firmware: definition.firmware,
          rootUuid: identity.rootUuid,
          rootPartUuid: randomUUID(),
          ...(identity.espVolumeId && { espVolumeId: identity.espVolumeId }),
          bootLoader,
          qcow2: join(dir, variant.file),
        });
        const manifest = variant.file === 'base.qcow2' ? 'manifest.json' : `${variant.file}.manifest.json`;
        await writeFile(
          join(dir, manifest),
          JSON.stringify({ ...definition, variant: variant.name, kernelRelease: kernel.release, rootUuid: identity.rootUuid, packages }, null, 2),
        );
      } finally {
        if (tree !== rootfs) await rm(tree, { recursive: true, force: true });
      }
    }
  } finally {
    await rm(rootfs, { recursive: true, force: true });
    await rm(initramfsFsType, { force: true });
  }
}

/** The archive may have moved on between resolving the kernel and installing it: the cache key would lie. */
async function assertKernelAsResolved(rootfs: string, kernel: SuiteKernel): Promise<void> {
  const boot = await readdir(join(rootfs, 'boot'));
  for (const file of [`vmlinuz-${kernel.release}`, `initrd.img-${kernel.release}`]) {
    if (!boot.includes(file)) {
      throw new Error(`expected /boot/${file} in the image, found [${boot.join(', ')}]: the archive changed during the build; run again`);
    }
  }
}

/** `XXXX-XXXX`, a FAT volume serial number, as blkid and fstab spell it. */
function fatVolumeId(): string {
  const hex = randomBytes(4).toString('hex').toUpperCase();
  return `${hex.slice(0, 4)}-${hex.slice(4)}`;
}

/** name → version of every installed package: the image's bill of materials. */
async function installedPackages(rootfs: string): Promise<Record<string, string>> {
  const result = await runHostCommand('dpkg-query', [`--admindir=${join(rootfs, 'var/lib/dpkg')}`, '-W', '-f=${Package} ${Version}\n']);
  return Object.fromEntries(result.stdout.trim().split('\n').map((line) => line.split(' ') as [string, string]));
}
