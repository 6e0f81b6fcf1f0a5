import { kernelFaultsSince, markKernelLog, type KernelFault, type KernelLogMark } from '../checks/kernel-faults.ts';
import { BackendServer } from '../guest/backend-server.ts';
import { ensureMicroVmImage, type MicroVmImage } from '../images/microvm/build-microvm-image.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import type { DebianSuite } from '../kernels/debian-suite.ts';
import type { KernelSpec } from '../kernels/kernel-spec.ts';
import type { FrameTap, FullNatBalancer, NetworkHost } from '../net/index.ts';
import type { GuestShell } from '../remote/guest-shell.ts';
import { MicroVm } from '../vm/micro-vm.ts';
import type { DataPathLab } from './data-path-lab.ts';
import { disableLabIpv6, enableLabIpv6 } from './guest-ipv6.ts';
import { LabWireHost, type LabBalancerOptions } from './lab-wire-host.ts';

/**
 * The data-path lab: one micro-VM (real Debian kernel, our toa.ko, toa-backend
 * on :80) and the harness's own host on the lab wire, from which scenarios
 * start FULLNAT balancers with whatever TOA policy they test.
 */
export interface MicroLabOptions {
  suite?: DebianSuite;
  /** Any kernel the archive serves (`--kernel`); wins over `suite`. */
  kernel?: KernelSpec;
  /** A vendor's toa.ko, built for this suite's kernel, instead of ours. */
  toaModule?: string;
  /** The option kind the balancer sends (default 254). */
  toaKind?: number;
  /** vCPUs (default 2; fewer when several guests share the host: harness/runner/guest-cpus.ts). */
  cpus?: number;
  log?: (line: string) => void;
}

/** The micro-VM's only NIC is the lab wire. */
const LAB_INTERFACE = 'eth0';

export class MicroLab implements DataPathLab {
  readonly labInterface = LAB_INTERFACE;

  private constructor(
    readonly image: MicroVmImage,
    readonly vm: MicroVm,
    private readonly wire: LabWireHost,
    readonly backend: BackendServer,
    readonly toaKind: number,
    readonly ownModule: boolean,
  ) {}

  static async start(session: RunSession, options: MicroLabOptions = {}): Promise<MicroLab> {
    const log = options.log ?? (() => {});
    const image = await ensureMicroVmImage({
      onProgress: log,
      ...(options.suite && { suite: options.suite }),
      ...(options.kernel && { kernel: options.kernel }),
      ...(options.toaModule && { toaModule: options.toaModule }),
    });
    const vm = await MicroVm.start({ image, session, log, ...(options.cpus && { cpus: options.cpus }) });
    session.defer(() => vm.stop());
    const wire = await LabWireHost.attach(session, vm.labWireSocket, vm.guestAddress);
    const backend = await BackendServer.start(vm.agent);
    return new MicroLab(image, vm, wire, backend, options.toaKind ?? 254, !options.toaModule);
  }

  /** Stops the VM and detaches from the wire (also done by the session's close). */
  async stop(): Promise<void> {
    this.wire.close();
    await this.vm.stop();
  }

  get guest(): GuestShell {
    return this.vm.agent;
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

  get toaModulePath(): string {
    return this.image.guestToaModule;
  }

  watchFrames(listener: FrameTap): () => void {
    return this.wire.watchFrames(listener);
  }

  startBalancer(options: LabBalancerOptions): Promise<FullNatBalancer> {
    return this.wire.startBalancer(options, this.backend.port);
  }

  enableIpv6(): Promise<void> {
    return enableLabIpv6(this.guest, this.host, LAB_INTERFACE);
  }

  disableIpv6(): Promise<void> {
    return disableLabIpv6(this.guest, this.host, LAB_INTERFACE, true);
  }

  /** The ring buffer is cleared at the mark (the serial console log keeps the full record). */
  markKernelLog(): Promise<KernelLogMark> {
    return markKernelLog({ guest: this.guest, console: this.vm.console });
  }

  /** The serial console (loglevel 5 prints warnings and worse), plus the ring buffer as it is now. */
  kernelFaultsSince(mark: KernelLogMark): Promise<KernelFault[]> {
    return kernelFaultsSince({ guest: this.guest, console: this.vm.console }, mark);
  }
}
