/**
 * TCG with one host thread per vCPU ("multi", QEMU's default) against all
 * vCPUs on one host thread ("single", the lab's choice: harness/vm/qemu/tcg-threading.ts),
 * side by side, interleaved:
 *
 *   - what "single" costs: `toa-lab run` wall time on a micro-VM (boot, module,
 *     four scenarios) and on Debian 12 (boot, the guides' whole procedure with
 *     the reboot, one scenario);
 *   - what "multi" costs: rmmod/insmod cycles under 60 streaming downloads on
 *     a micro-VM until the guest stops answering (capped).
 *
 *   npx tsx bench/tcg-threading.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MicroLab } from '../harness/lab/micro-lab.ts';
import { cycleToaUnderTraffic } from '../harness/lab/unload-cycles.ts';
import { RunSession } from '../harness/lifecycle/run-session.ts';
import type { TcgThreading } from '../harness/vm/qemu/tcg-threading.ts';
import { median } from './median.ts';

const MODES: readonly TcgThreading[] = ['multi', 'single'];
const BIN = join(import.meta.dirname, '..', 'bin', 'toa-lab.js');
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

function timedRun(mode: TcgThreading, image: string, scenarios: string): number {
  const out = mkdtempSync(join(tmpdir(), 'toa-lab-bench-'));
  const started = performance.now();
  const result = spawnSync(process.execPath, [BIN, 'run', '--image', image, '--scenario', scenarios, '--out', out], {
    encoding: 'utf8',
    env: { ...process.env, TOA_LAB_TCG_THREAD: mode },
  });
  rmSync(out, { recursive: true, force: true });
  if (result.status !== 0) throw new Error(`${mode}: run ${image} failed (${result.status}):\n${result.stdout.slice(-2000)}${result.stderr}`);
  return (performance.now() - started) / 1000;
}

async function cyclesUntilHang(mode: TcgThreading): Promise<string> {
  process.env['TOA_LAB_TCG_THREAD'] = mode;
  const session = await RunSession.open();
  try {
    const lab = await MicroLab.start(session);
    const cyclesPerRound = 10;
    const result = await cycleToaUnderTraffic(lab, { rounds: 10, cyclesPerRound, downloads: 60, roundTimeoutMs: 60_000 });
    const lockup = result.faults.find((f) => /soft lockup|rcu/.test(f.line));
    return result.failure
      ? `hung after ${result.roundsCompleted * cyclesPerRound}–${(result.roundsCompleted + 1) * cyclesPerRound} cycles (${result.failure}; ${lockup?.line.replace(/^\[\s*[\d.]+\]\s*/, '') ?? 'no fault line'})`
      : `${result.roundsCompleted * cyclesPerRound} cycles, no hang; ${result.downloadsCompleted} downloads intact, ${result.downloadsFailed} failed`;
  } finally {
    await session.close();
    delete process.env['TOA_LAB_TCG_THREAD'];
  }
}

const runs: Record<string, Record<TcgThreading, number[]>> = {
  'micro-VM (microvm-bookworm, 4 scenarios)': { multi: [], single: [] },
  'Debian 12 (procedure + reboot + fullnat-toa-v4)': { multi: [], single: [] },
};
timedRun('single', 'microvm-bookworm', 'fullnat-toa-v4'); // warm the caches outside the measurement
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of round % 2 ? [...MODES].reverse() : MODES) {
    runs['micro-VM (microvm-bookworm, 4 scenarios)']![mode].push(timedRun(mode, 'microvm-bookworm', 'fullnat-toa-v4,fullnat-no-toa,bulk-transfer,malformed-options'));
    runs['Debian 12 (procedure + reboot + fullnat-toa-v4)']![mode].push(timedRun(mode, 'debian-12', 'fullnat-toa-v4'));
  }
}
console.log(`TCG threading, ${new Date().toISOString()}: medians of ${ROUNDS} interleaved rounds (each run's figure)`);
for (const [what, byMode] of Object.entries(runs)) {
  const [multi, single] = [median(byMode.multi), median(byMode.single)];
  console.log(`  ${what}`);
  for (const mode of MODES) console.log(`    ${mode.padEnd(7)} ${median(byMode[mode]).toFixed(1)} s (${byMode[mode].map((s) => s.toFixed(1)).join(', ')})`);
  console.log(`    single / multi ×${(single / multi).toFixed(2)}`);
}
console.log('  rmmod/insmod under 60 downloads, micro-VM, up to 100 cycles');
for (const mode of MODES) console.log(`    ${mode.padEnd(7)} ${await cyclesUntilHang(mode)}`);
