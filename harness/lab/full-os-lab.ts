import { join } from 'node:path';
import { ensureDebianImage, type DebianImage } from '../images/debian/build-debian-image.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import type { FullNatBalancer } from '../net/index.ts';
import { CommandLog } from '../remote/command-log.ts';
import { HostKeyPin } from '../remote/host-key-pin.ts';
import { SshGuestShell, type SshTarget } from '../remote/ssh-guest-shell.ts';
import { generateSshKeyPair, writeSshKeyPair } from '../remote/ssh-key-pair.ts';
import { FullOsVm, type BootFirmware } from '../vm/full-os-vm.ts';
import { startGuestBalancer, type GuestBalancerOptions, type RebootableGuestLab } from './guest-lab.ts';
import { LabWireHost } from './lab-wire-host.ts';

/**
 * The full-OS lab: one cached Debian image booted under QEMU (overlay disk),
 * reached over SSH with the run's own key, and the harness's host on the lab
 * wire, from which FULLNAT balancers reach the guest's backends.
 *
 *   client ─▶ 127.0.0.1 balancer ─▶ NetworkHost 192.0.2.2 ─▶ wire ─▶ guest eth1 192.0.2.10
 *   harness ─ssh─▶ 127.0.0.1:PORT ─▶ QEMU user-mode eth0 ─▶ sshd
 */
export interface FullOsLabOptions {
  /** `debian-11`, `debian-12` or `debian-13`. */
  image: string;
  /** Boot (and reboot) to a working SSH login; TCG default 180 s. */
  bootTimeoutMs?: number;
  /** vCPUs (default 2; fewer when several guests share the host: harness/runner/guest-cpus.ts). */
  cpus?: number;
  log?: (line: string) => void;
}

export interface RebootEvidence {
  bootIdBefore: string;
  bootIdAfter: string;
  /** From the reboot request to a working SSH login. */
  durationMs: number;
}

export class FullOsLab implements RebootableGuestLab {
  private constructor(
    readonly image: DebianImage,
    readonly vm: FullOsVm,
    private shell: SshGuestShell,
    private readonly target: SshTarget,
    /** The harness's side of the lab wire. */
    readonly wire: LabWireHost,
    /** From QEMU's start to the first working SSH login. */
    readonly bootMs: number,
    private readonly options: FullOsLabOptions,
  ) {}

  static async start(session: RunSession, options: FullOsLabOptions): Promise<FullOsLab> {
    const log = options.log ?? (() => {});
    const image = await ensureDebianImage(options.image, log);
    const keyDir = await session.subdir('ssh');
    const key = generateSshKeyPair(`toa-lab ${options.image} run key`);
    const keyFiles = await writeSshKeyPair(keyDir, key);

    const vm = await FullOsVm.start({ image, session, authorizedKey: key.publicLine, log, ...(options.cpus && { cpus: options.cpus }) });
    session.defer(() => vm.stop());
    const target: SshTarget = {
      host: '127.0.0.1',
      port: vm.sshPort,
      username: 'root',
      privateKey: key.privatePem,
      hostKeys: new HostKeyPin(`[127.0.0.1]:${vm.sshPort}`, join(keyDir, 'known_hosts')),
      log: new CommandLog(join(vm.dir, 'commands.jsonl')),
    };
    log(`${image.name}: booting (kernel ${image.kernelRelease}); ssh on 127.0.0.1:${vm.sshPort}, key ${keyFiles.privateKey}`);
    let lab: FullOsLab | undefined;
    const shell = await connectAfterBoot(vm, target, options.bootTimeoutMs ?? 180_000, log);
    // Whichever connection is current when the session closes (reboots replace it).
    session.defer(() => (lab ?? shell).close());
    const bootMs = Date.now() - vm.startedAt;
    log(`${image.name}: ssh login works ${(bootMs / 1000).toFixed(1)} s after QEMU started (host key ${target.hostKeys.fingerprint})`);

    const wire = await LabWireHost.attach(session, vm.labWireSocket, vm.guestAddress);
    lab = new FullOsLab(image, vm, shell, target, wire, bootMs, options);
    return lab;
  }

