import { open } from 'node:fs/promises';
import { runHostCommand } from '../exec/run-host-command.ts';
import { assertReadableQcow2, BrokenImageError } from './debian/disk-image.ts';

/**
 * What a user's disk file is, from `qemu-img info` — never from its name — and
 * whether it can boot at all: the formats vendors publish images in, read by
 * QEMU directly under a per-run qcow2 overlay (the file itself is never written).
 */
export const DISK_FORMATS = ['qcow2', 'raw', 'vmdk', 'vhdx'] as const;
export type DiskFormat = (typeof DISK_FORMATS)[number];

export interface DiskImageInfo {
  format: DiskFormat;
  virtualSize: number;
}

/** Sector 0 of a disk with a partition table (MBR, or GPT's protective MBR) ends in 55 AA. */
const BOOT_SIGNATURE_OFFSET = 510;

export async function inspectDiskImage(path: string, expected?: DiskFormat): Promise<DiskImageInfo> {
  const info = await runHostCommand('qemu-img', ['info', '--output=json', ...(expected ? ['-f', expected] : []), path], { check: false });
  if (info.exitCode !== 0) throw new BrokenImageError(path, lastLines(info.stderr || info.stdout) || `qemu-img info exited ${info.exitCode}`);
  const parsed = JSON.parse(info.stdout) as { format: string; 'virtual-size': number };
  const format = DISK_FORMATS.find((f) => f === parsed.format);
  if (!format) throw new BrokenImageError(path, `qemu-img reads it as '${parsed.format}'; toa-lab boots ${DISK_FORMATS.join(', ')}`);
  if (format === 'qcow2') await assertReadableQcow2(path);
  // qemu-img calls any file "raw": a text file, a tarball. A bootable raw disk has a partition table.
  if (format === 'raw' && !(await hasBootSignature(path))) {
    throw new BrokenImageError(path, 'not a disk image: no partition table (sector 0 does not end in 55 AA), and qemu-img knows no other format for it');
  }
  return { format, virtualSize: parsed['virtual-size'] };
}

async function hasBootSignature(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const bytes = Buffer.alloc(2);
    const { bytesRead } = await file.read(bytes, 0, 2, BOOT_SIGNATURE_OFFSET);
    return bytesRead === 2 && bytes[0] === 0x55 && bytes[1] === 0xaa;
  } finally {
    await file.close();
  }
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-2).join(' | ');
}
