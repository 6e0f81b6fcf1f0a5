import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunSession } from '../lifecycle/run-session.ts';
import { chooseAccelerator, type AcceleratorChoice } from '../vm/accelerator.ts';
import { ConsoleLog } from '../vm/console-log.ts';
import { GuestAgent } from '../vm/guest-agent.ts';
import { buildQemuArgs, type Accelerator } from '../vm/qemu/qemu-args.ts';
import { tcgThreading } from '../vm/qemu/tcg-threading.ts';
import { QemuProcess } from '../vm/qemu/qemu-process.ts';
import { selectBootEntry, type BootSelection } from './firmware.ts';

/**
 * A guest booted from its own disk the way the guide's machine reboots: the
 * firmware step (selectBootEntry) picks the kernel from grub.conf, QEMU runs it
 * with the disk as virtio-blk /dev/vda and the lab wire as eth0; the guest
 * agent answers on the second serial port once the disk's init is up.
 */
export interface DiskVm {
  dir: string;
  qemu: QemuProcess;
  console: ConsoleLog;
  agent: GuestAgent;
  labWireSocket: string;
  guestAddress: string;
  boot: BootSelection;
  accelerator: AcceleratorChoice;
  /** uname -r, as the guest agent announced it. */
  kernelRelease: string;
  bootMs: number;
  stop(): Promise<void>;
}

const READY_LINE = /toa-lab: guest ready kernel=(\S+)/;
export const GUEST_ADDRESS = '192.0.2.10';
const GUEST_MAC = '52:54:00:00:02:0a';

export async function bootFromDisk(options: {
  session: RunSession;
  disk: string;
  bootTimeoutMs?: number;
  log?: (line: string) => void;
}): Promise<DiskVm> {
  const log = options.log ?? (() => {});
  const firmwareDir = await options.session.subdir('firmware');
  const boot = await selectBootEntry(options.disk, firmwareDir);
  log(`firmware: ${boot.loader} ${boot.configPath} default entry "${boot.title}": ${boot.kernelPath} ${boot.commandLine}`);
  const accelerator = await chooseAccelerator(async () => {
    try {
      const probe = await start(options, boot, 'kvm', 10_000);
      await probe.stop();
      return { ok: true };
    } catch (error) {
      return { ok: false, why: error instanceof Error ? error.message.split('\n')[0]! : String(error) };
    }
  });
  log(`accelerator: ${accelerator.accelerator} (${accelerator.reason})`);
  return start(options, boot, accelerator.accelerator, options.bootTimeoutMs ?? 180_000, accelerator);
}

async function start(
  options: { session: RunSession; disk: string },
  boot: BootSelection,
  accelerator: Accelerator,
  timeoutMs: number,
  choice: AcceleratorChoice = { accelerator, reason: 'probe' },
): Promise<DiskVm> {
  const dir = await options.session.subdir(accelerator === 'kvm' ? 'kvm-probe' : 'disk-vm');
  const consoleLog = join(dir, 'console.log');
  const agentSocket = join(dir, 'agent.sock');
  const labWireSocket = join(dir, 'wire.sock');
  const args = buildQemuArgs({
    accelerator,
    tcgThreading: tcgThreading(),
    memoryMiB: 512,
    cpus: 2,
    boot: {
      kind: 'kernel',
      kernel: boot.kernelFile,
      // A stanza without an initrd line boots without one.
      ...(boot.initrdFile && { initrd: boot.initrdFile }),
      kernelCommandLine: boot.commandLine,
    },
    consoleLog,
    agentSocket,
    labWire: { socket: labWireSocket, mac: GUEST_MAC },
    pidFile: join(dir, 'qemu.pid'),
    disk: { path: options.disk, format: 'raw' },
  });
  const started = Date.now();
  const qemu = QemuProcess.start(args, join(dir, 'qemu.stderr'));
  options.session.defer(() => qemu.stop().then(() => undefined));
  const console = new ConsoleLog(consoleLog);
  try {
    const ready = await console.waitFor(READY_LINE, { timeoutMs, stillAlive: () => qemu.hasExited === null });
    const agent = await GuestAgent.connect(agentSocket);
    return {
      dir,
      qemu,
      console,
      agent,
      labWireSocket,
      guestAddress: GUEST_ADDRESS,
      boot,
      accelerator: choice,
      kernelRelease: ready[1] ?? '?',
      bootMs: Date.now() - started,
      async stop() {
        agent.close();
        await qemu.stop();
        await console.refresh();
        await console.close();
      },
    };
  } catch (error) {
    await qemu.stop();
    await console.close();
    const stderr = (await readFile(join(dir, 'qemu.stderr'), 'utf8').catch(() => '')).trim();
    throw new Error(
      `the guest did not come up from ${boot.kernelPath} (${accelerator}): ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` +
        `${stderr ? `\nqemu: ${stderr.split('\n').slice(-3).join(' | ')}` : ''}\nlast console lines:\n${console.tail()}`,
    );
  }
}
