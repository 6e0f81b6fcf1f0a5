import { runHostCommand } from '../../exec/run-host-command.ts';
import type { DebianImageDefinition } from './debian-image-catalog.ts';
import { installedSystemSources } from '../../kernels/debian-suite.ts';

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
  return buildRootTreeArgs({
    suite: plan.image.suite,
    packages: plan.image.packages,
    mirror: plan.mirror,
    pockets: installedSystemSources(plan.image.suite).slice(1),
    rootfs: plan.rootfs,
    debCacheDir: plan.debCacheDir,
    essentialHooks: [`cp -a ${quote(`${files}/initramfs`)}/. "$1"/`],
    customizeHooks: [
      `cp -a ${quote(`${files}/rootfs`)}/. "$1"/`,
      `sh ${quote(`${files}/customize.sh`)} "$1" ${quote(plan.image.name)}`,
    ],
  });
}

/**
 * The part every image builder shares (the lab's images, the cloud-format
 * disks): a minbase tree of `packages` from `suite`, no docs, the deb cache
 * synced in and out. The hooks are mmdebstrap shell snippets ("$1" is the tree).
 */
export interface RootTreePlan {
  suite: string;
  packages: readonly string[];
  mirror: string;
  /** Further `deb` lines after the suite's own (its -updates and security pockets). */
  pockets?: readonly string[];
  rootfs: string;
  debCacheDir: string;
  /** Run after the essential set is unpacked, before any other package is installed. */
  essentialHooks?: readonly string[];
  /** Run after every package is installed (after the deb cache was synced out). */
  customizeHooks?: readonly string[];
}

export function buildRootTreeArgs(plan: RootTreePlan): string[] {
  return [
    '--mode=root',
    '--variant=minbase',
    '--architectures=amd64',
    `--include=${plan.packages.join(',')}`,
    '--aptopt=Acquire::Languages "none"',
    ...['doc', 'man', 'locale', 'info'].map((d) => `--dpkgopt=path-exclude=/usr/share/${d}/*`),
    // The deb cache: keep what was downloaded, including the essential set.
    '--skip=essential/unlink',
    `--setup-hook=mkdir -p ${quote(plan.debCacheDir)} "$1"/var/cache/apt/archives/`,
    `--setup-hook=sync-in ${quote(plan.debCacheDir)} /var/cache/apt/archives/`,
    ...(plan.essentialHooks ?? []).map((hook) => `--essential-hook=${hook}`),
    `--customize-hook=sync-out /var/cache/apt/archives ${quote(plan.debCacheDir)}`,
    ...(plan.customizeHooks ?? []).map((hook) => `--customize-hook=${hook}`),
    plan.suite,
    plan.rootfs,
    plan.mirror,
    ...(plan.pockets ?? []),
  ];
}

/** mmdebstrap runs hooks through sh: paths are single-quoted for it. */
export function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs mmdebstrap with `args`, saying each of its phases once: its "I: ..." lines
 * name them, which is enough progress without apt's noise.
 */
export async function runMmdebstrap(args: readonly string[], say: (line: string) => void): Promise<void> {
  let lastPhase = '';
  await runHostCommand('mmdebstrap', [...args], {
    timeoutMs: 1_800_000,
    onOutput: (chunk) => {
      for (const line of chunk.split('\n')) {
        const phase = /^I: (.+)/.exec(line)?.[1];
        if (phase && phase !== lastPhase) say(`  ${(lastPhase = phase)}`);
      }
    },
  });
}
