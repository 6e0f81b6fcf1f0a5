import { join } from 'node:path';
import { ensureDebianImage } from '../images/debian/build-debian-image.ts';
import type { RunSession } from '../lifecycle/run-session.ts';
import type { FullNatBalancer } from '../net/index.ts';
import { CommandLog } from '../remote/command-log.ts';
import { HostKeyPin } from '../remote/host-key-pin.ts';
import { SshGuestShell, type SshConnectOptions, type SshTarget } from '../remote/ssh-guest-shell.ts';
import { generateSshKeyPair, writeSshKeyPair } from '../remote/ssh-key-pair.ts';
import type { ConsoleLog } from '../vm/console-log.ts';
import { FullOsVm, type BootFirmware, type FullOsVmOptions } from '../vm/full-os-vm.ts';
import { configureGuestPackageProxy } from '../provision/guest-proxy-config.ts';
import { startPackageProxy } from '../provision/package-proxy.ts';
import type { GuestForward } from '../vm/qemu/qemu-args.ts';
import { prepareDiskImage, REFUSED_LOGIN_GRACE_MS } from './disk-image-provisioning.ts';
import { configureLabInterface, findInterfaceByMac } from './lab-nic.ts';
import { LabWireHost } from './lab-wire-host.ts';
import {
  startGuestBalancer,
  type FullOsMachine,
  type GuestBalancerOptions,
  type DiskImageTarget,
  type LabImageTarget,
  type RebootEvidence,
  NoRootAccessError,
} from './machine.ts';

export type { RebootEvidence } from './machine.ts';

/**
 * The QEMU provider: the harness starts QEMU itself (harness/vm/full-os-vm.ts)
 * on a per-run overlay of the target's disk, reaches the guest over SSH, and
 * attaches its host to the lab wire, from which FULLNAT balancers reach the
 * guest's backends.
 *
 *   client ─▶ 127.0.0.1 balancer ─▶ NetworkHost 192.0.2.2 ─▶ wire ─▶ guest lab NIC 192.0.2.10
 *   harness ─ssh─▶ 127.0.0.1:PORT ─▶ QEMU user-mode NIC (restrict=on) ─▶ sshd
 *
 * - a lab image: direct kernel boot, root login with the run's key via fw_cfg;
 * - a disk image: its own boot loader through SeaBIOS/OVMF, a cloud-init seed
 *   (or the user's login), commands through sudo, the lab NIC found by MAC and
 *   addressed by the harness after every boot, packages through the run's proxy
 *   (disk-image-provisioning.ts).
 */
export interface QemuMachineOptions {
  /** A lab image by name (`debian-12`); the same as `target: { kind: 'lab-image', image }`. */
  image?: string;
  target?: LabImageTarget | DiskImageTarget;
  /** Boot (and reboot) to a working SSH login; default 180 s for a lab image, 600 s for a first boot with cloud-init. */
  bootTimeoutMs?: number;
  /** vCPUs (default 2; fewer when several guests share the host: harness/runner/guest-cpus.ts). */
  cpus?: number;
  log?: (line: string) => void;
  /**
   * A lab image a caller built itself instead of the catalog's (the kernel-upgrade case's
   * Debian 12 on bookworm main's kernel, harness/kernel-upgrade/main-kernel-image.ts); booted
   * like any lab image, under its own name.
   */
  builtImage?: BuiltLabImage;
  /**
   * Lab images have no package network: their toolchain is baked in. These repository hosts
   * become reachable through the run's package proxy (a guest forward, the NIC stays
   * restrict=on) and apt is told so after login — for a procedure that installs packages
   * (a kernel upgrade). Disk images always get the proxy (their target's repositoryHosts).
   */
  packageHosts?: readonly string[];
}

/** A lab image's files, as ensureDebianImage returns them. */
export interface BuiltLabImage {
  name: string;
  disk: string;
  kernel: string;
  initrd: string;
  /** `uname -r` of the kernel it boots directly. */
  kernelRelease: string;
}

