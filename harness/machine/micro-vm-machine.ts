import type { MicroVmImage } from '../images/microvm/build-microvm-image.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import type { GuestShell } from '../remote/guest-shell.ts';
import type { ConsoleLog } from '../vm/console-log.ts';
import { MicroVm, type MicroVmOptions } from '../vm/micro-vm.ts';
import { LabWireHost } from './lab-wire-host.ts';
import type { Machine } from './machine.ts';

/**
 * The micro-VM provider: a Debian kernel with a busybox initramfs (our toa.ko,
 * toa-backend, the guest agent on the second serial port), booted by QEMU in
 * seconds; its only NIC is the lab wire. No SSH and no reboot: scenarios need
 * neither, and a fresh boot is cheaper than a reboot.
 */
export class MicroVmMachine implements Machine {
  readonly provider = 'microvm';
  readonly origin = 'lab';
  /** The micro-VM's only NIC. */
  readonly labInterface = 'eth0';
  /** Its init switches IPv6 off on the wire: the wire stays quiet until a scenario wants IPv6. */
  readonly ipv6OffByDefault = true;

  private constructor(
    readonly image: MicroVmImage,
    readonly vm: MicroVm,
    readonly wire: LabWireHost,
  ) {}

  static async start(
    session: RunSession,
    options: { image: MicroVmImage; cpus?: number; start?: MicroVmOptions['start']; log?: (line: string) => void },
  ): Promise<MicroVmMachine> {
    const vm = await MicroVm.start({
      image: options.image,
      session,
      ...(options.log && { log: options.log }),
      ...(options.cpus && { cpus: options.cpus }),
      ...(options.start && { start: options.start }),
    });
    session.defer(() => vm.stop());
    const wire = await LabWireHost.attach(session, vm.labWireSocket, vm.guestAddress);
    return new MicroVmMachine(options.image, vm, wire);
  }

  get name(): string {
    return this.image.name;
  }

  get kernelRelease(): string {
    return this.vm.kernelRelease;
  }

  get console(): ConsoleLog {
    return this.vm.console;
  }

  get guest(): GuestShell {
    return this.vm.agent;
  }

  get bootMs(): number {
    return this.vm.bootMs;
  }

  async stop(): Promise<void> {
    this.wire.close();
    await this.vm.stop();
  }
}
