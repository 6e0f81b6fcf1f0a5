import { parseArgs } from 'node:util';
import { ensureMicroVmImage } from '../images/microvm/build-microvm-image.ts';
import { UsageError } from '../runner/run-scenarios.ts';

export const IMAGES_HELP = `usage: toa-lab images build|list

  build   build (or find in the cache) the micro-VM image: Debian's kernel, busybox, toa.ko, toa-backend
  list    the images this lab knows
`;

export async function imagesCommand(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  switch (positionals[0]) {
    case 'build': {
      const image = await ensureMicroVmImage((line) => process.stderr.write(`${line}\n`));
      process.stdout.write(`${image.dir}\n`);
      return 0;
    }
    case 'list':
      process.stdout.write('microvm   Debian bookworm kernel (linux-image-amd64) + busybox initramfs + toa.ko\n');
      return 0;
    default:
      throw new UsageError(`images: expected 'build' or 'list'\n\n${IMAGES_HELP}`);
  }
}
