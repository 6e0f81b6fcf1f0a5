/**
 * The QEMU command line, as a pure function of a typed machine description, so
 * every flag the lab depends on is visible in one place and unit-tested.
 */
import type { TcgThreading } from './tcg-threading.ts';

export type Accelerator = 'kvm' | 'tcg';

export interface QemuMachineSpec {
  accelerator: Accelerator;
  /** TCG only: how the vCPUs are run (tcg-threading.ts says why the lab wants "single"). */
  tcgThreading: TcgThreading;
  memoryMiB: number;
  cpus: number;
  /**
   * How the machine finds its kernel: QEMU loads it directly (the lab's own
   * images), or the firmware runs the disk's own boot loader (a vendor's image).
   */
  boot: DirectKernelBootSpec | FirmwareBootSpec;
  /** First serial port (the kernel console), written to a file. */
  consoleLog: string;
  /**
   * Append to consoleLog instead of truncating it: a guest restored from a
   * snapshot continues the console its boot wrote (micro-vm-snapshot.ts).
   */
  consoleAppend?: boolean;
  /** Second serial port: a unix socket QEMU listens on (the guest agent's line). */
  agentSocket?: string;
  /** The lab wire: a stream socket QEMU listens on; the simulated balancer connects. */
  labWire?: { socket: string; mac: string };
  pidFile: string;
  /** A QMP socket QEMU listens on (the harness saves a running micro-VM through it). */
  qmpSocket?: string;
  /**
   * Start from a saved guest instead of booting (`-incoming`, e.g. `exec:cat FILE`:
   * QEMU 7.2 has no `file:` migration). The rest of the spec must be the one the
   * guest was saved with.
   */
  incomingMigration?: string;
  /** Full-OS guests: the root disk (virtio-blk), e.g. a per-run qcow2 overlay. */
  disk?: { path: string; format: 'qcow2' | 'raw' };
  /** A read-only CD-ROM, e.g. a cloud-init NoCloud seed (volume label `cidata`). */
  cdrom?: string;
  /**
   * Where the firmware's own messages go (SeaBIOS writes them to the debug port 0x402):
   * "No bootable device." is the evidence for a disk without a boot loader.
   */
  firmwareLog?: string;
  /**
   * Full-OS guests: a user-mode NIC for the harness's SSH only. It comes
   * before the lab wire on the PCI bus, so it is the guest's eth0.
   */
  managementNic?: { mac: string; sshHostPort: number; guestForwards?: readonly GuestForward[] };
  /** Files the guest reads from /sys/firmware/qemu_fw_cfg/by_name/<name>/raw (e.g. the run's SSH key). */
  fwCfgFiles?: ReadonlyArray<{ name: string; file: string }>;
  /**
   * Let a guest reboot reset the machine instead of ending QEMU (full-OS
   * guests reboot as part of a guide's procedure). Default false: -no-reboot.
   */
  allowReboot?: boolean;
}

export interface DirectKernelBootSpec {
  kind: 'kernel';
  kernel: string;
  /** None: the kernel boots without an initramfs. */
  initrd?: string;
  kernelCommandLine: string;
}

/**
 * The image's own boot loader, as on a real machine: SeaBIOS (QEMU's default
 * firmware, `-machine pc`) or UEFI from Debian's `ovmf` (`-machine q35`, the
 * code read-only and a per-run copy of the variable store, as LAB-NOTES measured).
 */
export type FirmwareBootSpec = { kind: 'firmware'; firmware: 'bios' } | { kind: 'firmware'; firmware: 'uefi'; code: string; vars: string };

/**
 * A user-mode `guestfwd`: connections the guest opens to `address:port` (inside
 * the user-mode network) run `command` on the host with the connection on its
 * stdin/stdout — one process per connection, so the guest can reconnect freely.
 * `restrict=on` does not affect explicit forwarding rules.
 */
export interface GuestForward {
  address: string;
  port: number;
  command: string;
}

