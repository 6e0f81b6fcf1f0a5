/**
 * Parallel runs: the three micro-VM images (5.10, 6.1, 6.12) run at once
 * (`--parallel 3`) against the slowest of them run alone, same scenarios, same
 * machine, measured in one go. Goal from the design: parallel ≤ 1.5 × slowest.
 *
 *   npx tsx bench/parallel.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MICROVM_SUITES, microVmImageName } from '../harness/images/microvm/build-microvm-image.ts';
import { median } from './median.ts';

const SCENARIOS = 'fullnat-toa-v4,fullnat-no-toa,bulk-transfer,malformed-options';
const BIN = join(import.meta.dirname, '..', 'bin', 'toa-lab.js');

export interface ParallelRound {
  aloneSeconds: Record<string, number>;
  parallelSeconds: number;
  ratioToSlowest: number;
}

export interface ParallelFigures {
  rounds: ParallelRound[];
  /** Medians over the rounds. */
  aloneSeconds: Record<string, number>;
  parallelSeconds: number;
  ratioToSlowest: number;
}

/** Rounds interleave alone and parallel runs, so a burst of load on the shared host hits both sides alike. */
const ROUNDS = 3;

function timedRun(images: string[], parallel: number): number {
  const out = mkdtempSync(join(tmpdir(), 'toa-lab-bench-'));
  const started = performance.now();
  const result = spawnSync(process.execPath, [BIN, 'run', '--image', images.join(','), '--scenario', SCENARIOS, '--parallel', String(parallel), '--out', out], {
    encoding: 'utf8',
  });
  rmSync(out, { recursive: true, force: true });
  if (result.status !== 0) throw new Error(`run ${images.join(',')} failed (${result.status}):\n${result.stdout.slice(-2000)}${result.stderr}`);
  return (performance.now() - started) / 1000;
}

export function measureParallel(rounds = ROUNDS): ParallelFigures {
  const images = MICROVM_SUITES.map(microVmImageName);
  timedRun(images, 1); // warm the caches (images, chroots, accelerator verdict) outside the measurement
  const measured: ParallelRound[] = [];
  for (let round = 0; round < rounds; round++) {
    const aloneSeconds = Object.fromEntries(images.map((image) => [image, timedRun([image], 1)]));
    const parallelSeconds = timedRun(images, images.length);
    measured.push({ aloneSeconds, parallelSeconds, ratioToSlowest: parallelSeconds / Math.max(...Object.values(aloneSeconds)) });
  }
  return {
    rounds: measured,
    aloneSeconds: Object.fromEntries(images.map((image) => [image, median(measured.map((r) => r.aloneSeconds[image]!))])),
    parallelSeconds: median(measured.map((r) => r.parallelSeconds)),
    ratioToSlowest: median(measured.map((r) => r.ratioToSlowest)),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(measureParallel(), null, 2));
}
