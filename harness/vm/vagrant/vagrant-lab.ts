import { join } from 'node:path';
import { ensureDebianImage, type DebianImage } from '../../images/debian/build-debian-image.ts';
import type { RunSession } from '../../lifecycle/run-session.ts';
import {
  DEFAULT_BALANCER_ADDRESS,
  DEFAULT_BALANCER_MAC,
  FullNatBalancer,
  NetworkHost,
  QemuStreamWire,
} from '../../net/index.ts';
import { CommandLog } from '../../remote/command-log.ts';
import { HostKeyPin } from '../../remote/host-key-pin.ts';
import { SshGuestShell, type SshTarget } from '../../remote/ssh-guest-shell.ts';
import { generateSshKeyPair, writeSshKeyPair } from '../../remote/ssh-key-pair.ts';
import { VagrantVm } from './vagrant-vm.ts';
import { startGuestBalancer, type GuestBalancerOptions } from '../../lab/guest-lab.ts';

/**
 * The full-OS lab with Vagrant as the VM provider: the same image, the same
 * SSH layer (harness/remote: node-ssh, the run's key, host-key pinning), the
 * same lab wire and balancer as harness/lab/full-os-lab.ts. Only the boot
 * differs: `vagrant up` on a libvirt box instead of QEMU started by the harness.
 *
 *   client ─▶ 127.0.0.1 balancer ─▶ NetworkHost 192.0.2.2 ─▶ wire ─▶ guest eth1 192.0.2.10
 *   harness, vagrant ─ssh─▶ 127.0.0.1:PORT ─▶ QEMU user-mode eth0 (libvirt domain) ─▶ sshd
 *
 * It has FullOsLab's `guest`, `image`, `balancerAddress` and `startBalancer`,
 * which is all the guide steps and the traffic check use.
 */
export interface VagrantLabOptions {
  image: string;
  log?: (line: string) => void;
}

export class VagrantLab {
  private constructor(
    readonly image: DebianImage,
    readonly vm: VagrantVm,
    readonly guest: SshGuestShell,
    readonly host: NetworkHost,
  ) {}

  static async start(session: RunSession, options: VagrantLabOptions): Promise<VagrantLab> {
    const log = options.log ?? (() => {});
    const image = await ensureDebianImage(options.image, log);
    const keyDir = await session.subdir('ssh');
    const key = generateSshKeyPair(`toa-lab ${options.image} run key (vagrant)`);
    const keyFiles = await writeSshKeyPair(keyDir, key);

    const vm = await VagrantVm.start({ image, session, authorizedKey: key.publicLine, privateKeyFile: keyFiles.privateKey, log });
    const target: SshTarget = {
      host: vm.sshConfig.hostName,
      port: vm.sshConfig.port,
      username: vm.sshConfig.user,
      privateKey: key.privatePem,
      hostKeys: new HostKeyPin(`[${vm.sshConfig.hostName}]:${vm.sshConfig.port}`, join(keyDir, 'known_hosts')),
      log: new CommandLog(join(vm.dir, 'commands.jsonl')),
    };
    // vagrant up has already logged in: this is quick, but still bounded and pinned.
    const guest = await SshGuestShell.connect(target, { timeoutMs: 120_000, givenUp: () => vm.exitReason(), onProgress: log });
    session.defer(() => guest.close());
    log(`${image.name}: harness ssh login works (host key ${target.hostKeys.fingerprint})`);

    const wire = await QemuStreamWire.connect({ path: vm.labWireSocket });
    const host = new NetworkHost({ wire, mac: DEFAULT_BALANCER_MAC, addresses: [DEFAULT_BALANCER_ADDRESS] });
    session.defer(() => host.close());
    return new VagrantLab(image, vm, guest, host);
  }

  get balancerAddress(): string {
    return DEFAULT_BALANCER_ADDRESS;
  }

  /** A FULLNAT balancer on 127.0.0.1 relaying to a backend port on the guest; close it when done. */
  startBalancer(options: GuestBalancerOptions): Promise<FullNatBalancer> {
    return startGuestBalancer(this.host, this.vm.guestAddress, options);
  }
}
