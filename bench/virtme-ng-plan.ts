/**
 * The pure half of bench/virtme-ng.ts, unit-tested: what goes into the chroot,
 * the `vng` command line, the sandbox it runs in, and reading a run's output
 * and the figures back.
 */
import type { DebianPackage } from '../harness/images/debian/debian-packages.ts';
import { median } from './median.ts';

/**
 * What the chroot gets from trixie, besides the kernel — what a Debian host running
 * `vng` has, since virtme-ng boots the host's own root (here the chroot's) by 9p:
 * - virtme-ng and QEMU (a Recommends of virtme-ng; mmdebstrap installs no Recommends);
 * - busybox-static: a Debian kernel has 9p as modules, so virtme-run builds an
 *   initramfs, and refuses without a static busybox ("initramfs is needed, and no
 *   busybox was found");
 * - udev: Debian's virtme-ng has no virtme-ng-init, so its shell init needs udevd to
 *   make /dev/virtio-ports/virtme.* (without it: "cannot find script I/O ports", and
 *   the command never runs);
 * - systemd-sysv (`poweroff`: without it the init exits and the kernel panics to end
 *   the guest) and iproute2 (`ip`, for lo).
 * virtme-ng depends on none of these: a Debian host has them. No virtiofsd: without
 * it virtme-ng shares the root by 9p, as a plain install does.
 */
export function virtmeChrootPackages(): string[] {
  return ['virtme-ng', 'qemu-system-x86', 'busybox-static', 'udev', 'systemd-sysv', 'iproute2'];
}

/** `name=version`, as apt (and mmdebstrap's --include) pins a package. */
export function pinned(pkg: DebianPackage): string {
  return `${pkg.name}=${pkg.version}`;
}

export interface VngRun {
  /** The kernel inside the chroot, e.g. /boot/vmlinuz-6.12.117+deb13-amd64. */
  kernelImage: string;
  /** One shell command line run in the guest (virtme-ng's --exec). */
  command: string;
  /** The micro-VM's shape, so both guests get the same machine. */
  cpus: number;
  memoryMiB: number;
}

/**
 * `vng` booting an installed kernel image under TCG:
 * - `--run <vmlinuz>` boots that image (virtme-run --kimg) with `--mods auto`, the
 *   modules from /lib/modules/<its release>;
 * - `--disable-kvm`: virtme-run otherwise asks for `accel=kvm:tcg` whenever /dev/kvm
 *   opens, and KVM guests hang on these machines (LAB-NOTES);
 * - `--cpus`/`--memory`: the micro-VM's 2 vCPUs and 512 MiB (vng's own default is
 *   every host CPU and 1 GiB);
 * - `--exec`: the command, after which the guest powers off and vng exits with its status.
 */
export function vngArgv(run: VngRun): string[] {
  return ['vng', '--run', run.kernelImage, '--disable-kvm', '--cpus', String(run.cpus), '--memory', `${run.memoryMiB}M`, '--exec', run.command];
}

/**
 * The sandbox vng runs in: a private mount and PID namespace (unshare), the host's
 * /dev, /sys and a fresh /proc mounted into the chroot, its own /tmp and /run, then
 * `chroot`. The mounts exist only in that namespace, so they are gone with it; and
 * when its first process dies (a timeout's SIGKILL included) the kernel kills every
 * process left in the PID namespace — QEMU too.
 *
 * The command's stdout and stderr go through `cat`: virtme-run reopens
 * /proc/self/fd/{0,1,2} (QEMU writes the guest's stdout there), which fails with
 * ENXIO on the socketpairs Node gives a child ("ERROR: not a valid pts"); a pipe
 * reopens fine. The exit status is the command's (PIPESTATUS), not cat's.
 */
