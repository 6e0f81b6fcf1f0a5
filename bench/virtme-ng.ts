/**
 * virtme-ng beside toa-lab's micro-VM, on the same kernel, in one run (issue 13):
 * Debian trixie's virtme-ng (in a cached trixie chroot, bench/virtme-ng-chroot.ts)
 * boots `microvm-trixie`'s own kernel package under TCG and runs `uname -r`;
 * toa-lab cold-boots `microvm-trixie` (as TOA_LAB_COLD_BOOT=1 would) to "guest
 * ready" and on to the first verdict. Rounds alternate which goes first, so both
 * see the same machine; the load average is read before each round.
 *
 *   npx tsx bench/virtme-ng.ts                 # BENCH_VIRTME_ROUNDS=3 by default
 *
 * What is timed:
 * - virtme-ng, boot to command: `vng` spawned (sandbox, python, its initramfs,
 *   QEMU, the kernel, 9p root) → the guest's `uname -r` line on vng's stdout; and
 *   to vng's exit (the guest's power-off included);
 * - toa-lab, boot to ready: QEMU spawned → "guest ready" on the console and the
 *   agent answering; first verdict: → toa.ko in, one request through the FULLNAT
 *   balancer, the backend's log line matched (bench/microvm.ts).
 * If virtme-ng cannot be built or run, this throws saying why; npm run bench
 * prints that instead of the figures.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureMicroVmImage } from '../harness/images/microvm/build-microvm-image.ts';
import { runHostCommand } from '../harness/exec/run-host-command.ts';
import { qemuVersion } from '../harness/vm/qemu/qemu-version.ts';
import { timeToFirstVerdict, withSession } from './microvm.ts';
import { ensureVirtmeChroot } from './virtme-ng-chroot.ts';
import {
  diagnosis,
  parseQemuVersion,
  parseVngVersion,
  readVngRun,
  roundOrder,
  sandboxArgv,
  summarise,
  timedLines,
  virtmeRounds,
  vngArgv,
  type SideBySideRound,
  type SideBySideSummary,
  verboseArgv,
  type VngOutcome,
} from './virtme-ng-plan.ts';

export interface VirtmeFigures {
  kernelRelease: string;
  kernelPackage: string;
  /** sha256 of the vmlinuz both boot (checked equal). */
  kernelSha256: string;
  virtmeVersion: string;
  virtmeQemu: string;
  toaLabQemu: string;
  accelerator: string;
  /** `vng` as run inside the chroot. */
  command: string;
  rounds: SideBySideRound[];
  summary: SideBySideSummary;
}

/** The micro-VM's defaults (harness/vm/micro-vm.ts): virtme-ng gets the same machine. */
const CPUS = 2;
const MEMORY_MIB = 512;
const VNG_TIMEOUT_MS = 300_000;

export async function measureVirtmeNg(options: { rounds?: number; log?: (line: string) => void } = {}): Promise<VirtmeFigures> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[virtme-ng] ${line}\n`));
  const rounds = options.rounds ?? virtmeRounds();
  if (process.getuid?.() !== 0) throw new Error('virtme-ng side by side needs root (mmdebstrap --mode=root, unshare, chroot)');
  const image = await ensureMicroVmImage({ suite: 'trixie', onProgress: log });
  const chroot = await ensureVirtmeChroot({ package: image.kernelPackage, release: image.kernelRelease }, log);

  const kernelImage = `/boot/vmlinuz-${image.kernelRelease}`;
  const [ours, theirs] = await Promise.all([readFile(image.kernel), readFile(join(chroot.dir, kernelImage)).catch(() => undefined)]);
  if (!theirs) throw new Error(`the virtme-ng chroot has no ${kernelImage} (${chroot.dir})`);
  const kernelSha256 = sha256(ours);
  if (sha256(theirs) !== kernelSha256) throw new Error(`${kernelImage} in the virtme-ng chroot is not microvm-trixie's kernel (sha256 differs)`);

  const inSandbox = async (argv: string[]) => {
    const [command, args] = sandboxArgv(chroot.dir, argv);
    return runHostCommand(command, args, { check: false, timeoutMs: 60_000 });
  };
  const vngVersionRun = await inSandbox(['vng', '--version']);
  const virtmeVersion = parseVngVersion(vngVersionRun.stdout + vngVersionRun.stderr);
  if (!virtmeVersion) throw new Error(`vng --version in the chroot did not name a version (exit ${vngVersionRun.exitCode}): ${(vngVersionRun.stdout + vngVersionRun.stderr).trim().slice(-500)}`);
  const qemuRun = await inSandbox(['qemu-system-x86_64', '--version']);
  const virtmeQemu = parseQemuVersion(qemuRun.stdout) ?? `unknown (${qemuRun.stdout.trim().slice(0, 200)})`;
  const toaLabQemu = parseQemuVersion(await qemuVersion()) ?? (await qemuVersion());

  const argv = vngArgv({ kernelImage, command: 'uname -r', cpus: CPUS, memoryMiB: MEMORY_MIB });
  // Untimed, both: the first runs read the chroot's and the image's files into the page cache, and
  // toa-lab's first start probes the accelerator (once a day); a failure says why before any round.
  log(`warm-up: ${argv.join(' ')}`);
  await runVng(chroot.dir, argv, image.kernelRelease);
  let accelerator = '';
  log('warm-up: toa-lab cold boot and first verdict');
  await withSession((session) => timeToFirstVerdict(session, image, 'boot', (a) => (accelerator = a)));

  const measured: SideBySideRound[] = [];
  for (let i = 0; i < rounds; i++) {
    const first = roundOrder(i);
    const loadAverage = loadavg()[0]!;
    const otherQemu = otherQemuCount();
    let virtme: VngOutcome | undefined;
    let toaLab: SideBySideRound['toaLab'] | undefined;
    for (const tool of first === 'virtme-ng' ? (['virtme-ng', 'toa-lab'] as const) : (['toa-lab', 'virtme-ng'] as const)) {
      if (tool === 'virtme-ng') virtme = await runVng(chroot.dir, argv, image.kernelRelease);
      else toaLab = await withSession((session) => timeToFirstVerdict(session, image, 'boot', (a) => (accelerator = a)));
    }
    const round: SideBySideRound = { first, loadAverage, otherQemu, virtme: virtme!, toaLab: toaLab! };
    log(
      `round ${i + 1}/${rounds} (load ${loadAverage.toFixed(2)}, other QEMU ${otherQemu}, ${first} first): virtme-ng command ${round.virtme.commandSeconds.toFixed(2)} s, exit ${round.virtme.exitSeconds.toFixed(2)} s; ` +
        `toa-lab ready ${round.toaLab.readySeconds.toFixed(2)} s, first verdict ${round.toaLab.firstVerdictSeconds.toFixed(2)} s`,
    );
    measured.push(round);
  }
  return {
    kernelRelease: image.kernelRelease,
    kernelPackage: `${image.kernelPackage.name} ${image.kernelPackage.version}`,
    kernelSha256,
    virtmeVersion,
    virtmeQemu,
    toaLabQemu,
    accelerator,
    command: argv.join(' '),
    rounds: measured,
    summary: summarise(measured),
  };
}

