import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MicroVmImage } from '../images/microvm/build-microvm-image.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import { chooseAccelerator, type AcceleratorChoice } from './accelerator.ts';
import { ConsoleLog, ConsoleWaitError } from './console-log.ts';
import { GuestAgent } from './guest-agent.ts';
import { ensureGuestReseedTool, reseedGuest } from './guest-reseed.ts';
import { findSnapshot, incomingFrom, saveRunningGuest, snapshotKey, type MicroVmSnapshot, type SaveFigures } from './micro-vm-snapshot.ts';
import { buildQemuArgs, type Accelerator, type QemuMachineSpec } from './qemu/qemu-args.ts';
import { qemuVersion } from './qemu/qemu-version.ts';
import { tcgThreading } from './qemu/tcg-threading.ts';
import { QemuProcess } from './qemu/qemu-process.ts';

export interface MicroVmOptions {
  image: MicroVmImage;
  session: RunSession;
  /** The guest's address on the lab wire (documentation range). */
  guestAddress?: string;
  guestMac?: string;
  memoryMiB?: number;
  cpus?: number;
  /** How long a boot may take before the VM counts as hung (TCG default 120 s). */
  bootTimeoutMs?: number;
  /**
   * 'boot' (default): a cold boot. 'snapshot': start from this image's saved
   * guest when the cache holds one (micro-vm-snapshot.ts), else boot, save one
   * and go on with the booted guest. TOA_LAB_COLD_BOOT=1 turns 'snapshot' into
   * 'boot' for a whole run. Only for callers that do not check a boot itself.
   */
  start?: 'boot' | 'snapshot';
  log?: (line: string) => void;
}

/** How this guest came to be running, for the cell's notes. */
export type MicroVmStart =
  | { how: 'booted'; why: string }
  | {
      how: 'restored';
      snapshot: string;
      savedAt: string;
      /** guest-reseed's report (entropy credited, CRNG reseeded, clock set). */
      reseed: string;
      /** QEMU start → the agent answers (the snapshot loaded, the guest running again). */
      agentMs: number;
      reseedMs: number;
    };

export function describeStart(start: MicroVmStart): string {
  return start.how === 'booted'
    ? `cold boot (${start.why})`
    : `restored from snapshot ${start.snapshot} (saved ${start.savedAt}; agent answered after ${(start.agentMs / 1000).toFixed(2)} s; ${start.reseed})`;
}

/** Pure: the start a caller asked for, after TOA_LAB_COLD_BOOT. */
export function startMode(requested: MicroVmOptions['start'], env: NodeJS.ProcessEnv = process.env): { mode: 'boot' | 'snapshot'; why: string } {
  const cold = env['TOA_LAB_COLD_BOOT'];
  if (cold !== undefined && cold !== '' && cold !== '0') return { mode: 'boot', why: 'forced by TOA_LAB_COLD_BOOT' };
  return requested === 'snapshot' ? { mode: 'snapshot', why: 'snapshot requested' } : { mode: 'boot', why: 'this caller boots' };
}

const READY_LINE = /toa-lab: guest ready kernel=(\S+)/;
const KVM_PROBE_TIMEOUT_MS = 10_000;

/**
 * A booted micro-VM: a real Debian kernel with the lab wire on eth0 and the
 * guest agent on its second serial port. Stopped by stop(), by the session's
 * close(), or by the kernel when the harness dies (parent-death signal).
 */
export class MicroVm {
  /** Use MicroVm.start(). */
  constructor(
    readonly dir: string,
    readonly qemu: QemuProcess,
    readonly console: ConsoleLog,
    readonly agent: GuestAgent,
    readonly labWireSocket: string,
    readonly guestAddress: string,
    readonly guestMac: string,
    readonly accelerator: AcceleratorChoice,
    readonly kernelRelease: string,
    /** QEMU start to a guest the agent answers in (boot, or restore and reseed). */
    readonly bootMs: number,
    /** Set once, by start(): booted (and why) or restored (from which snapshot). */
    public startedFrom: MicroVmStart = { how: 'booted', why: 'this caller boots' },
  ) {}

