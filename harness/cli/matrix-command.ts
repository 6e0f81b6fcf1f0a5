import { parseArgs } from 'node:util';
import { defaultImages } from '../runner/lab-images.ts';
import { UsageError } from '../runner/run-scenarios.ts';

export const MATRIX_HELP = `usage: toa-lab matrix [--format github|gitlab|json] [--shards N]

Prints the CI matrix: one job per image of the default run and shard.
  github   {"include":[{"image":"microvm-bookworm","shard":"1/2"},...]} for strategy.matrix
  gitlab   {"parallel":{"matrix":[{"IMAGE":[...],"SHARD":[...]}]}} for parallel:matrix
  json     the plain list of jobs
Each job runs: toa-lab run --image <image> --shard <shard> --out out/<image>-<i>
and a final job merges them: toa-lab report merge out/*
`;

export async function matrixCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { format: { type: 'string', default: 'github' }, shards: { type: 'string', default: '1' } } });
  const shards = Number(values.shards);
  if (!Number.isInteger(shards) || shards < 1) throw new UsageError(`--shards wants a whole number ≥ 1, got '${values.shards}'`);
  const images = defaultImages().map((i) => i.name);
  const shardIds = Array.from({ length: shards }, (_, i) => `${i + 1}/${shards}`);
  const jobs = images.flatMap((image) => shardIds.map((shard) => ({ image, shard })));
  switch (values.format) {
    case 'github':
      process.stdout.write(`${JSON.stringify({ include: jobs })}\n`);
      return 0;
    case 'gitlab':
      process.stdout.write(`${JSON.stringify({ parallel: { matrix: [{ IMAGE: images, SHARD: shardIds }] } }, null, 2)}\n`);
      return 0;
    case 'json':
      process.stdout.write(`${JSON.stringify(jobs, null, 2)}\n`);
      return 0;
    default:
      throw new UsageError(`--format must be github, gitlab or json, got '${values.format}'`);
  }
}
