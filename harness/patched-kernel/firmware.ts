import { join } from 'node:path';
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
      commandLine: entry.args.join(' '),
      kernelFile,
      ...(initrdFile && { initrdFile }),
    };
  }
  throw new Error(`no boot loader configuration on the disk (looked for ${tried.join(', ')})`);
}
