import { join } from 'node:path';
import { ensureDebianImage } from '../images/debian/build-debian-image.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import type { FullNatBalancer } from '../net/index.ts';
import { CommandLog } from '../remote/command-log.ts';
import { HostKeyPin } from '../remote/host-key-pin.ts';
import { SshGuestShell, type SshTarget } from '../remote/ssh-guest-shell.ts';
import { generateSshKeyPair, writeSshKeyPair } from '../remote/ssh-key-pair.ts';
import type { ConsoleLog } from '../vm/console-log.ts';
import { VagrantVm, type VagrantSource } from '../vm/vagrant/vagrant-vm.ts';
import { readFileSync } from 'node:fs';
import { configureGuestPackageProxy } from '../provision/guest-proxy-config.ts';
import { DEFAULT_REPOSITORY_HOSTS, startPackageProxy, type PackageProxy } from '../provision/package-proxy.ts';
import { configureLabInterface, findInterfaceByMac } from './lab-nic.ts';
import { LabWireHost } from './lab-wire-host.ts';
import {
  startGuestBalancer,
  type FullOsMachine,
  type GuestBalancerOptions,
  type LabImageTarget,
  type RebootEvidence,
  type VagrantBoxTarget,
} from './machine.ts';

/**
 * The Vagrant provider: `vagrant up` on a libvirt box instead of QEMU started by
 * the harness; the same SSH layer (harness/remote: node-ssh, host-key pinning),
 * the same lab wire and balancer as the QEMU provider.
 *
 *   client ─▶ 127.0.0.1 balancer ─▶ NetworkHost 192.0.2.2 ─▶ wire ─▶ guest lab NIC 192.0.2.10
 *   harness, vagrant ─ssh─▶ 127.0.0.1:PORT ─▶ QEMU user-mode NIC (libvirt domain) ─▶ sshd
 *
 * - a lab image: packaged here as a box, root login with the run's key (fw_cfg), eth1;
 * - a user's box in the standard form: its own boot loader, its user (vagrant) with
 *   the box's key and sudo, the lab NIC found by MAC and addressed after every boot.
 */
export interface VagrantMachineOptions {
  /** A lab image by name (`debian-12`); the same as `target: { kind: 'lab-image', image }`. */
  image?: string;
  target?: LabImageTarget | VagrantBoxTarget;
  log?: (line: string) => void;
}

/** The lab images' ifupdown names the lab NIC eth1, as on the QEMU provider (same image, same command line). */
const LAB_IMAGE_INTERFACE = 'eth1';

export class VagrantMachine implements FullOsMachine {
  readonly provider = 'vagrant';
  readonly ipv6OffByDefault = false;

  private constructor(
    readonly name: string,
    readonly origin: FullOsMachine['origin'],
    readonly kernelRelease: string,
    readonly vm: VagrantVm,
    private shell: SshGuestShell,
    /** The harness's side of the lab wire. */
    readonly wire: LabWireHost,
    readonly labInterface: string,
    private readonly target: SshTarget,
    private readonly session: RunSession,
    private readonly log: (line: string) => void,
    /** From `vagrant up` to the harness's own working SSH login. */
    readonly bootMs: number,
  ) {}

