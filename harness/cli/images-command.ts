import { parseArgs } from 'node:util';
import { DEFAULT_KERNELS } from '../kernels/default-kernels.ts';
import { formatKernelSpec, kernelCellName } from '../kernels/kernel-spec.ts';
import { ensureDebianImage } from '../images/debian/build-debian-image.ts';
import { ensureMicroVmImage, MICROVM_SUITES, microVmImageName } from '../images/microvm/build-microvm-image.ts';
import { recipeSourceHashes } from '../runner/recipe-sources.ts';
import { selectImages } from '../runner/cell-plan.ts';
import type { LabImage } from '../runner/lab-images.ts';
import { ensurePatchedKernel } from '../patched-kernel/kernel-cache.ts';
import { describeBoxProviders, type ImageSource, type OsProfile } from '../os/index.ts';
import { UsageError } from '../runner/run-scenarios.ts';
import { loadProfiles } from '../os/user-config.ts';

function describeSource(source: ImageSource): string {
  switch (source.kind) {
    case 'vagrant-box':
      return `vagrant box ${source.box}${source.version ? ` ${source.version}` : ''} ${describeBoxProviders(source)}`;
    case 'cloud-image':
      return `cloud image ${source.url} (sha256 ${source.sha256 ?? 'not verified here'})`;
    case 'local-image':
      return `local image ${source.path}`;
    case 'offline-debian':
      return `built offline here from Debian ${source.suite}`;
    case 'user-supplied':
      return `none public: ${source.reason}`;
  }
}

/**
 * A row's mirror or archive, and what was done with its step here: no guide row's OS boots on
 * this machine, so its rendering is checked statically (golden files, ShellCheck, runs against
 * sample files in a sandbox) and NOT run on that OS; the apt form ran once on the lab's
 * cloud-format Debian 12 disk with a config mirror (BENCHMARKS.md).
 */
function describeRepositories(profile: OsProfile): string | undefined {
  const mirror = profile.repositories;
  if (!mirror) return undefined;
  const security = mirror.securityUrl ? ` (security: ${mirror.securityUrl})` : '';
  // The lab's own Debian images carry their toolchain and have no package network: a mirror
  // applies to such a row only when the config also names its image (a disk the lab did not make).
  const ownImageOnly = profile.images.every((s) => s.kind === 'offline-debian');
  return (
    `${mirror.kind} ${mirror.url}${security}${mirror.note ? `: ${mirror.note}` : ''} — a step before the toolchain points ${profile.packageManager} there ` +
    `(its host joins the package proxy's allow-list for \`run --image ${profile.id}\`${ownImageOnly ? ' with an image from the config' : ''}); ` +
    `rendered and checked statically, NOT run on ${profile.displayName} here` +
    (profile.packageManager === 'apt' ? ' (the apt form itself ran once on a Debian 12 cloud disk: BENCHMARKS.md)' : '')
  );
}

export const IMAGES_HELP = `usage: toa-lab images build [NAME...] | list [--config FILE] | hash [--key]

  build   build (or find in the cache) the named lab images (names are checked before anything
          is built), by default the default lab's micro-VM images: Debian's kernels (bullseye,
          bookworm, trixie, the newer default kernels), busybox, toa.ko, toa-backend;
          centos-6.8-patched-kernel builds the patched kernel (10–26 min cold)
  hash    per lab image, a hash of the repo sources its recipe is built from (--key: one
          line for all of them): a CI cache key (actions/cache, GitLab cache:key) that changes
          when a recipe's sources change. Kernel versions are resolved at run time and not part
          of it: the lab's own per-recipe folders in the restored cache decide what is reused
  list    the images this lab knows: the micro-VMs, and one full-OS profile per row of the
          vendor guides with where its image comes from (a Vagrant box, a cloud image with
          checksum, built offline here; for a box, the Vagrant providers it is published for and
          whether the lab's vagrant-libvirt can use it), and the mirror or archive an end-of-life
          row's packages come from — a vendor adds or replaces sources ("images") and mirrors
          ("repositories") in toa-lab.config.json (or --config FILE) without touching the code
`;

/** How each kind of image is built (or found in the cache), by its typed kind; one line of output each. */
const IMAGE_BUILDERS: { [Kind in LabImage['kind']]: (image: Extract<LabImage, { kind: Kind }>, onProgress: (line: string) => void) => Promise<string> } = {
  micro: async (image, onProgress) => {
    const built = await ensureMicroVmImage({ suite: image.suite, ...(image.kernel && { kernel: image.kernel }), onProgress });
    return `${built.name}  ${built.kernelRelease}  ${built.dir}`;
  },
  'full-os': async (image, onProgress) => {
    if (image.disk) return `${image.name}  a disk the lab does not build: ${image.disk.file || image.disk.download?.url}`;
    const built = await ensureDebianImage(image.name, onProgress);
    return `${image.name}  ${built.kernelRelease}  ${built.dir}`;
  },
  'patched-kernel': async (image, onProgress) => {
    const kernel = await ensurePatchedKernel({ log: onProgress });
    return `${image.name}  ${kernel.release}  ${kernel.dir}`;
  },
};

export async function imagesCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { config: { type: 'string' }, key: { type: 'boolean' } } });
  switch (positionals[0]) {
    case 'build': {
      // Names first: an unknown one is a usage error before anything is resolved or built.
      const named = positionals.slice(1);
      const images = named.length ? selectImages(named, [], values.config) : selectImages([]).filter((i) => i.kind === 'micro');
      const onProgress = (line: string): void => void process.stderr.write(`${line}\n`);
      for (const image of images) process.stdout.write(`${await IMAGE_BUILDERS[image.kind](image as never, onProgress)}\n`);
      return 0;
    }
    case 'hash': {
      const hashes = await recipeSourceHashes();
      if (values.key) {
        process.stdout.write(`${hashes.key}\n`);
        return 0;
      }
      for (const [name, hash] of Object.entries(hashes.images)) process.stdout.write(`${name.padEnd(18)} ${hash}\n`);
      return 0;
    }
    case 'list': {
      for (const suite of MICROVM_SUITES) {
        process.stdout.write(`${microVmImageName(suite).padEnd(18)} Debian ${suite}'s kernel + busybox initramfs + toa.ko (built offline)\n`);
      }
      for (const kernel of DEFAULT_KERNELS) {
        process.stdout.write(`${kernelCellName(kernel)} kernel ${formatKernelSpec(kernel)} from Debian's archive + busybox initramfs + toa.ko (any other: run --kernel)\n`);
      }
      const { profiles, configFile } = loadProfiles(values.config);
      if (configFile) process.stdout.write(`\n(with image sources from ${configFile})\n`);
      for (const profile of profiles) {
        const sources = profile.images.map(describeSource).join(' | ');
        process.stdout.write(`${profile.id.padEnd(18)} ${profile.displayName} — ${sources}\n`);
        const repositories = describeRepositories(profile);
        if (repositories) process.stdout.write(`${''.padEnd(18)}   repositories: ${repositories}\n`);
      }
      process.stdout.write(
        `${'windows'.padEnd(18)} Windows (UCloud guide: loopback adapter, VIP, netsh weak host model) — rendered as PowerShell ` +
          '(harness/os/windows) and checked statically; NOT run here: no Windows image can be built or fetched on this machine\n',
      );
      return 0;
    }
    default:
      throw new UsageError(`images: expected 'build', 'list' or 'hash'\n\n${IMAGES_HELP}`);
  }
}
