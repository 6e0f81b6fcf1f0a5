import { kernelFaultsSince, markKernelLog, type KernelFault, type KernelLogMark } from '../checks/kernel-faults.ts';
import { BackendServer } from '../guest/backend-server.ts';
import { ensureMicroVmImage, type MicroVmImage } from '../images/microvm/build-microvm-image.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import type { DebianSuite } from '../toa/suite-chroot.ts';
import {
  DEFAULT_BALANCER_ADDRESS,
  DEFAULT_BALANCER_MAC,
  FullNatBalancer,
  NetworkHost,
  QemuStreamWire,
  type BalancerToaSettings,
  type FrameTap,
  type SimulatedClient,
} from '../net/index.ts';
import type { GuestShell } from '../remote/guest-shell.ts';
import { MicroVm } from '../vm/micro-vm.ts';

/**
 * The data-path lab: one micro-VM (real Debian kernel, our toa.ko, toa-backend
 * on :80) and the harness's own host on the lab wire, from which scenarios
 * start FULLNAT balancers with whatever TOA policy they test.
 */
export interface LabBalancerOptions {
  /** TOA settings, or false for a balancer that sends none. */
  toa: BalancerToaSettings | false;
  /** The balancer's own address: default 192.0.2.2; SPOOFER_ADDRESS plays a host that is not the balancer. */
  address?: string;
  /** The guest's backend port (default: the lab's toa-backend on :80). */
  backendPort?: number;
  /** The guest's address to connect to (default its IPv4 lab address; GUEST_IPV6 for IPv6 scenarios). */
  backendAddress?: string;
  /** Send each client's bytes and FIN as one data+FIN segment (a real balancer bug class). */
  holdClientDataUntilFin?: boolean;
  /** The simulated client for the n-th connection (default: a deterministic cycle). */
  chooseClient?: (connectionIndex: number) => SimulatedClient;
}

/** A second address of the harness's host: a client that is not the balancer (spoofing scenarios). */
export const SPOOFER_ADDRESS = '192.0.2.66';
/** The lab segment's IPv6 addresses (RFC 3849 documentation prefix): the balancer's and the guest's. */
export const BALANCER_IPV6 = '2001:db8::2';
export const GUEST_IPV6 = '2001:db8::10';

/** One tap on the lab wire, many short-lived listeners (scenarios watch only their own traffic). */
class FrameFanout {
  private readonly listeners = new Set<FrameTap>();
  readonly tap: FrameTap = (frame, direction, at) => {
    for (const listener of this.listeners) listener(frame, direction, at);
  };
  add(listener: FrameTap): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export interface MicroLabOptions {
  suite?: DebianSuite;
  /** A vendor's toa.ko, built for this suite's kernel, instead of ours. */
  toaModule?: string;
  /** The option kind the balancer sends (default 254). */
  toaKind?: number;
  log?: (line: string) => void;
}

export type { KernelLogMark } from '../checks/kernel-faults.ts';

export class MicroLab {
  private constructor(
    readonly image: MicroVmImage,
    readonly vm: MicroVm,
    readonly host: NetworkHost,
    readonly backend: BackendServer,
    private readonly frames: FrameFanout,
    /** The TOA option kind the balancer sends (a vendor's module may expect 200 or 253). */
    readonly toaKind: number,
    /** True for toa-lab's own toa.ko (its parameters and /proc/net/toa_stats can be relied on). */
    readonly ownModule: boolean,
  ) {}

  /** Sees every frame on the lab wire until the returned function is called. */
  watchFrames(listener: FrameTap): () => void {
    return this.frames.add(listener);
  }

  /** Stops the VM and detaches from the wire (also done by the session's close). */
  async stop(): Promise<void> {
    this.host.close();
    await this.vm.stop();
  }

  static async start(session: RunSession, options: MicroLabOptions = {}): Promise<MicroLab> {
    const log = options.log ?? (() => {});
    const image = await ensureMicroVmImage({
      onProgress: log,
      ...(options.suite && { suite: options.suite }),
      ...(options.toaModule && { toaModule: options.toaModule }),
    });
    const vm = await MicroVm.start({ image, session, log });
    session.defer(() => vm.stop());
    const wire = await QemuStreamWire.connect({ path: vm.labWireSocket });
    const frames = new FrameFanout();
    const host = new NetworkHost({
      wire,
      mac: DEFAULT_BALANCER_MAC,
      addresses: [DEFAULT_BALANCER_ADDRESS, SPOOFER_ADDRESS],
      tap: frames.tap,
    });
    session.defer(() => host.close());
    const backend = await BackendServer.start(vm.agent);
    return new MicroLab(image, vm, host, backend, frames, options.toaKind ?? 254, !options.toaModule);
  }

  get guest(): GuestShell {
    return this.vm.agent;
  }

  get balancerAddress(): string {
    return DEFAULT_BALANCER_ADDRESS;
  }

  /** Where toa.ko lives in the guest. */
  get toaModulePath(): string {
    return this.image.guestToaModule;
  }

  /** A FULLNAT balancer on 127.0.0.1 relaying to the guest's backend; close it when done. */
  startBalancer(options: LabBalancerOptions): Promise<FullNatBalancer> {
    return FullNatBalancer.start({
      host: this.host,
      backend: { address: options.backendAddress ?? this.vm.guestAddress, port: options.backendPort ?? this.backend.port },
      toa: options.toa,
      ...(options.address && { address: options.address }),
      ...(options.holdClientDataUntilFin && { holdClientDataUntilFin: true }),
      ...(options.chooseClient && { chooseClient: options.chooseClient }),
    });
  }

  /**
   * Gives the guest its IPv6 address on the lab wire (IPv6 stays off by
   * default: a guest would otherwise chatter MLD/DAD/RS on it) and the host
   * its own. Busybox's `ip` has no `nodad`, so DAD is switched off instead.
   */
  async enableIpv6(): Promise<void> {
    this.host.addAddress(BALANCER_IPV6);
    await this.guest.check(
      `echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_dad && echo 0 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6 && ` +
        `(ip -6 addr show dev eth0 | grep -q ${GUEST_IPV6} || ip -6 addr add ${GUEST_IPV6}/64 dev eth0)`,
    );
  }

  async disableIpv6(): Promise<void> {
    await this.guest.check('echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6');
    this.host.removeAddress(BALANCER_IPV6);
  }

  /**
   * A position in the kernel's logs; faults are then looked for only after it.
   * The ring buffer is cleared (the serial console log keeps the full record).
   */
  async markKernelLog(): Promise<KernelLogMark> {
    return markKernelLog({ guest: this.guest, console: this.vm.console });
  }

  /**
   * Kernel faults (oops, BUG, WARN, panic) since `mark`: the serial console
   * (loglevel 5 prints warnings and worse), plus the ring buffer as it is now.
   */
  async kernelFaultsSince(mark: KernelLogMark): Promise<KernelFault[]> {
    return kernelFaultsSince({ guest: this.guest, console: this.vm.console }, mark);
  }
}
