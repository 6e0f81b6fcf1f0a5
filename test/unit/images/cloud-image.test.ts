import { describe, expect, it } from 'vitest';
import { aptSources, CLOUD_KERNEL_ARGS, earlyGrubConfig, fstab, grubCfg } from '../../../harness/images/cloud/boot-config.ts';
import { CLOUD_IMAGES } from '../../../harness/images/cloud/build-cloud-image.ts';
import { planCloudDisk, sfdiskScript } from '../../../harness/images/cloud/cloud-disk-layout.ts';
import { cloudImagePackages, getCloudImageDefinition, UnknownCloudImageError } from '../../../harness/images/cloud/cloud-image-catalog.ts';
import { bootSector, placedCoreImage, SECTOR } from '../../../harness/images/cloud/grub-boot-sectors.ts';

const UUID = '0d2f8a6e-1c44-4f0e-9a57-3b1d2c7e9f10';

describe('the cloud-format images', () => {
  it('are Debian 12 (BIOS) and Debian 13 (UEFI) genericcloud disks', () => {
    expect(CLOUD_IMAGES).toEqual(
      expect.arrayContaining([
        { name: 'debian-12-genericcloud', suite: 'bookworm', firmware: 'bios' },
        { name: 'debian-13-genericcloud-uefi', suite: 'trixie', firmware: 'uefi' },
      ]),
    );
    expect(() => getCloudImageDefinition('ubuntu-24.04')).toThrow(UnknownCloudImageError);
  });

  it('carry what a stock cloud image has, and none of the toolchain the procedure must install itself', () => {
    for (const image of CLOUD_IMAGES) {
      const packages = cloudImagePackages(image);
      expect(packages).toEqual(
        expect.arrayContaining(['systemd', 'udev', 'openssh-server', 'cloud-init', 'sudo', 'netbase', 'iproute2', 'python3', 'ca-certificates', 'apt', 'initramfs-tools', 'kmod', 'linux-image-cloud-amd64']),
      );
      for (const absent of ['gcc', 'make', 'build-essential', 'nginx', 'linux-headers-amd64', 'linux-headers-cloud-amd64']) {
        expect(packages).not.toContain(absent);
      }
      expect(packages).toContain(image.firmware === 'bios' ? 'grub-pc-bin' : 'grub-efi-amd64-bin');
    }
    expect(cloudImagePackages(getCloudImageDefinition('debian-12-genericcloud'))).toEqual(expect.arrayContaining(['ifupdown', 'isc-dhcp-client']));
    expect(cloudImagePackages(getCloudImageDefinition('debian-13-genericcloud-uefi'))).toContain('netplan.io');
  });
});

