import { join } from 'node:path';
import { ensureDebianImage, type DebianImage } from '../images/debian/build-debian-image.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import type { FullNatBalancer } from '../net/index.ts';
import { CommandLog } from '../remote/command-log.ts';
import { HostKeyPin } from '../remote/host-key-pin.ts';
import { SshGuestShell, type SshTarget } from '../remote/ssh-guest-shell.ts';
import { generateSshKeyPair, writeSshKeyPair } from '../remote/ssh-key-pair.ts';
import { VagrantVm } from '../vm/vagrant/vagrant-vm.ts';
import { startGuestBalancer, type FullOsMachine, type GuestBalancerOptions, type RebootEvidence } from './machine.ts';
import type { ConsoleLog } from '../vm/console-log.ts';
import { LabWireHost } from './lab-wire-host.ts';

/**
 * The full-OS lab with Vagrant as the VM provider: the same image, the same
 * SSH layer (harness/remote: node-ssh, the run's key, host-key pinning), the
 * same lab wire and balancer as harness/lab/full-os-lab.ts. Only the boot
 * differs: `vagrant up` on a libvirt box instead of QEMU started by the harness.
 *
 *   client ─▶ 127.0.0.1 balancer ─▶ NetworkHost 192.0.2.2 ─▶ wire ─▶ guest eth1 192.0.2.10
 *   harness, vagrant ─ssh─▶ 127.0.0.1:PORT ─▶ QEMU user-mode eth0 (libvirt domain) ─▶ sshd
 *
 * It has QemuMachine's `guest`, `image`, `balancerAddress` and `startBalancer`,
 * which is all the guide steps and the traffic check use.
 */
export interface VagrantMachineOptions {
  image: string;
  log?: (line: string) => void;
}

export class VagrantMachine implements FullOsMachine {
  readonly provider = 'vagrant';
  readonly ipv6OffByDefault = false;
  readonly origin = 'lab';
  /** The box's ifupdown names the lab NIC eth1, as on the QEMU provider (same image, same command line). */
  readonly labInterface = 'eth1';

  private constructor(
    readonly image: DebianImage,
    readonly vm: VagrantVm,
    private shell: SshGuestShell,
    /** The harness's side of the lab wire. */
    readonly wire: LabWireHost,
    private readonly target: SshTarget,
    private readonly session: RunSession,
    private readonly log: (line: string) => void,
    /** From `vagrant up` to the harness's own working SSH login. */
    readonly bootMs: number,
  ) {}

  get name(): string {
    return this.image.name;
  }

  get kernelRelease(): string {
    return this.image.kernelRelease;
  }

  get console(): ConsoleLog {
    return this.vm.console;
  }

  /** `vagrant destroy`: the domain, its volume and all (the session's close does it too). */
  async stop(): Promise<void> {
    this.shell.close();
    await this.vm.destroy();
  }

  get guest(): SshGuestShell {
    return this.shell;
  }

  /**
   * `systemctl reboot` in the guest: libvirt resets the same domain (same
   * QEMU, same port forward, same lab wire); resolves once SSH works again
   * (same pinned host key) with a new boot id.
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
    const bootIdAfter = (await this.shell.check('cat /proc/sys/kernel/random/boot_id')).stdout.trim();
    if (bootIdAfter === bootIdBefore) throw new Error(`the guest did not reboot: boot id is still ${bootIdBefore}`);
    return { bootIdBefore, bootIdAfter, durationMs: Date.now() - started };
  }

  static async start(session: RunSession, options: VagrantMachineOptions): Promise<VagrantMachine> {
    const started = Date.now();
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

    const wire = await LabWireHost.attach(session, vm.labWireSocket, vm.guestAddress);
    return new VagrantMachine(image, vm, guest, wire, target, session, log, Date.now() - started);
  }

  get balancerAddress(): string {
    return this.wire.balancerAddress;
  }

  /** A FULLNAT balancer on 127.0.0.1 relaying to a backend port on the guest; close it when done. */
  startBalancer(options: GuestBalancerOptions): Promise<FullNatBalancer> {
    return startGuestBalancer(this.wire, options);
  }
}
