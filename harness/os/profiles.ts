import type { BackendPython, OsProfile, RepositoryMirror, Toolchain, VipMethod } from './profile.ts';
import { BOX_PROVIDERS } from './vagrant-boxes.ts';

/**
 * One row per OS in the guides, plus the lab's offline Debian images.
 *
 * - Toolchain package names are the Huawei guide's, per family ("CentOS", "Ubuntu and
 *   Debian", "SUSE"); rows only the UCloud guide lists (CentOS 8, Rocky 8.5, Debian 10)
 *   take their family's names.
 * - VIP methods are the UCloud guide's rows; rows it does not list take their family's
 *   method (CentOS 6.8 → "CentOS 7 and below", Debian 8.2 → Debian's interfaces.d) or,
 *   for SUSE, which it does not cover at all, the runtime-only `ip-addr` stand-in.
 * - Image sources: well-known public Vagrant box names and cloud image URLs. None could be
 *   fetched from the machines this was written on, so every checksum is `null`
 *   (unverified) rather than guessed; a user config (user-images.ts) supplies real ones.
 * - Vagrant boxes carry the providers they are published for (vagrant-boxes.ts, as known, not
 *   verified here). Where the row's first box has no libvirt build, a libvirt-published box
 *   (Roboxes' generic/*) comes first and the row's original box stays listed after it.
 * - End-of-life rows carry the archive their packages moved to (`repositories`), pointed at
 *   by a step before the toolchain; a user config can name another per row.
 */

const PYTHON2: BackendPython = { command: 'python -m SimpleHTTPServer', package: 'python' };
const PYTHON3: BackendPython = { command: 'python3 -m http.server', package: 'python3' };

const CENTOS_TOOLCHAIN: Toolchain = { packages: ['gcc', 'make'], kernelDevel: 'kernel-devel-$(uname -r)' };
const DEBIAN_TOOLCHAIN: Toolchain = { packages: ['gcc', 'make'], kernelDevel: 'linux-headers-$(uname -r)' };
const SUSE_TOOLCHAIN: Toolchain = { packages: ['gcc', 'make'], kernelDevel: 'kernel-default-devel' };

const IFCFG: VipMethod = { method: 'ifcfg' };
const IFCFG_NETWORK_SCRIPTS: VipMethod = { method: 'ifcfg-network-scripts' };
/** UCloud's Ubuntu 16.04 row: Ubuntu's cloud images `source /etc/network/interfaces.d/*.cfg`. */
const INTERFACES_D_UBUNTU: VipMethod = { method: 'interfaces-d', file: '/etc/network/interfaces.d/lo-cloud-init.cfg', userDataSudo: true };
/** UCloud's Debian 10 row: Debian sources every file in interfaces.d, the name has no suffix. */
const INTERFACES_D_DEBIAN: VipMethod = { method: 'interfaces-d', file: '/etc/network/interfaces.d/lo-cloud-init', userDataSudo: false };
/** UCloud's Ubuntu 18.04/20.04 row. */
const NETPLAN: VipMethod = { method: 'netplan', file: '/etc/netplan/lo-cloud-init.yaml', userDataSudo: true };
/**
 * The same on the lab's Debian images, which carry netplan.io but no sudo; the guide's
 * Debian row has no sudo either, and UserData runs as root.
 */
const NETPLAN_DEBIAN: VipMethod = { ...NETPLAN, userDataSudo: false };
const IP_ADDR: VipMethod = { method: 'ip-addr' };

/**
 * The archives of the end-of-life rows. Plain http: the oldest guests' TLS stacks may not
 * speak to today's servers, and yum, apt and zypper check the packages' signatures anyway.
 * Known locations, not fetched from here (no internet).
 * - vault.centos.org keeps each point release's os/, updates/ and extras/ as they stood when
 *   the next one came out: 6.8 matches the row's kernel (2.6.32-642); 6.10 holds CentOS 6's
 *   final updates (name it in a config to get those). 8.5.2111 is CentOS 8's last release.
 * - archive.debian.org holds jessie and, under /debian-security, its security suite.
 * - openSUSE moves discontinued releases out of download.opensuse.org; GWDG's mirror keeps
 *   them under /pub/opensuse/discontinued (distribution/ and update/ as on the live site).
 */