/** What a foreign image's first boot may take under TCG on a shared 2-core host (cloud-init's python is slow: LAB-NOTES ~127 s quiet). */
const FIRST_BOOT_TIMEOUT_MS = 600_000;
const LAB_IMAGE_BOOT_TIMEOUT_MS = 180_000;
/** The lab images' ifupdown names the second NIC eth1 (net.ifnames=0 on their command line). */
const LAB_IMAGE_INTERFACE = 'eth1';

export class QemuMachine implements FullOsMachine {
  readonly provider = 'qemu';
  /** The lab's images and cloud images alike boot with IPv6 on: only the lab address comes and goes. */
  readonly ipv6OffByDefault = false;

  private constructor(
    readonly name: string,
    readonly origin: FullOsMachine['origin'],
    readonly kernelRelease: string,
    readonly vm: FullOsVm,
    private shell: SshGuestShell,
    private readonly target: SshTarget,
    /** The harness's side of the lab wire. */
    readonly wire: LabWireHost,
    readonly labInterface: string,
    /** From QEMU's start to the first working SSH login. */
    readonly bootMs: number,
    private readonly options: QemuMachineOptions,
  ) {}

  static async start(session: RunSession, options: QemuMachineOptions): Promise<QemuMachine> {
    const imageName = options.builtImage?.name ?? options.image;
    const target = options.target ?? (imageName ? { kind: 'lab-image' as const, image: imageName } : undefined);
    if (!target) throw new Error('QemuMachine.start: name an image or a target');
    const log = options.log ?? (() => {});
    const keyDir = await session.subdir('ssh');

    let vmOptions: FullOsVmOptions;
    let login: { user: string; privateKey: string };
    let name: string;
    let labKernel: string | undefined;
    let loginRefusal: SshConnectOptions['loginRefusal'];
    let proxyToConfigure: string | undefined;
    if (target.kind === 'lab-image') {
      const built = options.builtImage;
      const image = built && built.name === target.image ? built : await ensureDebianImage(target.image, log);
      const key = generateSshKeyPair(`toa-lab ${target.image} run key`);
      const keyFiles = await writeSshKeyPair(keyDir, key);
      log(`${image.name}: booting (kernel ${image.kernelRelease}), key ${keyFiles.privateKey}`);
      const guestForwards: GuestForward[] = [];
      if (options.packageHosts?.length) {
        const proxy = await startPackageProxy(session, options.packageHosts);
        log(`${image.name}: packages from ${options.packageHosts.join(', ')} through ${proxy.guestUrl} (log ${proxy.log})`);
        guestForwards.push(proxy.forward);
        proxyToConfigure = proxy.guestUrl;
      }
      const files = { kind: 'lab-image' as const, name: image.name, disk: image.disk, kernel: image.kernel, initrd: image.initrd };
      vmOptions = { image: files, session, authorizedKey: key.publicLine, log, ...(guestForwards.length && { guestForwards }) };
      login = { user: 'root', privateKey: key.privatePem };
      name = image.name;
      labKernel = image.kernelRelease;
    } else {
      const prepared = await prepareDiskImage(session, target, keyDir, log);
      vmOptions = { image: prepared.image, session, guestForwards: prepared.guestForwards, log };
      login = prepared.login;
      name = target.name;
      loginRefusal = { graceMs: REFUSED_LOGIN_GRACE_MS, advice: prepared.refusedLoginAdvice };
      proxyToConfigure = prepared.proxyToConfigure;
    }
    const vm = await FullOsVm.start({ ...vmOptions, ...(options.cpus && { cpus: options.cpus }) });
    session.defer(() => vm.stop());
    const ssh: SshTarget = {
      host: '127.0.0.1',
      port: vm.sshPort,
      username: login.user,
      privateKey: login.privateKey,
      hostKeys: new HostKeyPin(`[127.0.0.1]:${vm.sshPort}`, join(keyDir, 'known_hosts')),
      log: new CommandLog(join(vm.dir, 'commands.jsonl')),
    };
    log(`${name}: ssh on 127.0.0.1:${vm.sshPort} as ${login.user}`);
    let machine: QemuMachine | undefined;
    const timeoutMs = options.bootTimeoutMs ?? (target.kind === 'lab-image' ? LAB_IMAGE_BOOT_TIMEOUT_MS : FIRST_BOOT_TIMEOUT_MS);
    const shell = await connectAfterBoot(vm, ssh, timeoutMs, log, loginRefusal);
    // Whichever connection is current when the session closes (reboots replace it).
    session.defer(() => (machine ?? shell).close());
    const bootMs = Date.now() - vm.startedAt;
    log(`${name}: ssh login works ${(bootMs / 1000).toFixed(1)} s after QEMU started (host key ${ssh.hostKeys.fingerprint})`);

    if (shell.usesSudo) await assertPasswordlessSudo(shell, login.user);
    // No seed told the guest where its packages come from (its own login, or a lab image given a proxy): the harness does.
    if (proxyToConfigure) await configureGuestPackageProxy(shell, proxyToConfigure);
    const labInterface = target.kind === 'lab-image' ? LAB_IMAGE_INTERFACE : await findInterfaceByMac(shell, vm.labWireMac);
    if (target.kind !== 'lab-image') await configureLabInterface(shell, labInterface, vm.guestAddress);
    const kernelRelease = labKernel ?? (await shell.check('uname -r')).stdout.trim();
    const wire = await LabWireHost.attach(session, vm.labWireSocket, vm.guestAddress);
    machine = new QemuMachine(name, target.kind === 'lab-image' ? 'lab' : 'foreign', kernelRelease, vm, shell, ssh, wire, labInterface, bootMs, {
      ...options,
      target,
    });
    return machine;
  }

