import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildQemuArgs } from '../../../harness/vm/qemu/qemu-args.ts';
import {
  FULL_OS_KERNEL_COMMAND_LINE,
  libvirtBoxMetadata,
  renderBoxVagrantfile,
} from '../../../harness/vm/vagrant/libvirt-box.ts';
import { fillTemplate, renderVagrantfile, rubyString, vagrantQemuArgs, type VagrantMachineSpec } from '../../../harness/vm/vagrant/vagrantfile.ts';

/**
 * The Vagrant provider's renderings, pinned byte for byte in vagrant-golden/.
 * Regenerate after an intended change with
 *   UPDATE_GOLDEN=1 npx vitest run test/unit/vm/vagrant-rendering.test.ts
 * and review the diff.
 */
const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'vagrant-golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function expectGolden(name: string, actual: string): void {
  const path = join(GOLDEN_DIR, name);
  if (UPDATE || !existsSync(path)) {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(path, actual);
    if (!UPDATE) throw new Error(`golden file ${path} was missing: written now, review it and run again`);
  }
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

const SPEC: VagrantMachineSpec = {
  machine: 's-4242-abcdef-vagrant-2',
  domainPrefix: 'toa-lab-',
  box: 'toa-lab-debian-12-2a60ad3e7e601f46',
  driver: 'qemu',
  memoryMiB: 1024,
  cpus: 2,
  sshPort: 40022,
  privateKey: '/tmp/toa-lab/s-4242-abcdef/ssh-1/id_ed25519',
  sshUser: 'root',
  consoleLog: '/tmp/toa-lab/s-4242-abcdef/vagrant-2/console.log',
  description: '{"toaLab":1,"pid":4242,"startTime":"99","sessionDir":"/tmp/toa-lab/s-4242-abcdef"}',
  bootTimeoutSeconds: 600,
  managementNic: { mac: '52:54:00:00:00:10' },
  labWire: { socket: '/tmp/toa-lab/s-4242-abcdef/vagrant-2/wire.sock', mac: '52:54:00:00:02:0a' },
  fwCfgFiles: [{ name: 'opt/toa-lab/authorized_keys', file: '/tmp/toa-lab/s-4242-abcdef/vagrant-2/authorized_keys' }],
};

describe('Vagrantfile rendering', () => {
  it('matches the golden Vagrantfile', () => {
    expectGolden('Vagrantfile', renderVagrantfile(SPEC));
  });

  it('keeps the guest on 127.0.0.1: no management network, no bridge, no synced folder', () => {
    const text = renderVagrantfile(SPEC);
    expect(text).toContain('libvirt.mgmt_attach = false');
    expect(text).toContain('machine.ssh.host = "127.0.0.1"');
    expect(text).toContain('hostfwd=tcp:127.0.0.1:40022-:22');
    expect(text).toContain('restrict=on');
    expect(text).toContain('synced_folder ".", "/vagrant", disabled: true');
    const code = text.split('\n').filter((line) => !line.trim().startsWith('#')).join('\n');
    expect(code).not.toMatch(/private_network|public_network|192\.168\./);
  });

  it('gives the guest the QEMU provider\'s NICs and fw_cfg key, in its order, with its MACs', () => {
    const vagrant = vagrantQemuArgs(SPEC);
    const qemu = buildQemuArgs({
      accelerator: 'tcg',
      tcgThreading: 'single',
      memoryMiB: 1024,
      cpus: 2,
      boot: { kind: 'kernel', kernel: 'k', initrd: 'i', kernelCommandLine: FULL_OS_KERNEL_COMMAND_LINE },
      consoleLog: 'c',
      pidFile: 'p',
      managementNic: { mac: SPEC.managementNic.mac, sshHostPort: SPEC.sshPort },
      labWire: SPEC.labWire,
      fwCfgFiles: SPEC.fwCfgFiles,
    });
    // Same options as the QEMU provider's; the Vagrant ones only add explicit PCI slots.
    const withoutSlots = vagrant.map((arg) => arg.replace(/,addr=0x1[01]$/, ''));
    const qemuNetAndFwCfg = qemu.filter((arg, i) => ['-netdev', '-device', '-fw_cfg'].includes(arg) || ['-netdev', '-device', '-fw_cfg'].includes(qemu[i - 1] ?? ''));
    expect(withoutSlots).toEqual(qemuNetAndFwCfg);
    expect(vagrant.filter((a) => a.includes('addr=0x1'))).toEqual([
      'virtio-net-pci,netdev=mgmt,mac=52:54:00:00:00:10,addr=0x10',
      'virtio-net-pci,netdev=wire,mac=52:54:00:00:02:0a,addr=0x11',
    ]);
  });

  it('refuses a QEMU argument libvirt would write into its XML unescaped', () => {
    expect(() => vagrantQemuArgs({ ...SPEC, labWire: { ...SPEC.labWire, socket: "/tmp/it's.sock" } })).toThrow(/domain XML/);
  });

  it('writes Ruby string literals that cannot interpolate', () => {
    expect(rubyString('a"b\\c#{x}')).toBe('"a\\"b\\\\c\\#{x}"');
  });

  it('fails on a placeholder without a value, and on a value without a placeholder', () => {
    expect(() => fillTemplate('{{a}} {{b}}', { a: '1' })).toThrow(/\{\{b\}\}/);
    expect(() => fillTemplate('{{a}}', { a: '1', c: '2' })).toThrow(/no placeholder for c/);
  });
});

describe('libvirt box', () => {
  it('metadata names the provider, the format and the size in whole GiB, rounded up', () => {
    expect(libvirtBoxMetadata(4 * 2 ** 30)).toEqual({ provider: 'libvirt', format: 'qcow2', virtual_size: 4 });
    expect(libvirtBoxMetadata(4 * 2 ** 30 + 1).virtual_size).toBe(5);
    expect(JSON.stringify(libvirtBoxMetadata(4 * 2 ** 30))).toBe('{"provider":"libvirt","format":"qcow2","virtual_size":4}');
    expect(() => libvirtBoxMetadata(0)).toThrow();
  });

  it("boots the box's own kernel and initrd with the QEMU provider's command line (golden)", () => {
    const text = renderBoxVagrantfile();
    expectGolden('box.Vagrantfile', text);
    expect(text).toContain('libvirt.cmd_line = "console=ttyS0 root=/dev/vda rw net.ifnames=0 mitigations=off loglevel=5"');
  });
});
