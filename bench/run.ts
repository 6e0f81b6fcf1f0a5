/**
 * npm run bench: every benchmark, side by side in one run, as medians.
 * The numbers that matter are copied into BENCHMARKS.md with the date.
 * BENCH_ONLY / BENCH_SKIP pick parts (bench/parts.ts): e.g. BENCH_SKIP=virtme-ng.
 */
import { availableParallelism, loadavg } from 'node:os';
import { describeCells, measureCells } from './cell-time.ts';
import { measureMicroVm } from './microvm.ts';
import { describeModuleCost, measureModuleCost } from './module-cost.ts';
import { describeFullOs, measureFullOs } from './full-os-steps.ts';
import { freeRelayBound, measureNetCeiling } from './net-ceiling.ts';
import { measureParallel } from './parallel.ts';
import { median } from './median.ts';
import { selectedParts } from './parts.ts';
import { describeVirtme, measureVirtmeNg } from './virtme-ng.ts';

const fmt = (values: readonly number[], digits = 1): string =>
  `${median(values).toFixed(digits)} (runs: ${values.map((v) => v.toFixed(digits)).join(', ')})`;

const parts = selectedParts();
console.log(
  `toa-lab benchmarks — ${new Date().toISOString()}, ${availableParallelism()} cores, node ${process.version}, ` +
    `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, parts: ${[...parts].join(', ')}\n`,
);

if (parts.has('microvm')) {
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

if (parts.has('net-ceiling')) {
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
    const stack = ceiling.stack?.runs.connectionsPerSecond;
    if (stack) {
      const bounds = stack.map((s, i) => freeRelayBound(s, ceiling.loopback!.runs.connectionsPerSecond[i]!).toFixed(2));
      console.log(`  at most, with a relay that cost nothing (loopback + stack per connection): per run ${bounds.join(', ')}`);
    }
  }
}

// What toa.ko costs the backend (issue 10 §5): BENCH_MODCOST_ROUNDS, BENCH_MODCOST_IMAGE (bench/module-cost.ts).
if (parts.has('modcost')) {
  const cost = await measureModuleCost({
    ...(process.env.BENCH_MODCOST_IMAGE && { image: process.env.BENCH_MODCOST_IMAGE }),
    rounds: Number(process.env.BENCH_MODCOST_ROUNDS ?? 5),
  });
  console.log(describeModuleCost(cost).join('\n'));
}

if (parts.has('cells')) {
  // One kernel cell = boot + every data-path scenario (issue 13: ≤ 45 s where the first verdict is ~5 s).
  const cells = measureCells({
    ...(process.env.BENCH_CELLS && { cells: process.env.BENCH_CELLS.split(',') }),
    rounds: Number(process.env.BENCH_CELL_ROUNDS ?? 1),
    ...(process.env.BENCH_CELL_BASELINE && { baseline: process.env.BENCH_CELL_BASELINE }),
  });
  console.log(`one kernel cell: toa-lab run --image CELL (boot + every scenario), first verdict above for scale`);
  console.log(describeCells(cells).join('\n'));
}

if (parts.has('full-os')) {
  // The whole OS step by step: the guide's procedure, its reboot, every scenario (issue 13, full OS).
  console.log(describeFullOs(measureFullOs(process.env.BENCH_FULL_OS_IMAGE ? { image: process.env.BENCH_FULL_OS_IMAGE } : {})).join('\n'));
}

if (parts.has('parallel')) {
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

// virtme-ng beside the micro-VM on the same kernel (bench/virtme-ng.ts). When it cannot be
// built or run, the run says why and exits non-zero: never a silent skip.
if (parts.has('virtme-ng')) {
  try {
    console.log(describeVirtme(await measureVirtmeNg()).join('\n'));
  } catch (error) {
    console.log(`virtme-ng side by side: NOT MEASURED — ${(error as Error).message}`);
    console.log('  (BENCH_SKIP=virtme-ng leaves this part out)');
    process.exitCode = 1;
  }
}