describe('the disk layout', () => {
  it('BIOS: a BIOS boot partition (14) before the root (1), which runs to the end of the disk', () => {
    const layout = planCloudDisk('bios', UUID);
    expect(layout.boot).toMatchObject({ number: 14, startSector: 2048, sizeSectors: 6144, type: '21686148-6449-6E6F-744E-656564454649' });
    expect(layout.root).toMatchObject({ number: 1, startSector: 8192, uuid: UUID });
    expect(layout.root.sizeSectors).toBeUndefined();
  });

  it('UEFI: an EFI system partition (15) of 124 MiB before the root', () => {
    const layout = planCloudDisk('uefi', UUID);
    expect(layout.boot).toMatchObject({ number: 15, startSector: 2048, sizeSectors: 124 * 2048, type: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B' });
    expect(layout.root.startSector).toBe(2048 + 124 * 2048);
  });

  it('is a GPT sfdisk script numbering partitions through the file name', () => {
    expect(sfdiskScript(planCloudDisk('bios', UUID), '/x/disk.raw').split('\n')).toEqual([
      'label: gpt',
      'unit: sectors',
      'sector-size: 512',
      '',
      '/x/disk.raw14 : start=2048, size=6144, type=21686148-6449-6E6F-744E-656564454649, name="BIOS boot"',
      `/x/disk.raw1 : start=8192, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=${UUID}, name="root"`,
      '',
    ]);
  });
});

describe('the boot configuration', () => {
  it('finds the root by UUID in GRUB\'s early config, its menu entry and fstab', () => {
    expect(earlyGrubConfig(UUID)).toBe(`search --no-floppy --fs-uuid --set=root ${UUID}\nset prefix=($root)/boot/grub\n`);
    const cfg = grubCfg({ rootUuid: UUID, kernelRelease: '6.1.0-50-cloud-amd64', firmware: 'bios' });
    expect(cfg).toContain(`\tlinux /boot/vmlinuz-6.1.0-50-cloud-amd64 root=UUID=${UUID} ro ${CLOUD_KERNEL_ARGS}\n`);
    expect(cfg).toContain('\tinitrd /boot/initrd.img-6.1.0-50-cloud-amd64\n');
    expect(cfg).toContain('terminal_output serial console');
    expect(fstab(UUID)).toContain(`UUID=${UUID} / ext4 `);
    expect(fstab(UUID, 'ABCD-1234')).toContain('UUID=ABCD-1234 /boot/efi vfat ');
  });

  it('puts the serial console on the kernel command line and leaves NIC naming to the distribution', () => {
    expect(CLOUD_KERNEL_ARGS).toContain('console=ttyS0');
    expect(CLOUD_KERNEL_ARGS).not.toContain('net.ifnames');
  });

  it('points apt at the ordinary mirror, -updates and -security', () => {
    const bookworm = aptSources('bookworm');
    expect(bookworm.path).toBe('etc/apt/sources.list');
    expect(bookworm.content.trim().split('\n')).toEqual([
      'deb http://deb.debian.org/debian bookworm main',
      'deb http://deb.debian.org/debian bookworm-updates main',
      'deb http://deb.debian.org/debian-security bookworm-security main',
    ]);
    const trixie = aptSources('trixie');
    expect(trixie.path).toBe('etc/apt/sources.list.d/debian.sources');
    expect(trixie.content).toContain('Suites: trixie trixie-updates');
    expect(trixie.content).toContain('Suites: trixie-security');
  });
});

describe("GRUB's boot sectors on a disk file", () => {
  /** boot.img's known bytes: BOOT_DRIVE 0xff at 0x64, the drive-check jmp (eb 05) at 0x66. */
  function fakeBootImg(): Buffer {
    const img = Buffer.alloc(SECTOR, 0xcc);
    img.writeBigUInt64LE(1n, 0x5c);
    img.writeUInt8(0xff, 0x64);
    img.writeUInt8(0xeb, 0x66);
    img.writeUInt8(0x05, 0x67);
    return img;
  }
  function protectiveMbr(): Buffer {
    const mbr = Buffer.alloc(SECTOR);
    mbr.writeUInt32LE(0xdeadbeef, 0x1b8); // disk signature
    mbr.writeUInt8(0xee, 0x1be + 4); // the protective GPT entry's type
    mbr.writeUInt16LE(0xaa55, 0x1fe);
    return mbr;
  }

  it('boot.img learns where core.img starts, its drive check becomes NOPs, the partition table stays', () => {
    const sector = bootSector(fakeBootImg(), protectiveMbr(), 2048);
    expect(sector.readBigUInt64LE(0x5c)).toBe(2048n);
    expect([sector[0x66], sector[0x67]]).toEqual([0x90, 0x90]);
    expect(sector.readUInt32LE(0x1b8)).toBe(0xdeadbeef);
    expect(sector[0x1be + 4]).toBe(0xee);
    expect(sector.readUInt16LE(0x1fe)).toBe(0xaa55);
    expect(sector[0]).toBe(0xcc);
  });

  it('refuses a boot.img of another layout, and a disk without an MBR', () => {
    expect(() => bootSector(Buffer.alloc(SECTOR), protectiveMbr(), 2048)).toThrow(/layout/);
    expect(() => bootSector(fakeBootImg(), Buffer.alloc(SECTOR), 2048)).toThrow(/MBR signature/);
  });

  it("core.img's block list points at its own second sector", () => {
    const core = Buffer.alloc(3 * SECTOR + 100);
    core.writeBigUInt64LE(2n, 500);
    core.writeUInt16LE(3, 508); // grub-mkimage: the sectors after the first
    core.writeUInt16LE(0x820, 510);
    const placed = placedCoreImage(core, 2048);
    expect(placed.length).toBe(4 * SECTOR);
    expect(placed.readBigUInt64LE(500)).toBe(2049n);
    expect(placed.readUInt16LE(508)).toBe(3);
    core.writeUInt16LE(7, 508);
    expect(() => placedCoreImage(core, 2048)).toThrow(/block list/);
  });
});