const CENTOS_6_8_VAULT: RepositoryMirror = { kind: 'archive', url: 'http://vault.centos.org/6.8', note: 'CentOS 6 is end-of-life (vault.centos.org; 6.10 has its final updates)' };
const CENTOS_8_VAULT: RepositoryMirror = { kind: 'archive', url: 'http://vault.centos.org/8.5.2111', note: 'CentOS 8 is end-of-life (vault.centos.org, its last release 8.5.2111)' };
const DEBIAN_8_ARCHIVE: RepositoryMirror = {
  kind: 'archive',
  url: 'http://archive.debian.org/debian',
  securityUrl: 'http://archive.debian.org/debian-security',
  note: 'Debian 8 is end-of-life (archive.debian.org)',
};
const OPENSUSE_42_2_ARCHIVE: RepositoryMirror = {
  kind: 'archive',
  url: 'http://ftp5.gwdg.de/pub/opensuse/discontinued',
  note: "openSUSE Leap 42.2 is end-of-life (the discontinued releases' archive at GWDG; not verified here)",
};

const NO_SUSE_VIP_ROW = 'VIP: the UCloud guide has no SUSE row; the VIP is added with `ip addr` (not persistent across reboots).';

export const GUIDE_PROFILES: readonly OsProfile[] = [
  {
    id: 'centos-6.8',
    displayName: 'CentOS 6.8',
    kernelSeries: '2.6.32',
    init: 'upstart',
    packageManager: 'yum',
    // The patched-kernel path builds the whole LVS kernel tree: no kernel-devel needed.
    toolchain: { packages: ['gcc', 'make'], kernelDevel: null },
    toaInstall: 'patched-kernel',
    autoload: { kind: 'sysconfig-modules' },
    vip: [IFCFG],
    python: PYTHON2,
    images: [
      // Roboxes' CentOS 6 box tracks the last point release (6.10): pin a box version for 6.8.
      { kind: 'vagrant-box', box: 'generic/centos6', providers: BOX_PROVIDERS.roboxes },
      { kind: 'vagrant-box', box: 'bento/centos-6.8', providers: BOX_PROVIDERS.bentoLegacy },
    ],
    repositories: CENTOS_6_8_VAULT,
    guides: ['huawei', 'ucloud'],
    notes: [
      'TOA: the Huawei guide rebuilds the LVS 2.6.32-220.23.1.el6 kernel with CONFIG_TOA=m, then `modprobe toa` after a reboot.',
      'VIP: UCloud\'s "CentOS 7 and below" row.',
    ],
  },
  {
    id: 'suse-11-sp3',
    displayName: 'SUSE Linux Enterprise Server 11 SP3',
    kernelSeries: '3.0.76',
    init: 'sysvinit',
    packageManager: 'zypper',
    toolchain: SUSE_TOOLCHAIN,
    toaInstall: 'out-of-tree',
    // No /etc/sysconfig/modules on SUSE: the guide's other option, a customized startup
    // script; boot.local is SLES 11's.
    autoload: { kind: 'startup-script', path: '/etc/init.d/boot.local' },
    vip: [IP_ADDR],
    python: PYTHON2,
    images: [{ kind: 'user-supplied', reason: 'SLES 11 images need a SUSE subscription; no public box or cloud image' }],
    guides: ['huawei'],
    notes: [NO_SUSE_VIP_ROW, 'Autoload: /etc/init.d/boot.local (the guide\'s "customized startup script").'],
  },
  {
    id: 'centos-7',
    displayName: 'CentOS 7',
    kernelSeries: '3.10.0',
    init: 'systemd',
    packageManager: 'yum',
    toolchain: CENTOS_TOOLCHAIN,
    toaInstall: 'out-of-tree',
    // EL7 still runs /etc/sysconfig/modules/*.modules at boot (rhel-loadmodules.service).
    autoload: { kind: 'sysconfig-modules' },
    vip: [IFCFG],
    python: PYTHON2,
    images: [
      { kind: 'vagrant-box', box: 'centos/7', providers: BOX_PROVIDERS.centos7 },
      { kind: 'cloud-image', url: 'https://cloud.centos.org/centos/7/images/CentOS-7-x86_64-GenericCloud.qcow2', sha256: null },
    ],
    guides: ['huawei', 'ucloud'],
  },
  {
    id: 'centos-7.2',
    displayName: 'CentOS 7.2',
    kernelSeries: '3.10.0',
    init: 'systemd',
    packageManager: 'yum',
    toolchain: CENTOS_TOOLCHAIN,
    toaInstall: 'out-of-tree',
    autoload: { kind: 'sysconfig-modules' },
    vip: [IFCFG],
    python: PYTHON2,
    images: [
      // Roboxes' CentOS 7 box tracks the last point release (7.9): pin a box version for 7.2.
      { kind: 'vagrant-box', box: 'generic/centos7', providers: BOX_PROVIDERS.roboxes },
      { kind: 'vagrant-box', box: 'bento/centos-7.2', providers: BOX_PROVIDERS.bentoLegacy },
    ],
    guides: ['huawei', 'ucloud'],
  },
  {
    id: 'ubuntu-16.04',
    displayName: 'Ubuntu 16.04.3',
    kernelSeries: '4.4.0',
    init: 'systemd',
    packageManager: 'apt',
    toolchain: DEBIAN_TOOLCHAIN,
    toaInstall: 'out-of-tree',
    autoload: { kind: 'modules-load-d' },
    vip: [INTERFACES_D_UBUNTU],
    python: PYTHON2,
    images: [
      { kind: 'vagrant-box', box: 'generic/ubuntu1604', providers: BOX_PROVIDERS.roboxes },
      { kind: 'vagrant-box', box: 'ubuntu/xenial64', providers: BOX_PROVIDERS.ubuntu },
      {
        kind: 'cloud-image',
        url: 'https://cloud-images.ubuntu.com/releases/xenial/release/ubuntu-16.04-server-cloudimg-amd64-disk1.img',
        sha256: null,
      },
    ],
    guides: ['huawei', 'ucloud'],
    notes: ['Backend: xenial images ship no Python 2; the backend step installs `python` for the guide\'s command.'],
  },
  {
    id: 'ubuntu-18.04',
    displayName: 'Ubuntu 18.04',
    kernelSeries: '4.15.0',
    init: 'systemd',
    packageManager: 'apt',
    toolchain: DEBIAN_TOOLCHAIN,
    toaInstall: 'out-of-tree',
    autoload: { kind: 'modules-load-d' },
    vip: [NETPLAN],
    python: PYTHON3,
    images: [
      { kind: 'vagrant-box', box: 'generic/ubuntu1804', providers: BOX_PROVIDERS.roboxes },
      { kind: 'vagrant-box', box: 'ubuntu/bionic64', providers: BOX_PROVIDERS.ubuntu },
      {
        kind: 'cloud-image',
        url: 'https://cloud-images.ubuntu.com/releases/bionic/release/ubuntu-18.04-server-cloudimg-amd64.img',
        sha256: null,
      },
    ],
    guides: ['huawei', 'ucloud'],
  },
  {
    id: 'ubuntu-20.04',
    displayName: 'Ubuntu 20.04',
    kernelSeries: '5.4.0',
    init: 'systemd',
    packageManager: 'apt',
    toolchain: DEBIAN_TOOLCHAIN,
    toaInstall: 'out-of-tree',
    autoload: { kind: 'modules-load-d' },
    vip: [NETPLAN],
    python: PYTHON3,
    images: [
      { kind: 'vagrant-box', box: 'generic/ubuntu2004', providers: BOX_PROVIDERS.roboxes },
      { kind: 'vagrant-box', box: 'ubuntu/focal64', providers: BOX_PROVIDERS.ubuntu },
      {
        kind: 'cloud-image',
        url: 'https://cloud-images.ubuntu.com/releases/focal/release/ubuntu-20.04-server-cloudimg-amd64.img',
        sha256: null,
      },
    ],
    guides: ['huawei', 'ucloud'],
  },
  {
    id: 'opensuse-42.2',
    displayName: 'openSUSE Leap 42.2',
    kernelSeries: '4.4.36',
    init: 'systemd',
    packageManager: 'zypper',
    toolchain: SUSE_TOOLCHAIN,
    toaInstall: 'out-of-tree',
    autoload: { kind: 'modules-load-d' },
    vip: [IP_ADDR],
    python: PYTHON3,
    images: [
      // Roboxes' Leap 42 box tracks the last point release (42.3): pin a box version for 42.2.
      { kind: 'vagrant-box', box: 'generic/opensuse42', providers: BOX_PROVIDERS.roboxes },
      { kind: 'vagrant-box', box: 'bento/opensuse-leap-42.2', providers: BOX_PROVIDERS.bentoLegacy },
    ],
    repositories: OPENSUSE_42_2_ARCHIVE,
    guides: ['huawei'],
    notes: [NO_SUSE_VIP_ROW],
  },
  {
    id: 'debian-8.2',
    displayName: 'Debian 8.2',
    kernelSeries: '3.16.0',
    init: 'systemd',
    packageManager: 'apt',
    toolchain: DEBIAN_TOOLCHAIN,
    toaInstall: 'out-of-tree',
    autoload: { kind: 'modules-load-d' },
    vip: [INTERFACES_D_DEBIAN],
    python: PYTHON2,
    images: [{ kind: 'vagrant-box', box: 'debian/jessie64', providers: BOX_PROVIDERS.debian }],
    repositories: DEBIAN_8_ARCHIVE,
    guides: ['huawei'],
    notes: [
      'VIP: not in the UCloud guide; Debian 10\'s interfaces.d row applies unchanged to jessie\'s ifupdown.',
      // Not verified here: no jessie guest boots on this machine.
      'Packages: archive.debian.org. jessie\'s archive signing key has since expired, so apt may refuse the archive\'s signatures (KEYEXPIRED); the toolchain step then fails in apt\'s words (not verified here).',
    ],
  },
  {
    id: 'centos-8',
    displayName: 'CentOS 8',
    kernelSeries: '4.18.0',
    init: 'systemd',
    packageManager: 'dnf',
    toolchain: CENTOS_TOOLCHAIN,
    toaInstall: 'out-of-tree',
    // modules-load.d rather than toa.modules: EL8 runs /etc/sysconfig/modules only when the
    // legacy initscripts are installed; systemd-modules-load is always there.
    autoload: { kind: 'modules-load-d' },
    vip: [IFCFG_NETWORK_SCRIPTS],
    python: PYTHON3,
    images: [{ kind: 'vagrant-box', box: 'centos/8', providers: BOX_PROVIDERS.centos8 }],
    repositories: CENTOS_8_VAULT,
    guides: ['ucloud'],
    notes: ['CentOS 8 is end-of-life: its mirrors moved to vault.centos.org; a step before the toolchain points yum there.'],
  },
  {
    id: 'debian-10',
    displayName: 'Debian 10',
    kernelSeries: '4.19.0',
    init: 'systemd',
    packageManager: 'apt',
    toolchain: DEBIAN_TOOLCHAIN,
    toaInstall: 'out-of-tree',
    autoload: { kind: 'modules-load-d' },
    vip: [INTERFACES_D_DEBIAN],
    python: PYTHON3,
    images: [
      { kind: 'vagrant-box', box: 'debian/buster64', providers: BOX_PROVIDERS.debian },
      {
        kind: 'cloud-image',
        url: 'https://cloud.debian.org/images/cloud/buster/latest/debian-10-genericcloud-amd64.qcow2',
        sha256: null,
      },
    ],
    guides: ['ucloud'],
  },
  {
    id: 'rocky-8.5',
    displayName: 'Rocky Linux 8.5',
    kernelSeries: '4.18.0',
    init: 'systemd',
    packageManager: 'dnf',
    toolchain: CENTOS_TOOLCHAIN,
    toaInstall: 'out-of-tree',
    autoload: { kind: 'modules-load-d' },
    vip: [IFCFG_NETWORK_SCRIPTS],
    python: PYTHON3,
    // generic/rocky8 tracks the latest 8.x; pin a box version in a user config for exactly 8.5.
    images: [{ kind: 'vagrant-box', box: 'generic/rocky8', providers: BOX_PROVIDERS.roboxes }],
    guides: ['ucloud'],
  },
];