export function buildQemuArgs(spec: QemuMachineSpec): string[] {
  const firmware = spec.boot.kind === 'firmware' ? spec.boot : undefined;
  const args = [
    '-nodefaults',
    '-no-user-config',
    '-display', 'none',
    ...(spec.allowReboot ? [] : ['-no-reboot']),
    // OVMF wants q35 (LAB-NOTES); everything else keeps the PC machine it was measured on.
    '-machine', firmware?.firmware === 'uefi' ? 'q35' : 'pc',
    // tb-size caps TCG's translation cache: ~0.7 GB resident instead of ~1.7 GB (LAB-NOTES).
    '-accel', spec.accelerator === 'tcg' ? `tcg,tb-size=256,thread=${spec.tcgThreading}` : 'kvm',
    '-m', String(spec.memoryMiB),
    '-smp', String(spec.cpus),
    ...bootArgs(spec.boot),
    // -nodefaults drops the serial ports too, so both are named explicitly.
    '-chardev', `file,id=console,path=${spec.consoleLog}${spec.consoleAppend ? ',append=on' : ''}`,
    '-serial', 'chardev:console',
  ];
  if (spec.agentSocket) {
    args.push('-chardev', `socket,id=agent,path=${spec.agentSocket},server=on,wait=off`, '-serial', 'chardev:agent');
  }
  if (spec.disk) {
    args.push(
      '-drive', `file=${optionValue(spec.disk.path)},if=none,id=root,format=${spec.disk.format}`,
      '-device', 'virtio-blk-pci,drive=root',
      // The disk is the one thing to boot from: SeaBIOS/OVMF must not try the NICs first (PXE).
      ...(firmware ? ['-boot', 'order=c'] : []),
    );
  }
  if (spec.firmwareLog) {
    args.push('-chardev', `file,id=firmware,path=${optionValue(spec.firmwareLog)}`, '-device', 'isa-debugcon,iobase=0x402,chardev=firmware');
  }
  if (spec.cdrom) {
    args.push('-drive', `file=${optionValue(spec.cdrom)},if=none,id=seed,media=cdrom,readonly=on`, '-device', 'ide-cd,drive=seed');
  }
  if (spec.managementNic) {
    // restrict=on: the guest reaches nothing but the harness's port forward (network hygiene).
    const forwards = (spec.managementNic.guestForwards ?? []).map((f) => `,guestfwd=tcp:${f.address}:${f.port}-cmd:${optionValue(f.command)}`);
    args.push(
      '-netdev', `user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:${spec.managementNic.sshHostPort}-:22${forwards.join('')}`,
      '-device', `virtio-net-pci,netdev=mgmt,mac=${spec.managementNic.mac}`,
    );
  }
  if (spec.labWire) {
    // QEMU 7.2 never reconnects as a stream client, so QEMU listens and the harness connects.
    args.push(
      '-netdev', `stream,id=wire,server=on,addr.type=unix,addr.path=${spec.labWire.socket}`,
      '-device', `virtio-net-pci,netdev=wire,mac=${spec.labWire.mac}`,
    );
  }
  for (const entry of spec.fwCfgFiles ?? []) args.push('-fw_cfg', `name=${entry.name},file=${optionValue(entry.file)}`);
  if (spec.qmpSocket) {
    args.push('-chardev', `socket,id=qmp,path=${optionValue(spec.qmpSocket)},server=on,wait=off`, '-mon', 'chardev=qmp,mode=control');
  }
  if (spec.incomingMigration) {
    // After an incoming migration QEMU announces the guest (RARP frames from QEMU, and
    // gratuitous ARPs it asks virtio-net's driver to send): frames a booted guest never
    // sends, on a wire whose every frame is evidence. No announcement rounds, so none.
    args.push('-incoming', spec.incomingMigration, '-global', 'migration.announce-rounds=0');
  }
  args.push('-pidfile', spec.pidFile);
  return args;
}

function bootArgs(boot: QemuMachineSpec['boot']): string[] {
  if (boot.kind === 'kernel') {
    return ['-kernel', boot.kernel, ...(boot.initrd ? ['-initrd', boot.initrd] : []), '-append', boot.kernelCommandLine];
  }
  if (boot.firmware === 'bios') return []; // SeaBIOS is QEMU's default
  return [
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${optionValue(boot.code)}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${optionValue(boot.vars)}`,
  ];
}

/** QEMU splits option values at commas; a literal comma is written twice. */
function optionValue(value: string): string {
  return value.replaceAll(',', ',,');
}