export function sandboxArgv(root: string, argv: readonly string[]): [string, string[]] {
  const script = [
    'R="$1"; shift',
    'mount -t proc proc "$R/proc"',
    'mount --rbind /sys "$R/sys"',
    'mount --rbind /dev "$R/dev"',
    'mount -t tmpfs tmpfs "$R/tmp"',
    'mount -t tmpfs tmpfs "$R/run"',
    'set +e',
    'chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LC_ALL=C.UTF-8 "$@" 2> >(cat >&2) | cat',
    'rc=${PIPESTATUS[0]}',
    'wait',
    'exit "$rc"',
  ].join('\n');
  return ['unshare', ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', 'bash', '-ec', script, 'bash', root, ...argv]];
}

/** A line of a run's output, with when it arrived (ms since the run started). */
export interface TimedLine {
  atMs: number;
  text: string;
}

/** Splits timed output chunks into timed lines (a line's time is when its end arrived). */
export function timedLines(chunks: ReadonlyArray<{ atMs: number; text: string }>): TimedLine[] {
  const lines: TimedLine[] = [];
  let partial = '';
  for (const chunk of chunks) {
    const parts = (partial + chunk.text).split(/\r?\n/);
    partial = parts.pop() ?? '';
    for (const text of parts) lines.push({ atMs: chunk.atMs, text });
  }
  const last = chunks.at(-1);
  if (partial && last) lines.push({ atMs: last.atMs, text: partial });
  return lines;
}

export interface VngOutcome {
  /** vng started → the command's output line arrived: boot to command. */
  commandSeconds: number;
  /** vng started → vng exited (the guest's power-off included). */
  exitSeconds: number;
}

/**
 * Reads one `vng … --exec 'uname -r'` run: the command ran in the guest booted from the
 * expected kernel when a line of its stdout is exactly that release. Anything else
 * (another kernel, no line, a failed exit) throws with the output's tail, so a failed
 * boot is never counted as a time.
 */
export function readVngRun(run: { stdout: TimedLine[]; stderr: string; exitCode: number | null; exitMs: number }, expectedRelease: string): VngOutcome {
  const tail = (): string => [...run.stdout.map((l) => l.text), ...run.stderr.split('\n')].filter((l) => l.trim()).slice(-15).join('\n');
  if (run.exitCode !== 0) throw new Error(`vng exited with ${run.exitCode ?? 'a signal'}:\n${tail()}`);
  const line = run.stdout.find((l) => l.text.trim() === expectedRelease);
  if (!line) throw new Error(`vng's guest never printed ${expectedRelease} (uname -r), so it did not run that kernel:\n${tail()}`);
  return { commandSeconds: line.atMs / 1000, exitSeconds: run.exitMs / 1000 };
}

/** The same vng command with the boot console shown (`--verbose`), to say why a run failed. */
export function verboseArgv(argv: readonly string[]): string[] {
  return [argv[0]!, '--verbose', ...argv.slice(1)];
}

/**
 * What a `--verbose` run's console says about a failure: virtme's own lines and the
 * kernel's panics and errors, the last `max` of them (the boot console is long).
 */
export function diagnosis(output: string, max = 12): string[] {
  return output
    .split(/\r?\n/)
    .filter((line) => /virtme|not found|cannot|panic|error|fail/i.test(line))
    .slice(-max);
}

/** `vng --version` → e.g. "1.35" (it prints "virtme-ng 1.35"). */
export function parseVngVersion(output: string): string | undefined {
  return /virtme-ng\s+v?(\d+(?:\.\d+)+\S*)/.exec(output)?.[1];
}

/** `qemu-system-x86_64 --version` → e.g. "10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)". */
export function parseQemuVersion(output: string): string | undefined {
  return /QEMU emulator version (\S+(?: \([^)]*\))?)/.exec(output)?.[1];
}

/** One round: both tools once, in the order `first` says. */
export interface SideBySideRound {
  first: 'virtme-ng' | 'toa-lab';
  /** 1-minute load average at the round's start. */
  loadAverage: number;
  /** QEMU processes not ours running at the round's start (another session's guests skew every figure). */
  otherQemu: number;
  virtme: VngOutcome;
  toaLab: { readySeconds: number; firstVerdictSeconds: number };
}

export interface SideBySideSummary {
  virtmeCommand: number;
  virtmeExit: number;
  toaLabReady: number;
  toaLabFirstVerdict: number;
  /** toa-lab / virtme-ng boot-to-command, medians' ratio and per round. */
  readyRatio: number;
  firstVerdictRatio: number;
  readyRatios: number[];
  firstVerdictRatios: number[];
}

export function summarise(rounds: readonly SideBySideRound[]): SideBySideSummary {
  const pick = (f: (r: SideBySideRound) => number) => rounds.map(f);
  const virtmeCommand = median(pick((r) => r.virtme.commandSeconds));
  const toaLabReady = median(pick((r) => r.toaLab.readySeconds));
  const toaLabFirstVerdict = median(pick((r) => r.toaLab.firstVerdictSeconds));
  return {
    virtmeCommand,
    virtmeExit: median(pick((r) => r.virtme.exitSeconds)),
    toaLabReady,
    toaLabFirstVerdict,
    readyRatio: toaLabReady / virtmeCommand,
    firstVerdictRatio: toaLabFirstVerdict / virtmeCommand,
    readyRatios: pick((r) => r.toaLab.readySeconds / r.virtme.commandSeconds),
    firstVerdictRatios: pick((r) => r.toaLab.firstVerdictSeconds / r.virtme.commandSeconds),
  };
}

/** Round i's order: virtme-ng first in odd rounds (1, 3, …), toa-lab first in even ones. */
export function roundOrder(index: number): SideBySideRound['first'] {
  return index % 2 === 0 ? 'virtme-ng' : 'toa-lab';
}

/** The rounds a run takes: BENCH_VIRTME_ROUNDS (a positive integer), default 3. */
export function virtmeRounds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['BENCH_VIRTME_ROUNDS'];
  if (raw === undefined || raw === '') return 3;
  const rounds = Number(raw);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`BENCH_VIRTME_ROUNDS must be a positive integer, not ${JSON.stringify(raw)}`);
  return rounds;
}
