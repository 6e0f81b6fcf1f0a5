import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runHostCommand } from '../exec/run-host-command.ts';
import { defaultGrub2Entry } from './grub2.ts';
import { defaultGrubLegacyEntry } from './grub-legacy.ts';
import { dumpFromImage, readFromImage } from './boot-disk.ts';

/**
 * The harness as firmware + boot loader: QEMU boots a kernel given on its
 * command line, so the harness does what GRUB would do with the guest's disk —
 * read the boot loader's configuration from the disk, take its default entry,
 * load that entry's kernel (and initrd) from the disk, and pass that entry's
 * command line. The boot loader edit is therefore what decides which kernel
 * runs: a wrong default boots the old kernel.
 */
export interface BootSelection {
  loader: 'grub-legacy' | 'grub2';
  configPath: string;
  /** The entry's title (GRUB 2: its title path). */
  title: string;
  kernelPath: string;
  initrdPath?: string;
  commandLine: string;
  /** Extracted from the disk into the run's folder. */
  kernelFile: string;
  initrdFile?: string;
}

const LOADERS = [
  { loader: 'grub-legacy', path: '/boot/grub/grub.conf' },
  { loader: 'grub2', path: '/boot/grub/grub.cfg' },
  { loader: 'grub2', path: '/boot/grub2/grub.cfg' },
] as const;

export async function selectBootEntry(image: string, outDir: string): Promise<BootSelection> {
  const tried: string[] = [];
  for (const { loader, path } of LOADERS) {
    let text: string;
    try {
      text = await readFromImage(image, path);
    } catch {
      tried.push(path);
      continue;
    }
    const entry = loader === 'grub-legacy' ? defaultGrubLegacyEntry(text) : defaultGrub2Entry(text);
    const title = 'title' in entry ? entry.title : entry.titlePath;
    const kernelFile = join(outDir, 'boot-kernel');
    await dumpFromImage(image, entry.kernel, kernelFile);
    let initrdFile: string | undefined;
    if (entry.initrd) {
      initrdFile = join(outDir, 'boot-initrd');
      await dumpFromImage(image, entry.initrd, initrdFile);
    }
    return {
      loader,
      configPath: path,
      title,
      kernelPath: entry.kernel,
      ...(entry.initrd && { initrdPath: entry.initrd }),
      // GRUB passes the words after the kernel path; root=/ro are the kernel's business.
      // GRUB 2 puts BOOT_IMAGE=<path> in front (GRUB legacy does not).
      commandLine: [...(loader === 'grub2' ? [`BOOT_IMAGE=${entry.kernel}`] : []), ...entry.args].join(' '),
      kernelFile,
      ...(initrdFile && { initrdFile }),
    };
  }
  throw new Error(`no boot loader configuration on the disk (looked for ${tried.join(', ')})`);
}

/**
 * The firmware step for a full-OS guest's disk, a qcow2 overlay (the lab's Debian
 * images), read after QEMU has stopped — the disk as the guest left it at the
 * reset, as GRUB would find it, not what a running system says about it.
 * debugfs reads raw ext4 only, so the overlay (with its backing image) is first
 * converted to a sparse raw file (seconds: only used blocks are written), then
 * selectBootEntry does exactly what it does for the busybox disk; the raw copy
 * is removed, the kernel and initrd stay in `outDir`.
 */
export async function selectBootEntryFromQcow2(qcow2: string, outDir: string): Promise<BootSelection> {
  const raw = join(outDir, 'disk.raw');
  try {
    await runHostCommand('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', qcow2, raw], { timeoutMs: 600_000 });
    return await selectBootEntry(raw, outDir);
  } finally {
    await rm(raw, { force: true });
  }
}
