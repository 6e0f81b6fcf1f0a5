/**
 * npm run bench: every benchmark, side by side in one run, as medians.
 * The numbers that matter are copied into BENCHMARKS.md with the date.
 */
import { availableParallelism } from 'node:os';
import { measureMicroVm } from './microvm.ts';
import { measureNetCeiling } from './net-ceiling.ts';

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const fmt = (values: readonly number[], digits = 1): string =>
  `${median(values).toFixed(digits)} (runs: ${values.map((v) => v.toFixed(digits)).join(', ')})`;

console.log(`toa-lab benchmarks — ${new Date().toISOString()}, ${availableParallelism()} cores, node ${process.version}\n`);

const vm = await measureMicroVm();
console.log(`micro-VM (${vm.accelerator})`);
console.log(`  QEMU start → first verdict, s     ${fmt(vm.firstVerdictSeconds)}`);
console.log(`  balancer → guest, short conn/s    ${fmt(vm.connectionsPerSecond)}`);
console.log(`  balancer → guest, download MiB/s  ${fmt(vm.downloadMiBPerSecond)}`);
console.log(`  balancer ↔ guest, echo MiB/s/way  ${fmt(vm.echoMiBPerSecondEachWay)}`);

const ceiling = await measureNetCeiling();
for (const [path, figures] of Object.entries(ceiling)) {
  console.log(`harness ceiling, ${path} (no VM, userspace peer)`);
  console.log(`  short conn/s                      ${fmt(figures.runs.connectionsPerSecond, 0)}`);
  console.log(`  bulk MiB/s                        ${fmt(figures.runs.bulkMiBPerSecond)}`);
}