/**
 * The lab's default images, built offline from Debian's archive (harness/images): they
 * carry both ifupdown and netplan, so both VIP methods are exercised on real kernels.
 */
export const LAB_PROFILES: readonly OsProfile[] = (
  [
    ['debian-11', 'Debian 11 (bullseye)', '5.10', 'bullseye'],
    ['debian-12', 'Debian 12 (bookworm)', '6.1', 'bookworm'],
    ['debian-13', 'Debian 13 (trixie)', '6.12', 'trixie'],
  ] as const
).map(([id, displayName, kernelSeries, suite]) => ({
  id,
  displayName,
  kernelSeries,
  init: 'systemd',
  packageManager: 'apt',
  toolchain: DEBIAN_TOOLCHAIN,
  toaInstall: 'out-of-tree',
  autoload: { kind: 'modules-load-d' },
  vip: [INTERFACES_D_DEBIAN, NETPLAN_DEBIAN],
  python: PYTHON3,
  images: [{ kind: 'offline-debian', suite }],
  guides: ['lab'],
}));

export const OS_PROFILES: readonly OsProfile[] = [...GUIDE_PROFILES, ...LAB_PROFILES];

export function profileById(id: string, profiles: readonly OsProfile[] = OS_PROFILES): OsProfile {
  const profile = profiles.find((p) => p.id === id);
  if (!profile) throw new Error(`unknown OS profile '${id}' (known: ${profiles.map((p) => p.id).join(', ')})`);
  return profile;
}
