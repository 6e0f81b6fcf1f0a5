/**
 * The shape of one OS row: everything the vendor guides say differs between
 * distributions, carried as data so that the renderers never branch on an OS name.
 *
 * Sources: shared/seeds/huawei-elb-configuring-the-toa-module.txt (toolchain, TOA
 * build/load/autoload) and shared/seeds/ucloud-clb-message-forwarding-mode-service-node.txt
 * (VIP on loopback).
 */

import type { DebianRelease } from '../kernels/debian-suite.ts';

export type PackageManager = 'yum' | 'dnf' | 'apt' | 'zypper';

/** What starts things at boot; decides which autoload and restart commands exist. */
export type InitSystem = 'systemd' | 'upstart' | 'sysvinit';

/**
 * How TOA gets into the kernel:
 * - `out-of-tree`: build toa.ko against the running kernel's headers (Huawei, kernel ≥ 3.0).
 * - `patched-kernel`: rebuild the LVS 2.6.32 kernel tree with TOA as a module (Huawei, CentOS 6.8).
 */
export type ToaInstallPath = 'out-of-tree' | 'patched-kernel';

/**
 * How the module is loaded again after a reboot:
 * - `sysconfig-modules`: the Huawei guide's /etc/sysconfig/modules/toa.modules script (RHEL).
 * - `modules-load-d`: toa.ko in /lib/modules/$(uname -r)/extra, depmod, /etc/modules-load.d/toa.conf (systemd).
 * - `startup-script`: the guide's "customized startup script" — its insmod lines appended to `path`.
 * `dkms` is not a profile default but a render option (see ProcedureOptions.autoload).
 */
export type AutoloadMethod =
  | { kind: 'sysconfig-modules' }
  | { kind: 'modules-load-d' }
  | { kind: 'startup-script'; path: string };

export type VipMethodName = 'ifcfg' | 'ifcfg-network-scripts' | 'interfaces-d' | 'netplan' | 'ip-addr';

/**
 * How the VIP goes on loopback (UCloud guide, one row per OS):
 * - `ifcfg`: /etc/sysconfig/network-scripts/ifcfg-lo:N + `ifup lo:N` ("CentOS 7 and below").
 * - `ifcfg-network-scripts`: the same after `yum install network-scripts` (CentOS 8, Rocky 8.5).
 * - `interfaces-d`: a stanza per VIP in `file` + `/etc/init.d/networking restart` (Ubuntu 16.04, Debian 10).
 *   The file name differs between the guide's rows: Ubuntu's cloud images source only `*.cfg`.
 * - `netplan`: /etc/netplan/lo-cloud-init.yaml + `netplan apply` (Ubuntu 18.04/20.04).
 * - `ip-addr`: not in the guide (it has no SUSE row): `ip addr add VIP/32 dev lo label lo:N`,
 *   runtime only — the lab's stand-in so the SUSE rows still get a VIP.
 * `userDataSudo`: the guide's UserData prefixes its commands with `sudo` on the Ubuntu rows
 * and not on the Debian row; kept per row so the rendered UserData is the row's own.
 */
export type VipMethod =
  | { method: 'ifcfg' }
  | { method: 'ifcfg-network-scripts' }
  | { method: 'interfaces-d'; file: string; userDataSudo: boolean }
  | { method: 'netplan'; file: string; userDataSudo: boolean }
  | { method: 'ip-addr' };

/** The guides' verification server: `python -m SimpleHTTPServer PORT` or `python3 -m http.server PORT`. */
export interface BackendPython {
  /** The command as the guide writes it, without the port. */
  command: 'python -m SimpleHTTPServer' | 'python3 -m http.server';
  /** The package that provides it, installed when the command is missing. */
  package: string;
}

/** The releases the lab builds whole systems of (harness/kernels/debian-suite.ts). */
export type OfflineDebianSuite = DebianRelease;

/**
 * How a user's disk is booted and entered, when detection and the cloud-init seed are
 * not what they want (toa-lab.config.json, per source):
 * - `login`: their own user (with passwordless sudo) and key instead of the seed's
 *   per-run user — an image without cloud-init, a Vagrant box's disk;
 * - `firmware`: BIOS or UEFI, when the partition table does not tell;
 * - `vipForm: "cloud-init"`: the UCloud guide's UserData form — the row's VIP script is
 *   handed to cloud-init in the seed and runs at first boot; the procedure then checks
 *   the VIPs instead of configuring them. `vipMethod` picks among the row's methods
 *   (the UserData is written before the guest can be asked which tools it has).
 */
