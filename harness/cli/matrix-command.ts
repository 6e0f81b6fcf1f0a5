import { parseArgs } from 'node:util';
import { formatKernelSpec } from '../kernels/kernel-spec.ts';
import { PACKAGE_FORMATS } from '../kernels/package-formats.ts';
import type { LabImage } from '../runner/lab-images.ts';
import { UsageError } from '../runner/run-scenarios.ts';
import { planFrom } from './cell-selection.ts';
import { loadProfiles } from '../os/user-config.ts';

export const MATRIX_HELP = `usage: toa-lab matrix [--format github|gitlab|json] [--shards N] [--image NAME[,NAME...]]
                     [--kernel SPEC ...] [--kernel-deb DEB ... --headers-deb DEB ...]
                     [--kernel-rpm RPM ... --devel-rpm RPM ...]
                     [--image-file DISK ...] [--config FILE]
                     [--toa-source [NAME=]DIR|ours ...] [--toa-ko [NAME=]FILE ...]

Prints the CI matrix: one job per cell (the default run's, or the cells --image, --kernel and
--image-file choose, as 'toa-lab run' would) and shard. Each job carries "args", the run
flags that choose its cell (--image NAME, --kernel SPEC, the kernel packages' flags or --image-file DISK).
  github   {"include":[{"image":"microvm-bookworm","args":"--image microvm-bookworm","shard":"1/2"},...]}
           for strategy.matrix
  gitlab   {"parallel":{"matrix":[{"IMAGE":[...],"SHARD":[...]}]}} for parallel:matrix
  json     the whole run's plan ({"planVersion":1,"cells":[...]}, as 'toa-lab list --json')
           plus "jobs": keep it as the file for 'report merge --expect'
  --config a vendor's toa-lab.config.json: checked here, so a bad file fails the plan job,
           not every shard
  --toa-source, --toa-ko  the modules under test: two or more make a module dimension (cells
           <image>+<module>, each job "modules" lists them); a job per image and shard runs every
           module on it, so its args carry every module flag and the cell ids match the plan's
Each job runs: toa-lab run <args> --shard <shard> --out out/<image>-<i>
and a final job merges them: toa-lab report merge out/* --expect plan.json
`;

export async function matrixCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      format: { type: 'string', default: 'github' },
      shards: { type: 'string', default: '1' },
      image: { type: 'string', multiple: true },
      kernel: { type: 'string', multiple: true },
      'kernel-deb': { type: 'string', multiple: true },
      'headers-deb': { type: 'string', multiple: true },
      'kernel-rpm': { type: 'string', multiple: true },
      'devel-rpm': { type: 'string', multiple: true },
      'image-file': { type: 'string', multiple: true },
      config: { type: 'string' },
      'toa-source': { type: 'string', multiple: true },
      'toa-ko': { type: 'string', multiple: true },
    },
  });
  const shards = Number(values.shards);
  if (!Number.isInteger(shards) || shards < 1) throw new UsageError(`--shards wants a whole number ≥ 1, got '${values.shards}'`);
  if (!['github', 'gitlab', 'json'].includes(values.format)) throw new UsageError(`--format must be github, gitlab or json, got '${values.format}'`);
  if (values.config !== undefined) loadProfiles(values.config);
  // The run's own selection, so the matrix never names an image or scenario a run would refuse.
  const { plan, work } = await planFrom(
    {
      image: values.image,
      kernel: values.kernel,
      'kernel-deb': values['kernel-deb'],
      'headers-deb': values['headers-deb'],
      'kernel-rpm': values['kernel-rpm'],
      'devel-rpm': values['devel-rpm'],
      'image-file': values['image-file'],
      config: values.config,
      'toa-source': values['toa-source'],
      'toa-ko': values['toa-ko'],
    },
    {},
  );
  const images = [...new Set(plan.cells.map((c) => c.image))];
  // Every module flag goes to every job: a job with one module would name its cells by the image alone.
  const moduleFlags = [...(values['toa-source'] ?? []).map((s) => `--toa-source ${s}`), ...(values['toa-ko'] ?? []).map((k) => `--toa-ko ${k}`)];
  const flags = new Map(work.map(({ image }) => [image.name, [runArgs(image), ...moduleFlags].join(' ')]));
  const modulesOf = (image: string): string[] => plan.cells.filter((c) => c.image === image && c.module !== undefined).map((c) => c.module!);
  const shardIds = Array.from({ length: shards }, (_, i) => `${i + 1}/${shards}`);
  const jobs = images.flatMap((image) =>
    shardIds.map((shard) => ({ image, args: flags.get(image)!, ...(modulesOf(image).length && { modules: modulesOf(image).join(',') }), shard })),
  );
  switch (values.format) {
    case 'github':
      process.stdout.write(`${JSON.stringify({ include: jobs })}\n`);
      return 0;
    case 'gitlab':
      process.stdout.write(`${JSON.stringify({ parallel: { matrix: [{ IMAGE: images, SHARD: shardIds }] } }, null, 2)}\n`);
      return 0;
    default:
      process.stdout.write(`${JSON.stringify({ ...plan, jobs }, null, 2)}\n`);
      return 0;
  }
}

/** The run flags that choose exactly this cell in a job of its own. */
function runArgs(image: LabImage): string {
  if (image.kind === 'micro' && image.kernelPackages) {
    const { kernel, headers, format } = image.kernelPackages;
    const { flags } = PACKAGE_FORMATS[format];
    return [...kernel.map((k) => `${flags.kernel} ${k.path}`), ...headers.map((h) => `${flags.headers} ${h.path}`)].join(' ');
  }
  if (image.kind === 'micro' && image.kernel && !image.byDefault) return `--kernel ${formatKernelSpec(image.kernel)}`;
  if (image.kind === 'full-os' && (image.disk || image.box)) return `--image-file ${(image.disk ?? image.box)!.file}`;
  return `--image ${image.name}`;
}