  close(): void {
    this.shell.close();
  }

  async stop(): Promise<void> {
    this.shell.close();
    await this.vm.stop();
  }

  /** The guest's shell; a new connection after each reboot. */
  get guest(): SshGuestShell {
    return this.shell;
  }

  get console(): ConsoleLog {
    return this.vm.console;
  }

  get balancerAddress(): string {
    return this.wire.balancerAddress;
  }

  /**
   * `systemctl reboot`, as an operator would; resolves once the guest is back
   * with a working SSH login (same host key) and a new boot id. A lab image's
   * kernel says "reboot: Restarting system" on the console it was told to use; a
   * foreign image's console may say nothing, so its new boot id is waited for instead.
   */
  async reboot(): Promise<RebootEvidence> {
    const started = Date.now();
    const log = this.options.log ?? (() => {});
    const timeoutMs = this.options.bootTimeoutMs ?? LAB_IMAGE_BOOT_TIMEOUT_MS * 2;
    const bootIdBefore = await this.bootId();
    const request = () => this.shell.run('systemctl reboot', { timeoutMs: 30_000 });
    if (this.origin === 'lab') {
      // The request returns (or the connection drops) while the guest shuts down: either is fine.
      await this.vm.reboot(request);
      this.shell.close();
      this.shell = await connectAfterBoot(this.vm, this.target, timeoutMs, log);
    } else {
      await request();
      this.shell.close();
      this.shell = await this.reconnectToNewBoot(bootIdBefore, Date.now() + timeoutMs);
      await configureLabInterface(this.shell, this.labInterface, this.vm.guestAddress);
    }
    const bootIdAfter = await this.bootId();
    if (bootIdAfter === bootIdBefore) throw new Error(`the guest did not reboot: boot id is still ${bootIdBefore}`);
    return { bootIdBefore, bootIdAfter, durationMs: Date.now() - started };
  }

