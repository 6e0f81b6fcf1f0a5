import { describe, expect, it } from 'vitest';
import { buildQemuArgs, type QemuMachineSpec } from '../../../harness/vm/qemu/qemu-args.ts';

/** The full-OS additions to the QEMU command line (the micro-VM's are in qemu-args.test.ts). */
const spec: QemuMachineSpec = {
  accelerator: 'tcg',
  tcgThreading: 'single',
  memoryMiB: 1024,
  cpus: 2,
  boot: { kind: 'kernel', kernel: '/img/vmlinuz', initrd: '/img/initrd.img', kernelCommandLine: 'console=ttyS0 root=/dev/vda' },
  consoleLog: '/run/console.log',
  labWire: { socket: '/run/wire.sock', mac: '52:54:00:00:02:0a' },
  pidFile: '/run/qemu.pid',
  disk: { path: '/run/disk.qcow2', format: 'qcow2' },
  managementNic: { mac: '52:54:00:00:00:10', sshHostPort: 40022 },
  fwCfgFiles: [{ name: 'opt/toa-lab/authorized_keys', file: '/run/authorized_keys' }],
  allowReboot: true,
};

function valueOf(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

describe('buildQemuArgs for a full-OS guest', () => {
  it('boots the overlay through virtio-blk', () => {
    const args = buildQemuArgs(spec);
    expect(valueOf(args, '-drive')).toEqual(['file=/run/disk.qcow2,if=none,id=root,format=qcow2']);
    expect(valueOf(args, '-device')[0]).toBe('virtio-blk-pci,drive=root');
  });

  it('has a restricted user-mode NIC forwarding only 127.0.0.1:PORT to sshd, before the lab wire (eth0, eth1)', () => {
    const args = buildQemuArgs(spec);
    expect(valueOf(args, '-netdev')).toEqual([
      'user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:40022-:22',
      'stream,id=wire,server=on,addr.type=unix,addr.path=/run/wire.sock',
    ]);
    expect(valueOf(args, '-device').slice(1)).toEqual([
      'virtio-net-pci,netdev=mgmt,mac=52:54:00:00:00:10',
      'virtio-net-pci,netdev=wire,mac=52:54:00:00:02:0a',
    ]);
  });

  it('passes the run key by fw_cfg, escaping commas in paths', () => {
    const args = buildQemuArgs({ ...spec, fwCfgFiles: [{ name: 'opt/toa-lab/authorized_keys', file: '/run/a,b' }] });
    expect(valueOf(args, '-fw_cfg')).toEqual(['name=opt/toa-lab/authorized_keys,file=/run/a,,b']);
  });

  it('lets the guest reboot in place when asked, and keeps -no-reboot otherwise', () => {
    expect(buildQemuArgs(spec)).not.toContain('-no-reboot');
    expect(buildQemuArgs({ ...spec, allowReboot: undefined })).toContain('-no-reboot');
  });

  it("boots a vendor's disk through its own boot loader: SeaBIOS on pc, no -kernel, the disk first", () => {
    const args = buildQemuArgs({ ...spec, boot: { kind: 'firmware', firmware: 'bios' } });
    expect(args).not.toContain('-kernel');
    expect(args).not.toContain('-append');
    expect(valueOf(args, '-machine')).toEqual(['pc']);
    expect(valueOf(args, '-boot')).toEqual(['order=c']);
    expect(args.some((a) => a.includes('pflash'))).toBe(false);
  });

  it('boots UEFI on q35 with the firmware code read-only and a per-machine variable store', () => {
    const args = buildQemuArgs({ ...spec, boot: { kind: 'firmware', firmware: 'uefi', code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/run/VARS.fd' } });
    expect(valueOf(args, '-machine')).toEqual(['q35']);
    expect(valueOf(args, '-drive').filter((d) => d.startsWith('if=pflash'))).toEqual([
      'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd',
      'if=pflash,format=raw,unit=1,file=/run/VARS.fd',
    ]);
  });

  it('attaches a seed as a read-only CD-ROM and guest forwards as one process per connection, still restrict=on', () => {
    const args = buildQemuArgs({
      ...spec,
      boot: { kind: 'firmware', firmware: 'bios' },
      cdrom: '/run/seed.iso',
      managementNic: { mac: '52:54:00:00:00:10', sshHostPort: 40022, guestForwards: [{ address: '10.0.2.100', port: 3128, command: 'socat - TCP:127.0.0.1:4000,x' }] },
    });
    expect(valueOf(args, '-drive')).toContain('file=/run/seed.iso,if=none,id=seed,media=cdrom,readonly=on');
    expect(valueOf(args, '-netdev')[0]).toBe(
      'user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:40022-:22,guestfwd=tcp:10.0.2.100:3128-cmd:socat - TCP:127.0.0.1:4000,,x',
    );
  });
});
