import { cp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashSourceTrees } from '../../cache/source-hash.ts';
import { cacheRoot, ensureCached } from '../../cache/artifact-cache.ts';
import { runHostCommand } from '../../exec/run-host-command.ts';
import { repoRoot } from '../../repo-root.ts';
import { getDebianImageDefinition, type DebianImageDefinition } from './debian-image-catalog.ts';
import { rootTreeToQcow2 } from './disk-image.ts';
import { buildMmdebstrapArgs, runMmdebstrap } from './mmdebstrap-command.ts';
import { DEBIAN_MIRROR, resolveSuiteKernel, type SuiteKernel } from './suite-package-index.ts';

/**
 * A full-OS Debian image, built here offline from Debian's archive and cached
 * under `<cache>/images/<name>/<recipe hash>`: base.qcow2 (the root file
 * system, no partition table), and the kernel + initrd pulled out of it for
 * QEMU's direct kernel boot.
 *
 * The recipe (and so the cache key) is: the package list, the suite, the
 * kernel apt resolves today, every file under images/debian-base/ and this
 * folder's source. A new kernel in the archive, or an edit to any of those,
 * builds a new image; otherwise every run reuses the cached one.
 */
export interface DebianImage {
  name: string;
  definition: DebianImageDefinition;
  dir: string;
  disk: string;
  kernel: string;
  initrd: string;
  /** `uname -r` in the guest. */
  kernelRelease: string;
  /** True when this call built it. */
  built: boolean;
}

const IMAGE_FILES = 'images/debian-base';
/** The builder files whose edits change what an image contains (not e.g. the index resolver). */
const BUILDER_SOURCES = [
  'harness/images/debian/build-debian-image.ts',
  'harness/images/debian/debian-image-catalog.ts',
  'harness/images/debian/disk-image.ts',
  'harness/images/debian/mmdebstrap-command.ts',
];

export async function ensureDebianImage(name: string, onProgress: (line: string) => void = () => {}): Promise<DebianImage> {
  const definition = getDebianImageDefinition(name);
  const kernel = await resolveSuiteKernel(definition.suite, onProgress);
  if (kernel.staleListsWarning) onProgress(`warning: ${kernel.staleListsWarning}`);
  const recipe = {
    name,
    suite: definition.suite,
    mirror: DEBIAN_MIRROR,
    packages: definition.packages,
    kernel: kernel.image,
    headers: kernel.headers,
    sources: await hashSourceTrees([IMAGE_FILES, ...BUILDER_SOURCES]),
  };

  const started = Date.now();
  const artifact = await ensureCached(join('images', name), recipe, (dir) => build(definition, kernel, dir, onProgress));
  if (artifact.built) onProgress(`${name}: image built in ${((Date.now() - started) / 1000).toFixed(0)} s: ${artifact.dir}`);
  return {
    name,
    definition,
    dir: artifact.dir,
    disk: join(artifact.dir, 'base.qcow2'),
    kernel: join(artifact.dir, 'vmlinuz'),
    initrd: join(artifact.dir, 'initrd.img'),
    kernelRelease: kernel.release,
    built: artifact.built,
  };
}

async function build(
  definition: DebianImageDefinition,
  kernel: SuiteKernel,
  dir: string,
  onProgress: (line: string) => void,
): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error(`building ${definition.name} needs root (mmdebstrap --mode=root)`);
  const rootfs = join(dir, 'rootfs');
  const say = (line: string) => onProgress(`${definition.name}: ${line}`);
  say(`building from ${definition.suite} with kernel ${kernel.image.name} ${kernel.image.version} (a few minutes under load)`);
  try {
    await runMmdebstrap(
      buildMmdebstrapArgs({
        image: definition,
        mirror: DEBIAN_MIRROR,
        rootfs,
        imageFilesDir: join(repoRoot(), IMAGE_FILES),
        debCacheDir: join(cacheRoot(), 'debs', definition.suite),
      }),
      say,
    );

    await assertKernelAsResolved(rootfs, kernel);
    say('  copying the kernel and initrd out of the tree');
    await cp(join(rootfs, 'boot', `vmlinuz-${kernel.release}`), join(dir, 'vmlinuz'));
    await cp(join(rootfs, 'boot', `initrd.img-${kernel.release}`), join(dir, 'initrd.img'));
    const packages = await installedPackages(rootfs);

    say(`  writing the ext4 file system and converting it to qcow2`);
    await rootTreeToQcow2(rootfs, join(dir, 'base.qcow2'), definition.name);
    await writeFile(
      join(dir, 'manifest.json'),
      JSON.stringify({ name: definition.name, suite: definition.suite, kernelRelease: kernel.release, packages }, null, 2),
    );
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}

/** The archive may have moved on between resolving the kernel and installing it: the cache key would lie. */
async function assertKernelAsResolved(rootfs: string, kernel: SuiteKernel): Promise<void> {
  const modules = await readdir(join(rootfs, 'lib', 'modules')).catch(() => [] as string[]);
  const headers = await readdir(join(rootfs, 'usr', 'src')).catch(() => [] as string[]);
  if (!modules.includes(kernel.release) || !headers.includes(`linux-headers-${kernel.release}`)) {
    throw new Error(
      `expected kernel ${kernel.release} and its headers in the image, found modules for [${modules.join(', ')}] ` +
        `and [${headers.filter((h) => h.startsWith('linux-headers-')).join(', ')}]: the archive changed during the build; run again`,
    );
  }
}

/** name → version of every installed package: the image's bill of materials, for reports. */
async function installedPackages(rootfs: string): Promise<Record<string, string>> {
  const result = await runHostCommand('dpkg-query', [`--admindir=${join(rootfs, 'var/lib/dpkg')}`, '-W', '-f=${Package} ${Version}\n']);
  return Object.fromEntries(result.stdout.trim().split('\n').map((line) => line.split(' ') as [string, string]));
}