/** One `vng` run in the sandbox, its stdout timed line by line from the spawn. */
async function runVng(root: string, argv: readonly string[], expectedRelease: string): Promise<VngOutcome> {
  const [command, args] = sandboxArgv(root, argv);
  const started = performance.now();
  const chunks: Array<{ atMs: number; text: string }> = [];
  let stderr = '';
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.setEncoding('utf8').on('data', (text: string) => chunks.push({ atMs: performance.now() - started, text }));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const timer = setTimeout(() => child.kill('SIGKILL'), VNG_TIMEOUT_MS);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.on('error', (error) => reject(new Error(`cannot run ${command}: ${error.message}`)));
    child.on('close', (code) => resolve(code));
  });
  clearTimeout(timer);
  const exitMs = performance.now() - started;
  if (exitMs >= VNG_TIMEOUT_MS) stderr += `\n(killed after ${VNG_TIMEOUT_MS / 1000} s)`;
  try {
    return readVngRun({ stdout: timedLines(chunks), stderr, exitCode, exitMs }, expectedRelease);
  } catch (error) {
    // vng prints nothing of the guest's boot by default: run it once more with the console shown, to say why.
    const [verbose, verboseArgs] = sandboxArgv(root, verboseArgv(argv));
    const again = await runHostCommand(verbose, verboseArgs, { check: false, timeoutMs: VNG_TIMEOUT_MS });
    const why = diagnosis(again.stdout + again.stderr);
    throw new Error(`${(error as Error).message}\nthe same run with --verbose (exit ${again.exitCode}) says:\n${why.join('\n') || '(nothing)'}`);
  }
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Other QEMU processes on the machine right now (their load skews every figure). */
export function otherQemuCount(): number {
  const result = spawnSync('pgrep', ['-c', '-f', '^(/usr/bin/)?qemu-system'], { encoding: 'utf8' });
  return Number(result.stdout.trim()) || 0;
}

/** The lines npm run bench and this file print. */
export function describeVirtme(figures: VirtmeFigures): string[] {
  const s = figures.summary;
  const runs = (f: (r: SideBySideRound) => number, digits = 1) => figures.rounds.map((r) => f(r).toFixed(digits)).join(', ');
  return [
    `virtme-ng ${figures.virtmeVersion} (QEMU ${figures.virtmeQemu}) beside toa-lab's micro-VM (QEMU ${figures.toaLabQemu}, ${figures.accelerator}), ` +
      `kernel ${figures.kernelRelease} (${figures.kernelPackage}, vmlinuz sha256 ${figures.kernelSha256.slice(0, 16)}… in both), ${figures.rounds.length} rounds`,
    `  virtme-ng: ${figures.command}`,
    `  load average at each round's start      ${runs((r) => r.loadAverage, 2)} (other QEMU processes: ${runs((r) => r.otherQemu, 0)})`,
    `  virtme-ng, vng start → command ran, s   ${s.virtmeCommand.toFixed(1)} (runs: ${runs((r) => r.virtme.commandSeconds)})`,
    `  virtme-ng, vng start → vng exited, s    ${s.virtmeExit.toFixed(1)} (runs: ${runs((r) => r.virtme.exitSeconds)})`,
    `  toa-lab, QEMU start → guest ready, s    ${s.toaLabReady.toFixed(1)} (runs: ${runs((r) => r.toaLab.readySeconds)}; cold boot)`,
    `  toa-lab, QEMU start → first verdict, s  ${s.toaLabFirstVerdict.toFixed(1)} (runs: ${runs((r) => r.toaLab.firstVerdictSeconds)})`,
    `  toa-lab ready / virtme-ng command       ×${s.readyRatio.toFixed(2)} (per round: ${s.readyRatios.map((r) => r.toFixed(2)).join(', ')})`,
    `  toa-lab first verdict / virtme-ng cmd   ×${s.firstVerdictRatio.toFixed(2)} (per round: ${s.firstVerdictRatios.map((r) => r.toFixed(2)).join(', ')})`,
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(`virtme-ng side by side — ${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, other QEMU processes: ${otherQemuCount()}`);
  const figures = await measureVirtmeNg();
  console.log(describeVirtme(figures).join('\n'));
  console.log(`done ${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (process.env['BENCH_JSON']) console.log(JSON.stringify(figures, null, 2));
}
