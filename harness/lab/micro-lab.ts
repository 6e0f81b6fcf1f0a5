import { findKernelFaults, type KernelFault } from '../checks/kernel-faults.ts';
import { BackendServer } from '../guest/backend-server.ts';
import { ensureMicroVmImage, type MicroVmImage } from '../images/microvm/build-microvm-image.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import {
  DEFAULT_BALANCER_ADDRESS,
  DEFAULT_BALANCER_MAC,
  FullNatBalancer,
  NetworkHost,
  QemuStreamWire,
  type BalancerToaSettings,
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
  /** The simulated client for the n-th connection (default: a deterministic cycle). */
  chooseClient?: (connectionIndex: number) => SimulatedClient;
}

export interface KernelLogMark {
  consoleOffset: number;
}

export class MicroLab {
  private constructor(
    readonly image: MicroVmImage,
    readonly vm: MicroVm,
    readonly host: NetworkHost,
    readonly backend: BackendServer,
  ) {}

  static async start(session: RunSession, log: (line: string) => void = () => {}): Promise<MicroLab> {
    const image = await ensureMicroVmImage(log);
    const vm = await MicroVm.start({ image, session, log });
    session.defer(() => vm.stop());
    const wire = await QemuStreamWire.connect({ path: vm.labWireSocket });
    const host = new NetworkHost({ wire, mac: DEFAULT_BALANCER_MAC, addresses: [DEFAULT_BALANCER_ADDRESS] });
    session.defer(() => host.close());
    const backend = await BackendServer.start(vm.agent);
    return new MicroLab(image, vm, host, backend);
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
      backend: { address: this.vm.guestAddress, port: this.backend.port },
      toa: options.toa,
      ...(options.chooseClient && { chooseClient: options.chooseClient }),
    });
  }

  /**
   * A position in the kernel's logs; faults are then looked for only after it.
   * The ring buffer is cleared (the serial console log keeps the full record).
   */
  async markKernelLog(): Promise<KernelLogMark> {
    await this.guest.check('dmesg -c >/dev/null');
    return { consoleOffset: (await this.vm.console.refresh()).length };
  }

  /**
   * Kernel faults (oops, BUG, WARN, panic) since `mark`: the serial console
   * (loglevel 5 prints warnings and worse), plus the ring buffer as it is now.
   */
  async kernelFaultsSince(mark: KernelLogMark): Promise<KernelFault[]> {
    const console = (await this.vm.console.refresh()).slice(mark.consoleOffset);
    const dmesg = await this.guest.run('dmesg');
    const seen = new Set<string>();
    return [...findKernelFaults(console), ...findKernelFaults(dmesg.stdout)].filter((f) => {
      const key = f.line.replace(/^\[\s*[\d.]+\]\s*/, '');
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
}
