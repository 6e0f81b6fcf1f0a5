import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheRoot, ensureCached } from '../cache/artifact-cache.ts';
import { hashSourceTrees } from '../cache/source-hash.ts';
import { getDebianImageDefinition } from '../images/debian/debian-image-catalog.ts';
import { rootTreeToQcow2 } from '../images/debian/disk-image.ts';
import { buildRootTreeArgs, quote, runMmdebstrap } from '../images/debian/mmdebstrap-command.ts';
import { DEBIAN_MIRROR } from '../images/debian/suite-package-index.ts';
import { resolveKernel, type ResolvedKernel } from '../kernels/archive-kernels.ts';
import { installedSystemSources, type DebianRelease } from '../kernels/debian-suite.ts';
import type { BuiltLabImage } from '../machine/qemu-machine.ts';
import { repoRoot } from '../repo-root.ts';

/**
 * The lab's Debian 12 image as a system installed from bookworm before the security
 * pocket's kernel came out: the same packages, files and customisation as `debian-12`,
 * but built from the release and its -updates only, so it boots bookworm main's kernel
 * (6.1.176 today) instead of the security pocket's (6.1.192). Its sources.list names all
 * three pockets, as Debian's installer writes it: the upgrade is one `apt-get update` away,
 * exactly the machine the Huawei guide warns about ("if the kernel is upgraded, the current
 * module will no longer match").
 *
 * Why a second image rather than installing the older kernel in `debian-12` at run time:
 * that would be a downgrade under TCG (two initramfs builds, linux-kbuild-6.1 taken back,
 * the newer kernel purged) — minutes of guest time for a system nobody runs. This is built
 * once on the host (mmdebstrap, cached) and is exactly what an installed system was.
 *
 * Why here and not in harness/images: the micro-VM recipes hash that whole folder, so a new
 * file there would rebuild every micro-VM image. This file reuses the lab image's builder
 * parts and hashes them into its own recipe, so an edit to them rebuilds this image too.
 */
export interface MainKernelImage extends BuiltLabImage {
  /** The kernel it boots: the release's (`bookworm`), as the archive's lists resolve it today. */
  archiveKernel: ResolvedKernel;
  /** The image's /etc/apt/sources.list, as written (release, -updates, security). */
  sourcesList: string;
  built: boolean;
}

/** The lab image this one is a variant of, and its release. */
const BASE_IMAGE = 'debian-12';
const RELEASE: DebianRelease = 'bookworm';
export const MAIN_KERNEL_IMAGE_NAME = 'debian-12-main';

const IMAGE_FILES = 'images/debian-base';
/** Everything that decides what the image contains (the shared builder parts included). */
const RECIPE_SOURCES = [
  IMAGE_FILES,
  'harness/kernel-upgrade/main-kernel-image.ts',
  'harness/images/debian/debian-image-catalog.ts',
  'harness/images/debian/disk-image.ts',
  'harness/images/debian/mmdebstrap-command.ts',
];

export async function ensureMainKernelImage(log: (line: string) => void = () => {}): Promise<MainKernelImage> {
  const definition = getDebianImageDefinition(BASE_IMAGE);
  // bookworm's own `main` lists: what linux-image-amd64 is in the release, without its pockets.
  const kernel = await resolveKernel({ suite: RELEASE, flavour: 'generic' }, log);
  for (const note of kernel.notes) log(`${MAIN_KERNEL_IMAGE_NAME}: ${note}`);
  const sources = installedSystemSources(RELEASE);
  const recipe = {
    name: MAIN_KERNEL_IMAGE_NAME,
    suite: RELEASE,
    mirror: DEBIAN_MIRROR,
    buildPockets: mainKernelBuildPockets(),
    sourcesList: sources,
    packages: definition.packages,
    kernel: kernel.image,
    headers: kernel.headers,
    sources: await hashSourceTrees(RECIPE_SOURCES),
  };
  const started = Date.now();
  const artifact = await ensureCached(join('images', MAIN_KERNEL_IMAGE_NAME), recipe, (dir) => build(dir, definition.packages, kernel, sources, log));
  if (artifact.built) log(`${MAIN_KERNEL_IMAGE_NAME}: image built in ${((Date.now() - started) / 1000).toFixed(0)} s: ${artifact.dir}`);
  return {
    name: MAIN_KERNEL_IMAGE_NAME,
    disk: join(artifact.dir, 'base.qcow2'),
    kernel: join(artifact.dir, 'vmlinuz'),
    initrd: join(artifact.dir, 'initrd.img'),
    kernelRelease: kernel.release,
    archiveKernel: kernel,
    sourcesList: await readFile(join(artifact.dir, 'sources.list'), 'utf8'),
    built: artifact.built,
  };
}

