import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CellNotes } from '../report/results-store.ts';
import type { LabImage } from '../runner/lab-images.ts';

/**
 * What is known of a cell before it starts: its image, how its guest reads TOA (the module it
 * tests, or eBPF when `module` is not given), and who boots it.
 */
export function initialCellNotes(image: LabImage, provider: string, cell: string = image.name, module?: string): CellNotes {
  // Micro-VMs always run on QEMU; --provider is for whole OSes.
  const toa = module !== undefined ? { toa: 'module' as const, module } : { toa: 'bpf' as const };
  return { cell, image: image.name, ...toa, provider: image.kind === 'micro' ? 'qemu' : provider };
}

/** At the cell's end: the console log, if the cell got as far as a VM. */
export function finalCellNotes(notes: CellNotes, outDir: string): CellNotes {
  const consoleLog = `console-${notes.cell}.log`;
  return existsSync(join(outDir, consoleLog)) ? { ...notes, consoleLog } : notes;
}
