import type { CloudFirmware } from './cloud-image-catalog.ts';
import { SECTOR } from './grub-boot-sectors.ts';

/**
 * The partition table of a cloud disk, after Debian's genericcloud images
 * (root is partition 1 and fills the rest of the disk, so cloud-init's
 * growpart can grow it; the boot partition comes first on the disk and keeps
 * Debian's number):
 * - BIOS: partition 14, "BIOS boot" (3 MiB), where GRUB's core.img lives, since GPT
 *   leaves no gap after the MBR for it;
 * - UEFI: partition 15, the EFI system partition (FAT32, 124 MiB), holding GRUB's EFI binary.
 * As a pure function: sfdisk gets this script, the tests read it.
 */
export const DISK_SIZE_BYTES = 3 * 1024 ** 3;

const BIOS_BOOT_TYPE = '21686148-6449-6E6F-744E-656564454649';
const ESP_TYPE = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
/** Linux x86-64 root (/), the Discoverable Partitions type Debian's images use. */
const ROOT_TYPE = '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709';

export interface PlannedPartition {
  number: number;
  startSector: number;
  /** Absent: to the end of the disk (sfdisk computes it; read it back with `sfdisk -J`). */
  sizeSectors?: number;
  type: string;
  name: string;
  /** GPT partition UUID, so the root can also be named by PARTUUID. */
  uuid?: string;
}

export interface DiskLayout {
  sizeBytes: number;
  boot: PlannedPartition;
  root: PlannedPartition;
}

const MIB = (1024 * 1024) / SECTOR;

export function planCloudDisk(firmware: CloudFirmware, rootPartUuid: string): DiskLayout {
  const boot: PlannedPartition =
    firmware === 'bios'
      ? { number: 14, startSector: 1 * MIB, sizeSectors: 3 * MIB, type: BIOS_BOOT_TYPE, name: 'BIOS boot' }
      : { number: 15, startSector: 1 * MIB, sizeSectors: 124 * MIB, type: ESP_TYPE, name: 'EFI System' };
  const root: PlannedPartition = {
    number: 1,
    startSector: boot.startSector + boot.sizeSectors!,
    type: ROOT_TYPE,
    name: 'root',
    uuid: rootPartUuid,
  };
  return { sizeBytes: DISK_SIZE_BYTES, boot, root };
}

/**
 * sfdisk's script for the layout. On a file, sfdisk takes the partition number from the
 * "device" name in front of each line (`<disk>14 : ...`), which is how p14/p15 come before p1.
 */
export function sfdiskScript(layout: DiskLayout, diskPath: string): string {
  const line = (p: PlannedPartition) =>
    [
      `${diskPath}${p.number} : start=${p.startSector}`,
      ...(p.sizeSectors !== undefined ? [`size=${p.sizeSectors}`] : []),
      `type=${p.type}`,
      ...(p.uuid ? [`uuid=${p.uuid}`] : []),
      `name="${p.name}"`,
    ].join(', ');
  return ['label: gpt', 'unit: sectors', `sector-size: ${SECTOR}`, '', line(layout.boot), line(layout.root), ''].join('\n');
}
