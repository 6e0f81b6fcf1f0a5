/**
 * A disk the lab did not build beside the lab's own Debian 12 image, side by
 * side in one run (interleaved when BENCH_ROUNDS > 1):
 *
 *   - boot to a working SSH login: the lab's image boots its kernel directly with
 *     the key through fw_cfg; the cloud-format disk goes through SeaBIOS, GRUB,
 *     its own initramfs and cloud-init's first boot (the seed's user and key);
 *   - the whole cell (`toa-lab run`, wall time): the guides' procedure (the foreign
 *     disk installs gcc and the headers from Debian's archive through the proxy;
 *     the lab's image has them), the reboot, every data-path scenario.
 *
 *   npx tsx bench/foreign-image.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCloudImage } from '../harness/images/cloud/build-cloud-image.ts';
import { ensureDebianImage } from '../harness/images/debian/build-debian-image.ts';
import { median } from './median.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'toa-lab.js');
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 1);

interface CellTiming {
  bootToSshSeconds: number;
  toolchainSeconds: number;
  cellSeconds: number;
}

function timedRun(args: readonly string[]): CellTiming {
  const out = mkdtempSync(join(tmpdir(), 'toa-lab-bench-'));
  const started = performance.now();
  const result = spawnSync(process.execPath, [BIN, 'run', ...args, '--out', out], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  rmSync(out, { recursive: true, force: true });
  const cellSeconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`run ${args.join(' ')} failed (${result.status}):\n${result.stdout.slice(-3000)}${result.stderr}`);
  // Progress lines the run prints as TAP comments: "ssh login works 34.1 s after QEMU started", "passed 95.2 s  Install gcc, …".
  const boot = /ssh login works ([\d.]+) s after QEMU started/.exec(result.stdout);
  const toolchain = /# [^\n]*: passed ([\d.]+) s {2}Install gcc/.exec(result.stdout);
  if (!boot || !toolchain) throw new Error(`no boot or toolchain line in the run's output:\n${result.stdout.slice(0, 3000)}`);
  return { bootToSshSeconds: Number(boot[1]), toolchainSeconds: Number(toolchain[1]), cellSeconds };
}

// Both images are built (or found in the cache) before anything is measured.
const foreign = await ensureCloudImage('debian-12-genericcloud', (line) => console.error(line));
await ensureDebianImage('debian-12', (line) => console.error(line));
const cells: Record<string, { args: string[]; runs: CellTiming[] }> = {
  "the lab's debian-12 (direct kernel boot, fw_cfg key, toolchain in the image)": { args: ['--image', 'debian-12'], runs: [] },
  'a cloud-format Debian 12 disk (--image-file: SeaBIOS, GRUB, cloud-init seed, toolchain from the archive)': { args: ['--image-file', foreign.disk], runs: [] },
};
const names = Object.keys(cells);
for (let round = 0; round < ROUNDS; round++) {
  for (const name of round % 2 ? [...names].reverse() : names) cells[name]!.runs.push(timedRun(cells[name]!.args));
}

const fmt = (values: readonly number[]) => `${median(values).toFixed(1)} s (${values.map((v) => v.toFixed(1)).join(', ')})`;
console.log(`foreign disk vs the lab's image, ${new Date().toISOString()}: medians of ${ROUNDS} interleaved round(s), the whole data-path set`);
for (const [name, { runs }] of Object.entries(cells)) {
  console.log(`  ${name}`);
  console.log(`    QEMU start → SSH login   ${fmt(runs.map((r) => r.bootToSshSeconds))}`);
  console.log(`    toolchain step           ${fmt(runs.map((r) => r.toolchainSeconds))}`);
  console.log(`    whole cell (toa-lab run) ${fmt(runs.map((r) => r.cellSeconds))}`);
}
const [lab, disk] = names.map((n) => cells[n]!.runs);
console.log(`  ratios foreign / lab: boot ×${(median(disk!.map((r) => r.bootToSshSeconds)) / median(lab!.map((r) => r.bootToSshSeconds))).toFixed(2)}, cell ×${(median(disk!.map((r) => r.cellSeconds)) / median(lab!.map((r) => r.cellSeconds))).toFixed(2)}`);
