import { parseArgs } from 'node:util';
import { DEFAULT_KERNELS } from '../kernels/default-kernels.ts';
import { formatKernelSpec, kernelCellName } from '../kernels/kernel-spec.ts';
import { ensureMicroVmImage, MICROVM_SUITES, microVmImageName } from '../images/microvm/build-microvm-image.ts';
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

export const IMAGES_HELP = `usage: toa-lab images build|list [--config FILE]

  build   build (or find in the cache) the micro-VM images: Debian's kernel (bullseye, bookworm,
          trixie), busybox, toa.ko, toa-backend
  list    the images this lab knows: the micro-VMs, and one full-OS profile per row of the
          vendor guides with where its image comes from (a Vagrant box, a cloud image with
          checksum, built offline here) — a vendor adds or replaces sources in
          toa-lab.config.json (or --config FILE) without touching the code
`;

export async function imagesCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { config: { type: 'string' } } });
  switch (positionals[0]) {
    case 'build': {
      for (const suite of MICROVM_SUITES) {
        const image = await ensureMicroVmImage({ suite, onProgress: (line) => process.stderr.write(`${line}\n`) });
        process.stdout.write(`${image.name}  ${image.kernelRelease}  ${image.dir}\n`);
      }
      for (const kernel of DEFAULT_KERNELS) {
        const image = await ensureMicroVmImage({ kernel, onProgress: (line) => process.stderr.write(`${line}\n`) });
        process.stdout.write(`${image.name}  ${image.kernelRelease}  ${image.dir}\n`);
      }
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
      }
      process.stdout.write(
        `${'windows'.padEnd(18)} Windows (UCloud guide: loopback adapter, VIP, netsh weak host model) — rendered as PowerShell ` +
          '(harness/os/windows) and checked statically; NOT run here: no Windows image can be built or fetched on this machine\n',
      );
      return 0;
    }
    default:
      throw new UsageError(`images: expected 'build' or 'list'\n\n${IMAGES_HELP}`);
  }
}
