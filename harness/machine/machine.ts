import type { DiskFormat } from '../images/disk-format.ts';
import type { BalancerToaSettings, FullNatBalancer, SimulatedClient } from '../net/index.ts';
import type { GuestShell } from '../remote/guest-shell.ts';
import type { SshGuestShell } from '../remote/ssh-guest-shell.ts';
import type { ConsoleLog } from '../vm/console-log.ts';
import type { LabWireHost } from './lab-wire-host.ts';

/**
 * The one contract for "a whole machine the lab can boot and drive", whatever
 * boots it (QEMU started by the harness, Vagrant with libvirt): a console, a
 * root shell, the lab wire, reboot, stop. The guides' procedure, the traffic
 * checks and the data-path lab are written against this and nothing else, so a
 * new provider is one file in this folder and one line in providers.ts
 * (syzkaller's vm/vmimpl: Register + Instance).
 *
 * What to boot is a MachineTarget (vmtest's one `Target`): one of the lab's own
 * images, or any disk a user has.
 */
export type MachineTarget = LabImageTarget | DiskImageTarget | VagrantBoxTarget;

/** One of the lab's own Debian images, built here from Debian's packages (`debian-12`). */
export interface LabImageTarget {
  kind: 'lab-image';
  image: string;
}

/** A user's disk with its own boot loader: a cloud image, a vendor's qcow2, a local raw disk. */
export interface DiskImageTarget {
  kind: 'disk-image';
  /** The cell's name (the file's base name unless the config gives one). */
  name: string;
  /** The guide row whose toa-lab.config.json entry this disk is; unset for `--image-file`. */
  configRow?: string;
  /** An absolute path; never written to (each run boots an overlay). */
  file: string;
  /** Default: detected by `qemu-img info`. */
  format?: DiskFormat;
  /** The file's expected SHA-256 (from the config): checked before anything boots. */
  sha256?: string;
  /** Where `file` comes from when it is not on the machine yet: a cloud image, downloaded once into the cache. */
  download?: { url: string; sha256: string | null };
  /** Default: detected from the partition table (an EFI system partition and no BIOS boot partition: UEFI). */
  firmware?: 'bios' | 'uefi';
  /** The user's own SSH login instead of a cloud-init seed (a Vagrant box's key, an image with a known user). */
  login?: UserLogin;
  /** Repository hosts the guest may reach through the package proxy (default: Debian's archive). */
  repositoryHosts?: readonly string[];
  /**
   * The UCloud guide's UserData form of the VIP: `script` goes into the run's cloud-init
   * seed and runs once at first boot; `row` and `method` say which guide row's VIP it is
   * (the procedure checks the VIPs instead of configuring them).
   */
  vipUserData?: { row: string; method: string; script: string };
}

/**
 * A Vagrant box in the standard form (a .box file: metadata.json, box.img, its own boot
 * loader inside), logged into as its user with its key — by default Vagrant's own
 * insecure key, as `vagrant up` does.
 */
export interface VagrantBoxTarget {
  kind: 'vagrant-box';
  name: string;
  /** The .box file (never changed: vagrant copies it into its box store). */
  file: string;
  login: UserLogin;
}

export interface UserLogin {
  user: string;
  privateKeyFile: string;
}

export interface RebootEvidence {
  bootIdBefore: string;
  bootIdAfter: string;
  /** From the reboot request to a working SSH login. */
  durationMs: number;
}

/** What the guides' steps and the traffic checks need: a root shell and a FULLNAT balancer in front of one of the guest's ports. */
export interface GuestLab {
  /** SSH, as root or through sudo: the steps also push files and folders. */
  readonly guest: SshGuestShell;
  /** The harness's side of the lab wire (its host, frame tap, balancers). */
  readonly wire: LabWireHost;
  startBalancer(options: GuestBalancerOptions): Promise<FullNatBalancer>;
}

/** A lab that can also reboot its guest (the persistence steps). */
export interface RebootableGuestLab extends GuestLab {
  reboot(): Promise<RebootEvidence>;
}

/**
 * Any booted machine, from any provider: the micro-VM (serial agent), the
 * patched-kernel disk (serial agent, modprobe), a whole OS (SSH). The data-path
 * lab (harness/lab/machine-data-path-lab.ts) needs nothing more.
 */
export interface Machine {
  /** The cell's name: the image's. */
  readonly name: string;
  /** The registry name of the provider that booted it. */
  readonly provider: string;
  /** Built here by the lab (its images carry the lab's parts) or brought by the user (nothing baked in). */
  readonly origin: 'lab' | 'foreign';
  /** `uname -r` in the guest, as booted. */
  readonly kernelRelease: string;
  /** The guest's serial console, kept as the run's evidence. */
  readonly console: ConsoleLog;
  /** A root shell in the guest. */
  readonly guest: GuestShell;
  /** The harness's side of the lab wire. */
  readonly wire: LabWireHost;
  /** The guest's interface on the lab wire (found by its MAC on a foreign image: distros name NICs their own way). */
  readonly labInterface: string;
  /**
   * True when the guest booted with IPv6 off on the lab NIC (to keep the wire quiet) and it
   * goes off again after an IPv6 scenario; false when the OS keeps it on and only the lab
   * address is taken away.
   */
  readonly ipv6OffByDefault: boolean;
  /** From the provider's start to a working shell. */
  readonly bootMs: number;
  /** Stops the machine (QEMU ends; a Vagrant domain is destroyed). The session's close does it too. */
  stop(): Promise<void>;
}

/** A booted whole OS: SSH (files and folders too), and an operator's reboot. */
export interface FullOsMachine extends Machine, RebootableGuestLab {
  readonly guest: SshGuestShell;
}

export interface GuestBalancerOptions {
  port: number;
  toa: BalancerToaSettings | false;
  chooseClient?: (connectionIndex: number) => SimulatedClient;
}

/** A FULLNAT balancer on 127.0.0.1 relaying to the guest's `port` over the lab wire; close it when done. */
export function startGuestBalancer(wire: LabWireHost, options: GuestBalancerOptions): Promise<FullNatBalancer> {
  return wire.startBalancer(options, options.port);
}

/**
 * The login works but cannot become root: the Huawei guide's prerequisite ("users other
 * than root must have sudo permissions") does not hold. The image booted; it cannot be driven.
 */
export class NoRootAccessError extends Error {
  override readonly name = 'NoRootAccessError';
  constructor(
    readonly user: string,
    /** sudo's own words (or the shell's, when there is no sudo). */
    readonly words: string,
  ) {
    super(`${user} logs in but cannot become root with sudo -n (the guide needs sudo permissions for users other than root): ${words}`);
  }
}