export interface DiskBootSettings {
  login?: { user: string; privateKeyFile: string };
  firmware?: 'bios' | 'uefi';
  vipForm?: 'files' | 'cloud-init';
  vipMethod?: VipMethodName;
}

/** Vagrant's provider names, as a box's metadata and Vagrant Cloud write them. */
export type VagrantProvider = 'libvirt' | 'virtualbox' | 'vmware_desktop' | 'hyperv' | 'parallels';

/** Which providers a Vagrant box is published for, and how that is known (harness/os/vagrant-boxes.ts). */
export interface BoxProviders {
  published: readonly VagrantProvider[];
  /** Where the list comes from: a publisher's known practice (not fetched here: no internet), or the user's config. */
  basis: string;
}

/** Where a bootable image for the row comes from. A profile lists alternatives, preferred first. */
export type ImageSource =
  /** `providers` absent: not known which providers the box is published for. */
  | { kind: 'vagrant-box'; box: string; version?: string; providers?: BoxProviders }
  /** `sha256: null` means: not verified from this (offline) machine — never a guessed value. */
  | ({ kind: 'cloud-image'; url: string; sha256: string | null } & DiskBootSettings)
  | ({ kind: 'local-image'; path: string; sha256?: string | null } & DiskBootSettings)
  | { kind: 'offline-debian'; suite: OfflineDebianSuite }
  /** No public download exists (e.g. SLES needs a subscription); a user config must supply one. */
  | { kind: 'user-supplied'; reason: string };

export interface Toolchain {
  /** Installed with the profile's package manager, named as the Huawei guide writes them. */
  packages: readonly string[];
  /**
   * The kernel development package, as the guide writes it (`kernel-devel-$(uname -r)`,
   * `linux-headers-$(uname -r)`, `kernel-default-devel`); `$(uname -r)` is the running release.
   * Null when the install path builds the whole kernel instead (patched-kernel).
   */
  kernelDevel: string | null;
}

/**
 * Where a row's packages come from instead of the repositories its image names: the
 * releases of several rows are end-of-life and their mirrors are gone (CentOS 6 and 8 moved
 * to vault.centos.org, Debian 8 to archive.debian.org). A step before the toolchain points
 * the guest's package manager at `url`, in its family's form (steps/repositories.ts), and
 * the run's package proxy allows its host.
 * - `mirror`: a live mirror of the release's repositories.
 * - `archive`: the frozen archive of an end-of-life release; its metadata is past its
 *   expiry date, which the apt form accepts (`Acquire::Check-Valid-Until "false"`).
 * What `url` replaces, per package manager:
 * - yum/dnf: `<scheme>://<host>/<dir>/$releasever` of each commented-out `baseurl=` in
 *   /etc/yum.repos.d (`mirrorlist=` commented out): `http://vault.centos.org/6.8`.
 * - apt: the URI of every source entry (one-line and deb822): `http://archive.debian.org/debian`;
 *   entries of a security suite (`<suite>-security`, and jessie's `jessie/updates`) take `securityUrl`.
 * - zypper: `<scheme>://<host>` of every `baseurl=` in /etc/zypp/repos.d.
 */
export interface RepositoryMirror {
  kind: 'mirror' | 'archive';
  /** http(s), no trailing slash. */
  url: string;
  /** apt only: where the security suites are, when not under `url` (Debian: `<host>/debian-security`). */
  securityUrl?: string;
  /** Where the default comes from, or why it is this one: shown by `images list`. */
  note?: string;
}

/** Which guide rows a profile comes from, so a report can cite them. */
export type GuideRow = 'huawei' | 'ucloud' | 'lab';

export interface OsProfile {
  /** Stable id, used in the matrix, in golden files and in user configs: `centos-6.8`, `debian-12`. */
  id: string;
  displayName: string;
  /** As the guides write it, e.g. `3.10.0`; the lab's Debian rows give the suite's series (`6.1`). */
  kernelSeries: string;
  init: InitSystem;
  packageManager: PackageManager;
  toolchain: Toolchain;
  toaInstall: ToaInstallPath;
  autoload: AutoloadMethod;
  /** Supported VIP methods; the first is the default. */
  vip: readonly [VipMethod, ...VipMethod[]];
  python: BackendPython;
  images: readonly ImageSource[];
  /** Where the row's packages come from when not from the image's own repositories (end-of-life releases). */
  repositories?: RepositoryMirror;
  guides: readonly GuideRow[];
  /** Where the profile departs from, or fills a gap in, the guides — shown in reports. */
  notes?: readonly string[];
}
