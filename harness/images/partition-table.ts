import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runHostCommand } from '../exec/run-host-command.ts';
import type { DiskFormat } from './disk-format.ts';

/**
 * Which firmware a disk expects, read from its own partition table (GPT
 * partition type GUIDs), without mounting or converting it: the first 34
 * sectors (protective MBR, GPT header, 128 entries) through `qemu-img dd`,
 * which reads every format QEMU does.
 * - an EFI system partition and no BIOS boot partition: UEFI;
 * - anything else (a BIOS boot partition, an MBR disk, a hybrid image like
 *   Debian's own genericcloud with both): BIOS, which such images boot too.
 */
const SECTOR = 512;
const GPT_SIGNATURE = 'EFI PART';
const ESP_TYPE = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
const BIOS_BOOT_TYPE = '21686148-6449-6e6f-744e-656564454649';

export type Firmware = 'bios' | 'uefi';

export async function detectFirmware(disk: string, format: DiskFormat, scratchDir: string): Promise<{ firmware: Firmware; why: string }> {
  const head = join(scratchDir, 'partition-table.raw');
  try {
    await runHostCommand('qemu-img', ['dd', '-f', format, '-O', 'raw', `bs=${SECTOR}`, 'count=34', `if=${disk}`, `of=${head}`]);
    return firmwareFromPartitionTable(await readFile(head));
  } finally {
    await rm(head, { force: true });
  }
}

export function firmwareFromPartitionTable(head: Buffer): { firmware: Firmware; why: string } {
  if (head.length < 2 * SECTOR || head.toString('latin1', SECTOR, SECTOR + 8) !== GPT_SIGNATURE) {
    return { firmware: 'bios', why: 'MBR partition table (no GPT header)' };
  }
  const entriesLba = Number(head.readBigUInt64LE(SECTOR + 72));
  const count = head.readUInt32LE(SECTOR + 80);
  const size = head.readUInt32LE(SECTOR + 84);
  const types = new Set<string>();
  for (let i = 0; i < count; i++) {
    const at = entriesLba * SECTOR + i * size;
    if (at + 16 > head.length) break;
    types.add(guidAt(head, at));
  }
  const esp = types.has(ESP_TYPE);
  const biosBoot = types.has(BIOS_BOOT_TYPE);
  if (esp && !biosBoot) return { firmware: 'uefi', why: 'GPT with an EFI system partition and no BIOS boot partition' };
  if (esp) return { firmware: 'bios', why: 'GPT with both an EFI system partition and a BIOS boot partition (boots either way)' };
  return { firmware: 'bios', why: 'GPT without an EFI system partition' };
}

/** A GPT GUID as text: the first three fields are little-endian, the rest as stored. */
function guidAt(buffer: Buffer, at: number): string {
  const hex = (from: number, to: number, reverse: boolean) => {
    const bytes = [...buffer.subarray(at + from, at + to)];
    return (reverse ? bytes.reverse() : bytes).map((b) => b.toString(16).padStart(2, '0')).join('');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}
