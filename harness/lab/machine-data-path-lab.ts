import { kernelFaultsSince, markKernelLog, type KernelFault, type KernelLogMark } from '../checks/kernel-faults.ts';
import type { BackendServer } from '../guest/backend-server.ts';
import type { Machine } from '../machine/machine.ts';
import { profileForKind, type BalancerProfile, type FrameTap, type FullNatBalancer, type NetworkHost } from '../net/index.ts';
import type { GuestShell } from '../remote/guest-shell.ts';
import type { GuestToaBpf } from '../toa/toa-bpf-overlay.ts';
import type { ProxyProtocolBackends } from '../guest/proxy-backends.ts';
import type { DataPathLab, LabBalancerOptions } from './data-path-lab.ts';
import { disableLabIpv6, enableLabIpv6 } from './guest-ipv6.ts';

/**
 * The one data-path lab, on any machine: what every scenario runs against.
 * A machine (harness/machine) brings the guest's shell, console, lab wire and
 * lab NIC; this adds what the scenarios test — toa-backend in the guest, the
 * toa.ko under test and how the balancer speaks to it. The micro-VM, a whole OS
 * after the guide's procedure and the patched kernel differ only in how they
 * got toa-backend and toa.ko (micro-lab.ts, full-os-data-path-lab.ts,
 * patched-kernel-lab.ts), never in what a scenario sees.
 */
export interface DataPathModule {
  /** Where toa.ko lives in the guest (scenarios reload it with their parameters). */
  toaModulePath: string;
  /** The TOA option kind the balancer sends (a vendor's module may expect 200 or 253). */
  toaKind: number;
  /** True for toa-lab's own toa.ko (its parameters and /proc/net/toa_stats can be relied on). */
  ownModule: boolean;
  /** The kinds the module accepts (harness/toa/module-spec.ts); default: toaKind. */
  moduleKinds?: readonly number[];
  /** What the balancer sends; default: the standard IPv4 TOA under toaKind. */
  balancerProfile?: BalancerProfile;
  /** eBPF TOA instead of a module (DataPathLab.toaBpf). */
  toaBpf?: GuestToaBpf;
}

export class MachineDataPathLab implements DataPathLab {
  readonly toaModulePath: string;
  readonly toaKind: number;
  readonly ownModule: boolean;
  readonly moduleKinds: readonly number[];
  readonly balancerProfile: BalancerProfile;
  readonly toaBpf?: GuestToaBpf;
  readonly proxyBackends?: ProxyProtocolBackends;

  constructor(
    readonly machine: Machine,
    readonly backend: BackendServer,
    module: DataPathModule,
    /** The shell scenarios use; default the machine's (the patched kernel's translates insmod to modprobe). */
    private readonly shell: GuestShell = machine.guest,
    /** What else the guest runs for the scenarios: the PROXY protocol backends, on a whole OS. */
    extras: { proxyBackends?: ProxyProtocolBackends } = {},
  ) {
    this.toaModulePath = module.toaModulePath;
    this.toaKind = module.toaKind;
    this.ownModule = module.ownModule;
    this.moduleKinds = module.moduleKinds ?? [module.toaKind];
    this.balancerProfile = module.balancerProfile ?? profileForKind(module.toaKind);
    if (module.toaBpf) this.toaBpf = module.toaBpf;
    if (extras.proxyBackends) this.proxyBackends = extras.proxyBackends;
  }

  get guest(): GuestShell {
    return this.shell;
  }

  get host(): NetworkHost {
    return this.machine.wire.host;
  }

  get guestAddress(): string {
    return this.machine.wire.guestAddress;
  }

  get labInterface(): string {
    return this.machine.labInterface;
  }

  get balancerAddress(): string {
    return this.machine.wire.balancerAddress;
  }

  startBalancer(options: LabBalancerOptions): Promise<FullNatBalancer> {
    return this.machine.wire.startBalancer(options, this.backend.port);
  }

  watchFrames(listener: FrameTap): () => void {
    return this.machine.wire.watchFrames(listener);
  }

  enableIpv6(): Promise<void> {
    return enableLabIpv6(this.guest, this.host, this.labInterface);
  }

  disableIpv6(): Promise<void> {
    return disableLabIpv6(this.guest, this.host, this.labInterface, this.machine.ipv6OffByDefault);
  }

  /** The ring buffer is cleared at the mark (the serial console log keeps the full record). */
  markKernelLog(): Promise<KernelLogMark> {
    return markKernelLog({ guest: this.guest, console: this.machine.console });
  }

  /** The serial console (warnings and worse), plus the ring buffer as it is now. */
  kernelFaultsSince(mark: KernelLogMark): Promise<KernelFault[]> {
    return kernelFaultsSince({ guest: this.guest, console: this.machine.console }, mark);
  }
}
