import { open, readFile, rm } from 'node:fs/promises';
import { runHostCommand } from '../../exec/run-host-command.ts';
import { planCloudDisk, sfdiskScript, type DiskLayout } from './cloud-disk-layout.ts';
import type { CloudFirmware } from './cloud-image-catalog.ts';
import type { BootLoaderFiles } from './cloud-root-tree.ts';
import { bootSector, placedCoreImage, SECTOR } from './grub-boot-sectors.ts';

/**
 * A partitioned raw disk from a root tree, with no loop device, no mount and
 * no copying of partition images: every tool writes straight into the disk
 * file at the partition's offset.
 * - sfdisk writes the GPT onto the file;
 * - `mkfs.ext4 -E offset=… -d TREE` builds the root file system inside partition 1;
 * - BIOS: GRUB's boot sector goes into the MBR, its core image into the BIOS boot partition;
 * - UEFI: `mkfs.vfat --offset` makes the ESP and mtools copies GRUB's EFI binary
 *   into it (the host kernel has no vfat: nothing is ever mounted);
 * - `qemu-img convert` makes the qcow2 (only used clusters).
 */
export interface CloudDiskPlan {
  rootfs: string;
  firmware: CloudFirmware;
  rootUuid: string;
  rootPartUuid: string;
  /** UEFI: the ESP's volume id, `XXXX-XXXX` (as /etc/fstab names it). */
  espVolumeId?: string;
  bootLoader: BootLoaderFiles;
  qcow2: string;
}

interface PlacedPartition {
  startSector: number;
  sizeSectors: number;
}

export async function assembleCloudDisk(plan: CloudDiskPlan): Promise<void> {
  const raw = `${plan.qcow2}.raw`;
  const layout = planCloudDisk(plan.firmware, plan.rootPartUuid);
  try {
    await runHostCommand('truncate', ['-s', String(layout.sizeBytes), raw]);
    await runHostCommand('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', raw], { input: sfdiskScript(layout, raw) });
    const placed = await readPartitions(raw, layout);

    const root = placed.get(layout.root.number)!;
    await runHostCommand(
      'mkfs.ext4',
      [
        '-q',
        '-F',
        '-U',
        plan.rootUuid,
        '-L',
        'root',
        '-E',
        `offset=${root.startSector * SECTOR},root_owner=0:0`,
        '-d',
        plan.rootfs,
        raw,
        `${(root.sizeSectors * SECTOR) / 1024}k`,
      ],
      { timeoutMs: 600_000 },
    );

    const boot = placed.get(layout.boot.number)!;
    if (plan.firmware === 'bios') await writeBiosBootLoader(raw, boot, plan.bootLoader);
    else await writeEsp(raw, boot, plan.bootLoader, plan.espVolumeId ?? '');

    await runHostCommand('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, plan.qcow2], { timeoutMs: 600_000 });
  } finally {
    await rm(raw, { force: true });
  }
}

/** Where sfdisk actually put each partition (root's size is "to the end", computed by sfdisk). */
async function readPartitions(raw: string, layout: DiskLayout): Promise<Map<number, PlacedPartition>> {
  const table = JSON.parse((await runHostCommand('sfdisk', ['--json', raw])).stdout) as {
    partitiontable: { partitions: Array<{ node: string; start: number; size: number }> };
  };
  const placed = new Map<number, PlacedPartition>();
  for (const p of table.partitiontable.partitions) {
    placed.set(Number(p.node.slice(raw.length)), { startSector: p.start, sizeSectors: p.size });
  }
  for (const wanted of [layout.boot, layout.root]) {
    const found = placed.get(wanted.number);
    if (!found || found.startSector !== wanted.startSector) {
      throw new Error(`sfdisk did not place partition ${wanted.number} at sector ${wanted.startSector}: ${JSON.stringify(table)}`);
    }
  }
  return placed;
}

async function writeBiosBootLoader(raw: string, partition: PlacedPartition, files: BootLoaderFiles): Promise<void> {
  const core = placedCoreImage(await readFile(files.coreImage), partition.startSector);
  if (core.length > partition.sizeSectors * SECTOR) {
    throw new Error(`GRUB's core.img (${core.length} bytes) does not fit the BIOS boot partition`);
  }
  const disk = await open(raw, 'r+');
  try {
    const mbr = Buffer.alloc(SECTOR);
    await disk.read(mbr, 0, SECTOR, 0);
    await disk.write(bootSector(await readFile(files.bootImage!), mbr, partition.startSector), 0, SECTOR, 0);
    await disk.write(core, 0, core.length, partition.startSector * SECTOR);
  } finally {
    await disk.close();
  }
}

/** FAT32 ESP with GRUB at the removable-media path (what firmware with empty NVRAM boots) and at Debian's own. */
async function writeEsp(raw: string, partition: PlacedPartition, files: BootLoaderFiles, volumeId: string): Promise<void> {
  // -s 1: one sector per cluster keeps a 124 MiB FAT32 above its minimum cluster count.
  await runHostCommand('mkfs.vfat', [
    '-F',
    '32',
    '-s',
    '1',
    '-n',
    'EFI',
    '-i',
    volumeId.replace('-', ''),
    '--offset',
    String(partition.startSector),
    raw,
    String((partition.sizeSectors * SECTOR) / 1024),
  ]);
  const image = `${raw}@@${partition.startSector * SECTOR}`;
  await runHostCommand('mmd', ['-i', image, '::/EFI', '::/EFI/BOOT', '::/EFI/debian']);
  await runHostCommand('mcopy', ['-i', image, files.coreImage, '::/EFI/BOOT/BOOTX64.EFI']);
  await runHostCommand('mcopy', ['-i', image, files.coreImage, '::/EFI/debian/grubx64.efi']);
}
