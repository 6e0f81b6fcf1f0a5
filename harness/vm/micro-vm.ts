import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MicroVmImage } from '../images/microvm/build-microvm-image.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import { chooseAccelerator, type AcceleratorChoice } from './accelerator.ts';
import { ConsoleLog, ConsoleWaitError } from './console-log.ts';
import { GuestAgent } from './guest-agent.ts';
import { buildQemuArgs, type Accelerator } from './qemu/qemu-args.ts';
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
  log?: (line: string) => void;
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
    readonly bootMs: number,
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
    const vm = await boot(options, accelerator.accelerator, options.bootTimeoutMs ?? 120_000, accelerator);
    log(`micro-VM up in ${(vm.bootMs / 1000).toFixed(1)} s, kernel ${vm.kernelRelease}`);
    return vm;
  }

  async stop(): Promise<void> {
    this.agent.close();
    await this.qemu.stop();
    await this.console.refresh();
    await this.console.close();
  }
}

async function boot(
  options: MicroVmOptions,
  accelerator: Accelerator,
  timeoutMs: number,
  choice: AcceleratorChoice = { accelerator, reason: 'probe' },
): Promise<MicroVm> {
  const dir = await options.session.subdir(accelerator === 'kvm' ? 'kvm-probe' : 'vm');
  const guestAddress = options.guestAddress ?? '192.0.2.10';
  const guestMac = options.guestMac ?? '52:54:00:00:02:0a';
  const consoleLog = join(dir, 'console.log');
  const agentSocket = join(dir, 'agent.sock');
  const wireSocket = join(dir, 'wire.sock');
  const args = buildQemuArgs({
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
        `toalab.ip=${guestAddress}/24`,
        ...(options.image.kernelArgs ?? []), // per kernel, from its config (build-microvm-image.ts)
      ].join(' '),
    },
    consoleLog,
    agentSocket,
    labWire: { socket: wireSocket, mac: guestMac },
    pidFile: join(dir, 'qemu.pid'),
  });
  const started = Date.now();
  const qemu = QemuProcess.start(args, join(dir, 'qemu.stderr'));
  options.session.defer(() => qemu.stop().then(() => undefined));
  const console = new ConsoleLog(consoleLog);
  try {
    const ready = await console.waitFor(READY_LINE, { timeoutMs, stillAlive: () => qemu.hasExited === null });
    const agent = await GuestAgent.connect(agentSocket);
    return new MicroVm(dir, qemu, console, agent, wireSocket, guestAddress, guestMac, choice, ready[1] ?? '?', Date.now() - started);
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
