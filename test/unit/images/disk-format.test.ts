import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BrokenImageError } from '../../../harness/images/debian/disk-image.ts';
import { inspectDiskImage } from '../../../harness/images/disk-format.ts';
import { firmwareFromPartitionTable } from '../../../harness/images/partition-table.ts';

const dir = mkdtempSync(join(tmpdir(), 'toa-lab-disk-'));

/** A raw disk with a real partition table written by sfdisk (util-linux), as image builders do. */
function partitionedDisk(name: string, script: string): string {
  const path = join(dir, name);
  execFileSync('truncate', ['-s', '64M', path]);
  execFileSync('sfdisk', ['-q', path], { input: script });
  return path;
}

const ESP = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
const BIOS_BOOT = '21686148-6449-6E6F-744E-656564454649';
const LINUX = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';

describe('disk images a user hands over', () => {
  it('refuses a file that is not a disk image, with the reason', async () => {
    const text = join(dir, 'notes.qcow2');
    writeFileSync(text, 'this is a text file, whatever its name says\n'.repeat(100));
    await expect(inspectDiskImage(text)).rejects.toThrow(BrokenImageError);
    await expect(inspectDiskImage(text)).rejects.toThrow(/not a disk image: no partition table/);
    const fake = join(dir, 'fake.qcow2');
    writeFileSync(fake, 'QFI\xfb but not really a qcow2 image');
    await expect(inspectDiskImage(fake)).rejects.toThrow(BrokenImageError);
  });

  it('detects the format from the contents, not the name', async () => {
    const raw = partitionedDisk('looks-like.qcow2', `label: gpt\nsize=8M, type=${LINUX}\n`);
    expect(await inspectDiskImage(raw)).toEqual({ format: 'raw', virtualSize: 64 * 2 ** 20 });
    const vmdk = join(dir, 'disk.vmdk');
    execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', raw, vmdk]);
    expect((await inspectDiskImage(vmdk)).format).toBe('vmdk');
  });

  it('reads the firmware a disk expects from its GPT partition types', () => {
    const read = (name: string, script: string) => firmwareFromPartitionTable(execFileSync('head', ['-c', String(34 * 512), partitionedDisk(name, script)]));
    expect(read('uefi.raw', `label: gpt\nsize=8M, type=${ESP}\nsize=8M, type=${LINUX}\n`).firmware).toBe('uefi');
    expect(read('bios.raw', `label: gpt\nsize=1M, type=${BIOS_BOOT}\nsize=8M, type=${LINUX}\n`).firmware).toBe('bios');
    expect(read('hybrid.raw', `label: gpt\nsize=1M, type=${BIOS_BOOT}\nsize=8M, type=${ESP}\nsize=8M, type=${LINUX}\n`)).toMatchObject({ firmware: 'bios', why: expect.stringMatching(/both/) });
    expect(read('mbr.raw', 'label: dos\nsize=8M, type=83\n')).toMatchObject({ firmware: 'bios', why: expect.stringMatching(/MBR/) });
  });
});
