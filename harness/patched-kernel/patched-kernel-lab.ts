import type { CommandResult } from '../exec/command-result.ts';
import { BackendServer } from '../guest/backend-server.ts';
import { MachineDataPathLab } from '../lab/machine-data-path-lab.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import { LabWireHost } from '../machine/lab-wire-host.ts';
import type { Machine } from '../machine/machine.ts';
import { shellQuote, type GuestShell } from '../remote/guest-shell.ts';
import type { ConsoleLog } from '../vm/console-log.ts';
import type { DiskVm } from './patched-kernel-vm.ts';

/**
 * The patched-kernel provider's machine: a guest booted from its own disk by the
 * harness as firmware + GRUB (patched-kernel-vm.ts), its guest agent on the second
 * serial port, the lab wire as eth0. It implements the same Machine contract as
 * every other provider, so the data-path lab and the scenarios run on it unchanged.
 */
export class PatchedKernelMachine implements Machine {
  readonly provider = 'patched-kernel';
  readonly origin = 'lab';
  readonly labInterface = 'eth0';
  /** Its init (like the micro-VM's) leaves IPv6 off on the wire until a scenario asks. */
  readonly ipv6OffByDefault = true;
  readonly name = 'patched-kernel';

  private constructor(
    readonly vm: DiskVm,
    readonly wire: LabWireHost,
  ) {}

  static async attach(session: RunSession, vm: DiskVm): Promise<PatchedKernelMachine> {
    return new PatchedKernelMachine(vm, await LabWireHost.attach(session, vm.labWireSocket, vm.guestAddress));
  }

  get guest(): GuestShell {
    return this.vm.agent;
  }

  get console(): ConsoleLog {
    return this.vm.console;
  }

  get kernelRelease(): string {
    return this.vm.kernelRelease;
  }

  get bootMs(): number {
    return this.vm.bootMs;
  }

  async stop(): Promise<void> {
    this.wire.close();
    await this.vm.stop();
  }
}

/**
 * The data-path lab on the patched-kernel guest: toa-backend on :80 and the
 * in-tree toa.ko, so the scenarios run unchanged.
 *
 * One difference, on purpose: on this path the module is part of the kernel's
 * own tree and is loaded by name, as the guide's step 8 says (`modprobe toa`).
 * Scenarios (re)load the module with `insmod <lab.toaModulePath> [params]`;
 * here that exact command is run as `modprobe toa [params]` — the same
 * toa.ko, found through modules.dep — and the result names the command that
 * really ran, so a report shows `modprobe toa`.
 */
export class PatchedKernelLab extends MachineDataPathLab {
  declare readonly machine: PatchedKernelMachine;

  static async start(session: RunSession, vm: DiskVm): Promise<PatchedKernelLab> {
    const machine = await PatchedKernelMachine.attach(session, vm);
    const modulePath = `/lib/modules/${vm.kernelRelease}/kernel/net/toa/toa.ko`;
    const backend = await BackendServer.start(vm.agent);
    return new PatchedKernelLab(machine, backend, { toaModulePath: modulePath, toaKind: 254, ownModule: true }, new ModprobeGuestShell(vm.agent, modulePath));
  }

  get vm(): DiskVm {
    return this.machine.vm;
  }

  stop(): Promise<void> {
    return this.machine.stop();
  }
}

/** Runs `insmod <the in-tree toa.ko> [params]` as `modprobe toa [params]`; everything else as is. */
export class ModprobeGuestShell implements GuestShell {
  constructor(
    private readonly inner: GuestShell,
    private readonly modulePath: string,
  ) {}

  /** The modprobe command for an insmod of the in-tree module, or null. Pure: unit-tested. */
  static translate(command: string, modulePath: string): string | null {
    const prefix = `insmod ${shellQuote(modulePath)}`;
    if (command !== prefix && !command.startsWith(`${prefix} `)) return null;
    return `modprobe toa${command.slice(prefix.length)}`;
  }

  run(command: string, options?: { timeoutMs?: number }): Promise<CommandResult> {
    return this.inner.run(ModprobeGuestShell.translate(command, this.modulePath) ?? command, options);
  }

  check(command: string, options?: { timeoutMs?: number }): Promise<CommandResult> {
    return this.inner.check(ModprobeGuestShell.translate(command, this.modulePath) ?? command, options);
  }
}
