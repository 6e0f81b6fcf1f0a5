/**
 * npm run bench: every benchmark, side by side in one run, as medians.
 * The numbers that matter are copied into BENCHMARKS.md with the date.
 *
 * BENCH_SKIP=part,… leaves parts out: microvm, ceiling, cells, parallel, modcost
 * (e.g. `BENCH_SKIP=cells,parallel npm run bench`).
 */
import { availableParallelism } from 'node:os';
import { describeCells, measureCells } from './cell-time.ts';
import { measureMicroVm } from './microvm.ts';
import { describeModuleCost, measureModuleCost } from './module-cost.ts';
import { measureNetCeiling } from './net-ceiling.ts';
import { measureParallel } from './parallel.ts';
import { median } from './median.ts';

const fmt = (values: readonly number[], digits = 1): string =>
  `${median(values).toFixed(digits)} (runs: ${values.map((v) => v.toFixed(digits)).join(', ')})`;

const PARTS = ['microvm', 'ceiling', 'cells', 'parallel', 'modcost'] as const;
const skipped = new Set((process.env.BENCH_SKIP ?? '').split(',').map((p) => p.trim()).filter(Boolean));
const unknown = [...skipped].filter((p) => !(PARTS as readonly string[]).includes(p));
if (unknown.length) throw new Error(`BENCH_SKIP: unknown part ${unknown.join(', ')}; parts: ${PARTS.join(', ')}`);
const wanted = (part: (typeof PARTS)[number]): boolean => !skipped.has(part);

console.log(`toa-lab benchmarks — ${new Date().toISOString()}, ${availableParallelism()} cores, node ${process.version}\n`);
if (skipped.size) console.log(`skipped (BENCH_SKIP): ${[...skipped].join(', ')}\n`);

if (wanted('microvm')) {
  const vm = await measureMicroVm();
  console.log(`micro-VM (${vm.accelerator})`);
  console.log(`  QEMU start → first verdict, s     ${fmt(vm.firstVerdictSeconds)}`);
  console.log(`  … restored from snapshot, s       ${fmt(vm.firstVerdictRestoredSeconds)}`);
  console.log(
    `  restored / booted                 ×${(median(vm.firstVerdictRestoredSeconds) / median(vm.firstVerdictSeconds)).toFixed(2)} ` +
      `(per pair: ${vm.firstVerdictRestoredSeconds.map((r, i) => (r / vm.firstVerdictSeconds[i]!).toFixed(2)).join(', ')}; goal: restored ≤ 2.5 s where booted is ~5 s)`,
  );
  console.log(`  balancer → guest, short conn/s    ${fmt(vm.connectionsPerSecond)}`);
  console.log(`  balancer → guest, download MiB/s  ${fmt(vm.downloadMiBPerSecond)}`);
  console.log(`  balancer ↔ guest, echo MiB/s/way  ${fmt(vm.echoMiBPerSecondEachWay)}`);
}

if (wanted('ceiling')) {
  const ceiling = await measureNetCeiling();
  for (const [path, figures] of Object.entries(ceiling)) {
    console.log(`harness ceiling, ${path} (no VM, userspace peer)`);
    console.log(`  short conn/s                      ${fmt(figures.runs.connectionsPerSecond, 0)}`);
    console.log(`  bulk MiB/s                        ${fmt(figures.runs.bulkMiBPerSecond)}`);
  }
  const loopback = ceiling.loopback?.connectionsPerSecond;
  const balancer = ceiling.balancer?.connectionsPerSecond;
  if (loopback && balancer) {
    const ratios = ceiling.balancer!.runs.connectionsPerSecond.map((b, i) => (b / ceiling.loopback!.runs.connectionsPerSecond[i]!).toFixed(2));
    console.log(`balancer path / plain node loopback, short conn/s: ×${(balancer / loopback).toFixed(2)} (per run: ${ratios.join(', ')}; goal ≥ ×0.8)`);
  }
}

// What toa.ko costs the backend (issue 10 §5): BENCH_MODCOST_ROUNDS, BENCH_MODCOST_IMAGE (bench/module-cost.ts).
if (wanted('modcost')) {
  const cost = await measureModuleCost({
    ...(process.env.BENCH_MODCOST_IMAGE && { image: process.env.BENCH_MODCOST_IMAGE }),
    rounds: Number(process.env.BENCH_MODCOST_ROUNDS ?? 5),
  });
  console.log(describeModuleCost(cost).join('\n'));
}

// One kernel cell = boot + every data-path scenario (issue 13: ≤ 45 s where the first verdict is ~5 s).
if (wanted('cells')) {
  const cells = measureCells({
    ...(process.env.BENCH_CELLS && { cells: process.env.BENCH_CELLS.split(',') }),
    rounds: Number(process.env.BENCH_CELL_ROUNDS ?? 1),
    ...(process.env.BENCH_CELL_BASELINE && { baseline: process.env.BENCH_CELL_BASELINE }),
  });
  console.log(`one kernel cell: toa-lab run --image CELL (boot + every scenario), first verdict above for scale`);
  console.log(describeCells(cells).join('\n'));
}

if (wanted('parallel')) {
  const parallel = measureParallel();
  const runs = (pick: (round: (typeof parallel.rounds)[number]) => number, digits = 1): string =>
    `(${parallel.rounds.map((round) => pick(round).toFixed(digits)).join(', ')})`;
  console.log(`three micro-VM images, same scenarios: medians of ${parallel.rounds.length} interleaved rounds (each round's figures)`);
  for (const [image, seconds] of Object.entries(parallel.aloneSeconds)) {
    console.log(`  ${image} alone, s`.padEnd(36) + `${seconds.toFixed(1)} ${runs((r) => r.aloneSeconds[image]!)}`);
  }
  console.log(`  all three with --parallel 3, s`.padEnd(36) + `${parallel.parallelSeconds.toFixed(1)} ${runs((r) => r.parallelSeconds)}`);
  console.log(`  parallel / slowest alone`.padEnd(36) + `×${parallel.ratioToSlowest.toFixed(2)} ${runs((r) => r.ratioToSlowest, 2)} (goal ≤ ×1.5)`);
}
