import { parseArgs } from 'node:util';
import { ensureDebianImage } from '../images/debian/build-debian-image.ts';
import { ensureMicroVmImage, MICROVM_SUITES, microVmImageName } from '../images/microvm/build-microvm-image.ts';
import { recipeSourceHashes } from '../cache/recipe-sources.ts';
import { selectImages } from '../runner/cell-plan.ts';
import type { ImageSource } from '../os/index.ts';
import { UsageError } from '../runner/run-scenarios.ts';
import { loadProfiles } from './user-config.ts';

function describeSource(source: ImageSource): string {
  switch (source.kind) {
    case 'vagrant-box':
      return `vagrant box ${source.box}${source.version ? ` ${source.version}` : ''}`;
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

export const IMAGES_HELP = `usage: toa-lab images build [NAME...] | list [--config FILE] | hash [--key]

  build   build (or find in the cache) the named lab images (names are checked before anything
          is built), by default the micro-VM images: Debian's kernel (bullseye, bookworm,
          trixie), busybox, toa.ko, toa-backend
  hash    per lab image, a hash of the repo sources its recipe is built from (--key: one
          line for all of them): a CI cache key (actions/cache, GitLab cache:key) that changes
          when a recipe's sources change. Kernel versions are resolved at run time and not part
          of it: the lab's own per-recipe folders in the restored cache decide what is reused
  list    the images this lab knows: the micro-VMs, and one full-OS profile per row of the
          vendor guides with where its image comes from (a Vagrant box, a cloud image with
          checksum, built offline here) — a vendor adds or replaces sources in
          toa-lab.config.json (or --config FILE) without touching the code
`;

export async function imagesCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { config: { type: 'string' }, key: { type: 'boolean' } } });
  switch (positionals[0]) {
    case 'build': {
      // Names first: an unknown one is a usage error before anything is resolved or built.
      const named = positionals.slice(1);
      const images = named.length ? selectImages(named) : MICROVM_SUITES.map((suite) => ({ kind: 'micro' as const, suite }));
      const onProgress = (line: string): void => void process.stderr.write(`${line}\n`);
      for (const image of images) {
        if (image.kind === 'micro') {
          const built = await ensureMicroVmImage({ suite: image.suite, onProgress });
          process.stdout.write(`${built.name}  ${built.kernelRelease}  ${built.dir}\n`);
        } else {
          const built = await ensureDebianImage(image.name, onProgress);
          process.stdout.write(`${image.name}  ${built.dir}\n`);
        }
      }
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
      const { profiles, configFile } = loadProfiles(values.config);
      if (configFile) process.stdout.write(`\n(with image sources from ${configFile})\n`);
      for (const profile of profiles) {
        const sources = profile.images.map(describeSource).join(' | ');
        process.stdout.write(`${profile.id.padEnd(18)} ${profile.displayName} — ${sources}\n`);
      }
      return 0;
    }
    default:
      throw new UsageError(`images: expected 'build', 'list' or 'hash'\n\n${IMAGES_HELP}`);
  }
}
