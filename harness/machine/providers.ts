import type { RunSession } from '../lifecycle/run-session.ts';
import type { FullOsMachine, MachineTarget } from './machine.ts';
import { QemuMachine } from './qemu-machine.ts';
import { VagrantMachine } from './vagrant-machine.ts';

/**
 * The providers of whole machines, by name: `--provider NAME` picks one here,
 * never through a ternary. Adding one is a file implementing FullOsMachine and a
 * line below. (The micro-VMs and the patched-kernel disk run on their own QEMU
 * drivers: harness/vm/micro-vm.ts, harness/patched-kernel/patched-kernel-vm.ts.)
 */
export interface MachineBootOptions {
  cpus?: number;
  /** Boot (and reboot) to a working login; the provider's default otherwise. */
  bootTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface MachineProvider {
  readonly name: string;
  /** One line for `--help`. */
  readonly summary: string;
  /** Null when it can boot `target`; otherwise why not, in words for the user. */
  refuses(target: MachineTarget): string | null;
  boot(session: RunSession, target: MachineTarget, options: MachineBootOptions): Promise<FullOsMachine>;
}

const QEMU: MachineProvider = {
  name: 'qemu',
  summary: 'the harness starts QEMU itself (default): the lab\'s images by direct kernel boot, any disk image through SeaBIOS/OVMF',
  refuses: (target) => (target.kind === 'vagrant-box' ? `${target.name} is a Vagrant box: use --provider vagrant` : null),
  boot: (session, target, options) => {
    if (target.kind === 'vagrant-box') throw new Error(QEMU.refuses(target)!);
    return QemuMachine.start(session, { target, ...options });
  },
};

const VAGRANT: MachineProvider = {
  name: 'vagrant',
  summary: "vagrant-libvirt (scripts/install-vagrant.sh once): the lab's images packaged as boxes, or a libvirt .box file in the standard form",
  refuses: (target) =>
    target.kind === 'disk-image' ? `the vagrant provider boots the lab's images and Vagrant boxes; ${target.name} is a disk file: use --provider qemu` : null,
  boot: (session, target, options) => {
    if (target.kind === 'disk-image') throw new Error(VAGRANT.refuses(target)!);
    // vagrant up has its own boot timeout (the Vagrantfile's config.vm.boot_timeout).
    return VagrantMachine.start(session, { target, ...(options.log && { log: options.log }) });
  },
};

export const MACHINE_PROVIDERS: ReadonlyMap<string, MachineProvider> = new Map([QEMU, VAGRANT].map((p) => [p.name, p]));

export class UnknownProviderError extends Error {
  override readonly name = 'UnknownProviderError';
  constructor(readonly provider: string) {
    super(`unknown provider '${provider}'; known: ${[...MACHINE_PROVIDERS.keys()].join(', ')}`);
  }
}

export function machineProvider(name: string): MachineProvider {
  const provider = MACHINE_PROVIDERS.get(name);
  if (!provider) throw new UnknownProviderError(name);
  return provider;
}
