import { parseArgs } from 'node:util';
import { SELECTION_HELP, SELECTION_OPTIONS, planFrom } from './cell-selection.ts';

export const LIST_HELP = `usage: toa-lab list [--image NAME[,NAME...]] [--scenario ID[,ID...]] [--shard i/n]
                    [--rerun-failed DIR] [--toa-source [NAME=]DIR|ours ...] [--toa-ko [NAME=]FILE ...] [--json]

Prints the cells a 'toa-lab run' with the same flags would execute — one line per
cell (its stable id, the image kind, the module it tests, its scenarios) — without resolving,
building or booting anything. The selection is run's own (harness/runner/cell-plan.ts).
Two or more --toa-source/--toa-ko make a module dimension: one cell per image and module,
id <image>+<module>; image × module pairs a run leaves out are listed with the reason.

  --json       the plan as JSON: {"planVersion":1,"cells":[{"id","image","kind","module"?,"scenarios"}]};
               'toa-lab report merge --expect FILE' takes it
${SELECTION_HELP}
`;

export async function listCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...SELECTION_OPTIONS, json: { type: 'boolean' } } });
  const { plan, left } = await planFrom(values);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
    return 0;
  }
  const width = Math.max(4, ...plan.cells.map((c) => c.id.length));
  const modules = [...new Set(plan.cells.flatMap((c) => (c.module === undefined ? [] : [c.module])))];
  const moduleWidth = Math.max(0, ...modules.map((m) => m.length));
  for (const cell of plan.cells) {
    const module = modules.length ? `${(cell.module ?? '').padEnd(moduleWidth)}  ` : '';
    process.stdout.write(`${cell.id.padEnd(width)}  ${cell.kind.padEnd(7)}  ${module}${cell.scenarios.join(' ')}\n`);
  }
  for (const l of left) process.stdout.write(`# not run: ${l.image} × ${l.module}: ${l.reason}\n`);
  const pairs = plan.cells.reduce((sum, c) => sum + c.scenarios.length, 0);
  const images = new Set(plan.cells.map((c) => c.image)).size;
  const dimension = modules.length ? ` (${count(images, 'image')} × ${count(modules.length, 'module')}: ${modules.join(', ')})` : '';
  process.stdout.write(`# ${plan.cells.length} cells${dimension}, ${pairs} cell × scenario pairs${plan.shard ? ` (shard ${plan.shard.index}/${plan.shard.count})` : ''}\n`);
  return 0;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