  close(): void {
    this.shell.close();
  }

  /** The guest's shell; a new connection after each reboot. */
  get guest(): SshGuestShell {
    return this.shell;
  }

  get balancerAddress(): string {
    return this.wire.balancerAddress;
  }

  /**
   * `systemctl reboot`, as an operator would; resolves once the guest is back
   * with a working SSH login (same host key) and a new boot id.
   */
  async reboot(): Promise<RebootEvidence> {
    const started = Date.now();
    const bootIdBefore = (await this.shell.check('cat /proc/sys/kernel/random/boot_id')).stdout.trim();
    // The request returns (or the connection drops) while the guest shuts down: either is fine.
    await this.vm.reboot(() => this.shell.run('systemctl reboot', { timeoutMs: 30_000 }));
    this.shell.close();
    this.shell = await connectAfterBoot(this.vm, this.target, this.options.bootTimeoutMs ?? 180_000, this.options.log ?? (() => {}));
    const bootIdAfter = (await this.shell.check('cat /proc/sys/kernel/random/boot_id')).stdout.trim();
    if (bootIdAfter === bootIdBefore) throw new Error(`the guest did not reboot: boot id is still ${bootIdBefore}`);
    return { bootIdBefore, bootIdAfter, durationMs: Date.now() - started };
  }

  /**
   * `systemctl reboot`, with the harness as firmware: `firmware` reads the guest's
   * disk once QEMU has stopped and picks the kernel (FullOsVm.powerCycle). The guest
   * comes back in a new QEMU on the same disk, so a new lab is returned — new VM,
   * SSH connection and lab wire; this one is done. Same key, same pinned host key.
   */
  async rebootInto(session: RunSession, firmware: BootFirmware): Promise<{ lab: FullOsLab; evidence: RebootEvidence }> {
    const started = Date.now();
    const log = this.options.log ?? (() => {});
    const bootIdBefore = (await this.shell.check('cat /proc/sys/kernel/random/boot_id')).stdout.trim();
    const vm = await this.vm.powerCycle(() => this.shell.run('systemctl reboot', { timeoutMs: 30_000 }), firmware);
    session.defer(() => vm.stop());
    this.shell.close();
    this.wire.close();
    const shell = await connectAfterBoot(vm, this.target, this.options.bootTimeoutMs ?? 180_000, log);
    session.defer(() => shell.close());
    const wire = await LabWireHost.attach(session, vm.labWireSocket, vm.guestAddress);
    const lab = new FullOsLab(this.image, vm, shell, this.target, wire, Date.now() - vm.startedAt, this.options);
    const bootIdAfter = (await shell.check('cat /proc/sys/kernel/random/boot_id')).stdout.trim();
    if (bootIdAfter === bootIdBefore) throw new Error(`the guest did not reboot: boot id is still ${bootIdBefore}`);
    return { lab, evidence: { bootIdBefore, bootIdAfter, durationMs: Date.now() - started } };
  }

  /** A FULLNAT balancer on 127.0.0.1 relaying to a backend port on the guest; close it when done. */
  startBalancer(options: GuestBalancerOptions): Promise<FullNatBalancer> {
    return startGuestBalancer(this.wire, options);
  }
}

/** SSH readiness bounded by the boot timeout; a failure carries the console's last lines. */
async function connectAfterBoot(
  vm: FullOsVm,
  target: SshTarget,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<SshGuestShell> {
  try {
    return await SshGuestShell.connect(target, { timeoutMs, givenUp: () => vm.exitReason(), onProgress: log });
  } catch (error) {
    await vm.console.refresh();
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\nlast console lines (${vm.console.path}):\n${vm.console.tail(20)}`,
    );
  }
}
