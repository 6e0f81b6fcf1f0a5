import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CellNotes } from '../report/results-store.ts';
import type { LabImage } from '../runner/lab-images.ts';

/**
 * What is known of a cell before it starts: its image, how its guest reads TOA (the module it
 * tests, or eBPF when `module` is not given), and who boots it.
 */
export function initialCellNotes(image: LabImage, provider: string, cell: string = image.name, module?: string): CellNotes {
  const toa = module !== undefined ? { toa: 'module' as const, module } : { toa: 'bpf' as const };
  return { cell, image: image.name, ...toa, provider: PROVIDER_BY_IMAGE_KIND[image.kind](provider) };
}

/**
 * Who boots a cell, by the image's kind: `--provider` picks among the whole-OS providers;
 * a micro-VM and the patched-kernel disk each have one (harness/machine/micro-vm-machine.ts,
 * harness/patched-kernel/patched-kernel-lab.ts), named as their Machine says.
 */
const PROVIDER_BY_IMAGE_KIND: Record<LabImage['kind'], (chosen: string) => string> = {
  micro: () => 'microvm',
  'full-os': (chosen) => chosen,
  'patched-kernel': () => 'patched-kernel',
};

/** At the cell's end: the console log, if the cell got as far as a VM. */
export function finalCellNotes(notes: CellNotes, outDir: string): CellNotes {
  const consoleLog = `console-${notes.cell}.log`;
  return existsSync(join(outDir, consoleLog)) ? { ...notes, consoleLog } : notes;
}
