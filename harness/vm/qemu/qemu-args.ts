/**
 * The QEMU command line, as a pure function of a typed machine description, so
 * every flag the lab depends on is visible in one place and unit-tested.
 */
export type Accelerator = 'kvm' | 'tcg';

export interface QemuMachineSpec {
  accelerator: Accelerator;
  memoryMiB: number;
  cpus: number;
  /** Direct kernel boot. */
  kernel: string;
  initrd: string;
  kernelCommandLine: string;
  /** First serial port (the kernel console), appended to a file. */
  consoleLog: string;
  /** Second serial port: a unix socket QEMU listens on (the guest agent's line). */
  agentSocket?: string;
  /** The lab wire: a stream socket QEMU listens on; the simulated balancer connects. */
  labWire?: { socket: string; mac: string };
  pidFile: string;
}

export function buildQemuArgs(spec: QemuMachineSpec): string[] {
  const args = [
    '-nodefaults',
    '-no-user-config',
    '-display', 'none',
    '-no-reboot',
    '-machine', 'pc',
    // tb-size caps TCG's translation cache: ~0.7 GB resident instead of ~1.7 GB (LAB-NOTES).
    '-accel', spec.accelerator === 'tcg' ? 'tcg,tb-size=256' : 'kvm',
    '-m', String(spec.memoryMiB),
    '-smp', String(spec.cpus),
    '-kernel', spec.kernel,
    '-initrd', spec.initrd,
    '-append', spec.kernelCommandLine,
    // -nodefaults drops the serial ports too, so both are named explicitly.
    '-chardev', `file,id=console,path=${spec.consoleLog}`,
    '-serial', 'chardev:console',
  ];
  if (spec.agentSocket) {
    args.push('-chardev', `socket,id=agent,path=${spec.agentSocket},server=on,wait=off`, '-serial', 'chardev:agent');
  }
  if (spec.labWire) {
    // QEMU 7.2 never reconnects as a stream client, so QEMU listens and the harness connects.
    args.push(
      '-netdev', `stream,id=wire,server=on,addr.type=unix,addr.path=${spec.labWire.socket}`,
      '-device', `virtio-net-pci,netdev=wire,mac=${spec.labWire.mac}`,
    );
  }
  args.push('-pidfile', spec.pidFile);
  return args;
}
