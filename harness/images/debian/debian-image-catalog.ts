/**
 * The full-OS images this lab builds offline from Debian's archive, one per
 * suite. Each carries the guides' toolchain (gcc, make, the headers of its
 * own kernel), a backend (python3, nginx), both VIP methods the guides use on
 * Debian/Ubuntu (ifupdown, netplan) and sshd for the harness.
 */
import type { DebianRelease } from '../../kernels/debian-suite.ts';

export interface DebianImageDefinition {
  /** The image's name in the lab (and its hostname), e.g. `debian-12`. */
  name: string;
  suite: DebianRelease;
  /** The kernel series the suite ships, for messages ("5.10"). */
  kernelSeries: string;
  /** Every package the image is built with (apt resolves their dependencies, not recommends). */
  packages: readonly string[];
}

/** What every image has, whatever the suite. */
export const FULL_OS_PACKAGES: readonly string[] = [
  'systemd',
  'systemd-sysv',
  'udev',
  'openssh-server',
  // The guide's toolchain: the suite's default gcc is the one its kernel headers ask for.
  'gcc',
  'make',
  'libc6-dev',
  // Metapackages of one version per suite, so the headers match `uname -r`.
  'linux-image-amd64',
  'linux-headers-amd64',
  'initramfs-tools',
  'kmod',
  'dkms',
  'python3',
  'nginx',
  'ifupdown',
  'netplan.io',
  'iproute2',
  'procps',
  'cron',
  // GRUB 2's configuration tools, as on an installed Debian (grub-mkconfig, /etc/grub.d;
  // update-grub and /etc/kernel/postinst.d/zz-update-grub): the patched-kernel procedure's
  // `make install` regenerates /boot/grub/grub.cfg with them. No boot-sector package
  // (grub-pc): QEMU boots the kernel directly, the harness plays firmware.
  'grub-common',
  'grub2-common',
];

/**
 * ifupdown's `inet dhcp` needs a DHCP client, which it only recommends.
 * Trixie's ifupdown prefers dhcpcd; the older suites use ISC's client.
 */
const DHCP_CLIENT: Record<DebianRelease, string> = {
  bullseye: 'isc-dhcp-client',
  bookworm: 'isc-dhcp-client',
  trixie: 'dhcpcd-base',
};

function definition(name: string, suite: DebianRelease, kernelSeries: string, extra: readonly string[] = []): DebianImageDefinition {
  return { name, suite, kernelSeries, packages: [...FULL_OS_PACKAGES, DHCP_CLIENT[suite], ...extra] };
}

/**
 * HAProxy, the second PROXY protocol backend (scenarios/proxy-protocol.ts; nginx is the first,
 * in every image): on Debian 12 only, where the test command runs those scenarios — the other
 * images keep their recipes (and caches), and run the scenarios with nginx alone.
 */
const PROXY_PROTOCOL_PACKAGES = ['haproxy'];

export const DEBIAN_IMAGES: readonly DebianImageDefinition[] = [
  definition('debian-11', 'bullseye', '5.10'),
  definition('debian-12', 'bookworm', '6.1', PROXY_PROTOCOL_PACKAGES),
  definition('debian-13', 'trixie', '6.12'),
];

export class UnknownImageError extends Error {
  override readonly name = 'UnknownImageError';
  constructor(readonly requested: string) {
    super(`unknown image '${requested}': this lab builds ${DEBIAN_IMAGES.map((i) => i.name).join(', ')}`);
  }
}

export function getDebianImageDefinition(name: string): DebianImageDefinition {
  const found = DEBIAN_IMAGES.find((image) => image.name === name);
  if (!found) throw new UnknownImageError(name);
  return found;
}
