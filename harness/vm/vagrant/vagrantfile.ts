import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../repo-root.ts';
import type { GuestForward } from '../qemu/qemu-args.ts';

/**
 * The Vagrantfile of one Vagrant guest, as a pure function of a typed
 * description: vagrant/Vagrantfile.template with every `{{name}}` replaced by
 * a Ruby literal. Unit-tested against a golden file.
 *
 * The guest is wired exactly like the QEMU provider's (harness/vm/full-os-vm.ts),
 * so the image's /etc/network/interfaces and fw_cfg key service work unchanged:
 * - eth0: user-mode NIC, restrict=on, 127.0.0.1:sshPort → :22, MAC 52:54:00:00:00:10;
 * - eth1: the lab wire, `-netdev stream,server=on` on a unix socket, MAC 52:54:00:00:02:0a;
 * - `-fw_cfg name=opt/toa-lab/authorized_keys`: the run's public key.
 */
export interface VagrantMachineSpec {
  /** Vagrant's machine name; the libvirt domain is `domainPrefix + machine`. */
  machine: string;
  domainPrefix: string;
  /** A box name from `vagrant box list` (a toa-lab libvirt box). */
  box: string;
  /** libvirt's domain type: `qemu` (TCG) or `kvm`. */
  driver: 'qemu' | 'kvm';
  memoryMiB: number;
  cpus: number;
  sshPort: number;
  /** The private key file vagrant's own SSH uses: the run's, or a box's (Vagrant's insecure key). */
  privateKey: string;
  /** Who vagrant logs in as: root on the lab's images, the box's user (with sudo) on a standard box. */
  sshUser: string;
  /** The guest's serial console, appended to this file. */
  consoleLog: string;
  /** Stored as the domain's description: how the reaper knows whose domain it is. */
  description: string;
  bootTimeoutSeconds: number;
  managementNic: { mac: string; guestForwards?: readonly GuestForward[] };
  labWire: { socket: string; mac: string };
  fwCfgFiles: ReadonlyArray<{ name: string; file: string }>;
}

export const VAGRANTFILE_TEMPLATE = 'vagrant/Vagrantfile.template';

export function renderVagrantfile(spec: VagrantMachineSpec, template = readTemplate(VAGRANTFILE_TEMPLATE)): string {
  const qemuArgs = vagrantQemuArgs(spec)
    .map((value) => `      libvirt.qemuargs :value => ${rubyString(value)}`)
    .join('\n');
  return fillTemplate(template, {
    machine: rubyString(spec.machine),
    box: rubyString(spec.box),
    bootTimeoutSeconds: String(spec.bootTimeoutSeconds),
    sshPort: String(spec.sshPort),
    privateKey: rubyString(spec.privateKey),
    sshUser: rubyString(spec.sshUser),
    sudoCommand:
      spec.sshUser === 'root'
        ? '    # Already root, and the image has no sudo: vagrant\'s privileged commands run as they are.\n    machine.ssh.sudo_command = "%c"'
        : "    # A box's user becomes root through sudo, as vagrant does by default.",
    driver: rubyString(spec.driver),
    domainPrefix: rubyString(spec.domainPrefix),
    description: rubyString(spec.description),
    memoryMiB: String(spec.memoryMiB),
    cpus: String(spec.cpus),
    consoleLog: rubyString(spec.consoleLog),
    qemuArgs,
  });
}

/**
 * The raw QEMU arguments libvirt has no element for, in the QEMU provider's
 * order (management NIC first, so it is eth0). The same strings as
 * harness/vm/qemu/qemu-args.ts builds.
 */
export function vagrantQemuArgs(spec: Pick<VagrantMachineSpec, 'sshPort' | 'managementNic' | 'labWire' | 'fwCfgFiles'>): string[] {
  // The same guest forwards as the QEMU provider's (qemu-args.ts): the package proxy for a box.
  const forwards = (spec.managementNic.guestForwards ?? []).map((f) => `,guestfwd=tcp:${f.address}:${f.port}-cmd:${f.command.replaceAll(',', ',,')}`);
  const args = [
    // restrict=on: the guest reaches nothing but the harness's port forward (network hygiene).
    '-netdev', `user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:${spec.sshPort}-:22${forwards.join('')}`,
    '-device', `virtio-net-pci,netdev=mgmt,mac=${spec.managementNic.mac},addr=${NIC_PCI_SLOTS.management}`,
    // QEMU 7.2 never reconnects as a stream client, so QEMU listens and the harness connects.
    '-netdev', `stream,id=wire,server=on,addr.type=unix,addr.path=${spec.labWire.socket}`,
    '-device', `virtio-net-pci,netdev=wire,mac=${spec.labWire.mac},addr=${NIC_PCI_SLOTS.labWire}`,
  ];
  for (const entry of spec.fwCfgFiles) args.push('-fw_cfg', `name=${entry.name},file=${entry.file.replaceAll(',', ',,')}`);
  for (const value of args) {
    // vagrant-libvirt writes each value into the domain XML unescaped, inside '...'.
    if (/['<>&]/.test(value)) throw new Error(`QEMU argument not representable in libvirt's domain XML: ${value}`);
  }
  return args;
}

/**
 * Explicit PCI slots for the NICs libvirt does not know about. Without them QEMU
 * gives the first NIC slot 2, which libvirt has already assigned to one of its own
 * devices (`PCI: slot 2 function 0 not available for virtio-serial-pci`). libvirt
 * fills slots upward from 2; these are far above what this domain uses, and their
 * order keeps the management NIC first on the bus (eth0) and the lab wire second (eth1).
 */
export const NIC_PCI_SLOTS = { management: '0x10', labWire: '0x11' } as const;

/** A double-quoted Ruby string literal (no interpolation survives: `#` and `\` are escaped). */
export function rubyString(value: string): string {
  return `"${value.replace(/[\\"#]/g, (c) => `\\${c}`).replaceAll('\n', '\\n')}"`;
}

/** Replaces every `{{name}}`; a placeholder without a value, or a value without a placeholder, is a bug. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  const used = new Set<string>();
  const out = template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template placeholder {{${name}}} has no value`);
    used.add(name);
    return value;
  });
  const unused = Object.keys(values).filter((name) => !used.has(name));
  if (unused.length > 0) throw new Error(`template has no placeholder for ${unused.join(', ')}`);
  return out;
}

export function readTemplate(relativePath: string): string {
  return readFileSync(join(repoRoot(), relativePath), 'utf8');
}
