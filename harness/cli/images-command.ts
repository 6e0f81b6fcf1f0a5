import { parseArgs } from 'node:util';
import { ensureMicroVmImage, MICROVM_SUITES, microVmImageName } from '../images/microvm/build-microvm-image.ts';
import { UsageError } from '../runner/run-scenarios.ts';

export const IMAGES_HELP = `usage: toa-lab images build|list

  build   build (or find in the cache) the micro-VM images: Debian's kernel (bullseye, bookworm,
          trixie), busybox, toa.ko, toa-backend
  list    the images this lab knows
`;

export async function imagesCommand(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  switch (positionals[0]) {
    case 'build': {
      for (const suite of MICROVM_SUITES) {
        const image = await ensureMicroVmImage({ suite, onProgress: (line) => process.stderr.write(`${line}\n`) });
        process.stdout.write(`${image.name}  ${image.kernelRelease}  ${image.dir}\n`);
      }
      return 0;
    }
    case 'list':
      for (const suite of MICROVM_SUITES) {
        process.stdout.write(`${microVmImageName(suite).padEnd(18)} Debian ${suite}'s kernel + busybox initramfs + toa.ko (built offline)\n`);
      }
      return 0;
    default:
      throw new UsageError(`images: expected 'build' or 'list'\n\n${IMAGES_HELP}`);
  }
}
