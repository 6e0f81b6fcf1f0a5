/**
 * Parallel runs: the three micro-VM images (5.10, 6.1, 6.12) run at once
 * (`--parallel 3`) against the slowest of them run alone, same scenarios, same
 * machine, measured in one go. Goal from the design: parallel ≤ 1.5 × slowest.
 *
 *   npx tsx bench/parallel.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MICROVM_SUITES, microVmImageName } from '../harness/images/microvm/build-microvm-image.ts';

const SCENARIOS = 'fullnat-toa-v4,fullnat-no-toa,bulk-transfer,malformed-options';
const BIN = join(import.meta.dirname, '..', 'bin', 'toa-lab.js');

export interface ParallelFigures {
  aloneSeconds: Record<string, number>;
  parallelSeconds: number;
  ratioToSlowest: number;
}

function timedRun(images: string[], parallel: number): number {
  const out = mkdtempSync(join(tmpdir(), 'toa-lab-bench-'));
  const started = performance.now();
  const result = spawnSync(process.execPath, [BIN, 'run', '--image', images.join(','), '--scenario', SCENARIOS, '--parallel', String(parallel), '--out', out], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`run ${images.join(',')} failed (${result.status}):\n${result.stdout.slice(-2000)}${result.stderr}`);
  return (performance.now() - started) / 1000;
}

export function measureParallel(): ParallelFigures {
  const images = MICROVM_SUITES.map(microVmImageName);
  timedRun(images, 1); // warm the caches (images, chroots, accelerator verdict) outside the measurement
  const aloneSeconds = Object.fromEntries(images.map((image) => [image, timedRun([image], 1)]));
  const parallelSeconds = timedRun(images, images.length);
  return { aloneSeconds, parallelSeconds, ratioToSlowest: parallelSeconds / Math.max(...Object.values(aloneSeconds)) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(measureParallel(), null, 2));
}
