import { describe, expect, it } from 'vitest';
import { buildQemuArgs, type QemuMachineSpec } from '../../../harness/vm/qemu/qemu-args.ts';

const spec: QemuMachineSpec = {
  accelerator: 'tcg',
  tcgThreading: 'single',
  memoryMiB: 512,
  cpus: 2,
  boot: { kind: 'kernel', kernel: '/k', initrd: '/i', kernelCommandLine: 'console=ttyS0' },
  consoleLog: '/run/console.log',
  agentSocket: '/run/agent.sock',
  labWire: { socket: '/run/wire.sock', mac: '52:54:00:00:02:0a' },
  pidFile: '/run/qemu.pid',
};

function valueOf(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

describe('buildQemuArgs', () => {
  it('boots the kernel with its initrd and command line, or without an initrd when there is none', () => {
    const args = buildQemuArgs(spec);
    expect(valueOf(args, '-kernel')).toEqual(['/k']);
    expect(valueOf(args, '-initrd')).toEqual(['/i']);
    expect(valueOf(args, '-append')).toEqual(['console=ttyS0']);
    const bare = buildQemuArgs({ ...spec, boot: { kind: 'kernel', kernel: '/k', kernelCommandLine: 'console=ttyS0' } });
    expect(bare).not.toContain('-initrd');
    expect(valueOf(bare, '-append')).toEqual(['console=ttyS0']);
    expect(bare.slice(-2)).toEqual(args.slice(-2)); // nothing else moved
  });

  it('caps the TCG translation cache and passes the accelerator', () => {
    expect(valueOf(buildQemuArgs(spec), '-accel')).toEqual(['tcg,tb-size=256,thread=single']);
    expect(valueOf(buildQemuArgs({ ...spec, tcgThreading: 'multi' }), '-accel')).toEqual(['tcg,tb-size=256,thread=multi']);
    expect(valueOf(buildQemuArgs({ ...spec, accelerator: 'kvm' }), '-accel')).toEqual(['kvm']);
  });

  it('lets QEMU listen on the lab wire (7.2 never reconnects as a client) with an explicit MAC', () => {
    const args = buildQemuArgs(spec);
    expect(valueOf(args, '-netdev')).toEqual(['stream,id=wire,server=on,addr.type=unix,addr.path=/run/wire.sock']);
    expect(valueOf(args, '-device')).toEqual(['virtio-net-pci,netdev=wire,mac=52:54:00:00:02:0a']);
  });

  it('names both serial ports explicitly, since -nodefaults drops them', () => {
    const args = buildQemuArgs(spec);
    expect(args).toContain('-nodefaults');
    expect(valueOf(args, '-serial')).toEqual(['chardev:console', 'chardev:agent']);
    expect(valueOf(args, '-chardev')[0]).toBe('file,id=console,path=/run/console.log');
  });

  it('has no NIC other than the lab wire, and writes a pid file for the reaper', () => {
    const args = buildQemuArgs({ ...spec, labWire: undefined });
    expect(args).not.toContain('-netdev');
    expect(valueOf(args, '-pidfile')).toEqual(['/run/qemu.pid']);
  });
});
