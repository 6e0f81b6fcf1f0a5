/**
 * Disks in the form distributions publish their cloud images (Debian's
 * "genericcloud"): a partition table, the boot loader and kernel inside, a
 * stock package set with cloud-init, and none of toa-lab's own parts. The lab
 * builds them from Debian's packages only to prove it can run images it did
 * not prepare for itself: everything it needs (a user, a key, sudo) must come
 * through a cloud-init NoCloud seed, everything else (gcc, headers) from the
 * OS's own repositories.
 */
export type CloudFirmware = 'bios' | 'uefi';

export interface CloudImageDefinition {
  /** e.g. `debian-12-genericcloud` (Debian's own file names, e.g. debian-12-genericcloud-amd64.qcow2). */
  name: string;
  suite: 'bookworm' | 'trixie';
  /** How it boots: SeaBIOS + GRUB i386-pc on `-machine pc`, or OVMF + GRUB x86_64-efi on `-machine q35`. */
  firmware: CloudFirmware;
}

export const CLOUD_IMAGES: readonly CloudImageDefinition[] = [
  { name: 'debian-12-genericcloud', suite: 'bookworm', firmware: 'bios' },
  { name: 'debian-13-genericcloud-uefi', suite: 'trixie', firmware: 'uefi' },
];

/**
 * Debian's cloud kernel flavour (`linux-image-cloud-amd64`): what Debian's
 * genericcloud images boot. It has the virtio, ext4, ISO 9660 and FAT drivers
 * a VM needs and resolves in every suite the same way as the generic one.
 */
export const CLOUD_KERNEL_FLAVOUR = 'cloud-amd64';

/**
 * What a stock Debian cloud image has (after debian-cloud-images' package
 * classes), not what the lab would like it to have: deliberately no gcc, make,
 * linux-headers or nginx — the lab's procedure installs those from the OS's
 * repositories, as it must on a vendor's image.
 */
const COMMON_PACKAGES: readonly string[] = [
  'systemd',
  'systemd-sysv',
  'udev',
  // hostnamectl (cloud-init's set_hostname) talks to systemd-hostnamed over D-Bus.
  'dbus',
  'openssh-server',
  'cloud-init',
  // growpart: cloud-init's growpart module grows the root partition to the disk's size.
  'cloud-guest-utils',
  'sudo',
  'netbase',
  'iproute2',
  'python3',
  'ca-certificates',
  'apt',
  `linux-image-${CLOUD_KERNEL_FLAVOUR}`,
  'initramfs-tools',
  'kmod',
  'e2fsprogs',
  'procps',
  'less',
  // update-locale: cloud-init's locale module on Debian expects it.
  'locales',
  // update-grub and /etc/kernel/postinst.d/zz-update-grub, so a kernel installed in the guest
  // is booted next time, as on any installed Debian.
  'grub2-common',
];

/**
 * Networking as Debian's own cloud images do it, so that cloud-init's fallback
 * configuration (DHCP on the first NIC, whatever the kernel names it) works:
 * - Debian 12: ifupdown, cloud-init renders /etc/network/interfaces.d/50-cloud-init,
 *   ISC's DHCP client (ifupdown only recommends one);
 * - Debian 13: netplan + systemd-networkd (cloud-init renders netplan's YAML).
 */
const NETWORK_PACKAGES: Record<CloudImageDefinition['suite'], readonly string[]> = {
  bookworm: ['ifupdown', 'isc-dhcp-client'],
  trixie: ['netplan.io'],
};

/** GRUB's boot images and modules for the firmware (the -bin packages: no postinst that runs grub-install). */
const BOOT_LOADER_PACKAGES: Record<CloudFirmware, readonly string[]> = {
  bios: ['grub-pc-bin'],
  uefi: ['grub-efi-amd64-bin'],
};

export function cloudImagePackages(definition: CloudImageDefinition): string[] {
  return [...COMMON_PACKAGES, ...NETWORK_PACKAGES[definition.suite], ...BOOT_LOADER_PACKAGES[definition.firmware]];
}

export class UnknownCloudImageError extends Error {
  override readonly name = 'UnknownCloudImageError';
  constructor(readonly requested: string) {
    super(`unknown cloud image '${requested}': this lab builds ${CLOUD_IMAGES.map((i) => i.name).join(', ')}`);
  }
}

export function getCloudImageDefinition(name: string): CloudImageDefinition {
  const found = CLOUD_IMAGES.find((image) => image.name === name);
  if (!found) throw new UnknownCloudImageError(name);
  return found;
}