  /**
   * `systemctl reboot`, with the harness as firmware: `firmware` reads the guest's
   * disk once QEMU has stopped and picks the kernel (FullOsVm.powerCycle). The guest
   * comes back in a new QEMU on the same disk, so a new machine is returned — new VM,
   * SSH connection and lab wire; this one is done. Same key, same pinned host key.
   */
  async rebootInto(session: RunSession, firmware: BootFirmware): Promise<{ lab: QemuMachine; evidence: RebootEvidence }> {
    const started = Date.now();
    const log = this.options.log ?? (() => {});
    const bootIdBefore = await this.bootId();
    const vm = await this.vm.powerCycle(() => this.shell.run('systemctl reboot', { timeoutMs: 30_000 }), firmware);
    session.defer(() => vm.stop());
    this.shell.close();
    this.wire.close();
    const shell = await connectAfterBoot(vm, this.target, this.options.bootTimeoutMs ?? LAB_IMAGE_BOOT_TIMEOUT_MS, log);
    session.defer(() => shell.close());
    const wire = await LabWireHost.attach(session, vm.labWireSocket, vm.guestAddress);
    const kernelRelease = (await shell.check('uname -r')).stdout.trim();
    const lab = new QemuMachine(this.name, this.origin, kernelRelease, vm, shell, this.target, wire, this.labInterface, Date.now() - vm.startedAt, this.options);
    const bootIdAfter = (await shell.check('cat /proc/sys/kernel/random/boot_id')).stdout.trim();
    if (bootIdAfter === bootIdBefore) throw new Error(`the guest did not reboot: boot id is still ${bootIdBefore}`);
    return { lab, evidence: { bootIdBefore, bootIdAfter, durationMs: Date.now() - started } };
  }

  /** A FULLNAT balancer on 127.0.0.1 relaying to a backend port on the guest; close it when done. */
  startBalancer(options: GuestBalancerOptions): Promise<FullNatBalancer> {
    return startGuestBalancer(this.wire, options);
  }

  private async bootId(shell: SshGuestShell = this.shell): Promise<string> {
    return (await shell.check('cat /proc/sys/kernel/random/boot_id')).stdout.trim();
  }

  /** Logs in until the login lands in a boot other than `bootIdBefore` (sshd may still answer while the old system shuts down). */
  private async reconnectToNewBoot(bootIdBefore: string, deadline: number): Promise<SshGuestShell> {
    const log = this.options.log ?? (() => {});
    for (;;) {
      const shell = await connectAfterBoot(this.vm, this.target, Math.max(5_000, deadline - Date.now()), log);
      const now = await shell.run('cat /proc/sys/kernel/random/boot_id');
      if (now.exitCode === 0 && now.stdout.trim() !== bootIdBefore) return shell;
      shell.close();
      if (Date.now() > deadline) throw new Error(`the guest did not reboot within the boot timeout: boot id is still ${bootIdBefore}`);
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
}

/**
 * The Huawei guide's prerequisite: "users other than root must have sudo permissions".
 * `true` cannot fail, so a failure here is sudo's own (a password wanted, no sudoers entry).
 */
async function assertPasswordlessSudo(shell: SshGuestShell, user: string): Promise<void> {
  const probe = await shell.run('true', { timeoutMs: 30_000 });
  if (probe.exitCode !== 0) {
    throw new NoRootAccessError(user, probe.stderr.trim() || `exit ${probe.exitCode}`);
  }
}

/** SSH readiness bounded by the boot timeout; a failure carries the console's last lines. */
async function connectAfterBoot(
  vm: FullOsVm,
  target: SshTarget,
  timeoutMs: number,
  log: (line: string) => void,
  loginRefusal?: SshConnectOptions['loginRefusal'],
): Promise<SshGuestShell> {
  try {
    return await SshGuestShell.connect(target, { timeoutMs, givenUp: () => vm.exitReason(), onProgress: log, ...(loginRefusal && { loginRefusal }) });
  } catch (error) {
    await vm.console.refresh();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nlast console lines (${vm.console.path}):\n${vm.console.tail(20)}`);
  }
}
