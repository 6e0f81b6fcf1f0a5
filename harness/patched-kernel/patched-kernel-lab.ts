import { kernelFaultsSince, markKernelLog, type KernelFault } from '../checks/kernel-faults.ts';
import type { CommandResult } from '../exec/command-result.ts';
import { BackendServer } from '../guest/backend-server.ts';
import type { DataPathLab, KernelLogMark, LabBalancerOptions } from '../lab/data-path-lab.ts';
import { disableLabIpv6, enableLabIpv6 } from '../lab/guest-ipv6.ts';
import { LabWireHost } from '../machine/lab-wire-host.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import type { FrameTap, FullNatBalancer, NetworkHost } from '../net/index.ts';
import { shellQuote, type GuestShell } from '../remote/guest-shell.ts';
import type { DiskVm } from './patched-kernel-vm.ts';

/**
 * The data-path lab on the patched-kernel guest: the harness's host on the lab
 * wire, FULLNAT balancers, toa-backend on :80, around a guest booted from its
 * disk, so the scenarios run unchanged.
 *
 * One difference, on purpose: on this path the module is part of the kernel's
 * own tree and is loaded by name, as the guide's step 8 says (`modprobe toa`).
 * Scenarios (re)load the module with `insmod <lab.toaModulePath> [params]`;
 * here that exact command is run as `modprobe toa [params]` — the same
 * toa.ko, found through modules.dep — and the result names the command that
 * really ran, so a report shows `modprobe toa`.
 */
const LAB_INTERFACE = 'eth0';

export class PatchedKernelLab implements DataPathLab {
  readonly labInterface = LAB_INTERFACE;
  readonly toaKind = 254;
  readonly ownModule = true;

  private constructor(
    readonly vm: DiskVm,
    private readonly wire: LabWireHost,
    readonly backend: BackendServer,
    readonly guest: GuestShell,
    /** Where modprobe finds toa.ko: /lib/modules/<release>/kernel/net/toa/toa.ko */
    readonly toaModulePath: string,
  ) {}

  static async start(session: RunSession, vm: DiskVm): Promise<PatchedKernelLab> {
    const wire = await LabWireHost.attach(session, vm.labWireSocket, vm.guestAddress);
    const modulePath = `/lib/modules/${vm.kernelRelease}/kernel/net/toa/toa.ko`;
    const guest = new ModprobeGuestShell(vm.agent, modulePath);
    const backend = await BackendServer.start(vm.agent);
    return new PatchedKernelLab(vm, wire, backend, guest, modulePath);
  }

  get host(): NetworkHost {
    return this.wire.host;
  }

  get guestAddress(): string {
    return this.vm.guestAddress;
  }

  get balancerAddress(): string {
    return this.wire.balancerAddress;
  }

  startBalancer(options: LabBalancerOptions): Promise<FullNatBalancer> {
    return this.wire.startBalancer(options, this.backend.port);
  }

  watchFrames(listener: FrameTap): () => void {
    return this.wire.watchFrames(listener);
  }

  enableIpv6(): Promise<void> {
    return enableLabIpv6(this.guest, this.host, LAB_INTERFACE);
  }

  disableIpv6(): Promise<void> {
    return disableLabIpv6(this.guest, this.host, LAB_INTERFACE, true);
  }

  markKernelLog(): Promise<KernelLogMark> {
    return markKernelLog({ guest: this.guest, console: this.vm.console });
  }

  kernelFaultsSince(mark: KernelLogMark): Promise<KernelFault[]> {
    return kernelFaultsSince({ guest: this.guest, console: this.vm.console }, mark);
  }

  async stop(): Promise<void> {
    this.wire.close();
    await this.vm.stop();
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