/** The `deb` lines the tree is built from after the release itself: its -updates, not its security pocket. */
export function mainKernelBuildPockets(): string[] {
  return installedSystemSources(RELEASE).filter((line) => !line.includes('-security'));
}

/**
 * mmdebstrap's arguments: the lab image's (buildMmdebstrapArgs), with the security pocket
 * left out of the build and written into sources.list afterwards, before customize.sh
 * (which drops the package lists, so the guest must `apt-get update` like any installed system).
 */
export function mainKernelMmdebstrapArgs(plan: { packages: readonly string[]; rootfs: string; debCacheDir: string; imageFilesDir: string; sourcesList: readonly string[] }): string[] {
  const files = plan.imageFilesDir;
  return buildRootTreeArgs({
    suite: RELEASE,
    packages: plan.packages,
    mirror: DEBIAN_MIRROR,
    pockets: mainKernelBuildPockets().slice(1),
    rootfs: plan.rootfs,
    debCacheDir: plan.debCacheDir,
    essentialHooks: [`cp -a ${quote(`${files}/initramfs`)}/. "$1"/`],
    customizeHooks: [
      `printf '%s\\n' ${plan.sourcesList.map(quote).join(' ')} > "$1"/etc/apt/sources.list`,
      `cp -a ${quote(`${files}/rootfs`)}/. "$1"/`,
      `sh ${quote(`${files}/customize.sh`)} "$1" ${quote(MAIN_KERNEL_IMAGE_NAME)}`,
    ],
  });
}

async function build(dir: string, packages: readonly string[], kernel: ResolvedKernel, sourcesList: readonly string[], log: (line: string) => void): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error(`building ${MAIN_KERNEL_IMAGE_NAME} needs root (mmdebstrap --mode=root)`);
  const rootfs = join(dir, 'rootfs');
  const say = (line: string) => log(`${MAIN_KERNEL_IMAGE_NAME}: ${line}`);
  say(`building from ${RELEASE} (+ -updates, without the security pocket) with kernel ${kernel.image.name} ${kernel.image.version}`);
  try {
    await runMmdebstrap(
      mainKernelMmdebstrapArgs({
        packages,
        rootfs,
        debCacheDir: join(cacheRoot(), 'debs', RELEASE),
        imageFilesDir: join(repoRoot(), IMAGE_FILES),
        sourcesList,
      }),
      say,
    );
    // The release's lists and the tree must agree, or the recipe (the cache key) would lie.
    const modules = await readdir(join(rootfs, 'lib', 'modules')).catch(() => [] as string[]);
    const headers = await readdir(join(rootfs, 'usr', 'src')).catch(() => [] as string[]);
    if (modules.join() !== kernel.release || !headers.includes(`linux-headers-${kernel.release}`)) {
      throw new Error(
        `expected only kernel ${kernel.release} and its headers in ${MAIN_KERNEL_IMAGE_NAME}, found modules for [${modules.join(', ')}] ` +
          `and [${headers.filter((h) => h.startsWith('linux-headers-')).join(', ')}]: the archive changed during the build; run again`,
      );
    }
    await cp(join(rootfs, 'boot', `vmlinuz-${kernel.release}`), join(dir, 'vmlinuz'));
    await cp(join(rootfs, 'boot', `initrd.img-${kernel.release}`), join(dir, 'initrd.img'));
    await cp(join(rootfs, 'etc', 'apt', 'sources.list'), join(dir, 'sources.list'));
    say('  writing the ext4 file system and converting it to qcow2');
    await rootTreeToQcow2(rootfs, join(dir, 'base.qcow2'), MAIN_KERNEL_IMAGE_NAME);
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ name: MAIN_KERNEL_IMAGE_NAME, suite: RELEASE, kernelRelease: kernel.release, kernel: kernel.image }, null, 2));
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}
