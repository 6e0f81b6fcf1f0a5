import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CellNotes } from '../report/results-store.ts';
import type { LabImage } from '../runner/lab-images.ts';

/** What is known of a cell before it starts: its image, the module it tests, and who boots it. */
export function initialCellNotes(image: LabImage, provider: string, cell: string = image.name, module?: string): CellNotes {
  // Micro-VMs always run on QEMU; --provider is for whole OSes.
  return { cell, image: image.name, ...(module !== undefined && { module }), provider: image.kind === 'micro' ? 'qemu' : provider };
}

/** At the cell's end: the console log, if the cell got as far as a VM. */
export function finalCellNotes(notes: CellNotes, outDir: string): CellNotes {
  const consoleLog = `console-${notes.cell}.log`;
  return existsSync(join(outDir, consoleLog)) ? { ...notes, consoleLog } : notes;
}
