import { posix } from 'node:path';
import type { FileEdit } from './file-edit.ts';
import { bootKernelByDefaultGrub2 } from './grub2.ts';
import { bootKernelByDefaultGrubLegacy, type BootKernelRequest } from './grub-legacy.ts';
import type { BuildMachine } from './tree-access.ts';

/**
 * Guide step 7 on whichever boot loader the machine has, through a BuildMachine:
 * the guest's own /boot (the guide's way), or a disk tree on the host (`rootDir`).
 * GRUB legacy first (CentOS 6), then GRUB 2's generated grub.cfg.
 */
export const BOOT_LOADER_CONFIGS = [
  { loader: 'grub-legacy', path: '/boot/grub/grub.conf', edit: bootKernelByDefaultGrubLegacy },
  { loader: 'grub2', path: '/boot/grub/grub.cfg', edit: bootKernelByDefaultGrub2 },
  { loader: 'grub2', path: '/boot/grub2/grub.cfg', edit: bootKernelByDefaultGrub2 },
] as const;

export interface BootLoaderEdit {
  loader: 'grub-legacy' | 'grub2';
  path: string;
  edit: FileEdit;
}

export async function editBootLoader(machine: BuildMachine, rootDir: string, request: BootKernelRequest): Promise<BootLoaderEdit> {
  for (const { loader, path, edit } of BOOT_LOADER_CONFIGS) {
    const file = posix.join(rootDir, path);
    let text: string;
    try {
      text = await machine.readFile(file);
    } catch {
      continue;
    }
    const result = edit(text, request);
    if (result.changed) await machine.writeFile(file, result.content);
    return { loader, path, edit: result };
  }
  throw new Error(`no boot loader configuration under ${rootDir} (${BOOT_LOADER_CONFIGS.map((c) => c.path).join(', ')})`);
}