  static async start(options: MicroVmOptions): Promise<MicroVm> {
    const log = options.log ?? (() => {});
    const accelerator = await chooseAccelerator(async () => {
      try {
        const probe = await boot(options, 'kvm', KVM_PROBE_TIMEOUT_MS);
        await probe.stop();
        return { ok: true };
      } catch (error) {
        return { ok: false, why: error instanceof VmBootError ? error.reason : String(error) };
      }
    });
    log(`accelerator: ${accelerator.accelerator} (${accelerator.reason})`);
    const bootTimeoutMs = options.bootTimeoutMs ?? 120_000;
    const wanted = startMode(options.start);
    if (wanted.mode === 'boot' || accelerator.accelerator !== 'tcg') {
      // Snapshots are made and proven under TCG only (KVM hangs on these machines, so untested).
      const why = wanted.mode === 'boot' ? wanted.why : 'snapshots are taken under TCG only';
      const vm = await boot(options, accelerator.accelerator, bootTimeoutMs, accelerator);
      vm.startedFrom = { how: 'booted', why };
      log(`micro-VM up in ${(vm.bootMs / 1000).toFixed(1)} s, kernel ${vm.kernelRelease}`);
      return vm;
    }

    const reseed = await ensureGuestReseedTool();
    const key = snapshotKey(options.image.name, machineSpec(options, 'tcg', '/not-used-in-the-key'), await qemuVersion(), reseed);
    const saved = await findSnapshot(key);
    let restoreFailure = '';
    if (saved) {
      try {
        const vm = await restore(options, saved, accelerator);
        log(`micro-VM restored in ${(vm.bootMs / 1000).toFixed(1)} s from snapshot ${saved.hash}, kernel ${vm.kernelRelease} (${describeStart(vm.startedFrom)})`);
        return vm;
      } catch (error) {
        // A snapshot that does not load (a QEMU rebuilt under the same version string, a
        // damaged file) is dropped, so the next start saves a good one; this one boots.
        restoreFailure = `snapshot ${saved.hash} did not restore (${error instanceof Error ? error.message : String(error)}) and was removed; `;
        log(`restoring ${restoreFailure}booting`);
        await rm(saved.dir, { recursive: true, force: true });
      }
    }
    const vm = await boot(options, 'tcg', bootTimeoutMs, accelerator, { qmp: true });
    log(`micro-VM up in ${(vm.bootMs / 1000).toFixed(1)} s, kernel ${vm.kernelRelease}`);
    let save: SaveFigures;
    try {
      save = await saveRunningGuest({
        key,
        qmpSocket: join(vm.dir, 'qmp.sock'),
        agent: vm.agent,
        consoleLog: vm.console.path,
        kernelRelease: vm.kernelRelease,
        reseed,
      });
    } catch (error) {
      // No snapshot was written (ensureCached keeps only a finished one): the guest is a plain boot.
      if (vm.qemu.hasExited) throw error;
      const why = error instanceof Error ? error.message : String(error);
      vm.startedFrom = { how: 'booted', why: `${restoreFailure}saving a snapshot failed: ${why}` };
      log(`saving a snapshot failed: ${why}`);
      return vm;
    }
    // The booted guest went on after the save: its random state is the snapshot's, so it
    // reseeds like a restore (and a failed reseed fails the start, as for a restore).
    const fresh = await reseedGuest(vm.agent);
    const size = `${(save.stateBytes / 1048576).toFixed(0)} MiB in ${(save.migrationMs / 1000).toFixed(1)} s`;
    vm.startedFrom = { how: 'booted', why: `${restoreFailure || 'no snapshot yet: '}saved ${save.snapshot.hash} after boot (${size}), then reseeded: ${fresh.report}` };
    log(`saved snapshot ${save.snapshot.hash}: ${size}`);
    return vm;
  }

  async stop(): Promise<void> {
    this.agent.close();
    await this.qemu.stop();
    await this.console.refresh();
    await this.console.close();
  }
}

/** The machine a micro-VM runs on, the same for a boot and for a restore of its snapshot. */
function machineSpec(options: MicroVmOptions, accelerator: Accelerator, dir: string): QemuMachineSpec {
  return {
    accelerator,
    tcgThreading: tcgThreading(),
    memoryMiB: options.memoryMiB ?? 512,
    cpus: options.cpus ?? 2,
    boot: {
      kind: 'kernel',
      kernel: options.image.kernel,
      initrd: options.image.initrd,
      kernelCommandLine: [
        'console=ttyS0',
        'loglevel=5', // warnings and worse reach the console: oops/WARN evidence without boot noise
        'panic=-1',
        'mitigations=off',
        'net.ifnames=0',
        `toalab.ip=${options.guestAddress ?? DEFAULT_GUEST_ADDRESS}/24`,
        ...(options.image.kernelArgs ?? []), // per kernel, from its config (build-microvm-image.ts)
      ].join(' '),
    },
    consoleLog: join(dir, 'console.log'),
    agentSocket: join(dir, 'agent.sock'),
    labWire: { socket: join(dir, 'wire.sock'), mac: options.guestMac ?? DEFAULT_GUEST_MAC },
    pidFile: join(dir, 'qemu.pid'),
  };
}

const DEFAULT_GUEST_ADDRESS = '192.0.2.10';
const DEFAULT_GUEST_MAC = '52:54:00:00:02:0a';