  static async start(session: RunSession, options: VagrantMachineOptions): Promise<VagrantMachine> {
    const started = Date.now();
    const log = options.log ?? (() => {});
    const target = options.target ?? (options.image ? { kind: 'lab-image' as const, image: options.image } : undefined);
    if (!target) throw new Error('VagrantMachine.start: name an image or a target');
    const keyDir = await session.subdir('ssh');

    let source: VagrantSource;
    let login: { user: string; privateKey: string };
    let labKernel: string | undefined;
    let proxy: PackageProxy | undefined;
    if (target.kind === 'lab-image') {
      const image = await ensureDebianImage(target.image, log);
      const key = generateSshKeyPair(`toa-lab ${target.image} run key (vagrant)`);
      const keyFiles = await writeSshKeyPair(keyDir, key);
      source = { kind: 'lab-image', image, authorizedKey: key.publicLine, privateKeyFile: keyFiles.privateKey };
      login = { user: 'root', privateKey: key.privatePem };
      labKernel = image.kernelRelease;
    } else {
      // A box has no seed: its guest reaches its repositories through the run's proxy, set up after login.
      proxy = await startPackageProxy(session, DEFAULT_REPOSITORY_HOSTS);
      log(`${target.name}: packages through ${proxy.guestUrl} (log ${proxy.log})`);
      source = { kind: 'box-file', name: target.name, file: target.file, user: target.login.user, privateKeyFile: target.login.privateKeyFile, guestForwards: [proxy.forward] };
      login = { user: target.login.user, privateKey: readFileSync(target.login.privateKeyFile, 'utf8') };
    }
    const name = target.kind === 'lab-image' ? target.image : target.name;
    const vm = await VagrantVm.start({ source, session, log });
    const ssh: SshTarget = {
      host: vm.sshConfig.hostName,
      port: vm.sshConfig.port,
      username: login.user,
      privateKey: login.privateKey,
      hostKeys: new HostKeyPin(`[${vm.sshConfig.hostName}]:${vm.sshConfig.port}`, join(keyDir, 'known_hosts')),
      log: new CommandLog(join(vm.dir, 'commands.jsonl')),
    };
    // vagrant up has already logged in: this is quick, but still bounded and pinned.
    const guest = await SshGuestShell.connect(ssh, { timeoutMs: 120_000, givenUp: () => vm.exitReason(), onProgress: log });
    session.defer(() => guest.close());
    log(`${name}: harness ssh login works as ${login.user} (host key ${ssh.hostKeys.fingerprint})`);
    const labInterface = target.kind === 'lab-image' ? LAB_IMAGE_INTERFACE : await findInterfaceByMac(guest, vm.labWireMac);
    if (target.kind !== 'lab-image') await configureLabInterface(guest, labInterface, vm.guestAddress);
    if (proxy) await configureGuestPackageProxy(guest, proxy.guestUrl);
    const kernelRelease = labKernel ?? (await guest.check('uname -r')).stdout.trim();
    const wire = await LabWireHost.attach(session, vm.labWireSocket, vm.guestAddress);
    const origin = target.kind === 'lab-image' ? 'lab' : 'foreign';
    return new VagrantMachine(name, origin, kernelRelease, vm, guest, wire, labInterface, ssh, session, log, Date.now() - started);
  }

  get guest(): SshGuestShell {
    return this.shell;
  }

  get console(): ConsoleLog {
    return this.vm.console;
  }

  get balancerAddress(): string {
    return this.wire.balancerAddress;
  }

  /** `vagrant destroy`: the domain, its volume and all (the session's close does it too). */
  async stop(): Promise<void> {
    this.shell.close();
    await this.vm.destroy();
  }

  /**
   * `systemctl reboot` in the guest: libvirt resets the same domain (same
   * QEMU, same port forward, same lab wire); resolves once SSH works again
   * (same pinned host key) with a new boot id. A box's lab NIC is addressed again.
   */
  async reboot(): Promise<RebootEvidence> {
    const started = Date.now();
    const bootIdBefore = (await this.shell.check('cat /proc/sys/kernel/random/boot_id')).stdout.trim();
    const from = (await this.vm.console.refresh()).length;
    // The request returns, or the connection drops while the guest shuts down: either is fine.
    await this.shell.run('systemctl reboot', { timeoutMs: 30_000 }).catch(() => undefined);
    this.shell.close();
    const deadline = Date.now() + 120_000;
    while (!/reboot: Restarting system/.test((await this.vm.console.refresh()).slice(from))) {
      const gone = this.vm.exitReason();
      if (gone || Date.now() > deadline) throw new Error(`waiting for the guest to reset: ${gone ?? 'nothing within 120 s'}\n${this.vm.console.tail()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    this.shell = await SshGuestShell.connect(this.target, { timeoutMs: 180_000, givenUp: () => this.vm.exitReason(), onProgress: this.log });
    const shell = this.shell;
    this.session.defer(() => shell.close());
    if (this.origin === 'foreign') await configureLabInterface(this.shell, this.labInterface, this.vm.guestAddress);
    const bootIdAfter = (await this.shell.check('cat /proc/sys/kernel/random/boot_id')).stdout.trim();
    if (bootIdAfter === bootIdBefore) throw new Error(`the guest did not reboot: boot id is still ${bootIdBefore}`);
    return { bootIdBefore, bootIdAfter, durationMs: Date.now() - started };
  }

  /** A FULLNAT balancer on 127.0.0.1 relaying to a backend port on the guest; close it when done. */
  startBalancer(options: GuestBalancerOptions): Promise<FullNatBalancer> {
    return startGuestBalancer(this.wire, options);
  }
}
