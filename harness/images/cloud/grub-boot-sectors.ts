/**
 * What `grub-bios-setup` writes on a GPT disk, done on buffers so it works on
 * a disk *file* (grub-bios-setup wants a block device, or a device map and a
 * probe of the host's disks). Offsets are GRUB 2's (include/grub/i386/pc/boot.h,
 * grub-core/boot/i386/pc/diskboot.S), checked against the images before they
 * are changed, so a GRUB whose layout differs fails here instead of at boot:
 * - boot.img (the MBR's first 440 bytes) learns the sector where core.img starts;
 *   its "drive check" jump becomes two NOPs, as grub-bios-setup does for hard disks
 *   (a buggy BIOS passing drive 0 is then treated as 0x80);
 * - core.img's first sector (diskboot.img) carries a block list: where the rest of
 *   core.img is on the disk (grub-mkimage already filled in its length).
 * The disk's own MBR bytes from 440 on (disk signature, the protective GPT entry,
 * 0x55AA) are kept.
 */
export const SECTOR = 512;

const KERNEL_SECTOR = 0x5c;
const BOOT_DRIVE = 0x64;
const DRIVE_CHECK = 0x66;
/** From here on the MBR belongs to the partition table (disk signature at 0x1b8). */
const WINDOWS_NT_MAGIC = 0x1b8;
/** diskboot.img's block list: the last 12 bytes of its sector (u64 start, u16 sectors, u16 segment). */
const BLOCKLIST = SECTOR - 12;
/** Where diskboot loads the rest of core.img: GRUB_BOOT_I386_PC_KERNEL_SEG + 0x20. */
const CORE_SEGMENT = 0x820;

/** The new first sector of the disk: GRUB's boot.img code followed by the disk's own partition table. */
export function bootSector(bootImg: Buffer, diskMbr: Buffer, coreStartSector: number): Buffer {
  if (bootImg.length !== SECTOR || diskMbr.length !== SECTOR) throw new Error('boot.img and the MBR are one 512-byte sector each');
  if (diskMbr.readUInt16LE(0x1fe) !== 0xaa55) throw new Error('the disk has no MBR signature (run sfdisk first)');
  if (bootImg.readUInt8(BOOT_DRIVE) !== 0xff || bootImg.readUInt8(DRIVE_CHECK) !== 0xeb) {
    throw new Error('boot.img does not have the layout this writer knows (GRUB 2 i386-pc)');
  }
  const sector = Buffer.from(diskMbr);
  bootImg.copy(sector, 0, 0, WINDOWS_NT_MAGIC);
  sector.writeBigUInt64LE(BigInt(coreStartSector), KERNEL_SECTOR);
  sector.writeUInt8(0x90, DRIVE_CHECK);
  sector.writeUInt8(0x90, DRIVE_CHECK + 1);
  return sector;
}

/** core.img with its block list pointing at its own second sector, once written at `coreStartSector`. */
export function placedCoreImage(coreImg: Buffer, coreStartSector: number): Buffer {
  const sectors = Math.ceil(coreImg.length / SECTOR);
  const core = Buffer.alloc(sectors * SECTOR);
  coreImg.copy(core);
  const listed = core.readUInt16LE(BLOCKLIST + 8);
  if (listed !== sectors - 1 || core.readUInt16LE(BLOCKLIST + 10) !== CORE_SEGMENT) {
    throw new Error(
      `core.img's block list says ${listed} sector(s) at segment 0x${core.readUInt16LE(BLOCKLIST + 10).toString(16)}, ` +
        `expected ${sectors - 1} at 0x${CORE_SEGMENT.toString(16)}: not a grub-mkimage -O i386-pc image this writer knows`,
    );
  }
  core.writeBigUInt64LE(BigInt(coreStartSector + 1), BLOCKLIST);
  return core;
}
