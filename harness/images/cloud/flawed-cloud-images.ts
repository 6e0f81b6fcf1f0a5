import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureCached } from '../../cache/artifact-cache.ts';
import { hashSourceTrees } from '../../cache/source-hash.ts';
import { runHostCommand } from '../../exec/run-host-command.ts';
import { buildCloudDisks, cloudDiskRecipe, resolveCloudKernel } from './build-cloud-image.ts';
import { getCloudImageDefinition } from './cloud-image-catalog.ts';

/**
 * Cloud-format disks with the flaws vendors' images have in the field, for the
 * bad-input cases: each is the stock Debian 12 cloud disk (debian-12-genericcloud)
 * with one thing done to it the way an image maker would do it (a package purged
 * with dpkg, a file of cloud-init's own configuration, the apt sources as shipped),
 * never anything the harness reads. All three come from one root tree (one
 * mmdebstrap run) and are cached together by recipe hash.
 */
export type FlawedImageName = 'no-sudo' | 'stale-kernel' | 'no-seed';

export interface FlawedCloudImage {
  name: FlawedImageName;
  /** The qcow2 in the cache, never written by runs. */
  disk: string;
  /** What is wrong with it, for a test's or a report's words. */
  flaw: string;
}

export interface FlawedCloudImages {
  dir: string;
  kernelRelease: string;
  images: Readonly<Record<FlawedImageName, FlawedCloudImage>>;
  built: boolean;
}

const BASE_IMAGE = 'debian-12-genericcloud';

interface Flaw {
  name: FlawedImageName;
  flaw: string;
  finish: (rootfs: string) => Promise<void>;
}

const FLAWS: readonly Flaw[] = [
  {
    name: 'no-sudo',
    flaw: 'a minimal image without sudo: the seed makes its user, who cannot become root',
    // As a minimal image is made: the package is not there (its sudoers.d stays empty).
    finish: (rootfs) => purge(rootfs, ['sudo']),
  },
  {
    name: 'stale-kernel',
    flaw:
      "its kernel came from bookworm-security but its apt sources name only bookworm and bookworm-updates, so no repository " +
      "serves that kernel's headers; and its maker's cloud-init drop-in runs a bootcmd script the image does not ship, so " +
      'cloud-init finishes with errors of its own',
    finish: async (rootfs) => {
      // A vendor drop-in naming a helper left out of the image: cloud-init's bootcmd module fails at every boot.
      await writeFile(
        join(rootfs, 'etc/cloud/cloud.cfg.d/60_vendor_motd.cfg'),
        ['# Refresh the vendor banner at boot.', 'bootcmd:', '  - [ /usr/local/sbin/vendor-motd-refresh ]', ''].join('\n'),
      );
      await writeFile(
        join(rootfs, 'etc/apt/sources.list'),
        ['deb http://deb.debian.org/debian bookworm main', 'deb http://deb.debian.org/debian bookworm-updates main', ''].join('\n'),
      );
    },
  },
  {
    name: 'no-seed',
    flaw: "cloud-init reads no NoCloud seed (datasource None, no default user) and no user has a key: sshd answers but lets nobody in",
    finish: (rootfs) =>
      writeFile(
        join(rootfs, 'etc/cloud/cloud.cfg.d/90_datasource.cfg'),
        ['# No metadata service where this image runs: cloud-init only brings up the network.', 'datasource_list: [ None ]', 'users: []', ''].join('\n'),
      ),
  },
];

export async function ensureFlawedCloudImages(onProgress: (line: string) => void = () => {}): Promise<FlawedCloudImages> {
  const definition = getCloudImageDefinition(BASE_IMAGE);
  const kernel = await resolveCloudKernel(definition, onProgress);
  const recipe = {
    ...(await cloudDiskRecipe(definition, kernel)),
    flawed: FLAWS.map((f) => f.name),
    flawSources: await hashSourceTrees(['harness/images/cloud/flawed-cloud-images.ts']),
  };
  const started = Date.now();
  const artifact = await ensureCached(join('images', 'cloud', 'flawed'), recipe, (dir) =>
    buildCloudDisks(
      definition,
      kernel,
      dir,
      onProgress,
      FLAWS.map((f) => ({ name: `${BASE_IMAGE}-${f.name}`, file: `${BASE_IMAGE}-${f.name}.qcow2`, finish: f.finish })),
    ),
  );
  if (artifact.built) onProgress(`flawed images built in ${((Date.now() - started) / 1000).toFixed(0)} s: ${artifact.dir}`);
  const images = Object.fromEntries(
    FLAWS.map((f) => [f.name, { name: f.name, disk: join(artifact.dir, `${BASE_IMAGE}-${f.name}.qcow2`), flaw: f.flaw }]),
  ) as Record<FlawedImageName, FlawedCloudImage>;
  return { dir: artifact.dir, kernelRelease: kernel.release, images, built: artifact.built };
}

/** `dpkg --purge` in the tree, as the image's maker would have left the package out. */
async function purge(rootfs: string, packages: readonly string[]): Promise<void> {
  // sudo's prerm refuses unless told the root account is reached some other way (here: it is not).
  await runHostCommand('chroot', [rootfs, 'env', 'SUDO_FORCE_REMOVE=yes', 'dpkg', '--purge', ...packages]);
}
