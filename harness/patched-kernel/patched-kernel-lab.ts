import { kernelFaultsSince, markKernelLog, type KernelFault } from '../checks/kernel-faults.ts';
import type { CommandResult } from '../exec/command-result.ts';
import { BackendServer } from '../guest/backend-server.ts';
import type { KernelLogMark, LabBalancerOptions, MicroLab } from '../lab/micro-lab.ts';
import { SPOOFER_ADDRESS } from '../lab/micro-lab.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import { DEFAULT_BALANCER_ADDRESS, DEFAULT_BALANCER_MAC, FullNatBalancer, NetworkHost, QemuStreamWire } from '../net/index.ts';
import { shellQuote, type GuestShell } from '../remote/guest-shell.ts';
import type { DiskVm } from './patched-kernel-vm.ts';

/**
 * The data-path lab on the patched-kernel guest: the MicroLab pattern (the
 * harness's NetworkHost on the lab wire, FULLNAT balancers, toa-backend on :80)
 * around a guest booted from its disk, so scenarios written for MicroLab run
 * unchanged.
 *
 * One difference, on purpose: on this path the module is part of the kernel's
 * own tree and is loaded by name, as the guide's step 8 says (`modprobe toa`).
 * Scenarios (re)load the module with `insmod <lab.toaModulePath> [params]`;
 * here that exact command is run as `modprobe toa [params]` — the same
 * toa.ko, found through modules.dep — and the result names the command that
 * really ran, so a report shows `modprobe toa`.
 */
export type ScenarioLabSurface = Pick<MicroLab, 'guest' | 'backend' | 'toaModulePath' | 'balancerAddress' | 'startBalancer' | 'markKernelLog' | 'kernelFaultsSince'>;

export class PatchedKernelLab implements ScenarioLabSurface {
  private constructor(
    readonly vm: DiskVm,
    readonly host: NetworkHost,
    readonly backend: BackendServer,
    readonly guest: GuestShell,
    /** Where modprobe finds toa.ko: /lib/modules/<release>/kernel/net/toa/toa.ko */
    readonly toaModulePath: string,
  ) {}

  static async start(session: RunSession, vm: DiskVm): Promise<PatchedKernelLab> {
    const wire = await QemuStreamWire.connect({ path: vm.labWireSocket });
    const host = new NetworkHost({ wire, mac: DEFAULT_BALANCER_MAC, addresses: [DEFAULT_BALANCER_ADDRESS, SPOOFER_ADDRESS] });
    session.defer(() => host.close());
    const modulePath = `/lib/modules/${vm.kernelRelease}/kernel/net/toa/toa.ko`;
    const guest = new ModprobeGuestShell(vm.agent, modulePath);
    const backend = await BackendServer.start(vm.agent);
    return new PatchedKernelLab(vm, host, backend, guest, modulePath);
  }

  /** For Scenario<MicroLab>.run: scenarios use only ScenarioLabSurface (checked by `implements`). */
  asScenarioLab(): MicroLab {
    return this as unknown as MicroLab;
  }

  get balancerAddress(): string {
    return DEFAULT_BALANCER_ADDRESS;
  }

  startBalancer(options: LabBalancerOptions): Promise<FullNatBalancer> {
    return FullNatBalancer.start({
      host: this.host,
      backend: { address: this.vm.guestAddress, port: options.backendPort ?? this.backend.port },
      toa: options.toa,
      ...(options.address && { address: options.address }),
      ...(options.chooseClient && { chooseClient: options.chooseClient }),
    });
  }

  async markKernelLog(): Promise<KernelLogMark> {
    return markKernelLog({ guest: this.guest, console: this.vm.console });
  }

  async kernelFaultsSince(mark: KernelLogMark): Promise<KernelFault[]> {
    return kernelFaultsSince({ guest: this.guest, console: this.vm.console }, mark);
  }

  async stop(): Promise<void> {
    this.host.close();
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
