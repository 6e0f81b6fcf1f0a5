import type { CloudFirmware, CloudImageDefinition } from './cloud-image-catalog.ts';

/**
 * The text files that make a cloud disk boot by itself, as pure functions
 * (the tests read them). GRUB finds the root file system by its UUID at every
 * stage, so nothing depends on which bus or slot the disk is attached to:
 * - the early configuration embedded in GRUB's core image (what grub-install
 *   writes as load.cfg): find the root, set the prefix, then GRUB's `normal`
 *   module reads /boot/grub/grub.cfg;
 * - grub.cfg in the form grub-mkconfig writes it (update-grub in the guest
 *   regenerates it from /etc/default/grub.d/, which gives the same kernel
 *   command line);
 * - /etc/fstab by UUID, as Debian's images have it.
 */

/**
 * Debian's cloud images' kernel command line: the serial console (the lab reads it)
 * and the VGA console. No `net.ifnames=0`: the distribution names its NICs as it likes.
 */
export const CLOUD_KERNEL_ARGS = 'console=tty0 console=ttyS0,115200 earlyprintk=ttyS0,115200 consoleblank=0';

/** The GRUB modules built into the core image: enough to find the root file system and read its /boot/grub. */
export function coreImageModules(firmware: CloudFirmware): string[] {
  return firmware === 'bios' ? ['biosdisk', 'part_gpt', 'ext2', 'search'] : ['part_gpt', 'ext2', 'fat', 'search'];
}

/** The configuration embedded in core.img / BOOTX64.EFI (grub-mkimage -c). */
export function earlyGrubConfig(rootUuid: string): string {
  return [`search --no-floppy --fs-uuid --set=root ${rootUuid}`, 'set prefix=($root)/boot/grub', ''].join('\n');
}

export interface GrubMenuEntry {
  rootUuid: string;
  kernelRelease: string;
  firmware: CloudFirmware;
}

export function grubCfg(entry: GrubMenuEntry): string {
  // BIOS with no VGA (the lab runs -nodefaults): GRUB must talk on the serial port.
  // OVMF already mirrors the UEFI console onto the serial port, so there GRUB keeps it.
  const terminal =
    entry.firmware === 'bios'
      ? ['serial --unit=0 --speed=115200', 'terminal_input serial console', 'terminal_output serial console']
      : [];
  return [
    '# Written by the image builder in the form grub-mkconfig writes; `update-grub` in the guest rewrites it.',
    'set default=0',
    'set timeout=1',
    ...terminal,
    'insmod part_gpt',
    'insmod ext2',
    `search --no-floppy --fs-uuid --set=root ${entry.rootUuid}`,
    `menuentry 'Debian GNU/Linux' --class debian --class gnu-linux --class os $menuentry_id_option 'gnulinux-simple-${entry.rootUuid}' {`,
    `\techo 'Loading Linux ${entry.kernelRelease} ...'`,
    `\tlinux /boot/vmlinuz-${entry.kernelRelease} root=UUID=${entry.rootUuid} ro ${CLOUD_KERNEL_ARGS}`,
    `\techo 'Loading initial ramdisk ...'`,
    `\tinitrd /boot/initrd.img-${entry.kernelRelease}`,
    '}',
    '',
  ].join('\n');
}

/** /etc/default/grub.d/ drop-in: what update-grub in the guest needs to write the same grub.cfg. */
export function grubDefaults(firmware: CloudFirmware): string {
  return [
    `GRUB_CMDLINE_LINUX_DEFAULT="${CLOUD_KERNEL_ARGS}"`,
    'GRUB_TIMEOUT=1',
    ...(firmware === 'bios' ? ['GRUB_TERMINAL="console serial"', 'GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"'] : []),
    '',
  ].join('\n');
}

export function fstab(rootUuid: string, espVolumeId?: string): string {
  return [
    '# <file system> <mount point> <type> <options> <dump> <pass>',
    `UUID=${rootUuid} / ext4 rw,discard,errors=remount-ro 0 1`,
    // nofail: a kernel without FAT support still boots to a login (the ESP is only read by firmware).
    ...(espVolumeId ? [`UUID=${espVolumeId} /boot/efi vfat umask=0077,nofail 0 2`] : []),
    '',
  ].join('\n');
}

/** Where apt looks, as on a real image: the ordinary mirror plus -updates and -security. */
export function aptSources(suite: CloudImageDefinition['suite']): { path: string; content: string } {
  const components = 'main';
  if (suite === 'bookworm') {
    return {
      path: 'etc/apt/sources.list',
      content: [
        `deb http://deb.debian.org/debian ${suite} ${components}`,
        `deb http://deb.debian.org/debian ${suite}-updates ${components}`,
        `deb http://deb.debian.org/debian-security ${suite}-security ${components}`,
        '',
      ].join('\n'),
    };
  }
  // Debian 13's images use the deb822 form (sources.list is empty).
  return {
    path: 'etc/apt/sources.list.d/debian.sources',
    content: [
      'Types: deb',
      'URIs: http://deb.debian.org/debian',
      `Suites: ${suite} ${suite}-updates`,
      `Components: ${components}`,
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
      'Types: deb',
      'URIs: http://deb.debian.org/debian-security',
      `Suites: ${suite}-security`,
      `Components: ${components}`,
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
    ].join('\n'),
  };
}
