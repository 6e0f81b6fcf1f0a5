import type { DebianImageDefinition } from './debian-image-catalog.ts';

/**
 * The mmdebstrap command line for a full-OS root file system, as a pure
 * function so every choice is visible and unit-tested:
 * - `--mode=root --variant=minbase`: a real root tree (device nodes, ownership)
 *   with only what the package list pulls in, no recommends;
 * - the image's files come in twice: `initramfs/` before any package is
 *   installed, so the kernel's postinst builds the small initrd once (no second
 *   `update-initramfs`), and `rootfs/` after, so no package's postinst sees it;
 * - downloaded .debs are synced in from and out to a cache folder, so a rebuild
 *   after a recipe change does not download the suite again;
 * - docs, man pages and locales are left out (smaller image, faster mkfs).
 */
export interface MmdebstrapPlan {
  image: DebianImageDefinition;
  mirror: string;
  rootfs: string;
  /** images/debian-base/ */
  imageFilesDir: string;
  debCacheDir: string;
}

export function buildMmdebstrapArgs(plan: MmdebstrapPlan): string[] {
  const files = plan.imageFilesDir;
  return [
    '--mode=root',
    '--variant=minbase',
    '--architectures=amd64',
    `--include=${plan.image.packages.join(',')}`,
    '--aptopt=Acquire::Languages "none"',
    ...['doc', 'man', 'locale', 'info'].map((d) => `--dpkgopt=path-exclude=/usr/share/${d}/*`),
    // The deb cache: keep what was downloaded, including the essential set.
    '--skip=essential/unlink',
    `--setup-hook=mkdir -p ${quote(plan.debCacheDir)} "$1"/var/cache/apt/archives/`,
    `--setup-hook=sync-in ${quote(plan.debCacheDir)} /var/cache/apt/archives/`,
    `--essential-hook=cp -a ${quote(`${files}/initramfs`)}/. "$1"/`,
    `--customize-hook=sync-out /var/cache/apt/archives ${quote(plan.debCacheDir)}`,
    `--customize-hook=cp -a ${quote(`${files}/rootfs`)}/. "$1"/`,
    `--customize-hook=sh ${quote(`${files}/customize.sh`)} "$1" ${quote(plan.image.name)}`,
    plan.image.suite,
    plan.rootfs,
    plan.mirror,
  ];
}

/** mmdebstrap runs hooks through sh: paths are single-quoted for it. */
function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
