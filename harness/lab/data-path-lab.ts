import type { KernelFault, KernelLogMark } from '../checks/kernel-faults.ts';
import type { BackendServer } from '../guest/backend-server.ts';
import type { BalancerProfile, FrameTap, FullNatBalancer, NetworkHost } from '../net/index.ts';
import type { GuestShell } from '../remote/guest-shell.ts';
import type { LabBalancerOptions } from '../machine/lab-wire-host.ts';
import type { GuestToaBpf } from '../toa/toa-bpf-overlay.ts';
import type { ProxyProtocolBackends } from '../guest/proxy-backends.ts';

export type { KernelLogMark } from '../checks/kernel-faults.ts';
export { BALANCER_IPV6, GUEST_IPV6, SPOOFER_ADDRESS, type LabBalancerOptions } from '../machine/lab-wire-host.ts';

/**
 * What the data-path scenarios (scenarios/) need from a lab, whatever the
 * guest is: a micro-VM with a Debian kernel, a whole Debian system after the
 * guides' procedure, or the patched kernel's machine. Scenarios are written
 * against this and nothing else, so one scenario file gives the same verdict
 * on every kind of guest.
 */
export interface DataPathLab {
  /** A root shell in the guest (serial agent or SSH). */
  readonly guest: GuestShell;
  /** The harness's own host on the lab wire (DSR and UDP balancers, spoofers, ARP probes). */
  readonly host: NetworkHost;
  /** The guest's IPv4 address on the lab wire. */
  readonly guestAddress: string;
  /** The guest's interface on the lab wire (sysctls, IPv6). */
  readonly labInterface: string;
  /** The balancer's address on the lab wire: what a backend without TOA reports. */
  readonly balancerAddress: string;
  /** toa-backend in the guest: logs getpeername() and accept() per connection. */
  readonly backend: BackendServer;
  /** Where toa.ko lives in the guest (scenarios reload it with their parameters). */
  readonly toaModulePath: string;
  /** The TOA option kind the balancer sends (a vendor's module may expect 200 or 253). */
  readonly toaKind: number;
  /** True for toa-lab's own toa.ko (its parameters and /proc/net/toa_stats can be relied on). */
  readonly ownModule: boolean;
  /**
   * The option kinds the module under test accepts, as declared (harness/toa/module-spec.ts):
   * toa-lab's module is loaded with them; a vendor's is judged by them.
   */
  readonly moduleKinds: readonly number[];
  /** What the balancer sends (its kind is `toaKind`): the profile `--balancer` chose. */
  readonly balancerProfile: BalancerProfile;
  /**
   * Set when the lab's TOA is eBPF (`--toa-bpf`) instead of a module: the loader and
   * object in the guest. withToaModule/withoutToaModule then attach and detach it,
   * and scenarios about the module itself say they do not apply.
   */
  readonly toaBpf?: GuestToaBpf;
  /**
   * Backends that read the PROXY protocol header (nginx, HAProxy from the guest's packages),
   * where the guest has them: a whole OS. Unset on a micro-VM, whose busybox has neither: the
   * proxy-protocol scenarios then say they do not apply.
   */
  readonly proxyBackends?: ProxyProtocolBackends;

  startBalancer(options: LabBalancerOptions): Promise<FullNatBalancer>;
  /** Sees every frame on the lab wire until the returned function is called. */
  watchFrames(listener: FrameTap): () => void;
  /** Gives the guest (and the harness's host) IPv6 addresses on the lab wire. */
  enableIpv6(): Promise<void>;
  disableIpv6(): Promise<void>;
  /** A position in the kernel's logs; faults are then looked for only after it. */
  markKernelLog(): Promise<KernelLogMark>;
  /** Kernel faults (oops, BUG, WARN, panic) since `mark`, from the serial console and dmesg. */
  kernelFaultsSince(mark: KernelLogMark): Promise<KernelFault[]>;
}