async function boot(
  options: MicroVmOptions,
  accelerator: Accelerator,
  timeoutMs: number,
  choice: AcceleratorChoice = { accelerator, reason: 'probe' },
  extras: { qmp?: boolean } = {},
): Promise<MicroVm> {
  const dir = await options.session.subdir(accelerator === 'kvm' ? 'kvm-probe' : 'vm');
  const spec = machineSpec(options, accelerator, dir);
  const args = buildQemuArgs({ ...spec, ...(extras.qmp && { qmpSocket: join(dir, 'qmp.sock') }) });
  const started = Date.now();
  const qemu = QemuProcess.start(args, join(dir, 'qemu.stderr'));
  options.session.defer(() => qemu.stop().then(() => undefined));
  const console = new ConsoleLog(spec.consoleLog);
  try {
    const ready = await console.waitFor(READY_LINE, { timeoutMs, stillAlive: () => qemu.hasExited === null });
    const agent = await GuestAgent.connect(spec.agentSocket!);
    return new MicroVm(dir, qemu, console, agent, spec.labWire!.socket, options.guestAddress ?? DEFAULT_GUEST_ADDRESS, spec.labWire!.mac, choice, ready[1] ?? '?', Date.now() - started);
  } catch (error) {
    const exited = qemu.hasExited;
    await qemu.stop();
    await console.close();
    const stderr = (await readFile(join(dir, 'qemu.stderr'), 'utf8').catch(() => '')).trim();
    const reason = exited
      ? `QEMU exited during boot (code ${exited.code}, signal ${exited.signal})${stderr ? `: ${stderr.split('\n').slice(-3).join(' | ')}` : ''}`
      : error instanceof ConsoleWaitError
        ? `no "guest ready" line on the serial console within ${timeoutMs / 1000} s`
        : String(error instanceof Error ? error.message : error);
    throw new VmBootError(accelerator, reason, error instanceof ConsoleWaitError ? error.consoleTail : console.tail());
  }
}

/**
 * A new QEMU with the snapshot's machine takes the saved guest back, then the
 * guest gets fresh randomness and the time (guest-reseed.ts). Its console log
 * starts with the boot console saved with the snapshot.
 */
async function restore(options: MicroVmOptions, snapshot: MicroVmSnapshot, choice: AcceleratorChoice, timeoutMs = 60_000): Promise<MicroVm> {
  const dir = await options.session.subdir('vm');
  const spec = machineSpec(options, 'tcg', dir);
  await writeFile(spec.consoleLog, `${snapshot.bootConsole}toa-lab: restored from snapshot ${snapshot.hash} (saved ${snapshot.savedAt}) at ${new Date().toISOString()}\n`);
  const args = buildQemuArgs({ ...spec, consoleAppend: true, incomingMigration: incomingFrom(snapshot) });
  const started = Date.now();
  const qemu = QemuProcess.start(args, join(dir, 'qemu.stderr'));
  options.session.defer(() => qemu.stop().then(() => undefined));
  const console = new ConsoleLog(spec.consoleLog);
  try {
    const agent = await GuestAgent.connect(spec.agentSocket!, timeoutMs, () => qemu.hasExited === null);
    const agentMs = Date.now() - started;
    const fresh = await reseedGuest(agent);
    const vm = new MicroVm(dir, qemu, console, agent, spec.labWire!.socket, options.guestAddress ?? DEFAULT_GUEST_ADDRESS, spec.labWire!.mac, choice, snapshot.kernelRelease, Date.now() - started);
    vm.startedFrom = { how: 'restored', snapshot: snapshot.hash, savedAt: snapshot.savedAt, reseed: fresh.report, agentMs, reseedMs: fresh.durationMs };
    return vm;
  } catch (error) {
    const exited = qemu.hasExited;
    await qemu.stop();
    await console.close();
    const stderr = (await readFile(join(dir, 'qemu.stderr'), 'utf8').catch(() => '')).trim();
    throw new Error(
      exited
        ? `QEMU exited while loading the snapshot (code ${exited.code}, signal ${exited.signal})${stderr ? `: ${stderr.split('\n').slice(-3).join(' | ')}` : ''}`
        : String(error instanceof Error ? error.message : error),
    );
  }
}

/** The VM did not reach "guest ready": why, in one line, and the console's last lines as evidence. */
export class VmBootError extends Error {
  override readonly name = 'VmBootError';
  constructor(
    readonly accelerator: Accelerator,
    readonly reason: string,
    readonly consoleTail: string,
  ) {
    super(`micro-VM (${accelerator}) did not come up: ${reason}\nlast console lines:\n${consoleTail}`);
  }
}
